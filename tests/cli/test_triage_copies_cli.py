"""Issue 13 through the CLI: a letterboxed copy of a known (benign, synthetic) stand-in,
which its plain PDQ misses, is `near-known` by its trimmed PDQ, with `match_kind`,
`match_sha256` and `transform` on every triage JSON row."""

from __future__ import annotations

import json
import random
from pathlib import Path

from PIL import Image
from typer.testing import CliRunner

from tantalio.cli.main import app
from tantalio.demo import synth
from tantalio.fingerprint.engine import fingerprint_bytes
from tantalio.signals.pdq import hamming

runner = CliRunner()


def _letterbox(img: Image.Image, bar: int) -> Image.Image:
    """The picture between black bars above and below (a phone's letterboxed share)."""
    out = Image.new("RGB", (img.width, img.height + 2 * bar), (0, 0, 0))
    out.paste(img, (0, bar))
    return out


def _rows(ws: Path, case: str) -> dict[str, dict[str, object]]:
    out = runner.invoke(app, ["triage", case, "--format", "json", "-w", str(ws)])
    assert out.exit_code == 0, out.output
    return {r["path"]: r for r in map(json.loads, out.output.splitlines())}


def _setup(tmp_path: Path) -> tuple[Path, Path, str]:
    rng = random.Random(13)
    original = synth.picture(rng, 320, 240, "landscape")  # no frame of its own
    card = tmp_path / "card"
    synth.write(card / "plain.jpg", synth.jpeg_bytes(original, quality=80))
    synth.write(card / "boxed.jpg", synth.jpeg_bytes(_letterbox(original, 200)))
    synth.write(card / "other.jpg", synth.jpeg_bytes(synth.picture(rng, 320, 240, "texture")))
    known = fingerprint_bytes(synth.jpeg_bytes(original), name="o.jpg")
    boxed = fingerprint_bytes((card / "boxed.jpg").read_bytes(), name="b.jpg")
    assert known.pdq and boxed.pdq and hamming(known.pdq, boxed.pdq) > 31  # PDQ misses it
    hma = tmp_path / "known.csv"
    hma.write_text(f"signal_type,signal,category,series\npdq,{known.pdq},1,Lake\n")
    ws = tmp_path / "ws"
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    return ws, card, str(hma)


def _import(ws: Path, hma: str) -> None:
    done = runner.invoke(app, ["hashset", "import", hma, "-f", "hma", "-n", "K", "-w", str(ws)])
    assert done.exit_code == 0, done.output


def _ingest(ws: Path, card: Path) -> None:
    done = runner.invoke(app, ["ingest", "C", str(card), "-j", "1", "--no-progress", "-w", str(ws)])
    assert done.exit_code == 0, done.output


def _check(rows: dict[str, dict[str, object]]) -> None:
    for row in rows.values():
        assert {"match_kind", "match_sha256", "transform"} <= row.keys()
    plain, boxed, other = rows["plain.jpg"], rows["boxed.jpg"], rows["other.jpg"]
    assert plain["verdict"] == "near-known" and plain["match_kind"] == "pdq"
    assert plain["transform"] is None
    assert boxed["verdict"] == "near-known" and boxed["match_kind"] == "pdq-trimmed"
    assert boxed["hashset"] == "K" and boxed["match_sha256"] is None  # a PDQ-only entry
    transform = boxed["transform"]
    assert isinstance(transform, dict)
    assert transform["model"] == "trim" and transform["orientation"] == "identity"
    x0, y0, x1, y1 = transform["query_box"]
    assert abs(y0 - 200) <= 3 and abs(y1 - 440) <= 3 and x0 <= 3 and x1 >= 317
    assert transform["rotation_deg"] == 0 and transform["flip"] is False
    assert other["verdict"] == "new" and other["match_kind"] is None
    assert other["transform"] is None and other["match_sha256"] is None


def test_letterboxed_copy_is_near_known_by_trimmed_pdq(tmp_path: Path) -> None:
    ws, card, hma = _setup(tmp_path)
    _import(ws, hma)
    _ingest(ws, card)
    _check(_rows(ws, "C"))


def test_hash_set_imported_after_the_media_finds_the_same_copy(tmp_path: Path) -> None:
    ws, card, hma = _setup(tmp_path)
    _ingest(ws, card)
    assert _rows(ws, "C")["boxed.jpg"]["verdict"] == "new"
    _import(ws, hma)
    _check(_rows(ws, "C"))


def _pairs(ws: Path) -> list[tuple[str, str, str]]:
    from sqlalchemy import select
    from sqlalchemy.orm import aliased

    from tantalio.store.cases import File
    from tantalio.store.media import Match
    from tantalio.store.workspace import open_workspace

    a, b = aliased(File), aliased(File)
    with open_workspace(ws) as w, w.session() as s:
        q = (
            select(a.path, b.path, Match.algorithm)
            .join(a, a.media_id == Match.media_id)
            .join(b, b.media_id == Match.other_media_id)
        )
        return sorted(tuple(sorted((x, y))) + (alg,) for x, y, alg in s.execute(q))  # type: ignore[misc]


def test_framed_copy_of_an_earlier_media_is_linked_in_either_order(tmp_path: Path) -> None:
    """Near-duplicates inside the workspace: the letterboxed copy and its original are a
    `pdq-trimmed` pair whichever was ingested first (no hash set involved)."""
    ws, card, _ = _setup(tmp_path)
    for first, second in (("boxed.jpg", "plain.jpg"), ("plain.jpg", "boxed.jpg")):
        ws = tmp_path / f"ws-{first}"
        assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
        for name in (first, second):
            one = tmp_path / f"{first}-{name}"
            one.mkdir()
            (one / name).write_bytes((card / name).read_bytes())
            done = runner.invoke(app, ["ingest", "C", str(one), "-j", "1", "--no-progress",
                                       "-w", str(ws)])  # fmt: skip
            assert done.exit_code == 0, done.output
        assert _pairs(ws) == [("boxed.jpg", "plain.jpg", "pdq-trimmed")], first
