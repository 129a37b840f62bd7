"""Imports run one way (issue 12): chat parsing never writes to the store, the store never
calls chat logic. Checked on the source, every import statement (also inside functions and
under TYPE_CHECKING), so a lazy import cannot slip past."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "tantalio"
# What the store may take from the chat package: its typed records, nothing that runs logic.
STORE_MAY_IMPORT_FROM_CHATS = {"tantalio.chats.record"}


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in `path`; `from a import b` yields `a.b` and `a`."""
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
            out += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return out


def _offenders(package: str, bad: Callable[[str], bool]) -> list[str]:
    found = []
    for path in sorted((SRC / package).rglob("*.py")):
        for line, module in _imports(path):
            if bad(module):
                found.append(f"{path.relative_to(SRC.parent)}:{line} imports {module}")
    return found


def _chat_logic(module: str) -> bool:
    if module == "tantalio.chats":  # `from tantalio.chats import record` is judged as .record
        return False
    inside = module.startswith("tantalio.chats.")
    return inside and not any(
        module == ok or module.startswith(ok + ".") for ok in STORE_MAY_IMPORT_FROM_CHATS
    )


def test_store_never_imports_chat_logic() -> None:
    assert _offenders("store", _chat_logic) == []


def test_chat_parsers_never_import_the_store() -> None:
    def store(module: str) -> bool:
        return module == "tantalio.store" or module.startswith("tantalio.store.")

    assert _offenders("chats", store) == []


def test_the_check_sees_lazy_and_from_imports(tmp_path: Path) -> None:
    sample = tmp_path / "m.py"
    sample.write_text(
        "from tantalio.chats import exportmatch\n"
        "def f():\n    from tantalio.store.chats import sink\n"
        "import tantalio.chats.record\n"
    )
    found = {m for _, m in _imports(sample)}
    assert _chat_logic("tantalio.chats.exportmatch") and "tantalio.chats.exportmatch" in found
    assert "tantalio.store.chats.sink" in found
    assert not _chat_logic("tantalio.chats.record")
