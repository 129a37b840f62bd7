"""Settings of the fingerprint engine. Every limit is configuration, none is hard-coded."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FingerprintConfig:
    """How files are fingerprinted. Picklable: `fingerprint_many` ships it to its workers.

    max_pixels: images (and video frames) with more pixels than this are refused as possible
        decompression bombs; they still get size and cryptographic hashes. The default is
        twice Pillow's MAX_IMAGE_PIXELS, the point where Pillow itself refuses.
    timeout_s: `fingerprint_many` abandons a file after this many seconds (the worker is
        killed and replaced; the file is hashed again without decoding, with an error).
    video_timeout_s: the same for videos; the frame loop also stops itself at this deadline
        and returns the frames hashed so far with an error.
    video_fps: vPDQ sampling rate (frames hashed per second of video).
    min_side: the JPEG fast path decodes in the DCT domain (scale 1/2, 1/4, 1/8) to the
        smallest size whose short side is still at least this; fidelity of PDQ against a
        full-resolution decode is measured in docs/perf/fingerprint.md.
    max_image_bytes: image files larger than this are hashed but not decoded.
    spool_bytes: `fingerprint_stream` keeps up to this much of a video in memory before
        spooling it to a temporary file (in `temp_dir`).
    video_threads: decoder threads per video (0: let FFmpeg choose).
    exact_pdq: hash exactly what `pdqhash`/threatexchange hash (full-resolution RGB decode,
        float luma): bit-identical PDQ for audits, several times slower. By default JPEGs are
        decoded luma-only and reduced, and other images go through Pillow's 8-bit luma;
        docs/perf/fingerprint.md gives the measured distance to the reference.
    preview_px: when > 0, images also get `Fingerprint.preview`: colour JPEG bytes, long side
        at most this, EXIF orientation applied, made from the decode PDQ already did (a JPEG's
        Y, Cb and Cr are decoded together at the PDQ scale and Y is hashed: the same pixels
        as the luma-only decode). Off by default; an ingest asks for its thumbnails this way
        instead of decoding each picture twice.
    trim: also hash the picture inside uniform borders, letterbox bars or screenshot chrome
        (`extra["pdq_trimmed"]`, issue 13): a second PDQ of the same file, only when the
        file has such a frame (fingerprint/trim.py).
    local_features: also extract ORB local features for the `local-features` signal type
        (issue 13, localfeat/extract.py): "reference" keeps 64 keypoints in
        `extra["local_features"]` (what a hash set stores); "query" keeps 400 there and adds
        the mirror image's and, for a framed picture, the trimmed picture's in
        `extra["local_features_variants"]` (what is searched). "" (the default): none, as a
        run asks for them only where exact and PDQ matching settled nothing.
    mp_context: multiprocessing start method of `fingerprint_many` ("forkserver" is safe
        in threaded programs; "fork" starts faster).
    """

    max_pixels: int = 178_956_970
    timeout_s: float = 60.0
    video_timeout_s: float = 1800.0
    video_fps: float = 1.0
    min_side: int = 512
    jpeg_fast_path: bool = True
    exact_pdq: bool = False
    orientations: bool = True
    exif: bool = True
    video: bool = True
    max_image_bytes: int = 1 << 30
    spool_bytes: int = 256 << 20
    temp_dir: str | None = None
    video_threads: int = 0
    mp_context: str = "forkserver"
    preview_px: int = 0
    trim: bool = True
    local_features: str = ""

    def __post_init__(self) -> None:
        if self.local_features not in ("", "reference", "query"):
            raise ValueError(
                f"local_features must be 'reference', 'query' or '', not {self.local_features!r}"
            )


DEFAULT_CONFIG = FingerprintConfig()
