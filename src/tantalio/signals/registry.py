"""Every signal type tantalio knows, by name.

Each module in `SIGNAL_MODULES` exports `SIGNAL_TYPES`, a tuple of `SignalType` instances.
A module that is listed but missing fails loudly at import; a test fails when a module in
`signals/` is not listed or a registered type lacks one of its pieces
(tests/signals/test_registry.py).
"""

from __future__ import annotations

import importlib

from tantalio.signals.base import INDEX_KINDS, IndexKind, SignalError, SignalType

SIGNAL_MODULES = (
    "tantalio.signals.crypto",
    "tantalio.signals.local_features",
    "tantalio.signals.pdq",
    "tantalio.signals.pdq_trimmed",
    "tantalio.signals.vpdq",
)


def _load() -> dict[str, SignalType]:
    out: dict[str, SignalType] = {}
    for module_name in SIGNAL_MODULES:
        module = importlib.import_module(module_name)  # ImportError names the module
        for st in module.SIGNAL_TYPES:
            if st.name in out:
                raise RuntimeError(f"signal type {st.name!r} registered twice ({module_name})")
            if st.index not in INDEX_KINDS:
                raise RuntimeError(f"signal type {st.name!r}: unknown index kind {st.index!r}")
            out[st.name] = st
    return out


SIGNAL_TYPES: dict[str, SignalType] = _load()


def names() -> tuple[str, ...]:
    return tuple(SIGNAL_TYPES)


def get(name: str) -> SignalType:
    st = SIGNAL_TYPES.get(name)
    if st is None:
        raise SignalError(f"no such signal type {name!r}; known: {', '.join(SIGNAL_TYPES)}")
    return st


def normalize(name: str, value: str) -> str:
    """Validated canonical text of a signal; raises `SignalError` (never echoing the value)."""
    return get(name).normalize(value)


def of_index(kind: IndexKind) -> list[SignalType]:
    return [st for st in SIGNAL_TYPES.values() if st.index == kind]


def exact_columns() -> dict[str, str]:
    """Exact signal type -> exact-index column (`video_md5` -> `md5`)."""
    return dict(_EXACT_COLUMNS)


_EXACT_COLUMNS = {st.name: st.column for st in of_index("exact") if st.column}
