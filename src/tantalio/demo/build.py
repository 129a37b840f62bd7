"""Build the bundled demo case from a seed: benign evidence over three exhibits (a phone
folder, a laptop zip with a nested zip, a USB stick disk image with deleted files), plus
the hash sets that mark some of its pictures as "known" stand-ins; and a second case of
three phones' chats (Spanish, Portuguese and English; `chatscenario.py`) for the network
page.

Planted, so every verdict shows up: exact copies of known stand-ins (in all exhibits, one
deleted on the USB stick), near-copies (resized, recompressed, rotated, mirrored), a
re-encoded known video, known-good wallpapers, a burst of new camera pictures (a series
with EXIF make/model/serial and GPS), media also present in an earlier case, a corrupt
picture, and ordinary documents. All pictures are generated: gradients, shapes, textures.
"""

from __future__ import annotations

import io
import json
import random
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image, ImageEnhance

from tantalio.demo import synth
from tantalio.demo.chatscenario import ChatScenario, build_chat_phones
from tantalio.demo.fat import fat12_image
from tantalio.hashsets.record import HashEntry
from tantalio.hashsets.vics_model import VicsMedia
from tantalio.hashsets.vics_writer import write_vics

SERIES = (("Lakeside", 1, True), ("Harbour", 1, False), ("Meadow", 2, False), ("Dunes", 3, False))


@dataclass
class Demo:
    root: Path
    evidence: dict[str, Path] = field(default_factory=dict)  # exhibit label -> source
    earlier: Path | None = None  # evidence of an earlier case
    hashsets: list[tuple[Path, str, str, str]] = field(
        default_factory=list
    )  # path, fmt, name, kind
    chats: ChatScenario | None = None  # the three-phone chat case (chatscenario.py)


def _jpeg(img: Image.Image, q: int = 88) -> bytes:
    return synth.jpeg_bytes(img, q)


def _burst(rng: random.Random, n: int) -> list[Image.Image]:
    """n shots of one scene, each shifted and lit slightly differently: a series."""
    scene = synth.landscape(rng, 1100, 820)
    shots = []
    for i in range(n):
        x, y = rng.randint(0, 60), rng.randint(0, 40)
        shot = scene.crop((x, y, x + 1024, y + 768))
        shots.append(ImageEnhance.Brightness(shot).enhance(0.9 + 0.02 * i))
    return shots


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(2017, 5, 20, 10, 0, 0))
            zf.writestr(info, data)
    return buf.getvalue()


def build(root: Path, seed: int = 2017) -> Demo:
    rng = random.Random(seed)
    demo = Demo(root)
    ev = root / "evidence"

    # -- the "known" stand-ins: pictures registered in the hash sets, never in the case as is
    known = [synth.picture(rng, 640, 480) for _ in range(16)]
    known_bytes = [_jpeg(k) for k in known]
    known_video = synth.video_bytes(rng, seconds=6)

    # -- phone1: a folder --------------------------------------------------------------
    phone = ev / "phone1"
    burst = _burst(rng, 8)
    for i, shot in enumerate(burst):
        exif = synth.camera_exif(
            "Fictocam", "F1", "FC-000731", f"2017:05:{10 + i // 4:02d} 14:{i:02d}:00", (47.37, 8.54)
        )
        synth.write(
            phone / "DCIM" / "Camera" / f"IMG_2017051{i // 4}_{i:03d}.jpg",
            synth.jpeg_bytes(shot, 90, exif),
        )
    for i in range(40):
        synth.write(
            phone / "DCIM" / "Camera" / f"IMG_{1000 + i}.jpg", _jpeg(synth.picture(rng, 800, 600))
        )
    downloads = phone / "Pictures" / "Downloads"
    for i in range(30):
        synth.write(downloads / f"dl_{i:03d}.jpg", _jpeg(synth.picture(rng, 640, 480), 80))
    for i in (0, 1, 2, 3):  # exact copies of known stand-ins
        synth.write(downloads / f"saved_{i}.jpg", known_bytes[i])
    synth.write(downloads / "small_copy.jpg", _jpeg(synth.resized(known[4], 0.5), 70))
    synth.write(downloads / "recompressed.jpg", _jpeg(known[5], 35))
    synth.write(downloads / "turned.jpg", _jpeg(synth.rotated(known[6])))
    wa = phone / "WhatsApp" / "Media" / "WhatsApp Images"
    for i in range(20):
        synth.write(wa / f"IMG-20170601-WA{i:04d}.jpg", _jpeg(synth.picture(rng, 720, 540), 75))
    synth.write(wa / "IMG-20170602-WA0100.jpg", known_bytes[7])
    synth.write(wa / "IMG-20170602-WA0101.jpg", _jpeg(synth.mirrored(known[8]), 75))
    synth.write(phone / "Movies" / "clip1.mp4", synth.video_bytes(rng, seconds=4))
    synth.write(phone / "Movies" / "clip2.mp4", synth.video_bytes(rng, seconds=3))
    synth.write(phone / "Movies" / "shared.mp4", _reencoded(known_video))
    synth.write(phone / "Documents" / "notes.txt", b"call back tuesday\nbuy batteries\n")
    synth.write(phone / "Documents" / "todo.csv", b"item,done\nmilk,no\n")
    synth.write(phone / "DCIM" / "Camera" / "IMG_broken.jpg", _jpeg(synth.picture(rng))[:900])
    demo.evidence["phone1"] = phone

    # -- laptop.zip with a nested backup zip -------------------------------------------
    wallpapers = [_jpeg(synth.texture(rng, 1024, 768)) for _ in range(3)]
    inner = [(f"old/photo_{i:03d}.jpg", _jpeg(synth.picture(rng, 640, 480))) for i in range(25)]
    inner += [("old/keep_me.jpg", known_bytes[9]), ("old/keep_me_too.jpg", known_bytes[10])]
    inner += [("old/holiday.mp4", synth.video_bytes(rng, seconds=3))]
    outer = [
        (f"Users/alex/Pictures/pic_{i:03d}.jpg", _jpeg(synth.picture(rng, 800, 600)))
        for i in range(40)
    ]
    outer += [(f"Windows/Web/Wallpaper/img{i}.jpg", w) for i, w in enumerate(wallpapers)]
    outer += [("Users/alex/Pictures/again.jpg", known_bytes[0])]
    outer += [("Users/alex/Pictures/from_phone.jpg", (downloads / "dl_003.jpg").read_bytes())]
    outer += [("Users/alex/backup/backup-2016.zip", _zip(inner))]
    outer += [("Users/alex/Documents/letter.txt", b"Dear landlord,\n")]
    demo.evidence["laptop"] = synth.write(ev / "laptop.zip", _zip(outer))

    # -- usb.dd: a FAT12 stick, two pictures deleted -----------------------------------
    usb = [(f"IMG{i:04d}.JPG", _jpeg(synth.picture(rng, 480, 360), 80)) for i in range(10)]
    usb += [("KNOWN1.JPG", known_bytes[11]), ("KNOWN2.JPG", known_bytes[12])]
    demo.evidence["usb"] = synth.write(
        ev / "usb.dd", fat12_image(usb, {"KNOWN2.JPG", "IMG0007.JPG"})
    )

    # -- an earlier case that saw some of the same pictures ----------------------------
    earlier = root / "evidence-earlier" / "seized-2016"
    synth.write(earlier / "a.jpg", (downloads / "dl_010.jpg").read_bytes())
    synth.write(earlier / "b.jpg", (wa / "IMG-20170601-WA0005.jpg").read_bytes())
    synth.write(earlier / "c.jpg", _jpeg(synth.picture(rng, 640, 480)))
    demo.earlier = earlier

    # -- hash sets ---------------------------------------------------------------------
    hs = root / "hashsets"
    demo.hashsets.append(
        (_vics(hs / "demo-known.json", known_bytes), "vics", "demo-known", "known-bad")
    )
    demo.hashsets.append(
        (_hma(hs / "demo-pdq.csv", known, known_video), "hma", "demo-pdq", "known-bad")
    )
    # -- a chat case: three phones in Spanish, Portuguese and English (another case) -----
    demo.chats = build_chat_phones(root / "evidence-chats")
    demo.hashsets.append((demo.chats.hashset, "vics", "chat-standins", "known-bad"))

    good = hs / "demo-known-good.sha256"
    good.write_text("".join(f"{_sha256(w)}  wallpaper{i}.jpg\n" for i, w in enumerate(wallpapers)))
    demo.hashsets.append((good, "sha256sum", "demo-known-good", "known-good"))
    return demo


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _series_of(i: int) -> tuple[str, int, bool]:
    return SERIES[i % len(SERIES)]


def _vics(path: Path, known_bytes: list[bytes]) -> Path:
    """VICS 2.0 list of the stand-ins' cryptographic hashes, categories and series."""
    import hashlib

    media = []
    for i, data in enumerate(known_bytes):
        name, category, victim = _series_of(i)
        entry = HashEntry(
            md5=hashlib.md5(data).hexdigest(),
            sha1=hashlib.sha1(data).hexdigest(),
            sha256=_sha256(data),
            category=category,
            series=name,
            victim_identified=victim,
            comments="demo stand-in (benign synthetic picture)",
            added_at=datetime(2017, 1, 1, tzinfo=UTC),
        )
        media.append(VicsMedia(entry=entry, media_id=i + 1, size=len(data)))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        write_vics(fh, media, case_number="DEMO-KNOWN", agency="Demo Unit")
    return path


def _hma(path: Path, known: list[Image.Image], video: bytes) -> Path:
    """HMA CSV: the stand-ins' PDQ hashes (computed from the pictures) and the video's vPDQ."""
    from tantalio.fingerprint.engine import fingerprint_bytes

    rows = ["signal_type,signal,category,series"]
    for i, img in enumerate(known):
        fp = fingerprint_bytes(_jpeg(img))
        name, category, _victim = _series_of(i)
        rows.append(f"pdq,{fp.pdq},{category},{name}")
    fp = fingerprint_bytes(video, name="known.mp4")
    frames = [f"{f.pdq},{f.quality},{f.timestamp:.3f}" for f in fp.frames or []]
    cell = json.dumps(frames).replace('"', '""')
    rows.append(f'vpdq,"{cell}",1,Harbour')
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n")
    return path


def _reencoded(data: bytes) -> bytes:
    """The same video decoded and encoded again at a lower bit rate: new bytes, same frames."""
    from fractions import Fraction

    import av

    with av.open(io.BytesIO(data), mode="r") as src:
        vin = src.streams.video[0]
        fps = int(vin.average_rate or 10)
        images = [frame.to_image() for frame in src.decode(vin)]
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as out:
        stream = out.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = images[0].width, images[0].height, "yuv420p"
        stream.time_base = Fraction(1, fps)
        stream.bit_rate = 150_000
        for i, image in enumerate(images):
            frame = av.VideoFrame.from_image(image)
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()
