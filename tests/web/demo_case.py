"""A small benign demo case for the web tests: synthetic landscapes, shapes and textures
(tantalio.demo.synth), near-copies, photos from one fictitious camera body, a short video and
a VICS hash set registering two pictures as "known" stand-ins. Ingested through the real
pipeline (tantalio.triage.pipeline.ingest), so thumbnails, matches and verdicts are real."""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path

from tantalio.demo import synth
from tantalio.store.workspace import Workspace

CASE = "DEMO-1"


@dataclass
class DemoCase:
    case_id: int
    media: dict[str, int]  # role → media id
    evidence: Path


def build_evidence(root: Path, seed: int = 7) -> dict[str, Path]:
    rng = random.Random(seed)
    roles: dict[str, Path] = {}
    pictures = []
    for i in range(14):
        img = synth.picture(rng, 320, 240)
        pictures.append(img)
        roles[f"pic{i}"] = synth.write(
            root / f"dir{i % 2}" / f"pic{i:02d}.jpg", synth.jpeg_bytes(img)
        )
    # near-copies of pic0 (a series in the making) and an exact copy of pic1
    roles["near_a"] = synth.write(
        root / "copies" / "small.jpg", synth.jpeg_bytes(synth.resized(pictures[0]), 70)
    )
    roles["near_b"] = synth.write(
        root / "copies" / "turned.jpg", synth.jpeg_bytes(synth.rotated(pictures[0]))
    )
    roles["copy1"] = synth.write(root / "copies" / "same.jpg", roles["pic1"].read_bytes())
    # three photos from one (fictitious) camera body, one with GPS
    for i in range(3):
        exif = synth.camera_exif(
            "Acme",
            "Trail 9",
            "SN-4711",
            f"2024:05:0{i + 1} 10:00:00",
            gps=(46.5, 6.6) if i == 0 else None,
        )
        roles[f"cam{i}"] = synth.write(
            root / "camera" / f"IMG_{i:04d}.jpg",
            synth.jpeg_bytes(synth.picture(rng, 320, 240, "landscape"), exif=exif),
        )
    roles["video"] = synth.write(root / "video" / "clip.mp4", synth.video_bytes(rng, seconds=4))
    roles["text"] = synth.write(root / "docs" / "notes.txt", b"shopping list\n")
    return roles


def write_hash_set(path: Path, known: list[tuple[Path, int, str]]) -> Path:
    """A VICS 2.0 file listing (picture, category, series) as known stand-ins."""
    media = [
        {
            "MediaID": i + 1,
            "MD5": hashlib.md5(p.read_bytes()).hexdigest().upper(),
            "Category": cat,
            "Series": series,
            "VictimIdentified": False,
        }
        for i, (p, cat, series) in enumerate(known)
    ]
    doc = {
        "@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media",
        "value": media,
    }
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def ingest_demo(ws: Workspace, root: Path) -> DemoCase:
    from tantalio.store import repo
    from tantalio.triage.hashset_import import import_hash_set
    from tantalio.triage.pipeline import IngestOptions, ingest

    roles = build_evidence(root / "evidence")
    hs = write_hash_set(
        root / "known.json", [(roles["pic5"], 1, "Blue Lake"), (roles["pic6"], 2, "Blue Lake")]
    )
    import_hash_set(ws, hs, "vics", "demo-known", "known-bad")
    ingest(
        ws,
        CASE,
        [str(root / "evidence")],
        exhibit="laptop",
        options=IngestOptions(jobs=1, progress=False),
    )
    from sqlalchemy import select

    from tantalio.store.media import Media

    with ws.session() as s:
        case_id = repo.get_case(s, CASE).id
        by_sha = dict(s.execute(select(Media.sha256, Media.id)).all())
    media = {
        role: by_sha[hashlib.sha256(p.read_bytes()).hexdigest()]
        for role, p in roles.items()
        if hashlib.sha256(p.read_bytes()).hexdigest() in by_sha
    }
    return DemoCase(case_id, media, root / "evidence")
