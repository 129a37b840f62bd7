"""Progressive JPEG → the same file without the scans PDQ does not need.

A progressive JPEG spends most of its decode in entropy-decoding scans, and libjpeg decodes
every scan in the file, at any DCT scale. Two kinds can go:

- Colour-only scans (for a luma-only decode). PDQ hashes luma, and a YCbCr JPEG's luma is
  its Y component alone. A scan that holds no Y component cannot change the Y
  coefficients, and a progressive decoder treats coefficients no scan delivered as zero, so
  dropping those scans (4 of 10 in libjpeg's standard script) gives a bit-identical luma.
- The final luma AC refinement scans (successive approximation, Ah > 0 and Al = 0): they
  carry only the last bit of each AC coefficient, and the refinement scans are the slowest
  to decode (libjpeg reads their correction bits one at a time). Without them every AC
  coefficient is off by at most one quantisation step, which libjpeg's block smoothing
  partly restores; PDQ, which sees only the lowest 16x16 frequencies of a 64x64 reduction,
  gave the same hash on all 17 progressive benign corpus files, for about a third less
  decode time. The error is larger where the decode is not reduced, so the engine drops
  these scans only when it decodes at 1/2 scale or less (a short side of 1024 px or more):
  of 260 progressive re-encodings of corpus images decoded at those scales, 83 % kept their
  PDQ and none moved more than 4 bits (docs/decisions/fingerprint.md). Not bit-identical in
  the pixels, so every path that hashes a JPEG (the luma-only decode and the colour decode
  that also makes a preview) drops the same scans, and a file hashes the same whichever
  path it takes. DC scans and every earlier refinement are always kept.

Only whole, well-formed progressive Huffman files are rewritten. Anything unusual (no EOI, a
scan running to the end of the data, a segment length past the end, arithmetic coding, a
component count other than 1 or 3) gives None and the caller decodes the original bytes, so
a truncated or damaged file still fails the strict decode and is reported as before.
"""

from __future__ import annotations

import numpy as np

_SOF2 = 0xC2  # progressive DCT, Huffman coding
_SOS = 0xDA
_EOI = 0xD9
_SOI = b"\xff\xd8"
# Markers that stand alone, without a length field.
_STANDALONE = {0x01, *range(0xD0, 0xD8)}


def scans_for_pdq(data: bytes, *, colour: bool = False, last_bits: bool = True) -> bytes | None:
    """`data` without the scans the PDQ decode does without (module docstring): with
    `last_bits=False` the final luma AC refinements, with `colour=False` the scans that carry
    no luma. None when nothing can (or may) be dropped: not a 1- or 3-component progressive
    Huffman JPEG, or not one this walk fully understands."""
    if not data.startswith(_SOI):
        return None
    try:
        return _strip(data, colour, last_bits)
    except (IndexError, ValueError):
        return None


def _strip(data: bytes, colour: bool, last_bits: bool) -> bytes | None:
    n = len(data)
    pos = 2
    luma_id: int | None = None
    drop: list[tuple[int, int]] = []  # [start, end) byte ranges of scans to leave out
    markers: np.ndarray | None = None
    while True:
        if data[pos] != 0xFF:
            return None
        while data[pos] == 0xFF:  # fill bytes before a marker are allowed
            pos += 1
        marker = data[pos]
        start = pos - 1
        pos += 1
        if marker == _EOI:
            break
        if marker in _STANDALONE:
            continue
        length = (data[pos] << 8) | data[pos + 1]
        end = pos + length
        if length < 2 or end > n:
            return None
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # a frame header
            if marker != _SOF2 or luma_id is not None or data[pos + 7] not in (1, 3):
                return None
            luma_id = data[pos + 8]  # the first component: Y of a YCbCr frame, or the gray
        elif marker == _SOS:
            if luma_id is None:
                return None
            count = data[pos + 2]
            if not 1 <= count <= 4 or length != 6 + 2 * count:
                return None  # a malformed scan header: the decoder reports it
            ids = data[pos + 3 : pos + 3 + 2 * count : 2]
            spectral_start = data[pos + 3 + 2 * count]
            approx = data[pos + 5 + 2 * count]  # Ah << 4 | Al
            if markers is None:
                markers = _marker_offsets(data)
            following = int(np.searchsorted(markers, end))
            if following >= len(markers):
                return None  # the scan runs to the end: truncated, leave it to the decoder
            scan_end = int(markers[following])
            last_ac_bit = spectral_start > 0 and approx >> 4 and not approx & 0x0F
            if luma_id not in ids:
                if not colour:
                    drop.append((start, scan_end))
            elif count == 1 and last_ac_bit and not last_bits:
                drop.append((start, scan_end))
            end = scan_end
        pos = end
        if pos >= n:
            return None  # no EOI
    if not drop:
        return None
    view = memoryview(data)
    kept: list[memoryview] = []
    previous = 0
    for begin, finish in drop:
        kept.append(view[previous:begin])
        previous = finish
    kept.append(view[previous:])  # EOI and anything after it (an MPO's second picture)
    return b"".join(kept)


def _marker_offsets(data: bytes) -> np.ndarray:
    """Offsets of the 0xFF that starts each marker other than RSTn: inside entropy-coded
    data a 0xFF is followed by 0x00 (a stuffed byte) or a restart marker, so these are where
    scans end. A run of fill bytes is reported at its last 0xFF."""
    raw = np.frombuffer(data, dtype=np.uint8)
    ff = np.flatnonzero((raw[:-1] == 0xFF) & (raw[1:] != 0x00))
    following = raw[ff + 1]
    real = (following != 0xFF) & ((following < 0xD0) | (following > 0xD7))
    return ff[real]
