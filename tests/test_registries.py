"""The three string registries fail loudly on a listed module that cannot be imported (issue 12).

A silent skip would drop a command group, a model module's tables or an analyzer without a
word; each registry raises `RegistryError` naming the list, the module and the cause.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import typer

from tantalio.cli.main import COMMAND_MODULES, register_commands
from tantalio.listed import RegistryError
from tantalio.store.models_all import MODEL_MODULES, load_models
from tantalio.triage.analyzers import ANALYZER_MODULES, load_analyzers

MISSING = "tantalio.no_such_module_listed"


def test_cli_command_modules_refuse_a_missing_module() -> None:
    with pytest.raises(RegistryError, match=r"COMMAND_MODULES lists 'tantalio\.no_such_module"):
        register_commands(typer.Typer(), [*COMMAND_MODULES, MISSING])


def test_model_modules_refuse_a_missing_module() -> None:
    with pytest.raises(RegistryError, match=r"MODEL_MODULES lists 'tantalio\.no_such_module"):
        load_models([*MODEL_MODULES, MISSING])


def test_analyzer_modules_refuse_a_missing_module() -> None:
    with pytest.raises(RegistryError, match=r"ANALYZER_MODULES lists 'tantalio\.no_such_module"):
        load_analyzers([*ANALYZER_MODULES, MISSING])


def test_a_listed_module_that_fails_inside_is_named_with_its_cause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "broken_listed_mod.py").write_text("import tantalio.not_there_either\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(RegistryError) as info:
        load_analyzers(["broken_listed_mod"])
    assert "'broken_listed_mod'" in str(info.value)
    assert "tantalio.not_there_either" in str(info.value)  # the cause, not only the name
    sys.modules.pop("broken_listed_mod", None)


def test_an_analyzer_module_without_analyzer_is_refused() -> None:
    with pytest.raises(RegistryError, match="'tantalio.listed', which has no ANALYZER"):
        load_analyzers(["tantalio.listed"])


def test_every_listed_module_loads() -> None:
    app = typer.Typer()
    register_commands(app)
    assert {g.name for g in app.registered_groups} >= {"case", "hashset", "platform"}
    assert len(load_analyzers()) == len(ANALYZER_MODULES)
    assert {"case", "media", "hash_set"} <= set(load_models().tables)
