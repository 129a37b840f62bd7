"""fingerprint_file / _bytes / _stream on real files: hashes, types, PDQ, EXIF, bad input."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tantalio.fingerprint import (
    Exif,
    FingerprintConfig,
    fingerprint_bytes,
    fingerprint_file,
    fingerprint_stream,
    hamming,
    hash_only_file,
    pdq_reference,
    sniff,
)

IMAGES = ["photo.jpg", "exif.jpg", "photo.png", "gray.png", "photo.bmp", "photo.webp"]
IMAGES += ["photo.tiff", "anim.gif"]
TYPES = {".jpg": "jpeg", ".png": "png", ".bmp": "bmp", ".webp": "webp", ".tiff": "tiff"}
TYPES |= {".gif": "gif", ".mp4": "mp4"}


class OneWayStream(io.RawIOBase):
    """An archive member: read-only, no seeking, short reads."""

    def __init__(self, data: bytes) -> None:
        self._buf = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        chunk = self._buf.read(min(len(b), 7000))
        b[: len(chunk)] = chunk
        return len(chunk)


@pytest.mark.parametrize("name", [*IMAGES, "clip.mp4"])
def test_known_answers(data_dir: Path, known_answers, name: str) -> None:
    """Against the reference's PDQ (threatexchange/pdqhash on Pillow's RGB decode): exact in
    `exact_pdq` mode; by default we hash 8-bit luma (JPEG's Y channel, Pillow's L), which
    lands within 2 bits."""
    want = known_answers[name]
    fp = fingerprint_file(data_dir / name)
    exact = fingerprint_file(data_dir / name, FingerprintConfig(exact_pdq=True))
    assert fp.error is None and exact.error is None
    assert fp.size == want["size"] and fp.sha256 == want["sha256"]
    assert fp.type == TYPES[Path(name).suffix]
    if "pdq" not in want:
        return
    assert (fp.md5, fp.sha1) == (want["md5"], want["sha1"])
    assert (fp.width, fp.height) == (want["width"], want["height"])
    assert (exact.pdq, exact.pdq_quality) == (want["pdq"], want["pdq_quality"])
    assert hamming(fp.pdq, want["pdq"]) <= 2
    assert abs(fp.pdq_quality - want["pdq_quality"]) <= 2


@pytest.mark.parametrize("name", ["photo.png", "clip.mp4", "make_fixtures.py"])
def test_crypto_matches_hashlib_for_file_bytes_and_stream(data_dir: Path, name: str) -> None:
    data = (data_dir / name).read_bytes()
    want = (hashlib.md5(data).hexdigest(), hashlib.sha1(data).hexdigest())
    want += (hashlib.sha256(data).hexdigest(),)
    for fp in (
        fingerprint_file(data_dir / name),
        fingerprint_bytes(data, name=name),
        fingerprint_stream(OneWayStream(data), name=name),
    ):
        assert (fp.md5, fp.sha1, fp.sha256) == want
        assert fp.size == len(data)


def test_the_three_entry_points_agree(data_dir: Path) -> None:
    for name in ("exif.jpg", "anim.gif", "clip.mp4"):
        data = (data_dir / name).read_bytes()
        a = fingerprint_file(data_dir / name)
        b = fingerprint_bytes(data, name=str(data_dir / name))
        c = fingerprint_stream(OneWayStream(data), name=str(data_dir / name), size=len(data))
        assert a == b == c


def test_type_comes_from_magic_not_extension(tmp_path: Path, data_dir: Path) -> None:
    disguised = tmp_path / "notes.txt"
    shutil.copy(data_dir / "photo.png", disguised)
    fp = fingerprint_file(disguised)
    assert (fp.type, fp.mime) == ("png", "image/png") and fp.pdq
    text = tmp_path / "holiday.jpg"
    text.write_text("not a picture\n")
    fp = fingerprint_file(text)
    assert (fp.type, fp.error, fp.pdq) == ("other", None, None)


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", "mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ", "mov"),
        (b"\x00\x00\x00\x14ftyp3gp5\x00\x00\x00\x003gp5", "3gp"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "heif"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "avi"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "webm"),
        (b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska", "mkv"),
        (bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c") + b"\x00" * 8, "asf"),
        (b"FLV\x01\x05\x00\x00\x00\x09", "flv"),
        (b"\x00\x00\x00\x08wide\x00\x00\x00\x00mdat", "mov"),
        (b"\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00M4A mp42", "other"),
        (b"%PDF-1.7\n", "other"),
        (b"", "other"),
    ],
)
def test_sniff_containers(head: bytes, kind: str) -> None:
    assert sniff(head)[0] == kind


def test_exif_fields_from_piexif(data_dir: Path) -> None:
    fp = fingerprint_file(data_dir / "exif.jpg")
    assert fp.exif == Exif(
        make="ACME Optics",
        model="Benchcam 7",
        serial="TST-000123",
        lens="ACME 35mm f/2",
        datetime_original="2021-05-03T14:22:01+02:00",
        gps_latitude=pytest.approx(-33.8568, abs=1e-4),
        gps_longitude=pytest.approx(151.2153, abs=1e-4),
        software="benchcam-fw 1.2.3",
        orientation=6,
    )
    # the orientation tag is recorded, not applied: PDQ is of the stored pixels
    assert (fp.width, fp.height) == (160, 120)
    assert fingerprint_file(data_dir / "photo.jpg").exif is None


def test_damaged_exif_is_a_warning_not_an_error(data_dir: Path) -> None:
    data = bytearray((data_dir / "exif.jpg").read_bytes())
    at = data.index(b"Exif\x00\x00") + 6
    data[at + 4 : at + 8] = b"\xff\xff\xff\x7f"  # IFD0 offset far beyond the block
    fp = fingerprint_bytes(bytes(data))
    assert fp.error is None and fp.pdq
    assert fp.exif is None or fp.exif.make is None


def test_jpeg_fast_path_fidelity(make_photo, encode_image) -> None:
    """A 2400×1800 JPEG is decoded at 1/2 scale (short side 900) and still lands within
    Meta's 10-bit conformance bar of pdqhash on the full-resolution decode."""
    im = make_photo(2400, 1800, 17)
    data = encode_image(im, quality=90)
    fp = fingerprint_bytes(data)
    assert fp.extra.get("pdq_scale") == 2
    assert (fp.width, fp.height) == (2400, 1800)
    full = pdq_reference(Image.open(io.BytesIO(data)).convert("RGB"))
    assert hamming(fp.pdq, full[0]) <= 10
    slow = fingerprint_bytes(data, config=FingerprintConfig(exact_pdq=True))
    assert slow.pdq == full[0] and "pdq_scale" not in slow.extra


def test_cmyk_jpeg_goes_through_pillow(make_photo, encode_image) -> None:
    im = make_photo(200, 150, 3)
    fp = fingerprint_bytes(encode_image(im.convert("CMYK"), quality=95))
    assert fp.error is None and fp.pdq
    assert hamming(fp.pdq, pdq_reference(im)[0]) <= 16


def test_animated_gif_is_hashed_on_its_first_frame(data_dir: Path) -> None:
    with Image.open(data_dir / "anim.gif") as im:
        assert im.n_frames == 3
        first = im.convert("RGB")
    fp = fingerprint_file(data_dir / "anim.gif", FingerprintConfig(exact_pdq=True))
    assert fp.pdq == pdq_reference(first)[0]


def test_zero_byte_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    fp = fingerprint_file(empty)
    assert (fp.size, fp.type, fp.error, fp.pdq) == (0, "other", None, None)
    assert fp.sha256 == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize("name", ["photo.jpg", "photo.png", "photo.webp", "anim.gif"])
def test_truncated_images_keep_hashes_and_say_so(data_dir: Path, name: str) -> None:
    data = (data_dir / name).read_bytes()
    cut = data[: len(data) // 5]  # inside the first frame of the GIF too
    fp = fingerprint_bytes(cut, name=name)
    assert fp.sha256 == hashlib.sha256(cut).hexdigest() and fp.size == len(cut)
    assert fp.error and ("truncated" in fp.error or "corrupt" in fp.error), fp.error
    assert fp.pdq is None


def test_corrupt_jpeg(tmp_path: Path) -> None:
    junk = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40
    path = tmp_path / "junk.jpg"
    path.write_bytes(junk)
    fp = fingerprint_file(path)
    assert fp.type == "jpeg" and fp.md5 == hashlib.md5(junk).hexdigest()
    assert fp.error and fp.error.startswith("corrupt jpeg"), fp.error


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat)


def test_decompression_bomb_is_refused() -> None:
    bomb = _png_header_only(60000, 60000)
    fp = fingerprint_bytes(bomb, name="bomb.png")
    assert fp.type == "png" and fp.md5 == hashlib.md5(bomb).hexdigest()
    assert fp.error and fp.error.startswith("refused") and "max_pixels" in fp.error
    small = FingerprintConfig(max_pixels=1000)
    fp = fingerprint_bytes(_png_header_only(100, 100), config=small)
    assert fp.error and fp.error.startswith("refused")


def test_jpeg_bomb_is_refused_from_the_header(make_photo, encode_image) -> None:
    data = bytearray(encode_image(make_photo(64, 64, 1), quality=80))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 65000, 65000)
    fp = fingerprint_bytes(bytes(data))
    assert fp.error and fp.error.startswith("refused"), fp.error


def test_heic_without_decoder_says_so() -> None:
    from tantalio.fingerprint.image import HEIF_DECODER

    fake = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 100
    fp = fingerprint_bytes(fake)
    assert fp.type == "heif" and fp.error
    if not HEIF_DECODER:
        assert "no HEIF decoder" in fp.error


def test_unreadable_paths(tmp_path: Path) -> None:
    fp = fingerprint_file(tmp_path / "missing.jpg")
    assert fp.error and "cannot open" in fp.error and "md5" not in fp.to_json_dict()
    fp = fingerprint_file(tmp_path)
    assert fp.error == "not a regular file"
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert fingerprint_file(fifo).error == "not a regular file"  # and it does not block


def test_hash_only_file(data_dir: Path) -> None:
    fp = hash_only_file(data_dir / "photo.png", "worker crashed (SIGSEGV) while decoding")
    assert fp.type == "png" and fp.pdq is None and fp.error.startswith("worker crashed")
    assert fp.sha256 == hashlib.sha256((data_dir / "photo.png").read_bytes()).hexdigest()


def test_oversized_image_is_hashed_not_decoded(data_dir: Path) -> None:
    cfg = FingerprintConfig(max_image_bytes=1000)
    for fp in (
        fingerprint_file(data_dir / "photo.png", cfg),
        fingerprint_stream(OneWayStream((data_dir / "photo.png").read_bytes()), config=cfg),
    ):
        assert fp.pdq is None and fp.error and "max_image_bytes" in fp.error
        assert fp.sha256 == hashlib.sha256((data_dir / "photo.png").read_bytes()).hexdigest()


def test_evidence_is_not_modified(tmp_path: Path, data_dir: Path) -> None:
    path = tmp_path / "e.jpg"
    shutil.copy(data_dir / "exif.jpg", path)
    os.utime(path, (1_000_000_000, 1_000_000_000))
    fp = fingerprint_file(path)
    st = os.stat(path)
    assert (st.st_atime, st.st_mtime) == (1_000_000_000, 1_000_000_000)  # O_NOATIME
    assert hashlib.sha256(path.read_bytes()).hexdigest() == fp.sha256


def test_gray_png_16bit_and_palette_modes(make_photo, encode_image) -> None:
    im = make_photo(90, 70, 2)
    g16 = Image.fromarray(np.asarray(im.convert("L")).astype(np.uint16) * 257)
    for data in (encode_image(g16, "PNG"), encode_image(im.convert("LA"), "PNG")):
        fp = fingerprint_bytes(data)
        assert fp.error is None and fp.pdq and fp.pdq_quality is not None


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "TIFF"])
def test_exif_fields_from_other_containers(data_dir: Path, fmt: str) -> None:
    """The EXIF block is found through each container's structure (PNG eXIf chunk, WebP EXIF
    chunk, TIFF IFD0), with the same fields as from the JPEG it was copied from."""
    with Image.open(data_dir / "exif.jpg") as src:
        buf = io.BytesIO()
        src.save(buf, fmt, exif=src.info["exif"])
    fp = fingerprint_bytes(buf.getvalue())
    assert fp.error is None and fp.exif is not None
    assert fp.exif == fingerprint_file(data_dir / "exif.jpg").exif


def test_exif_bytes_inside_pixel_data_are_not_exif(data_dir: Path) -> None:
    """Only a real eXIf chunk counts: the same bytes inside compressed pixel data do not."""
    payload = b"eXIf" + (data_dir / "exif.jpg").read_bytes()[:200]
    png = bytearray((data_dir / "photo.png").read_bytes())
    at = png.index(b"IEND") - 4
    png[at:at] = struct.pack(">I", len(payload)) + b"zzZz" + payload + b"\0" * 4  # private chunk
    assert b"eXIf" in png
    fp = fingerprint_bytes(bytes(png))
    assert fp.error is None and fp.exif is None


def test_error_texts_carry_no_memory_addresses() -> None:
    """The same bad bytes give the same error text in every process (stored, compared)."""
    import subprocess
    import sys

    from tantalio.fingerprint.engine import fingerprint_bytes
    from tantalio.fingerprint.errors import clean

    bad = b"\xff\xd8\xff\xe0" + b"\x00" * 50  # JPEG magic, no decodable header
    error = fingerprint_bytes(bad).error
    assert (
        error == "corrupt jpeg: cannot read the header (UnidentifiedImageError: cannot "
        "identify image file)"
    )
    code = (
        "from tantalio.fingerprint.engine import fingerprint_bytes;"
        f"print(fingerprint_bytes({bad!r}).error)"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert other.stdout.strip() == error
    assert clean("x <Foo object at 0x7f00aa> y at 0xdead") == "x y"


@pytest.mark.parametrize(
    "name",
    ["photo.jpg", "exif.jpg", "photo.png", "gray.png", "anim.gif", "photo.bmp", "photo.tiff",
     "photo.webp"],
)  # fmt: skip
def test_preview_comes_from_the_same_decode_and_changes_no_hash(data_dir: Path, name: str) -> None:
    import io

    from PIL import Image

    from tantalio.fingerprint.config import FingerprintConfig
    from tantalio.fingerprint.engine import fingerprint_bytes

    data = (data_dir / name).read_bytes()
    plain = fingerprint_bytes(data, name=name)
    with_preview = fingerprint_bytes(data, name=name, config=FingerprintConfig(preview_px=64))
    assert plain.preview is None and with_preview.preview is not None
    preview = with_preview.preview
    with_preview.preview = None
    assert with_preview == plain  # hashes, PDQ, orientations, EXIF: all unchanged
    with Image.open(io.BytesIO(preview)) as im:
        assert im.format == "JPEG" and im.mode == "RGB" and max(im.size) == 64


def test_preview_is_upright_by_exif_orientation(make_photo, encode_image) -> None:  # type: ignore[no-untyped-def]
    import io

    import piexif
    from PIL import Image

    from tantalio.fingerprint.config import FingerprintConfig
    from tantalio.fingerprint.engine import fingerprint_bytes

    exif = piexif.dump({"0th": {piexif.ImageIFD.Orientation: 6}})  # stored turned 90° left
    data = encode_image(make_photo(2400, 1200), "JPEG", exif=exif)
    fp = fingerprint_bytes(data, config=FingerprintConfig(preview_px=100))
    assert fp.exif is not None and fp.exif.orientation == 6 and fp.extra["pdq_scale"] == 2
    assert fp.preview is not None
    with Image.open(io.BytesIO(fp.preview)) as im:
        assert im.size == (50, 100)


def test_a_given_sha256_is_trusted_and_not_computed_again(data_dir: Path) -> None:
    """An ingest hashes SHA-256 to look content up; the engine then adds MD5 and SHA-1."""
    from tantalio.fingerprint.engine import fingerprint_bytes, fingerprint_file

    given = "ab" * 32  # not the real digest: proves it is taken as given
    for name in ("photo.jpg", "clip.mp4", "known_answers.json"):
        path = data_dir / name
        data = path.read_bytes()
        real = fingerprint_file(path)
        assert real.sha256 == hashlib.sha256(data).hexdigest()
        for fp in (fingerprint_file(path, sha256=given), fingerprint_bytes(data, sha256=given)):
            assert fp.sha256 == given
            assert (fp.md5, fp.sha1, fp.size, fp.pdq) == (real.md5, real.sha1, real.size, real.pdq)
            assert fp.frames == real.frames
