"""The fuzz targets: a parser, its seeds, and the contract it keeps on any input.

Contracts (docs/decisions/integrity.md): a source walk yields records and never raises while
iterating (reading one file may raise only `OSError`); image verification returns an outcome;
a hash-set import raises only `HashSetFormatError`; the chat parsers never raise (one bad file
costs a warning); a report package raises only `ReportFormatError`. Anything else, or a
RecursionError, is a finding.
"""

from __future__ import annotations

import faulthandler
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from fuzz.seeds import seeds

MiB = 1 << 20
# One input that runs longer than this is a hang: the process dumps its stack and exits, and
# the input is left in FINDINGS for `run.py` to report (C code cannot be interrupted).
HANG_SECONDS = float(os.environ.get("TANTALIO_FUZZ_HANG_SECONDS", "60"))
# TSK's per-step limit in the disk listing process: well under HANG_SECONDS, so a loop inside
# libtsk ends as a record naming the partition (the contract), not as a hang of the campaign.
DISK_SECONDS = float(os.environ.get("TANTALIO_FUZZ_DISK_SECONDS", "10"))
FINDINGS = Path(os.environ.get("TANTALIO_FUZZ_FINDINGS", "fuzz-findings"))


@dataclass(frozen=True)
class Target:
    name: str
    check: Callable[[Path, str, bytes], None]  # (work folder, file name, bytes)


def _walk(folder: Path, name: str, data: bytes) -> None:
    from tantalio.evidence import EvidenceLimits, open_source, verify_source

    path = folder / name
    path.write_bytes(data)
    limits = EvidenceLimits(
        max_member_size=16 * MiB,
        max_total_size=64 * MiB,
        max_members=5000,
        temp_dir=str(folder),
        disk_timeout=DISK_SECONDS,  # a file system that makes libtsk loop: a record, no hang
    )
    for record in open_source(path, limits):
        if record.open is None:
            assert record.error, f"{record.path}: no bytes and no reason"
            continue
        try:
            with record.open() as stream:
                while stream.read(MiB):
                    pass
        except OSError:
            pass  # a damaged member: the consumer records it unreadable
    if name.lower().endswith(".e01"):
        outcome = verify_source(path)
        assert outcome is None or outcome.status in ("match", "mismatch", "not verified")


def _hashset(fmt: str) -> Callable[[Path, str, bytes], None]:
    def check(folder: Path, name: str, data: bytes) -> None:
        from tantalio.hashsets import HashSetFormatError, import_entries

        path = folder / name
        path.write_bytes(data)
        try:
            entries, _warnings = import_entries(path, fmt)
            for _ in entries:
                pass
        except HashSetFormatError:
            pass

    return check


def _chats(folder: Path, name: str, data: bytes) -> None:
    from fuzz.seeds import CHATS
    from tantalio.chats.registry import parse_exhibit

    phone = folder / "phone"
    phone.mkdir()
    for other, path in CHATS.items():  # the mutated file among intact companions
        if other != name and other.endswith(".db") == name.endswith(".db"):
            (phone / other).write_bytes(path.read_bytes())
    (phone / name).write_bytes(data)
    parse_exhibit(phone)


def _le_report(folder: Path, name: str, data: bytes) -> None:
    from tantalio.lereport.schema import ReportFormatError
    from tantalio.triage.le_report import reported_items

    path = folder / name
    path.write_bytes(data)
    try:
        for _ in reported_items(str(path)):
            pass
    except ReportFormatError:
        pass


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("archives", _walk),
        Target("disks", _walk),
        Target("e01", _walk),
        Target("chats", _chats),
        Target("le_report", _le_report),
        *(
            Target(f"hashset_{fmt}", _hashset(fmt))
            for fmt in ("vics", "hma", "icse", "md5sum", "sha1sum", "sha256sum", "nsrl")
        ),
    )
}


@cache
def _seeds(target: str) -> tuple[tuple[str, bytes], ...]:
    return tuple(sorted(seeds()[target].items()))


@st.composite
def mutated(draw: st.DrawFn, target: str) -> tuple[str, bytes]:
    """A seed with a few mutations: flipped, cut, inserted, deleted, repeated, zeroed bytes,
    at positions anywhere in the file or near its start (where headers live)."""
    name, seed = draw(st.sampled_from(_seeds(target)))
    data = bytearray(seed)
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(("flip", "cut", "insert", "delete", "repeat", "zero")))
        if not data:
            data += draw(st.binary(min_size=1, max_size=64))
            continue
        near = draw(st.booleans())
        pos = draw(st.integers(0, min(len(data), 4096) - 1 if near else len(data) - 1))
        if op == "flip":
            data[pos] ^= draw(st.integers(1, 255))
        elif op == "cut":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=64))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 512))]
        elif op == "repeat":
            data[pos:pos] = data[pos : pos + draw(st.integers(1, 4096))]
        else:
            n = draw(st.integers(1, 4096))
            data[pos : pos + n] = bytes(len(data[pos : pos + n]))
    return name, bytes(data)


def run(target: Target, examples: int, derandomize: bool = False, hang_watch: bool = False) -> None:
    """Check `examples` mutated inputs against the target's contract; raises the first
    failure (Hypothesis shrinks it and prints the input's recipe)."""
    _seeds(target.name)  # read once, outside the strategy

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=derandomize,
        database=None,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
    )
    @given(mutated(target.name))
    def fuzz(case: tuple[str, bytes]) -> None:
        name, data = case
        current = FINDINGS / f"{target.name}-current-{name}"
        if watch:
            current.write_bytes(data)  # left behind only if this input hangs
            faulthandler.dump_traceback_later(HANG_SECONDS, exit=True)
        try:
            with tempfile.TemporaryDirectory(prefix="tantalio-fuzz-") as tmp:
                target.check(Path(tmp), name, data)
        finally:
            if watch:
                faulthandler.cancel_dump_traceback_later()
                current.unlink(missing_ok=True)

    watch = hang_watch
    if watch:
        FINDINGS.mkdir(parents=True, exist_ok=True)
    fuzz()
