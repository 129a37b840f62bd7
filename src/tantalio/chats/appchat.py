"""Assembly of records for chat apps other than WhatsApp (Telegram, Signal).

Their identities are not JIDs, so they get keys of their own, prefixed by the app
(`telegram:123456789`, `signal:<ACI uuid>`, `telegram:chat:…`, `signal:group:…`): global keys,
so the same Telegram user or Signal group seen on two phones is one record, and an account
never merges across apps (a person's WhatsApp and Telegram accounts stay two accounts; the
phone number on both links them for the examiner). `record.app_of` reads the prefix back.

The membership effects of system events are `membership.apply_group_event`'s, as for WhatsApp.
"""

from __future__ import annotations

from datetime import datetime

from tantalio.chats.base import ParseContext
from tantalio.chats.membership import GroupMessageRecorder
from tantalio.chats.record import Account, ChatRecords, Group, MediaRef, Membership, Message


class AppChatBuilder(GroupMessageRecorder):
    def __init__(self, app: str, ctx: ParseContext, out: ChatRecords) -> None:
        self.app, self.ctx, self.out = app, ctx, out
        self.owner_key = ctx.owner_key  # until the app's own account of the owner is known

    def account_key(self, ident: object) -> str:
        return f"{self.app}:{ident}"

    def group_key(self, kind: str, ident: object) -> str:
        return f"{self.app}:{kind}:{ident}"

    def set_owner(self, key: str, where: str) -> None:
        """The phone's owner in this app (Telegram's self user, Signal's own recipient)."""
        self.owner_key = key
        self.out.add_account(Account(key=key, is_owner=True, where=where))

    def account(
        self, key: str, where: str, names: list[str] | None = None, phone: str | None = None
    ) -> str:
        acc = Account(key=key, phone=phone, names=[n for n in names or [] if n], where=where)
        acc.is_owner = key == self.owner_key
        return self.out.add_account(acc).key

    def group(self, key: str, where: str, **fields: object) -> Group:
        return self.out.add_group(Group(key=key, where=where, **fields))  # type: ignore[arg-type]

    def owner(self, where: str) -> str:
        """The owner's key, its account recorded on first use (the app's own account of the
        owner when known, else the exhibit's owner)."""
        if self.owner_key not in self.out.accounts:
            self.out.add_account(Account(key=self.owner_key, is_owner=True, where=where))
        return self.owner_key

    def member(self, group: str, account: str, where: str, **fields: object) -> None:
        self.out.add_membership(
            Membership(group=group, account=account, where=where, **fields)  # type: ignore[arg-type]
        )

    def message(
        self,
        *,
        chat: str,
        kind: str,
        sender: str | None,
        when: datetime | None,
        text: str | None,
        from_me: bool,
        where: str,
        key_id: str | None = None,
        forwarded: bool = False,
        media: MediaRef | None = None,
        system: str | None = None,
        targets: list[str] | None = None,
    ) -> None:
        targets = targets or []
        if sender == self.owner_key:
            self.owner(where)
        self._record(
            Message(
                chat=chat,
                chat_kind=kind,
                sender=sender,
                timestamp=when,
                text=text,
                from_me=from_me,
                forwarded=forwarded,
                key_id=key_id,
                media=media,
                system=system,
                targets=targets,
                where=where,
            ),
            where,
        )
