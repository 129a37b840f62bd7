"""The signal-type registry: every module registered, every type complete."""

from __future__ import annotations

import pkgutil
from pathlib import Path

import pytest

import tantalio.signals as signals_pkg
from tantalio.fingerprint import fingerprint_bytes
from tantalio.signals import registry
from tantalio.signals.base import INDEX_KINDS, SignalError, SignalType

# Modules of signals/ that are machinery, not signal types.
NOT_TYPES = {"base", "registry", "rules", "lookup", "explain"}


def test_every_signal_module_is_registered() -> None:
    here = Path(signals_pkg.__file__).parent
    modules = {m.name for m in pkgutil.iter_modules([str(here)])} - NOT_TYPES
    listed = {m.rsplit(".", 1)[1] for m in registry.SIGNAL_MODULES}
    assert modules == listed, f"signal modules not in registry.SIGNAL_MODULES: {modules - listed}"


@pytest.mark.parametrize("name", registry.names())
def test_registered_type_has_all_its_pieces(name: str) -> None:
    st = registry.get(name)
    assert st.name == name and st.description
    assert st.index in INDEX_KINDS
    for method in ("normalize", "from_fingerprint", "distance"):
        assert getattr(type(st), method) is not getattr(SignalType, method), (
            f"signal type {name} does not implement {method}"
        )
    if st.index == "exact":
        assert st.column in ("md5", "sha1", "sha256")


def test_known_names_and_aliases() -> None:
    assert set(registry.names()) >= {"md5", "sha1", "sha256", "video_md5", "pdq", "vpdq"}
    assert registry.exact_columns()["video_md5"] == "md5"
    with pytest.raises(SignalError, match="no such signal type"):
        registry.get("tmk")


def test_normalize_and_distance() -> None:
    pdq = "F" * 64
    assert registry.normalize("pdq", pdq) == "f" * 64
    assert registry.get("pdq").distance("f" * 64, "f" * 63 + "e") == 1
    with pytest.raises(SignalError) as err:
        registry.normalize("md5", "zz" * 16)
    assert "zz" not in str(err.value)  # never echoes the value
    frames = f"{'a' * 64},100,0.0;{'b' * 64},90,1.0"
    assert registry.normalize("vpdq", frames) == f"{'a' * 64},{'b' * 64}"
    assert registry.normalize("vpdq", f'["{"a" * 64},100,0.000"]') == "a" * 64
    assert registry.get("vpdq").distance("a" * 64, f"{'a' * 64},{'b' * 64}") == 0
    with pytest.raises(SignalError):
        registry.normalize("vpdq", f"{'a' * 64},101,0.0")


def test_from_fingerprint() -> None:
    import io

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(3)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buf, "PNG")
    fp = fingerprint_bytes(buf.getvalue(), "x.png")
    assert registry.get("md5").from_fingerprint(fp) == fp.md5
    assert registry.get("sha256").from_fingerprint(fp) == fp.sha256
    assert registry.get("pdq").from_fingerprint(fp) == fp.pdq
    assert registry.get("video_md5").from_fingerprint(fp) is None
    assert registry.get("vpdq").from_fingerprint(fp) is None
