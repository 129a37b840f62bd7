"""PDQ, Meta's 256-bit perceptual image hash, bit-for-bit as the reference computes it.

The reference pipeline (pdq/cpp/hashing/pdqhashing.cpp, wrapped by the `pdqhash` package):
luma (0.299 R + 0.587 G + 0.114 B, float) → two passes of a Jarosz box filter along rows and
columns (window ceil(n / 128)) → decimate to 64×64 at pixel centres → 16×16 DCT without the DC
row/column → bit set where a coefficient exceeds the median (Torben: the 128th smallest).
Quality is the clipped sum of 64×64 gradients / 90.

Every step before the DCT is linear and separable, so the 64×64 buffer is `K_h · luma · K_wᵀ`
where `K_n` (64 × n) holds the two box passes and the decimation for a side of length n. The
rows of `K_n` are narrow (≈ n/64 wide), so we apply them as 64 weighted sums over row slices
and a gather over columns: the same numbers as the reference, without filtering the whole image.

That also gives the eight orientations for little more than the cost of one, computed on the
transformed image itself (issue 2: the DCT-only dihedral shortcut misses rotated copies): a
mirror of the image is the image under the mirrored kernel `K_n·J`, whose sample positions are
the reference's own for the mirrored image, and the transposed orientations are the transposes
of those four buffers (the kernel of a side depends only on its length).

The output hex string is the one threatexchange's `PdqSignal` produces from `pdqhash.compute`
(most significant bit = the package's vector[0]); tests hold both to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from tantalio.fingerprint.record import ORIENTATIONS

if TYPE_CHECKING:
    from PIL import Image

PDQ_BITS = 256
PDQ_HEX_LEN = 64
_DOWN = 64  # the reference's DOWNSAMPLE_DIMS
_MIN_HASHABLE_DIM = 5  # below this the reference returns the all-zero hash with quality 0
_ZERO = "0" * PDQ_HEX_LEN
_GATHER_MAX = 4_000_000  # uint8 luma up to this many pixels: gather rows in one pass


@dataclass(frozen=True, slots=True)
class PdqResult:
    """A PDQ hash (64 hex chars), its quality (0-100) and, when asked for, the hashes of the
    eight orientations in `record.ORIENTATIONS` order (`orientations[0] == hash`)."""

    hash: str
    quality: int
    orientations: tuple[str, ...] | None = None


# ---------------------------------------------------------------- hex helpers


def pdq_hex_to_bits(pdq_hex: str) -> NDArray[np.uint8]:
    """The 256 bits of a hex PDQ hash as 0/1, in `pdqhash.compute`'s vector order."""
    if len(pdq_hex) != PDQ_HEX_LEN:
        raise ValueError(f"a PDQ hash has {PDQ_HEX_LEN} hex digits, got {len(pdq_hex)}")
    return np.unpackbits(np.frombuffer(bytes.fromhex(pdq_hex), dtype=np.uint8))


def pdq_bits_to_hex(bits: Any) -> str:
    """The hex string threatexchange makes from a `pdqhash.compute` bit vector."""
    vec = np.asarray(bits, dtype=np.uint8).ravel()
    if vec.size != PDQ_BITS:
        raise ValueError(f"a PDQ hash has {PDQ_BITS} bits, got {vec.size}")
    return np.packbits(vec).tobytes().hex()


def hamming(a_hex: str, b_hex: str) -> int:
    """Hamming distance between two hex PDQ hashes (0-256)."""
    if len(a_hex) != PDQ_HEX_LEN or len(b_hex) != PDQ_HEX_LEN:
        raise ValueError("PDQ hashes must be 64 hex digits")
    return (int(a_hex, 16) ^ int(b_hex, 16)).bit_count()


# ---------------------------------------------------------------- luma


def luma_from_rgb(rgb: NDArray[Any]) -> NDArray[np.float32]:
    """PDQ luma of an H×W×3 (or ×4, alpha ignored) uint8 array, computed exactly as
    `pdqhash.compute` does (float64 products, then float32)."""
    if rgb.ndim != 3 or rgb.shape[2] < 3:
        raise ValueError(f"expected an H×W×3 array, got shape {rgb.shape}")
    return (rgb[:, :, 0] * 0.299 + rgb[:, :, 1] * 0.587 + rgb[:, :, 2] * 0.114).astype(np.float32)


def luma_of_image(image: Image.Image | NDArray[Any]) -> NDArray[Any]:
    """The luma PDQ hashes for a PIL image or numpy array (H×W gray or H×W×3/4 colour).

    Gray input is used as is: the reference's luma of R = G = B = v is v. Other PIL modes
    (palette, CMYK, 16-bit...) are converted to RGB first.
    """
    if isinstance(image, np.ndarray):
        arr = image
    else:
        mode = image.mode
        if mode == "L":
            arr = np.asarray(image)
        else:
            arr = np.asarray(image if mode in ("RGB", "RGBA") else image.convert("RGB"))
    if arr.ndim == 2:
        return arr
    if arr.ndim == 3 and arr.shape[2] == 1:
        return arr[:, :, 0]
    return luma_from_rgb(arr)


# ---------------------------------------------------------------- the filter as matrices


def _window(n: int) -> int:
    # computeJaroszFilterWindowSize(oldDimension, newDimension)
    return (n + 2 * _DOWN - 1) // (2 * _DOWN)


@lru_cache(maxsize=512)
def _kernel(n: int) -> tuple[NDArray[np.intp], NDArray[np.float32], bool]:
    """Rows of K_n and of the mirrored K_n·J: (starts (128,), weights (128, L), symmetric).

    Row s < 64 is the reference's decimated sample s after two box passes (box1DFloat: the
    window of output o is [o - (w - half), o + half - 1] clipped to the vector, averaged over
    the samples inside); row 64 + s is the same for the mirrored vector.

    `symmetric`: row 64 + s is row 63 - s exactly (same start, same weights), so the mirrored
    half needs no arithmetic of its own. That holds for about half of all lengths: an odd
    window (the box is centred) and n not a multiple of 128 (the decimation points
    (s + 0.5) n / 64 are then never integers, so they mirror onto each other).
    """
    w = _window(n)
    half = (w + 2) // 2
    o = np.arange(n)
    lo = np.maximum(0, o - (w - half))
    hi = np.minimum(n - 1, o + half - 1)
    cnt = (hi - lo + 1).astype(np.float64)
    # decimateFloat: (int)(((i + 0.5) * inNumRows) / outNumRows)
    d = (((np.arange(_DOWN) + 0.5) * n) / _DOWN).astype(np.intp)
    starts = lo[lo[d]]
    ends = hi[hi[d]]
    length = int((ends - starts).max()) + 1
    starts = np.minimum(starts, n - length)
    acc = np.zeros((_DOWN, length + 1), dtype=np.float64)
    for s in range(_DOWN):
        js = np.arange(lo[d[s]], hi[d[s]] + 1)
        c = 1.0 / cnt[d[s]] / cnt[js]
        np.add.at(acc[s], lo[js] - starts[s], c)
        np.add.at(acc[s], hi[js] + 1 - starts[s], -c)
    weights = np.cumsum(acc, axis=1)[:, :length]
    weights[np.abs(weights) < 1e-12] = 0.0
    mirror_starts = n - length - starts
    all_starts = np.concatenate([starts, mirror_starts]).astype(np.intp)
    all_weights = np.concatenate([weights, weights[:, ::-1]]).astype(np.float32)
    symmetric = bool(
        np.array_equal(all_starts[_DOWN:], all_starts[_DOWN - 1 :: -1])
        and np.array_equal(all_weights[_DOWN:], all_weights[_DOWN - 1 :: -1])
    )
    return all_starts, all_weights, symmetric


def _contract_rows(
    luma: NDArray[Any], starts: NDArray[np.intp], weights: NDArray[np.float32]
) -> NDArray[np.float32]:
    """Σ_l weights[s, l] · luma[starts[s] + l, :] for every kernel row s → (len(starts), W)."""
    length = weights.shape[1]
    if luma.dtype == np.uint8 and luma.size <= _GATHER_MAX:
        # one gather of the row windows (a strided view, copied once as bytes) and one einsum
        windows = sliding_window_view(luma, length, axis=0)[starts]  # (k, W, L)
        return np.einsum("swl,sl->sw", windows, weights, dtype=np.float32)
    out = np.empty((len(starts), luma.shape[1]), dtype=np.float32)
    for s, st in enumerate(starts):
        out[s] = np.einsum("l,lw->w", weights[s], luma[st : st + length], dtype=np.float32)
    return out


def _downsample(luma: NDArray[Any], mirrored: bool) -> NDArray[np.float32]:
    """The reference's 64×64 buffers: (64, 64) or, with `mirrored`, (128, 128) whose quadrants
    are the image, its left-right mirror, its top-bottom mirror and both. A symmetric kernel's
    mirrored half is the first half reversed: computed once, copied (bit-identical)."""
    h, w = luma.shape
    rs, rw, rows_symmetric = _kernel(h)
    cs, cw, cols_symmetric = _kernel(w)
    k_rows = _DOWN if not mirrored or rows_symmetric else 2 * _DOWN
    k_cols = _DOWN if not mirrored or cols_symmetric else 2 * _DOWN
    a = _contract_rows(luma, rs[:k_rows], rw[:k_rows])  # (k_rows, w)
    if mirrored and rows_symmetric:
        a = np.concatenate([a, a[::-1]])
    cols = cs[:k_cols, None] + np.arange(cw.shape[1])[None, :]  # (k_cols, Lc)
    out = np.einsum("rcl,cl->rc", a[:, cols], cw[:k_cols], dtype=np.float32)
    if mirrored and cols_symmetric:
        out = np.concatenate([out, out[:, ::-1]], axis=1)
    return out


@lru_cache(maxsize=1)
def _dct() -> NDArray[np.float32]:
    # dct_matrix_64: sqrt(2/64) * cos(pi/2/64 * (i+1) * (2j+1)), i < 16 (DC excluded)
    i = np.arange(16)[:, None]
    j = np.arange(_DOWN)[None, :]
    scale = math.sqrt(2.0 / _DOWN)
    return (scale * np.cos((math.pi / 2 / _DOWN) * (i + 1) * (2 * j + 1))).astype(np.float32)


def _quality(buf: NDArray[np.float32]) -> int:
    # pdqImageDomainQualityMetric: int d = ((u - v) * 100) / 255, summed |d|, / 90, <= 100
    hundred, scale = np.float32(100.0), np.float32(255.0)
    dv = (((buf[:-1, :] - buf[1:, :]) * hundred) / scale).astype(np.int64)
    dh = (((buf[:, :-1] - buf[:, 1:]) * hundred) / scale).astype(np.int64)
    total = int(np.abs(dv).sum() + np.abs(dh).sum())
    return min(total // 90, 100)


def _hashes(buffers: NDArray[np.float32]) -> list[str]:
    d = _dct()
    coeffs = np.matmul(np.matmul(d, buffers), d.T).reshape(len(buffers), -1)  # (n, 256)
    median = np.partition(coeffs, 127, axis=1)[:, 127:128]
    bits = (coeffs > median)[:, ::-1]  # bit k = row-major index k; hex is bit 255 first
    packed = np.packbits(bits, axis=1)
    return [row.tobytes().hex() for row in packed]


# ---------------------------------------------------------------- public entry points


def pdq_from_luma(luma: NDArray[Any], orientations: bool = True) -> PdqResult:
    """PDQ (+ quality, + the eight orientations) of a 2-D luma array (uint8 or float32).

    Orientation k is the PDQ of `record.ORIENTATIONS[k]` applied to this image, with PIL's
    meanings: rot90/rot270 counter-clockwise (Image.Transpose.ROTATE_90/270), flip_h mirrors
    left-right, flip_v top-bottom, transpose swaps x and y, transverse the anti-diagonal.
    """
    if luma.ndim != 2 or luma.shape[0] < 1 or luma.shape[1] < 1:
        raise ValueError(f"expected a non-empty 2-D luma array, got shape {luma.shape}")
    if min(luma.shape) < _MIN_HASHABLE_DIM:
        return PdqResult(_ZERO, 0, (_ZERO,) * len(ORIENTATIONS) if orientations else None)
    if not orientations:
        buf = _downsample(luma, mirrored=False)
        return PdqResult(_hashes(buf[None])[0], _quality(buf))
    big = _downsample(luma, mirrored=True)
    ident, fh = big[:_DOWN, :_DOWN], big[:_DOWN, _DOWN:]
    fv, r180 = big[_DOWN:, :_DOWN], big[_DOWN:, _DOWN:]
    by_name = {
        "identity": ident,
        "rot90": fh.T,
        "rot180": r180,
        "rot270": fv.T,
        "flip_h": fh,
        "flip_v": fv,
        "transpose": ident.T,
        "transverse": r180.T,
    }
    hexes = _hashes(np.stack([by_name[name] for name in ORIENTATIONS]))
    return PdqResult(hexes[0], _quality(ident), tuple(hexes))


def pdq_from_image(image: Image.Image | NDArray[Any], orientations: bool = True) -> PdqResult:
    """PDQ of a PIL image or numpy array (gray or RGB), as `pdqhash` computes it on the same
    pixels. The matcher, the platform service and query-by-example call this."""
    return pdq_from_luma(luma_of_image(image), orientations=orientations)


def pdq_reference(image: Image.Image | NDArray[Any]) -> tuple[str, int]:
    """PDQ computed by the `pdqhash` package itself, converted to hex the way threatexchange's
    PdqSignal does (the anchor our engine is tested against; slow on large images)."""
    import pdqhash

    if isinstance(image, np.ndarray):
        arr = image
    else:
        arr = np.asarray(image if image.mode in ("RGB", "L") else image.convert("RGB"))
    if arr.ndim == 2:
        arr = np.ascontiguousarray(np.repeat(arr[:, :, None], 3, axis=2))
    vector, quality = pdqhash.compute(np.ascontiguousarray(arr[:, :, :3]))
    bin_str = "".join(str(int(x)) for x in vector)
    # threatexchange pdq_hasher: "%0*X" % ((len(bin_str) + 3) // 4, int(bin_str, 2)), lowered
    return format(int(bin_str, 2), f"0{(len(bin_str) + 3) // 4}x"), int(quality)
