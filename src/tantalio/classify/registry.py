"""The classifiers a workspace runs: the built-ins, then every installed entry point of the
group `tantalio.classifiers` (a lab's own package). A plug-in that cannot be loaded is an
error naming it, never skipped silently: its scores would otherwise vanish from the ranking
without anyone noticing."""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from tantalio.classify.base import Classifier, ClassifierError

ENTRY_POINT_GROUP = "tantalio.classifiers"
BUILTIN_MODULES = ("tantalio.classify.mediakind",)


def builtin_classifiers() -> list[Classifier]:
    # A listed module that is missing raises: a built-in never disappears silently.
    return [importlib.import_module(name).CLASSIFIER for name in BUILTIN_MODULES]


def plugin_classifiers() -> list[Classifier]:
    found: list[Classifier] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
        except Exception as exc:
            raise ClassifierError(
                f"classifier plug-in {ep.name!r} ({ep.value}) cannot be loaded: {exc}"
            ) from exc
        classifier = obj() if isinstance(obj, type) else obj
        for attr in ("name", "version", "classify"):
            if not hasattr(classifier, attr):
                raise ClassifierError(f"classifier plug-in {ep.name!r} has no {attr!r}")
        found.append(classifier)
    return found


def load_classifiers(names: list[str] | None = None) -> list[Classifier]:
    """Every classifier, or those named (an unknown name is an error)."""
    every = builtin_classifiers() + plugin_classifiers()
    if names is None:
        return every
    by_name = {c.name: c for c in every}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise ClassifierError(
            f"no classifier named {', '.join(missing)}; installed: {', '.join(sorted(by_name))}"
        )
    return [by_name[n] for n in names]
