"""Tables of accounts, groups, memberships, messages and artifacts from chats and phones.

Accounts and groups are workspace-wide, keyed like media by what identifies them (the JID),
so the same person seen on two seized phones, or in two cases, is one row. A record known
only inside one exhibit (a name in a text export, a phone owner without a recorded number)
gets a key scoped to that exhibit (`x<exhibit id>:local:Alice`).

Messages keep the media's SHA-256 even when no media row exists (the file was deleted from
the phone, only the chat database remembers it): matching against hash sets goes by that
hash. `media_id` links to the media row when the file was ingested too (`link_media`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from tantalio.store.base import Base
from tantalio.store.types import Json


class ChatAccount(Base):
    """A WhatsApp account. `key` is the normalized JID, or an exhibit-scoped local key
    (then `exhibit_id` names the exhibit)."""

    __tablename__ = "chat_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    jid: Mapped[str | None] = mapped_column(String(128), index=True, default=None)
    phone: Mapped[str | None] = mapped_column(String(32), index=True, default=None)
    lid: Mapped[str | None] = mapped_column(String(128), index=True, default=None)
    names: Mapped[list[str] | None] = mapped_column(Json, default=None)
    exhibit_id: Mapped[int | None] = mapped_column(
        ForeignKey("exhibit.id", ondelete="CASCADE"), index=True, default=None
    )


class ChatAccountSeen(Base):
    """An account as one exhibit shows it: names there, and whether it is the phone's owner."""

    __tablename__ = "chat_account_seen"
    __table_args__ = (UniqueConstraint("account_id", "exhibit_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("chat_account.id", ondelete="CASCADE"), index=True
    )
    exhibit_id: Mapped[int] = mapped_column(
        ForeignKey("exhibit.id", ondelete="CASCADE"), index=True
    )
    names: Mapped[list[str] | None] = mapped_column(Json, default=None)
    is_owner: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str | None] = mapped_column(Text, default=None)


class ChatGroup(Base):
    """A group chat; `key` is its JID (`…@g.us`) or an exhibit-scoped local key."""

    __tablename__ = "chat_group"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    jid: Mapped[str | None] = mapped_column(String(128), index=True, default=None)
    subject: Mapped[str | None] = mapped_column(Text, default=None)
    creator_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_account.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    exhibit_id: Mapped[int | None] = mapped_column(
        ForeignKey("exhibit.id", ondelete="CASCADE"), index=True, default=None
    )


class ChatGroupSeen(Base):
    """A group as one exhibit shows it (its subject there)."""

    __tablename__ = "chat_group_seen"
    __table_args__ = (UniqueConstraint("group_id", "exhibit_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("chat_group.id", ondelete="CASCADE"), index=True
    )
    exhibit_id: Mapped[int] = mapped_column(
        ForeignKey("exhibit.id", ondelete="CASCADE"), index=True
    )
    subject: Mapped[str | None] = mapped_column(Text, default=None)
    source: Mapped[str | None] = mapped_column(Text, default=None)


class ChatInvite(Base):
    """A group invite code (`chat.whatsapp.com/<code>`), and the group it opens when known."""

    __tablename__ = "chat_invite"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_group.id", ondelete="SET NULL"), index=True, default=None
    )


class ChatMembership(Base):
    """An account's membership of a group as one exhibit records it."""

    __tablename__ = "chat_membership"
    __table_args__ = (UniqueConstraint("group_id", "account_id", "exhibit_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("chat_group.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int] = mapped_column(
        ForeignKey("chat_account.id", ondelete="CASCADE"), index=True
    )
    exhibit_id: Mapped[int] = mapped_column(
        ForeignKey("exhibit.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16), default="member")
    joined_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    joined_how: Mapped[str] = mapped_column(String(16), default="unknown")
    added_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_account.id", ondelete="SET NULL"), default=None
    )
    invite_code: Mapped[str | None] = mapped_column(String(64), default=None)
    left_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    left_how: Mapped[str | None] = mapped_column(String(16), default=None)
    source: Mapped[str | None] = mapped_column(Text, default=None)


class ChatMessage(Base):
    """A message or system event, as one exhibit holds it.

    `group_id` is set for group chats, `peer_id` (the other party) for direct chats.
    `timestamp` is naive UTC, except for text exports (`local_time`: the phone's clock).
    `fingerprint` is the same for one message seen on several phones (WhatsApp's message id
    within its chat when known), so counts can be made per message, not per copy.
    """

    __tablename__ = "chat_message"
    __table_args__ = (Index("ix_chat_message_group_sender", "group_id", "sender_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exhibit_id: Mapped[int] = mapped_column(
        ForeignKey("exhibit.id", ondelete="CASCADE"), index=True
    )
    chat_kind: Mapped[str] = mapped_column(String(16))
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_group.id", ondelete="CASCADE"), default=None
    )
    peer_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_account.id", ondelete="SET NULL"), index=True, default=None
    )
    chat_key: Mapped[str] = mapped_column(String(255))
    sender_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_account.id", ondelete="SET NULL"), index=True, default=None
    )
    timestamp: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    local_time: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str | None] = mapped_column(Text, default=None)
    from_me: Mapped[bool] = mapped_column(Boolean, default=False)
    forwarded: Mapped[bool] = mapped_column(Boolean, default=False)
    key_id: Mapped[str | None] = mapped_column(String(128), index=True, default=None)
    system: Mapped[str | None] = mapped_column(String(20), default=None)
    targets: Mapped[list[int] | None] = mapped_column(Json, default=None)  # account ids
    media_sha256: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    media_id: Mapped[int | None] = mapped_column(
        ForeignKey("media.id", ondelete="SET NULL"), index=True, default=None
    )
    media_name: Mapped[str | None] = mapped_column(Text, default=None)
    media_mime: Mapped[str | None] = mapped_column(String(100), default=None)
    media_size: Mapped[int | None] = mapped_column(BigInteger, default=None)
    media_kind: Mapped[str | None] = mapped_column(String(16), default=None)
    media_omitted: Mapped[bool] = mapped_column(Boolean, default=False)
    fingerprint: Mapped[str] = mapped_column(String(40), index=True)
    source: Mapped[str | None] = mapped_column(Text, default=None)
    # One phone's text export and database of the same chat (chats/exportmatch.py): the
    # export lines that hold this database message too; an export message the database no
    # longer holds; the export's inferred offset from UTC in minutes (its rows' `timestamp`
    # stays the phone's wall clock).
    also_in: Mapped[list[str] | None] = mapped_column(Json, default=None)
    only_in_export: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), index=True
    )
    utc_offset: Mapped[int | None] = mapped_column(Integer, default=None)


class ChatArtifact(Base):
    """An invite link, wa.me link, onion address, URL, e-mail or phone number found in text.

    `source` says where (`file:line`, `msgstore.db:message 12`); `site` is the saved site
    the file came from, tying an invite listed there to its group. A `visit` (browser
    history) names the visited site and `seen_at` its first visit.
    """

    __tablename__ = "chat_artifact"
    __table_args__ = (Index("ix_chat_artifact_kind_value", "kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exhibit_id: Mapped[int] = mapped_column(
        ForeignKey("exhibit.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(512))
    raw: Mapped[str | None] = mapped_column(Text, default=None)
    source: Mapped[str | None] = mapped_column(Text, default=None)
    chat_key: Mapped[str | None] = mapped_column(String(255), default=None)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_group.id", ondelete="SET NULL"), default=None
    )
    sender_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_account.id", ondelete="SET NULL"), default=None
    )
    site: Mapped[str | None] = mapped_column(String(255), index=True, default=None)
    seen_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)  # a visit's time


CHAT_MODELS: tuple[Any, ...] = (
    ChatAccount,
    ChatAccountSeen,
    ChatGroup,
    ChatGroupSeen,
    ChatInvite,
    ChatMembership,
    ChatMessage,
    ChatArtifact,
)
