"""The store's side of the chat mediator (`tantalio.chats.mediator.ChatSink`): one exhibit's
lookups and its write, each in its own session, the write in one transaction."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from tantalio.chats.record import ChatRecords, ChatSaveSummary, StoredCopy, StoredGroup
from tantalio.store.chats import samegroup
from tantalio.store.chats.write import lid_accounts, save_exhibit_chats
from tantalio.store.workspace import Workspace


class WorkspaceChatSink:
    """Writes the chats of exhibit `exhibit_id` of workspace `ws`."""

    def __init__(self, ws: Workspace, exhibit_id: int) -> None:
        self.ws, self.exhibit_id = ws, exhibit_id

    def lid_accounts(self, lids: Collection[str]) -> dict[str, str]:
        with self.ws.session() as session:
            return lid_accounts(session, lids)

    def groups_like(self, subjects: Collection[str], codes: Collection[str]) -> list[StoredGroup]:
        with self.ws.session() as session:
            return samegroup.groups_like(session, self.exhibit_id, subjects, codes)

    def group_copies(self, group_key: str) -> list[StoredCopy]:
        with self.ws.session() as session:
            return samegroup.group_copies(session, self.exhibit_id, group_key)

    def write(
        self,
        records: ChatRecords,
        exports: list[str],
        decrypted: Sequence[tuple[str, str]] = (),
    ) -> ChatSaveSummary:
        from tantalio.store.audit import audit

        with self.ws.transaction() as session:
            summary = save_exhibit_chats(session, self.exhibit_id, records, exports)
            for label, fingerprint in decrypted:  # the key itself is never stored
                audit(
                    session,
                    "chats.decrypt",
                    object_type="exhibit",
                    object_id=self.exhibit_id,
                    detail={"file": label, "key_fingerprint": fingerprint},
                )
            return summary
