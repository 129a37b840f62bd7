"""Media type from magic bytes, never from the file name (seized files are often renamed)."""

from __future__ import annotations

import struct

HEAD_BYTES = 64  # enough for every signature below

_MIME = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "bmp": "image/bmp",
    "webp": "image/webp",
    "tiff": "image/tiff",
    "heif": "image/heif",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "3gp": "video/3gpp",
    "avi": "video/x-msvideo",
    "mkv": "video/x-matroska",
    "webm": "video/webm",
    "asf": "video/x-ms-asf",
    "flv": "video/x-flv",
    "other": "application/octet-stream",
}

_ASF_GUID = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")
_HEIF_BRANDS = {
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"hevc": "image/heic-sequence",
    b"hevx": "image/heic-sequence",
    b"heim": "image/heic",
    b"heis": "image/heic",
    b"mif1": "image/heif",
    b"msf1": "image/heif-sequence",
    b"avif": "image/avif",
    b"avis": "image/avif",
}
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}
# QuickTime files written before the ftyp box existed start with one of these atoms.
_QT_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


def mime_of(type_: str) -> str:
    return _MIME.get(type_, _MIME["other"])


def sniff(head: bytes) -> tuple[str, str]:
    """(type, mime) of a file from its first bytes (at least HEAD_BYTES when the file is
    that long). Types are those of `record.Fingerprint.type`; anything else is `other`."""
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg", _MIME["jpeg"]
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "png", _MIME["png"]
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif", _MIME["gif"]
    if head[:4] == b"RIFF" and len(head) >= 12:
        form = head[8:12]
        if form == b"WEBP":
            return "webp", _MIME["webp"]
        if form == b"AVI ":
            return "avi", _MIME["avi"]
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff", _MIME["tiff"]
    if _is_bmp(head):
        return "bmp", _MIME["bmp"]
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return _from_ftyp(head)
    if head[:4] == b"\x1a\x45\xdf\xa3":
        kind = "webm" if b"webm" in head[:HEAD_BYTES] else "mkv"
        return kind, _MIME[kind]
    if head[:16] == _ASF_GUID:
        return "asf", _MIME["asf"]
    if head[:3] == b"FLV" and len(head) >= 4 and head[3] == 1:
        return "flv", _MIME["flv"]
    if len(head) >= 8 and head[4:8] in _QT_ATOMS and _plausible_atom(head):
        return "mov", _MIME["mov"]
    return "other", _MIME["other"]


def _is_bmp(head: bytes) -> bool:
    if head[:2] != b"BM" or len(head) < 18:
        return False
    # BITMAPFILEHEADER reserved fields are zero; the DIB header size is one of the known ones.
    reserved = head[6:10]
    dib = struct.unpack("<I", head[14:18])[0]
    return reserved == b"\x00\x00\x00\x00" and dib in (12, 16, 40, 52, 56, 64, 108, 124)


def _from_ftyp(head: bytes) -> tuple[str, str]:
    major = head[8:12]
    size = struct.unpack(">I", head[:4])[0]
    brands = [major] + [head[i : i + 4] for i in range(16, min(size, len(head)) - 3, 4)]
    for brand in brands:
        if brand in _HEIF_BRANDS and major not in (b"isom", b"mp41", b"mp42", b"qt  "):
            return "heif", _HEIF_BRANDS[brand]
    if major in _AUDIO_BRANDS:
        return "other", "audio/mp4"
    if major == b"qt  ":
        return "mov", _MIME["mov"]
    if major[:3] in (b"3gp", b"3g2", b"3ge", b"3gg"):
        return "3gp", _MIME["3gp"]
    return "mp4", _MIME["mp4"]


def _plausible_atom(head: bytes) -> bool:
    size = struct.unpack(">I", head[:4])[0]
    return size == 1 or size >= 8
