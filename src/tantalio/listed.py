"""Import the modules a string registry lists, failing loudly on one that cannot be imported.

Three registries name their modules as strings so that parallel work adds a line, not an
import: the CLI's command groups (`cli/main.py`), the workspace's ORM model modules
(`store/models_all.py`) and the exhibit analyzers (`triage/analyzers.py`). A listed module
that is missing or broken is a packaging or merge error: silently skipping it would drop
commands, tables or analyzers without a word, so it raises `RegistryError` naming the
registry, the module and the cause (issue 12).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from types import ModuleType


class RegistryError(ImportError):
    """A module listed in a registry cannot be imported."""


def import_listed(registry: str, names: Iterable[str]) -> list[ModuleType]:
    """Import every module in `names`, in order; `registry` names the list in errors."""
    modules: list[ModuleType] = []
    for name in names:
        try:
            modules.append(importlib.import_module(name))
        except ImportError as exc:
            raise RegistryError(
                f"{registry} lists {name!r}, which cannot be imported: {exc}"
            ) from exc
    return modules
