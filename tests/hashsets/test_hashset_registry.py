"""The registry knows every format module; detection picks the right one for each sample."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from hashset_samples import DATA

import tantalio.hashsets.formats as formats_pkg
from tantalio.hashsets import HashSetFormat, HashSetFormatError, detect_format, get_format
from tantalio.hashsets.registry import FORMATS, format_names


def _format_classes() -> dict[str, list[type[HashSetFormat]]]:
    """Every concrete HashSetFormat subclass defined in a module under hashsets/formats/."""
    found: dict[str, list[type[HashSetFormat]]] = {}
    for info in pkgutil.iter_modules(formats_pkg.__path__):
        module = importlib.import_module(f"{formats_pkg.__name__}.{info.name}")
        found[info.name] = [
            cls
            for _, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, HashSetFormat) and cls.__module__ == module.__name__ and cls.name
        ]
    return found


def test_every_format_module_is_registered() -> None:
    registered = set(FORMATS.values())
    classes = _format_classes()
    assert classes, "no format modules found"
    for module, found in classes.items():
        assert found, f"formats/{module}.py defines no HashSetFormat with a name"
        missing = [cls.__name__ for cls in found if cls not in registered]
        assert not missing, f"formats/{module}.py: {missing} not listed in hashsets/registry.py"


def test_format_names_are_the_cli_interface() -> None:
    assert set(format_names()) == {
        "vics",
        "icse",
        "hma",
        "md5sum",
        "sha1sum",
        "sha256sum",
        "nsrl",
        "tantalio-signed",
    }
    assert get_format("nsrl").default_kind == "known-good"
    assert get_format("vics").default_kind == "reference"  # entries carry categories


def test_unknown_format_is_a_clear_error() -> None:
    with pytest.raises(HashSetFormatError, match="unknown hash-set format.*vics"):
        get_format("csv-of-doom")


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        ("vics_1x_cases.json", "vics"),
        ("vics_1x_media.json", "vics"),
        ("vics_2_cases.json", "vics"),
        ("vics_2_media.json", "vics"),
        ("icse.csv", "icse"),
        ("icse_semicolon.csv", "icse"),
        ("hma.csv", "hma"),
        ("hma_bare.csv", "hma"),
        ("list.md5", "md5sum"),
        ("list.sha1", "sha1sum"),
        ("list.sha256", "sha256sum"),
        ("NSRLFile.txt", "nsrl"),
        ("nsrl_v3.db", "nsrl"),
        ("signed_list.json", "tantalio-signed"),
        ("not_vics.json", None),
    ],
)
def test_detect_format(sample: str, expected: str | None) -> None:
    assert detect_format((DATA / sample).read_bytes()[:4096]) == expected
