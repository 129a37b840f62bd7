"""The one membership rule (`chats/membership.py`) that every chat source applies."""

from __future__ import annotations

from datetime import datetime

import pytest

from tantalio.chats.appchat import AppChatBuilder
from tantalio.chats.base import ParseContext
from tantalio.chats.dbchat import DbChatBuilder
from tantalio.chats.membership import apply_group_event
from tantalio.chats.record import ChatRecords, Group

T = datetime(2024, 3, 1, 10, 0)
G = "120363000000000001@g.us"


def _apply(action: str, actor: str | None, targets: list[str], subject: str | None = None):
    out = ChatRecords()
    out.add_group(Group(key=G, jid=G))
    apply_group_event(
        out,
        action=action,
        group=G,
        actor=actor,
        targets=targets,
        when=T,
        subject=subject,
        owner="owner",
        where="f",
    )
    return out


def test_added_by_actor_and_self_join_without_targets() -> None:
    out = _apply("added", "a", ["b", "a"])
    assert out.memberships[(G, "b")].added_by == "a"
    assert out.memberships[(G, "b")].joined_how == "added"
    assert out.memberships[(G, "a")].added_by is None  # nobody adds themselves
    solo = _apply("added", "c", [])
    assert solo.memberships[(G, "c")].joined_how == "added"
    assert solo.memberships[(G, "c")].added_by is None


def test_removed_needs_a_target_the_actor_is_never_the_removed() -> None:
    assert _apply("removed", "admin", []).memberships == {}
    out = _apply("removed", "admin", ["x"])
    assert out.memberships[(G, "x")].left_how == "removed"
    assert (G, "admin") not in out.memberships


def test_left_joined_admin_created_subject() -> None:
    assert _apply("left", "a", []).memberships[(G, "a")].left_how == "left"
    assert _apply("joined_invite", "a", []).memberships[(G, "a")].joined_how == "invite_link"
    assert _apply("admin_granted", None, []).memberships[(G, "owner")].role == "admin"
    created = _apply("created", "a", [])
    assert created.groups[G].creator == "a" and created.groups[G].created_at == T
    assert created.memberships[(G, "a")].role == "creator"
    assert _apply("subject_changed", "a", [], "New name").groups[G].subject == "New name"


@pytest.mark.parametrize("builder", ["db", "app"])
def test_database_and_app_builders_share_the_rule(builder: str) -> None:
    """A removal without a target and a self-added member come out the same from the
    WhatsApp database builder and the Telegram/Signal builder (they used to differ)."""
    out = ChatRecords()
    ctx = ParseContext(label="phone/x.db", owner_jid="34600000001@s.whatsapp.net")
    b = DbChatBuilder(ctx, out) if builder == "db" else AppChatBuilder("telegram", ctx, out)
    out.add_group(Group(key=G, jid=G))
    b._apply("removed", G, "admin", [], T, None, "w")
    b._apply("added", G, "admin", ["m1"], T, None, "w")
    assert (G, "admin") not in out.memberships
    assert out.memberships[(G, "m1")].added_by == "admin"
