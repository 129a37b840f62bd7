"""Every chat format module is registered, and recognised by name and structure."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import tantalio.chats
from tantalio.chats.base import ChatParser
from tantalio.chats.registry import PARSERS, wants


def test_every_parser_module_is_registered() -> None:
    registered = {type(p) for p in PARSERS}
    for info in pkgutil.iter_modules(tantalio.chats.__path__):
        module = importlib.import_module(f"tantalio.chats.{info.name}")
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, ChatParser) and not inspect.isabstract(cls):
                assert cls in registered, f"{cls.__name__} is not in chats.registry.PARSERS"


def test_parsers_have_names_and_recognition() -> None:
    names = [p.name for p in PARSERS]
    assert len(names) == len(set(names))
    for p in PARSERS:
        assert p.FILE_NAMES, p.name


def test_wants_databases_sidecars_and_text() -> None:
    for path in (
        "data/data/com.whatsapp/databases/msgstore.db",
        "data/data/com.whatsapp/databases/msgstore.db-wal",
        "data/data/com.whatsapp/databases/wa.db",
        "data/data/com.whatsapp/shared_prefs/com.whatsapp_preferences_light.xml",
        "AppDomainGroup-group.net.whatsapp.WhatsApp.shared/ChatStorage.sqlite",
        "AppDomainGroup-group.net.whatsapp.WhatsApp.shared/ChatStorage.sqlite-wal",
        "Downloads/links.html",
        "Documents/notes.docx",
        "sdcard/WhatsApp/Databases/msgstore-2021-01-13.1.db",
    ):
        assert wants(path), path
    for path in ("DCIM/a.jpg", "system/build.prop", "x/msgstore.db.crypt9", ""):
        assert not wants(path), path
