"""The copy-detection suite builds on generated images alone (no corpus) and is seeded."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _suite_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("copy_suite", BENCH / "copy_suite.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["copy_suite"] = module
    spec.loader.exec_module(module)
    return module


def test_synthetic_suite_is_complete_and_reproducible() -> None:
    cs = _suite_module()
    names = ("crop25", "pad", "screenshot", "rotate2-5")
    a = cs.build(None, n_originals=2, n_distractors=3, transforms=names)
    b = cs.build(None, n_originals=2, n_distractors=3, transforms=names)
    assert a.source == "synthetic"
    assert len(a.originals) == 2 and len(a.distractors) == 3
    assert [(c.original, c.transform) for c in a.copies] == [
        (i, n) for i in range(2) for n in names
    ]
    for x, y in zip(a.copies, b.copies, strict=True):
        assert np.array_equal(np.asarray(x.image), np.asarray(y.image))
    w, h = a.originals[0].size
    crop = next(c for c in a.copies if c.transform == "crop25").image
    assert abs(crop.size[0] * crop.size[1] / (w * h) - 0.75) < 0.02
    padded = next(c for c in a.copies if c.transform == "pad").image
    assert padded.size[0] > w and padded.size[1] > h
    # distractors are not the originals
    for d in a.distractors:
        for o in a.originals:
            assert d.size != o.size or not np.array_equal(np.asarray(d), np.asarray(o))
