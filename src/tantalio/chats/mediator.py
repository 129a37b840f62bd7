"""The mediator between chat parsing and the case store (issue 12; plaso's parser mediator).

Parsers and analyzers never write to the store and the store never runs chat logic. Parsers
fill a `ChatRecords` collector; an analyzer emits each file's or exhibit's records and its
warnings to a `ChatMediator`, and `flush()` runs the exhibit-level chat logic, in this order:

1. `@lid` identities an earlier exhibit resolved to a phone number are taken as that
   account (`lids.resolve_known`, asking the sink, which only reads);
2. a text export's copies of the phone's database messages are dropped (exportmatch.py);
3. the same group stored from another phone is taken as this exhibit's (a text export's
   group for a stored JID group, or the other way round), and the copies of one message on
   the two phones share one fingerprint (groupmerge.py; the sink answers the lookups);

then hands the finished records to its `ChatSink`, the store's side
(`store.chats.sink.WorkspaceChatSink`), which writes them in one transaction. Layering is
checked by tests/test_layers.py: `tantalio.chats` never imports `tantalio.store`, and
`tantalio.store` imports only the typed records (`chats/record.py`) of this package.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

from tantalio.chats.exportmatch import merge_text_exports
from tantalio.chats.groupmerge import merge_groups
from tantalio.chats.lids import resolve_known
from tantalio.chats.record import ChatRecords, ChatSaveSummary, StoredCopy, StoredGroup


class ChatSink(Protocol):
    """Where one exhibit's finished chat records go (implemented by the store)."""

    def lid_accounts(self, lids: Collection[str]) -> dict[str, str]:
        """For the `@lid` identities an earlier exhibit resolved: lid -> the account key
        (phone JID) stored for it."""
        ...

    def groups_like(self, subjects: Collection[str], codes: Collection[str]) -> list[StoredGroup]:
        """Groups other exhibits stored whose subject is one of `subjects` (compared
        lower-cased) or that one of the invite `codes` opens."""
        ...

    def group_copies(self, group_key: str) -> list[StoredCopy]:
        """The messages other exhibits stored in the group stored under `group_key`."""
        ...

    def write(
        self,
        records: ChatRecords,
        exports: list[str],
        decrypted: Sequence[tuple[str, str]] = (),
    ) -> ChatSaveSummary:
        """Store the exhibit's records, replacing what an earlier run wrote for it; audit
        each decryption with an examiner's key (file label, key fingerprint)."""
        ...


class ChatMediator:
    """Collects one exhibit's records and warnings, then finishes and stores them once."""

    def __init__(self, sink: ChatSink, decrypted: Sequence[tuple[str, str]] = ()) -> None:
        self.sink = sink
        self.records = ChatRecords()
        self.decrypted = list(decrypted)  # (file label, key fingerprint): chats.keys.KeyRing.used

    def produce_records(self, records: ChatRecords) -> None:
        """Records of one file or of a whole exhibit; the same key twice merges."""
        if self.records.empty() and not self.records.warnings:
            self.records = records
        else:
            self.records.extend(records)

    def produce_warning(self, where: str, message: str) -> None:
        self.records.warn(where, message)

    def flush(self) -> ChatSaveSummary:
        """Run the exhibit-level chat logic and store the result (see the module docstring)."""
        records, self.records = self.records, ChatRecords()
        lids = {a.lid for a in records.accounts.values() if a.lid and a.jid is None}
        if lids:
            resolve_known(records, self.sink.lid_accounts(lids))
        exports = [m.note() for m in merge_text_exports(records)]
        exports += merge_groups(records, self.sink)
        return self.sink.write(records, exports, self.decrypted)
