"""Imports run one way: the case workspace never reaches into the platform (issue 12).

The platform and a case share only neutral packages (fingerprint, hashsets, index, and the
LE-report exchange format in `lereport/`); `cli/` is the one place that wires both.
"""

from __future__ import annotations

import ast
from pathlib import Path

import tantalio

SRC = Path(tantalio.__file__).parent
PLATFORM = ("tantalio.platform", "tantalio.store.platform")
# Allowed to import the platform: the platform itself, its store, the CLI that wires both,
# the platform's side of list subscriptions (a bank fed by signed lists), and the exchange
# *server* (a server like the platform: it shares its key hashing, rate limits and store
# base). The workspace side of the exchange (client, connection, sync) stays checked.
WIRING = (
    "platform/",
    "store/platform/",
    "cli/",
    "subscriptions/bank.py",
    "exchange/app.py",
    "exchange/auth.py",
    "store/exchange/",
)


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def test_workspace_packages_never_import_the_platform() -> None:
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if any(rel.startswith(w) if w.endswith("/") else rel == w for w in WIRING):
            continue
        bad = sorted(
            m
            for m in imported_modules(path)
            if any(m == p or m.startswith(p + ".") for p in PLATFORM)
        )
        offenders += [f"{rel}: {m}" for m in bad]
    assert offenders == []


def test_the_check_sees_an_offending_import(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("def f():\n    from tantalio.platform.reports import build\n")
    assert "tantalio.platform.reports" in imported_modules(sample)
