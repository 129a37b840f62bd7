"""What a group's system event does to its memberships: the one rule for every source.

A database (Android, iOS), a text export and the other apps (Telegram, Signal) all report
the same events ("created", "added", "joined by link", "left", "removed", "now an admin",
"subject changed"); each used to apply them with a copy of its own, and the copies drifted
(a removal without a target dropped on one side, recorded as the actor's on another). The
network ranks people by how they joined and who added them, so one phone's database and
another phone's export of the same group must turn the same event into the same rows.

Conventions, whatever the source:
- `targets` are the members the event is about; an event with none is about its `actor`
  ("X left", "X joined using this group's invite link", an Android "added" row without a
  participant: the sender joined).
- "removed" needs a target: the actor is the one who removed, never the one removed.
- "added": the actor added each target other than itself.
- "admin granted" without a target is the phone's owner (Android writes the owner's own
  promotion without a participant row).
"""

from __future__ import annotations

from datetime import datetime

from tantalio.chats.record import ChatRecords, Group, Membership, Message


def apply_group_event(
    out: ChatRecords,
    *,
    action: str,
    group: str,
    actor: str | None,
    targets: list[str],
    when: datetime | None,
    subject: str | None,
    owner: str,
    where: str,
) -> None:
    """Record in `out` the memberships (and group fields) that event `action` implies."""
    g = out.add_group(Group(key=group, where=where))
    add = out.add_membership
    subjects = targets or ([actor] if actor else [])
    if action == "created" and actor:
        add(Membership(group, actor, "creator", when, "created", where=where))
        g.creator = g.creator or actor
        g.created_at = g.created_at or when
    elif action == "added":
        for t in subjects:
            by = actor if targets and actor != t else None
            add(Membership(group, t, joined_at=when, joined_how="added", added_by=by, where=where))
    elif action == "joined_invite":
        for t in subjects:
            add(Membership(group, t, joined_at=when, joined_how="invite_link", where=where))
    elif action == "left":
        for t in subjects:
            add(Membership(group, t, left_at=when, left_how="left", where=where))
    elif action == "removed":
        for t in targets:
            add(Membership(group, t, left_at=when, left_how="removed", where=where))
    elif action == "admin_granted":
        for t in targets or [owner]:
            add(Membership(group, t, role="admin", where=where))
    elif action == "subject_changed" and subject:
        g.subject = subject


class GroupMessageRecorder:
    """What the WhatsApp database builder and the other apps' builder share: a message
    stored with what it says about its group's members (a plain message in a group lists
    its sender, a system message applies its event by the rule above). Subclasses set
    `out` and `owner_key`."""

    out: ChatRecords
    owner_key: str

    def _record(self, message: Message, where: str) -> None:
        if message.chat_kind == "group" and message.system is None and message.sender:
            self.out.add_membership(
                Membership(
                    group=message.chat, account=message.sender, joined_how="listed", where=where
                )
            )
        if message.chat_kind == "group" and message.system:
            self._apply(
                message.system,
                message.chat,
                message.sender,
                message.targets,
                message.timestamp,
                message.text,
                where,
            )
        self.out.messages.append(message)

    def _apply(
        self,
        action: str,
        group: str,
        actor: str | None,
        targets: list[str],
        when: datetime | None,
        text: str | None,
        where: str,
    ) -> None:
        apply_group_event(
            self.out,
            action=action,
            group=group,
            actor=actor,
            targets=targets,
            when=when,
            subject=text,
            owner=self.owner_key,
            where=where,
        )
