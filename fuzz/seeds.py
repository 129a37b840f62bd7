"""Benign seed inputs for the fuzz targets, made by code: the small committed fixtures (each
made by a script under scripts/) plus documents generated here (a law-enforcement report
package). Nothing here is media of any person: generated textures, synthetic chats.

    .venv/bin/python -m fuzz.seeds OUT_DIR     (writes one folder per target)
"""

from __future__ import annotations

import gzip
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
EVIDENCE = DATA / "evidence"

ARCHIVES = (
    "photos.tar",
    "photos.tar.gz",
    "photos.tar.bz2",
    "photos.tar.xz",
    "photos.tar.zst",
    "photos.7z",
    "nested.zip",
    "zipslip.zip",
    "hostile.tar",
    "single.jpg.gz",
    "encrypted.7z",
    "stdin.7z",
)
DISKS = ("fat.img.gz", "ext4.img.gz")
EWF = ("mbr.E01", "stored.E01")
HASHSETS = {
    "vics": ("vics_1x_cases.json", "vics_1x_media.json", "vics_2_cases.json"),
    "hma": ("hma.csv", "hma_bare.csv"),
    "icse": ("icse.csv", "icse_semicolon.csv"),
    "md5sum": ("list.md5",),
    "sha1sum": ("list.sha1",),
    "sha256sum": ("list.sha256",),
    "nsrl": ("NSRLFile.txt",),
}
CHATS = {
    "msgstore.db": DATA / "chats" / "unit" / "android" / "databases" / "msgstore.db",
    "wa.db": DATA / "chats" / "unit" / "android" / "databases" / "wa.db",
    "ChatStorage.sqlite": DATA / "chats" / "unit" / "ios" / "ChatStorage.sqlite",
    "WhatsApp Chat with Garden Club.txt": DATA
    / "chats"
    / "text"
    / "android_en_us"
    / "WhatsApp Chat with Garden Club.txt",
}


def le_report() -> bytes:
    from tantalio.lereport.schema import Account, LEReport, ReportedFile, Reporter

    report = LEReport(
        report_id="r-seed",
        generated_at="2026-11-28T19:00:00+00:00",
        reporter=Reporter("Example Platform", "Ada", "Lovelace", "tns@example.org"),
        incident_type="Child Pornography (possession, manufacture, and distribution)",
        incident_datetime="2026-11-01T10:00:00+00:00",
        account=Account(id="user-42"),
        files=[
            ReportedFile("f1", md5="ab" * 16, sha256="cd" * 32, uploaded_at="2026-11-01T10:00:00Z"),
            ReportedFile("f2", sha256="ef" * 32, pdq="0f" * 32, pdq_quality=90),
            ReportedFile("f3", md5="12" * 16),
        ],
    )
    return report.to_json().encode()


def seeds() -> dict[str, dict[str, bytes]]:
    """target name → {file name: bytes}."""
    out: dict[str, dict[str, bytes]] = {
        "archives": {n: (EVIDENCE / n).read_bytes() for n in ARCHIVES},
        "disks": {},
        "e01": {n: (EVIDENCE / n).read_bytes() for n in EWF},
        "chats": {name: path.read_bytes() for name, path in CHATS.items()},
        "le_report": {"report-seed.json": le_report()},
    }
    for name in DISKS:
        data = (EVIDENCE / name).read_bytes()
        if name.endswith(".gz"):
            name, data = name.removesuffix(".gz"), gzip.decompress(data)
        out["disks"][name] = data
    for fmt, names in HASHSETS.items():
        out[f"hashset_{fmt}"] = {n: (DATA / "hashsets" / n).read_bytes() for n in names}
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m fuzz.seeds OUT_DIR", file=sys.stderr)
        return 2
    target_dir = Path(argv[0])
    for target, files in seeds().items():
        folder = target_dir / target
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for name, data in files.items():
            (folder / name).write_bytes(data)
    print(f"seeds written under {target_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
