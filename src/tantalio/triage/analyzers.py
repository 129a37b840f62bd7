"""Exhibit analyzers: the hook other packages use to read whole exhibits during ingest.

Chat databases and exports only make sense with their sidecars and attachments beside
them, so they are not parsed file by file. Instead, during the fingerprint pass, ingest
copies every file an analyzer `wants(path)` into a private temp directory at its exhibit
path (`<root>/<path inside the exhibit>`), and once the exhibit's files are stored it calls
`analyze(ctx)` once. The analyzer parses what is under `ctx.root` and emits its records to
the sink the context gives it (`ctx.chat_sink()`: the store's side of the chat mediator),
never importing the store itself; writes are idempotent (a resumed ingest may call it again
for the same exhibit). Its messages are printed; an exception is reported and never stops
the ingest.

Registering: a module listed in `ANALYZER_MODULES` exposes `ANALYZER`, an object with
`name`, `wants(path) -> bool` and `analyze(ctx) -> list[str]`. A listed module that cannot
be imported, or has no `ANALYZER`, raises `tantalio.listed.RegistryError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from tantalio.listed import RegistryError, import_listed
from tantalio.store.workspace import Workspace

if TYPE_CHECKING:
    from tantalio.store.chats.sink import WorkspaceChatSink

ANALYZER_MODULES = ("tantalio.chats.analyzer",)
SPOOL_MAX_FILE = 1 << 30  # files larger than this are not copied for analyzers


@dataclass(slots=True)
class AnalyzerContext:
    ws: Workspace
    case_id: int
    case_reference: str
    exhibit_id: int
    exhibit_label: str
    root: Path  # spooled files live at root / <path inside the exhibit>
    paths: list[str] = field(default_factory=list)  # exhibit paths spooled, in walk order
    chat_keys: tuple[str, ...] = ()  # `--chat-key` values: keys for encrypted chat sources

    def chat_sink(self) -> WorkspaceChatSink:
        """Where a chat analyzer's mediator stores this exhibit's records."""
        from tantalio.store.chats.sink import WorkspaceChatSink

        return WorkspaceChatSink(self.ws, self.exhibit_id)


class ExhibitAnalyzer(Protocol):
    name: str

    def wants(self, path: str) -> bool: ...

    def analyze(self, ctx: AnalyzerContext) -> list[str]: ...


def load_analyzers(names: Iterable[str] = ANALYZER_MODULES) -> list[ExhibitAnalyzer]:
    found: list[ExhibitAnalyzer] = []
    registry = "tantalio.triage.analyzers.ANALYZER_MODULES"
    for module in import_listed(registry, names):
        analyzer = getattr(module, "ANALYZER", None)
        if analyzer is None:
            raise RegistryError(f"{registry} lists {module.__name__!r}, which has no ANALYZER")
        found.append(analyzer)
    return found


def spool_path(root: Path, exhibit_path: str) -> Path | None:
    """Where a file is copied under `root`; None for a path that would leave it."""
    parts = [p for p in exhibit_path.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        return None
    target = root.joinpath(*parts)
    return target
