"""The store side of chats and phone databases: tables, writes, and the network's reads.

Models live in `models.py` (Alembic: `--only tantalio.store.chats.models`), writes of one
exhibit's records in `write.py` (reached through `sink.WorkspaceChatSink`, the chat
mediator's sink), reads for the distribution network in `read.py`.
"""

from __future__ import annotations

from tantalio.chats.record import ChatSaveSummary
from tantalio.store.chats.models import (
    CHAT_MODELS,
    ChatAccount,
    ChatAccountSeen,
    ChatArtifact,
    ChatGroup,
    ChatGroupSeen,
    ChatInvite,
    ChatMembership,
    ChatMessage,
)
from tantalio.store.chats.read import (
    AccountRow,
    ChatGraphData,
    GroupRow,
    KnownRow,
    MembershipRow,
    PostRow,
    known_media,
    load_graph_data,
)
from tantalio.store.chats.write import (
    clear_exhibit_chats,
    lid_accounts,
    link_media,
    merge_accounts,
    message_fingerprint,
    save_exhibit_chats,
    scoped_key,
)

__all__ = [
    "CHAT_MODELS",
    "AccountRow",
    "ChatAccount",
    "ChatAccountSeen",
    "ChatArtifact",
    "ChatGraphData",
    "ChatGroup",
    "ChatGroupSeen",
    "ChatInvite",
    "ChatMembership",
    "ChatMessage",
    "ChatSaveSummary",
    "GroupRow",
    "KnownRow",
    "MembershipRow",
    "PostRow",
    "clear_exhibit_chats",
    "known_media",
    "lid_accounts",
    "link_media",
    "load_graph_data",
    "merge_accounts",
    "message_fingerprint",
    "save_exhibit_chats",
    "scoped_key",
]
