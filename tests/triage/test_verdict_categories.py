"""Verdicts follow the entry's category and its set's kind (issue 16): non-pertinent entries
never alert, uncategorized entries of a reference set mean "seen elsewhere", and a case
exported to VICS and imported in another workspace does not turn its uncategorized media
into known material."""

from __future__ import annotations

import random
from pathlib import Path

from sqlalchemy import select

from tantalio.reports.vics_export import export_vics
from tantalio.store import repo
from tantalio.store.cases import File
from tantalio.store.workspace import open_workspace
from tantalio.triage.hashset_import import import_hash_set
from tantalio.triage.results import triage_rows
from tantalio.triage.verdicts import refresh_cases

from .helpers import fingerprint, flip, rand_pdq, store_files


def _verdicts(ws) -> dict[str, str | None]:
    with ws.session() as s:
        return {p: v for p, v in s.execute(select(File.path, File.verdict))}


def _hma(path: Path, rows: list[str]) -> Path:
    path.write_text("signal_type,signal,category\n" + "".join(r + "\n" for r in rows))
    return path


def test_category_and_kind_decide_the_verdict(db_url: str, tmp_path: Path) -> None:
    rng = random.Random(16)
    np_pdq = rand_pdq(rng)
    fps = {
        "np-exact.jpg": fingerprint(b"np-exact", pdq=rand_pdq(rng)),
        "np-near.jpg": fingerprint(b"np-near", pdq=flip(np_pdq, [2, 40, 99])),
        "bad-uncat.jpg": fingerprint(b"bad-uncat", pdq=rand_pdq(rng)),
        "ref-uncat.jpg": fingerprint(b"ref-uncat", pdq=rand_pdq(rng)),
        "ref-cat1.jpg": fingerprint(b"ref-cat1", pdq=rand_pdq(rng)),
        "both.jpg": fingerprint(b"both", pdq=rand_pdq(rng)),
    }
    with open_workspace(db_url) as ws:
        store_files(ws, "C1", "phone", fps)
        md5 = {k: v.md5 for k, v in fps.items()}
        import_hash_set(
            ws,
            _hma(tmp_path / "bad.csv", [
                f"md5,{md5['np-exact.jpg']},0",
                f"pdq,{np_pdq},0",
                f"md5,{md5['bad-uncat.jpg']},",
                f"md5,{md5['both.jpg']},0",
            ]),
            "hma", "bad", kind="known-bad",
        )  # fmt: skip
        import_hash_set(
            ws,
            _hma(tmp_path / "ref.csv", [
                f"md5,{md5['ref-uncat.jpg']},",
                f"md5,{md5['ref-cat1.jpg']},1",
                f"md5,{md5['both.jpg']},2",
            ]),
            "hma", "ref", kind="reference",
        )  # fmt: skip
        with ws.transaction() as s:
            refresh_cases(s, [repo.get_case(s, "C1").id])
        assert _verdicts(ws) == {
            "np-exact.jpg": "known-non-pertinent",
            "np-near.jpg": "known-non-pertinent",
            "bad-uncat.jpg": "known",  # a list without categories says "illegal" by its kind
            "ref-uncat.jpg": "seen-elsewhere",
            "ref-cat1.jpg": "known",  # the entry's category alerts whatever the set's kind
            "both.jpg": "known",  # an alerting entry outranks a non-pertinent one
        }
        with ws.session() as s:
            rows = {r.path: r for r in triage_rows(s, repo.get_case(s, "C1").id)}
        assert rows["ref-uncat.jpg"].hashset == "ref"
        assert (rows["np-exact.jpg"].hashset, rows["np-exact.jpg"].category) == ("bad", 0)
        assert rows["both.jpg"].category == 2


def test_a_vics_case_export_imported_elsewhere_is_reference(db_url: str, tmp_path: Path) -> None:
    from tantalio.store.review import categorize

    rng = random.Random(61)
    flagged = fingerprint(b"categorized by the examiner", pdq=rand_pdq(rng))
    plain = fingerprint(b"nobody categorized this", pdq=rand_pdq(rng))
    export = tmp_path / "op1.json"
    with open_workspace(f"sqlite:///{tmp_path / 'a.db'}") as first:
        store_files(first, "OP-1", "phone", {"a.jpg": flagged, "b.jpg": plain})
        with first.transaction() as s:
            case = repo.get_case(s, "OP-1")
            refresh_cases(s, [case.id])
            media_id = s.scalar(select(File.media_id).where(File.path == "a.jpg"))
            categorize(s, [media_id], 1)
        with first.session() as s, export.open("w") as out:
            export_vics(s, "OP-1", out)
    with open_workspace(db_url) as second:
        store_files(second, "OP-2", "laptop", {"x.jpg": flagged, "y.jpg": plain})
        result = import_hash_set(second, export, "vics", "op1-export")
        assert result.kind == "reference"
        assert _verdicts(second) == {"x.jpg": "known", "y.jpg": "seen-elsewhere"}
