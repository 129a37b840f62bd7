"""The reference side of local features: a bag-of-binary-words inverted file over every
reference keypoint, a shortlist of references by tf-idf votes, exact descriptor matching
against the shortlist only, and the geometric check of the best-matched references.

Search, per query (all its variants: the picture, its mirror image, its trimmed picture):
1. the `RETRIEVAL_KEYPOINTS` strongest descriptors of each variant are quantized to their
   `SOFT` nearest words of the vocabulary (localfeat/vocab.py, `PROBE` coarse cells);
2. every reference in those words' posting lists gets the word's idf (`np.bincount` over
   the gathered postings, each reference's postings summed in one slot: nothing of the
   size of the index is allocated, cleared or scanned per query; words whose list is far
   longer than the mean, stop words, are skipped); the `SHORTLIST` best are kept;
3. their descriptors (a memory-mapped store) are matched exactly: each query descriptor's
   (all of them, not only the retrieval ones) `K_NEAREST` nearest among them within
   `MAX_DESCRIPTOR_DISTANCE` bits vote for their reference (distinct query keypoints);
4. the `CANDIDATES` best-voted references per variant with at least `MIN_VOTES` (and the
   operating point's inliers) votes are verified with RANSAC (localfeat/verify.py).

Why: a flat or IVF nearest-neighbour search over all descriptors costs a scan of millions
of descriptors per query keypoint (0.5 queries/s at 100k references); quantizing to a word
costs a few hundred Hamming distances and a posting list is ~N·64/W references long, so the
per-query cost grows with the postings gathered, not with the descriptors stored.

Storage (`save`/`load`, a directory): the vocabulary, the idf, and segments of references:
each segment is immutable numpy files (ids, keypoint offsets, descriptors, positions, word of
each keypoint, sizes, scales, CSR posting lists) read memory-mapped, plus the ids removed
since (rewritten on save); `header.json` names the files and is replaced last, so a save
killed half-way leaves the previous index. References added after the build form a new
segment with the same vocabulary (searchable at once); small segments are merged.
Per reference keypoint: 32 bytes of descriptor, 4 of position, 4 of word, 4 of posting:
64 keypoints are about 2.8 KB per reference on disk.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from numpy.typing import NDArray

from tantalio.index.persist import sync_dir
from tantalio.localfeat.calibration import DEFAULT_MODEL, FalseMatchModel
from tantalio.localfeat.kernel import greedy_pairs, nearest, top_refs
from tantalio.localfeat.record import DESCRIPTOR_BYTES, Features, decode
from tantalio.localfeat.verify import Verified, verify
from tantalio.localfeat.vocab import BITS, Vocabulary, words_for
from tantalio.signals.lookup import LocalHit
from tantalio.signals.rules import MatchRules

# One query per worker: tantalio runs pictures in parallel, and OpenMP threads spin-waiting
# for each small search cost ten times the search itself on a busy machine (measured).
faiss.omp_set_num_threads(1)

FORMAT = "tantalio-localfeat-bow/1"
SOFT = 1  # words per query descriptor (2 gathered twice the postings for the same recall)
PROBE = 1  # coarse cells looked at per query descriptor (2: 15 % more CPU at 1M, same recall)
RETRIEVAL_KEYPOINTS = 150  # strongest query keypoints per variant choosing the shortlist
SHORTLIST = 16  # references matched descriptor by descriptor per query
STOP_WORD = 5  # a posting list this many times longer than the mean is not scored
K_NEAREST = 4  # shortlisted reference descriptors looked at per query descriptor
MAX_DESCRIPTOR_DISTANCE = 64  # of 256 bits: farther descriptors are never paired
CANDIDATES = 8  # best-voted references verified per query variant
MIN_VOTES = 5  # a reference with fewer voting query keypoints is not verified
RATIO = 0.85  # a vote: nearest shortlisted descriptor below this share of the second's distance
VOTE_SHARE = 0.5  # verified only with votes >= this share of the inliers asked for
MERGE_SEGMENTS = 8  # more added segments than this are merged into one
TRAIN_SAMPLE = 2_000_000  # descriptors a vocabulary is trained on, at most
SCORE_PREFETCH = 32  # scoring prefetches the slot this many postings ahead (0: none)
COMPILED = True  # scoring and shortlist matching in localfeat/kernel.py (False: numpy, faiss)
BULK_THREADS_FROM = 1 << 20  # descriptors: a build this large uses every core
_XY_UNIT = 16.0  # positions stored as uint16 sixteenths of a feature pixel (as lf1:)


class LocalIndexError(Exception):
    """An index file that cannot be used: names the file and the problem."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass(frozen=True, slots=True)
class LocalMatch:
    """A reference verified against the query, with its explanation."""

    ref: int
    inliers: int
    votes: int
    verified: Verified
    false_match_probability: float


@dataclass(slots=True)
class RefArrays:
    """References as flat arrays: `counts` keypoints each, their descriptors (sum x 32),
    positions (sum x 2, feature pixels), picture sizes (n x 2) and scales (n)."""

    ids: NDArray[np.int64]
    counts: NDArray[np.int64]
    descriptors: NDArray[np.uint8]
    xy: NDArray[np.float32]
    size: NDArray[np.int64]
    scale: NDArray[np.float32]

    @classmethod
    def of(cls, refs: Sequence[Features], ids: Sequence[int] | None = None) -> RefArrays:
        n = len(refs)
        counts = np.array([len(f) for f in refs], np.int64)
        any_kp = bool(counts.sum())
        return cls(
            np.asarray(ids if ids is not None else range(n), np.int64).reshape(n),
            counts,
            np.concatenate([f.descriptors for f in refs])
            if any_kp
            else np.zeros((0, DESCRIPTOR_BYTES), np.uint8),
            np.concatenate([f.xy for f in refs]).astype(np.float32)
            if any_kp
            else np.zeros((0, 2), np.float32),
            np.array([(f.width, f.height) for f in refs], np.int64).reshape(n, 2),
            np.array([f.scale for f in refs], np.float32).reshape(n),
        )


@dataclass(slots=True)
class _Segment:
    ids: NDArray[np.int64]
    kp_off: NDArray[np.int64]
    desc: NDArray[np.uint8]
    xy: NDArray[np.uint16]
    words: NDArray[np.int32]
    size: NDArray[np.int32]
    scale: NDArray[np.float32]
    word_off: NDArray[np.int64]
    post: NDArray[np.int32]
    dead: NDArray[np.bool_]
    name: str = field(default_factory=lambda: "s" + secrets.token_hex(6))
    saved: Path | None = None  # the directory its immutable files are in
    dead_dirty: bool = True
    any_dead: bool = False  # some reference is removed (spares a scan of `dead` per query)

    ARRAYS = ("ids", "kp_off", "desc", "xy", "words", "size", "scale", "word_off", "post")

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def build(cls, refs: RefArrays, vocab: Vocabulary) -> _Segment:
        n = len(refs.ids)
        kp_off = np.concatenate([[0], np.cumsum(refs.counts)]).astype(np.int64)
        desc = np.ascontiguousarray(refs.descriptors, np.uint8)
        words = np.empty(len(desc), np.int32)
        for lo in range(0, len(desc), 1 << 20):
            words[lo : lo + (1 << 20)] = vocab.assign(desc[lo : lo + (1 << 20)])[:, 0]
        xy = np.clip(np.rint(refs.xy * _XY_UNIT), 0, 65535).astype(np.uint16)
        word_off, post = _postings(words, refs.counts, n, len(vocab))
        return cls(
            refs.ids.astype(np.int64),
            kp_off,
            desc,
            xy,
            words,
            refs.size.astype(np.int32),
            refs.scale.astype(np.float32),
            word_off,
            post,
            np.zeros(n, np.bool_),
        )

    @classmethod
    def merge(cls, parts: Sequence[_Segment], words: int) -> _Segment:
        counts = np.concatenate([np.diff(p.kp_off) for p in parts])
        live_ids = [p.ids for p in parts]
        seg_words = np.concatenate([p.words for p in parts])
        word_off, post = _postings(seg_words, counts, len(counts), words)
        kp_off = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return cls(
            np.concatenate(live_ids),
            kp_off,
            np.concatenate([p.desc for p in parts]),
            np.concatenate([p.xy for p in parts]),
            seg_words,
            np.concatenate([p.size for p in parts]),
            np.concatenate([p.scale for p in parts]),
            word_off,
            post,
            np.concatenate([p.dead for p in parts]),
            any_dead=any(p.any_dead for p in parts),
        )

    def top(
        self, uw: NDArray[np.int64], idf: NDArray[np.float32], stop: int, k: int
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """The (at most) `k` references of the segment with the best tf-idf scores for the
        query words `uw` (scores > 0), best first, and those scores. Only the gathered
        postings are touched (localfeat/kernel.py; `COMPILED` False: the numpy passes)."""
        if not COMPILED:
            return self._top_numpy(uw, idf, stop, k)
        acc, touched = _buffers(self)
        out_ref = np.empty(k, np.int64)
        out_score = np.empty(k, np.float64)
        m = top_refs(
            self.word_off, self.post, uw, idf, stop, self.dead, self.any_dead,
            acc, touched, out_ref, out_score, SCORE_PREFETCH,
        )  # fmt: skip
        return out_ref[:m], out_score[:m]

    def _top_numpy(
        self, uw: NDArray[np.int64], idf: NDArray[np.float32], stop: int, k: int
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """`top` in numpy passes: each posting finds its reference's slot through a
        per-thread buffer of the segment's size that is written before it is read (never
        cleared nor scanned). Kept as the reference the compiled loop is checked against."""
        none = np.zeros(0, np.int64), np.zeros(0, np.float64)
        starts = self.word_off[uw]
        lens = self.word_off[uw + 1] - starts
        keep = (lens > 0) & (lens <= stop)
        starts, lens, weight = starts[keep], lens[keep], idf[uw[keep]]
        total = int(lens.sum())
        if not total:
            return none
        first = np.concatenate([[0], np.cumsum(lens)[:-1]])
        pos = np.repeat(starts - first, lens) + np.arange(total, dtype=np.int64)
        refs = np.asarray(self.post[pos])
        slot = _slots(self)
        # the last posting of each reference is its slot; every posting adds to that slot
        # (intp and float64: np.bincount converts anything else, 5x slower measured)
        slot[refs] = np.arange(total, dtype=np.intp)
        rep = slot[refs]
        weights = np.repeat(weight.astype(np.float64), lens)
        sc = np.bincount(rep, weights=weights, minlength=total).astype(np.float64, copy=False)
        if self.any_dead:
            sc[rep[self.dead[refs]]] = 0
        best = _top(sc, k)
        order = np.lexsort((refs[best], -sc[best]))
        return refs[best][order].astype(np.int64), sc[best][order]

    def reference(self, i: int) -> Features:
        lo, hi = int(self.kp_off[i]), int(self.kp_off[i + 1])
        w, h = (int(v) for v in self.size[i])
        xy = np.asarray(self.xy[lo:hi], np.float32) / _XY_UNIT
        return Features(w, h, float(self.scale[i]), xy, np.zeros((0, DESCRIPTOR_BYTES), np.uint8))

    def nbytes(self) -> int:
        return sum(int(getattr(self, a).nbytes) for a in self.ARRAYS) + self.dead.nbytes


_BUFFERS = threading.local()


def _slots(seg: _Segment) -> NDArray[np.intp]:
    """This thread's slot buffer for `seg`: one entry per reference, never cleared (each
    query writes the entries it reads)."""
    cache: dict[str, NDArray[np.intp]] | None = getattr(_BUFFERS, "slots", None)
    if cache is None:
        cache = _BUFFERS.slots = {}
    buf = cache.get(seg.name)
    if buf is None or len(buf) != len(seg):
        if len(cache) > 4 * MERGE_SEGMENTS:  # segments merged away: drop their buffers
            cache.clear()
        buf = cache[seg.name] = np.empty(len(seg), np.intp)
    return buf


def _buffers(seg: _Segment) -> tuple[NDArray[np.float32], NDArray[np.int32]]:
    """This thread's score accumulator (zeros; the kernel leaves it so) and touched list
    for `seg`: one entry per reference each (4 + 4 bytes)."""
    cache: dict[str, tuple[NDArray[np.float32], NDArray[np.int32]]] | None = getattr(
        _BUFFERS, "acc", None
    )
    if cache is None:
        cache = _BUFFERS.acc = {}
    bufs = cache.get(seg.name)
    if bufs is None or len(bufs[0]) != len(seg):
        if len(cache) > 4 * MERGE_SEGMENTS:  # segments merged away: drop their buffers
            cache.clear()
        # touched: one more entry than references (the loop writes before it counts)
        bufs = cache[seg.name] = (np.zeros(len(seg), np.float32), np.empty(len(seg) + 1, np.int32))
    return bufs


def _nearest(
    qdesc: NDArray[np.uint8], shortlisted: NDArray[np.uint8]
) -> tuple[NDArray[np.int32], NDArray[np.int64]]:
    """Each query descriptor's `K_NEAREST` nearest shortlisted descriptors (distances, row
    numbers; -1 where fewer), as faiss's flat search would give them."""
    k = min(K_NEAREST, len(shortlisted))
    if not k:
        return np.zeros((len(qdesc), 0), np.int32), np.zeros((len(qdesc), 0), np.int64)
    if not COMPILED:
        flat = faiss.IndexBinaryFlat(BITS)
        flat.add(np.ascontiguousarray(shortlisted))
        dist, gid = flat.search(qdesc, k)
        return dist, gid
    dist = np.empty((len(qdesc), k), np.int32)
    gid = np.empty((len(qdesc), k), np.int64)
    columns = np.ascontiguousarray(np.ascontiguousarray(shortlisted).view(np.uint64).T)
    nearest(np.ascontiguousarray(qdesc).view(np.uint64), columns, dist, gid)
    return dist, gid


def _top(scores: NDArray[np.float64], k: int) -> NDArray[np.intp]:
    """Indices of the `k` largest positive scores (any order). On a large array the k/4-th
    largest of every 16th score is a threshold that about 4k scores pass; the exact top k
    are among those whenever at least k pass (else the whole array is partitioned), which
    spares a partition of a million scores (8-30 ms) per query."""
    n = len(scores)
    if n <= 64 * k:
        pos = np.flatnonzero(scores > 0)
    else:
        sample = scores[::16]
        kk = max(1, k // 4)
        t = float(np.partition(sample, len(sample) - kk)[len(sample) - kk])
        pos = np.flatnonzero(scores >= t) if t > 0 else np.zeros(0, np.intp)
        if len(pos) < k:
            pos = np.flatnonzero(scores > 0)
    if len(pos) <= k:
        return pos
    return pos[np.argpartition(-scores[pos], k)[:k]]


def _postings(
    words: NDArray[np.int32], counts: NDArray[np.int64], n: int, vocab_words: int
) -> tuple[NDArray[np.int64], NDArray[np.int32]]:
    """CSR posting lists: for each word the references (local numbers) with a keypoint of
    that word, each reference once per word, in reference order."""
    owner = np.repeat(np.arange(n, dtype=np.int64), counts)
    key = np.unique(words.astype(np.int64) * max(n, 1) + owner)
    word = key // max(n, 1)
    post = (key - word * max(n, 1)).astype(np.int32)
    word_off = np.zeros(vocab_words + 1, np.int64)
    np.cumsum(np.bincount(word, minlength=vocab_words), out=word_off[1:])
    return word_off, post


class LocalIndex:
    """References' local features in a bag-of-binary-words inverted file (incremental:
    `add`, `remove`; persisted: `save`, `load`)."""

    def __init__(
        self,
        refs: Sequence[Features] = (),
        ids: Sequence[int] | None = None,
        vocabulary: Vocabulary | None = None,
        words: int | None = None,
    ) -> None:
        self.vocab: Vocabulary | None = vocabulary
        self.idf: NDArray[np.float32] = np.zeros(0, np.float32)
        self.segments: list[_Segment] = []
        self.trained_on = 0  # descriptors the vocabulary's size was chosen for
        self._words = words
        self._vocab_name: str | None = None
        self.dirty = False
        if len(refs):
            self.add_arrays(RefArrays.of(refs, ids))

    @classmethod
    def from_arrays(
        cls, refs: RefArrays, words: int | None = None, vocabulary: Vocabulary | None = None
    ) -> LocalIndex:
        index = cls(words=words, vocabulary=vocabulary)
        index.add_arrays(refs)
        return index

    # -- size ----------------------------------------------------------------------------
    def __len__(self) -> int:
        return sum(len(s) - int(s.dead.sum()) for s in self.segments)

    @property
    def keypoints(self) -> int:
        return sum(int(s.kp_off[-1]) for s in self.segments)

    def ids(self) -> NDArray[np.int64]:
        """The ids of the references the index holds (not removed)."""
        parts = [np.asarray(s.ids)[~s.dead] for s in self.segments]
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)

    def memory_bytes(self) -> int:
        """Bytes of all arrays (files when loaded: what the page cache may hold)."""
        vocab = 0 if self.vocab is None else self.vocab.coarse.nbytes + self.vocab.fine.nbytes
        return sum(s.nbytes() for s in self.segments) + vocab + self.idf.nbytes

    def needs_retrain(self) -> bool:
        """The references outgrew the vocabulary (8 times the descriptors it was sized
        for): rebuild to get a larger one."""
        return self.vocab is not None and words_for(self.keypoints) >= 8 * len(self.vocab)

    # -- changes -------------------------------------------------------------------------
    def add(self, refs: Sequence[Features], ids: Sequence[int]) -> None:
        if len(refs):
            self.add_arrays(RefArrays.of(refs, ids))

    def add_arrays(self, refs: RefArrays) -> None:
        if not len(refs.ids):
            return
        # a bulk build quantizes millions of descriptors: on every core, then back to one
        if len(refs.descriptors) > BULK_THREADS_FROM:
            faiss.omp_set_num_threads(os.cpu_count() or 1)
        try:
            self._add_arrays(refs)
        finally:
            faiss.omp_set_num_threads(1)

    def _add_arrays(self, refs: RefArrays) -> None:
        self.remove(refs.ids)  # an id added again replaces its earlier features
        if self.vocab is None:
            n = len(refs.descriptors)
            if not n:
                return
            want = self._words or words_for(n)
            rng = np.random.default_rng(0)
            sample = refs.descriptors
            if n > TRAIN_SAMPLE:
                sample = sample[np.sort(rng.choice(n, TRAIN_SAMPLE, replace=False))]
            self.vocab = Vocabulary.train(sample, want)
            self.trained_on = n
        seg = _Segment.build(refs, self.vocab)
        if not self.segments:
            df = np.diff(seg.word_off).astype(np.float64)
            self.idf = np.log((len(seg) + 1) / (df + 1)).astype(np.float32) + np.float32(0.1)
        self.segments.append(seg)
        if self.needs_retrain():
            self._retrain()
        elif len(self.segments) > MERGE_SEGMENTS + 1:
            merged = _Segment.merge(self.segments[1:], len(self.vocab))
            self.segments = [self.segments[0], merged]
        self.dirty = True

    def _retrain(self) -> None:
        """One segment again, over a vocabulary sized for the references held now."""
        live = []
        for s in self.segments:
            keep = np.flatnonzero(~s.dead)
            counts = np.diff(np.asarray(s.kp_off, np.int64))[keep].astype(np.int64)
            kp = np.concatenate(
                [np.arange(s.kp_off[i], s.kp_off[i + 1]) for i in keep] or [np.zeros(0, int)]
            ).astype(np.int64)
            live.append(
                RefArrays(
                    np.asarray(s.ids)[keep],
                    counts,
                    np.asarray(s.desc)[kp],
                    np.asarray(s.xy)[kp].astype(np.float32) / _XY_UNIT,
                    np.asarray(s.size)[keep].astype(np.int64),
                    np.asarray(s.scale)[keep],
                )
            )
        refs = RefArrays(
            *(np.concatenate([getattr(r, f) for r in live]) for f in RefArrays.__slots__)
        )
        self.vocab, self.segments, self._vocab_name = None, [], None
        self._add_arrays(refs)

    def remove(self, ids: Sequence[int] | NDArray[np.int64]) -> int:
        """Forget references by id; returns how many were held."""
        ids = np.asarray(ids, np.int64)
        gone = 0
        if not len(ids):
            return 0
        for s in self.segments:
            hit = np.isin(s.ids, ids) & ~s.dead
            k = int(hit.sum())
            if k:
                s.dead = s.dead | hit
                s.dead_dirty = True
                s.any_dead = True
                gone += k
        if gone:
            self.dirty = True
        return gone

    # -- search --------------------------------------------------------------------------
    def local_features(self, variants: Sequence[str], rules: MatchRules) -> list[LocalHit]:
        """`signals.lookup.LocalIndexes`: the query's `lf1:` variants, at the rules' operating
        point; refs are this index's ids."""
        found = self.search([decode(v) for v in variants], rules.local_min_inliers)
        return [
            LocalHit(m.ref, m.inliers, m.false_match_probability, m.verified.transform())
            for m in found
        ]

    def shortlist(self, qdesc: NDArray[np.uint8], k: int = SHORTLIST) -> list[tuple[int, int]]:
        """(segment, reference) of the `k` references with the best tf-idf votes."""
        if self.vocab is None or not self.segments or not len(qdesc):
            return []
        words = self.vocab.assign(qdesc, SOFT, PROBE)
        uw = np.unique(words[words >= 0])
        postings = sum(len(s.post) for s in self.segments)
        stop = max(256, int(STOP_WORD * postings / max(1, len(self.vocab))))
        best: list[tuple[float, int, int]] = []
        for si, seg in enumerate(self.segments):
            refs, sc = seg.top(uw, self.idf, stop, k)
            best += [(float(v), si, int(i)) for i, v in zip(refs, sc, strict=True) if v > 0]
        best.sort(key=lambda t: (-t[0], t[1], t[2]))
        return [(si, i) for _, si, i in best[:k]]

    def search(
        self,
        variants: Sequence[Features],
        min_inliers: int,
        model: FalseMatchModel = DEFAULT_MODEL,
        references: int | None = None,
    ) -> list[LocalMatch]:
        """References verified with at least `min_inliers` inliers, best first; `variants`
        are the query's features (and those of its mirror image). The false-match
        probability is reckoned against `references` (default: this index's size)."""
        vs = [q for q in variants if len(q)]
        if not vs or self.vocab is None:
            return []
        return self._search(vs, min_inliers, model, references or len(self))

    def _search(
        self, vs: list[Features], min_inliers: int, model: FalseMatchModel, n_refs: int
    ) -> list[LocalMatch]:
        qdesc = np.ascontiguousarray(np.concatenate([q.descriptors for q in vs]))
        retrieval = qdesc
        if RETRIEVAL_KEYPOINTS and any(len(q) > RETRIEVAL_KEYPOINTS for q in vs):
            # the strongest keypoints (extract.py keeps them spread over the picture and
            # strongest first) choose the shortlist; all of them are matched and verified
            retrieval = np.ascontiguousarray(
                np.concatenate([q.descriptors[:RETRIEVAL_KEYPOINTS] for q in vs])
            )
        short = self.shortlist(retrieval)
        if not short:
            return []
        blocks, owner, local = [], [], []
        for c, (si, i) in enumerate(short):
            seg = self.segments[si]
            lo, hi = int(seg.kp_off[i]), int(seg.kp_off[i + 1])
            blocks.append(np.asarray(seg.desc[lo:hi]))
            owner.append(np.full(hi - lo, c, np.int32))
            local.append(np.arange(hi - lo, dtype=np.int64))
        dist, gid = _nearest(qdesc, np.concatenate(blocks))
        own = np.concatenate(owner)
        kp = np.concatenate(local)
        best: dict[int, LocalMatch] = {}
        lo = 0
        for q in vs:
            hi = lo + len(q)
            for m in self._verify(
                q, dist[lo:hi], gid[lo:hi], own, kp, short, min_inliers, model, n_refs
            ):
                cur = best.get(m.ref)
                if cur is None or m.inliers > cur.inliers:
                    best[m.ref] = m
            lo = hi
        return sorted(best.values(), key=lambda m: (-m.inliers, m.ref))

    def _verify(
        self,
        q: Features,
        dist: NDArray[np.int32],
        gid: NDArray[np.int64],
        own: NDArray[np.int32],
        kp: NDArray[np.int64],
        short: list[tuple[int, int]],
        min_inliers: int,
        model: FalseMatchModel,
        n_refs: int,
    ) -> list[LocalMatch]:
        ok = (gid >= 0) & (dist <= MAX_DESCRIPTOR_DISTANCE)
        qi = np.broadcast_to(np.arange(len(q))[:, None], gid.shape)[ok]
        g = gid[ok]
        d = dist[ok]
        if not len(g):
            return []
        cand = own[g].astype(np.int64)
        # votes: query keypoints whose nearest shortlisted descriptor is clearly nearer than
        # the next farther one (ratio test; chance neighbours rarely pass it). Descriptors
        # tied with the nearest (the same picture in two sets) all vote and are no rival.
        d0 = dist[:, :1]
        valid = gid >= 0
        tied = valid & (dist == d0)
        rival = np.where(valid & (dist > d0), dist, BITS + 1).min(axis=1)
        sure = valid[:, 0] & (dist[:, 0] <= MAX_DESCRIPTOR_DISTANCE)
        sure &= dist[:, 0] < RATIO * rival
        vote = tied & sure[:, None]
        rows = np.nonzero(vote)[0]
        key = np.unique(own[gid[vote]].astype(np.int64) * (len(q) + 1) + rows)
        cands, votes = np.unique(key // (len(q) + 1), return_counts=True)
        order = np.argsort(-votes, kind="stable")[:CANDIDATES]
        out = []
        for c, v in zip(cands[order], votes[order], strict=True):
            if v < MIN_VOTES or v < min_inliers * VOTE_SHARE:
                break
            si, i = short[int(c)]
            seg = self.segments[si]
            sel = np.flatnonzero(cand == c)
            pairs = one_to_one(qi[sel], kp[g[sel]], d[sel])
            found = verify(q, seg.reference(i), pairs)
            if found is not None and found.inliers >= min_inliers:
                out.append(
                    LocalMatch(
                        int(seg.ids[i]),
                        found.inliers,
                        int(v),
                        found,
                        model.probability(found.inliers, n_refs),
                    )
                )
        return out

    # -- files ---------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        """Write what is not yet in `directory` (new segments, removals, the header)."""
        if self.vocab is None:
            raise ValueError("an empty local-features index is not saved")
        directory.mkdir(parents=True, exist_ok=True)
        header_path = directory / "header.json"
        old = _read_header(header_path) if header_path.is_file() else None
        vocab_name = self._vocab_name
        if vocab_name is None or not (directory / f"{vocab_name}.coarse.npy").is_file():
            vocab_name = "v" + secrets.token_hex(6)
            _save(directory / f"{vocab_name}.coarse.npy", self.vocab.coarse)
            _save(directory / f"{vocab_name}.fine.npy", self.vocab.fine)
            _save(directory / f"{vocab_name}.idf.npy", self.idf)
            self._vocab_name = vocab_name
        for s in self.segments:
            if s.saved != directory:
                for a in s.ARRAYS:
                    _save(directory / f"{s.name}.{a}.npy", np.asarray(getattr(s, a)))
                s.saved = directory
                s.dead_dirty = True
            if s.dead_dirty:
                _save(directory / f"{s.name}.dead.npy", np.asarray(s.dead))
                s.dead_dirty = False
        header = {
            "format": FORMAT,
            "vocabulary": vocab_name,
            "words": len(self.vocab),
            "trained_on": self.trained_on,
            "segments": [
                {
                    "name": s.name,
                    "refs": len(s),
                    "keypoints": int(s.kp_off[-1]),
                    "postings": len(s.post),
                }
                for s in self.segments
            ],
        }
        tmp = header_path.with_suffix(".json.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(header, indent=1))
            _durable(fh)
        sync_dir(directory)  # the arrays' renames before the header that names them
        os.replace(tmp, header_path)
        sync_dir(directory)
        keep = {f"{vocab_name}."} | {f"{s.name}." for s in self.segments}
        if old is not None:
            for f in directory.glob("*.npy"):
                if not any(f.name.startswith(k) for k in keep):
                    f.unlink(missing_ok=True)
        self.dirty = False

    @classmethod
    def load(cls, directory: Path) -> LocalIndex:
        """The index saved in `directory`, its large arrays memory-mapped; `LocalIndexError`
        (naming the file and the problem) when a file is missing, damaged or inconsistent."""
        header = _read_header(directory / "header.json")
        try:
            vocab_name = str(header["vocabulary"])
            words = int(header["words"])
            specs = list(header["segments"])
            trained_on = int(header.get("trained_on", 0))
        except (KeyError, TypeError, ValueError):
            raise LocalIndexError(directory / "header.json", "missing fields") from None
        coarse = _load(directory / f"{vocab_name}.coarse.npy", np.uint8, 2)
        fine = _load(directory / f"{vocab_name}.fine.npy", np.uint8, 2)
        idf = _load(directory / f"{vocab_name}.idf.npy", np.float32, 1)
        if fine.shape != (words, DESCRIPTOR_BYTES) or len(idf) != words or not len(coarse):
            raise LocalIndexError(directory / f"{vocab_name}.fine.npy", "vocabulary shape")
        index = cls(vocabulary=Vocabulary(np.array(coarse), np.array(fine)))
        index.idf = np.array(idf)
        index.trained_on = trained_on
        index._vocab_name = vocab_name
        for spec in specs:
            index.segments.append(_load_segment(directory, spec, words))
        index.dirty = False
        return index


def _read_header(path: Path) -> dict[str, Any]:
    try:
        header = json.loads(path.read_text())
    except OSError as exc:
        raise LocalIndexError(path, f"cannot be read ({exc.strerror})") from None
    except ValueError:
        raise LocalIndexError(path, "not valid JSON") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise LocalIndexError(path, f"not a {FORMAT} header")
    return header


def _save(path: Path, arr: NDArray[Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        np.save(fh, np.ascontiguousarray(arr), allow_pickle=False)
        _durable(fh)
    os.replace(tmp, path)


def _durable(fh: Any) -> None:
    """Flush and fsync before the rename: the header names only files that are on disk, so
    a power cut after a save cannot leave it pointing at an empty or short array."""
    fh.flush()
    os.fsync(fh.fileno())


def _load(path: Path, dtype: Any, ndim: int, mmap: bool = False) -> NDArray[Any]:
    try:
        arr = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except FileNotFoundError:
        raise LocalIndexError(path, "missing") from None
    except (OSError, ValueError, EOFError) as exc:
        raise LocalIndexError(path, f"damaged ({exc})") from None
    if arr.dtype != np.dtype(dtype) or arr.ndim != ndim:
        raise LocalIndexError(path, f"expected {np.dtype(dtype)} with {ndim} dimensions")
    return arr


def _load_segment(directory: Path, spec: Any, words: int) -> _Segment:
    try:
        name = str(spec["name"])
        n, m, p = int(spec["refs"]), int(spec["keypoints"]), int(spec["postings"])
    except (KeyError, TypeError, ValueError):
        raise LocalIndexError(directory / "header.json", "bad segment entry") from None

    def path(a: str) -> Path:
        return directory / f"{name}.{a}.npy"

    expect: dict[str, tuple[Any, tuple[int, ...]]] = {
        "ids": (np.int64, (n,)),
        "kp_off": (np.int64, (n + 1,)),
        "desc": (np.uint8, (m, DESCRIPTOR_BYTES)),
        "xy": (np.uint16, (m, 2)),
        "words": (np.int32, (m,)),
        "size": (np.int32, (n, 2)),
        "scale": (np.float32, (n,)),
        "word_off": (np.int64, (words + 1,)),
        "post": (np.int32, (p,)),
        "dead": (np.bool_, (n,)),
    }
    arrs: dict[str, NDArray[Any]] = {}
    for a, (dtype, shape) in expect.items():
        big = a in ("desc", "xy", "words", "post")
        arr = _load(path(a), dtype, len(shape), mmap=big)
        if arr.shape != shape:
            raise LocalIndexError(path(a), f"shape {arr.shape} where the header says {shape}")
        # a plain view of the mapping: np.memmap's slicing costs ~10 us a call, and a query
        # slices 32 references' descriptors
        arrs[a] = np.asarray(arr)
    kp_off, word_off, post = arrs["kp_off"], arrs["word_off"], arrs["post"]
    dead = np.array(arrs["dead"])
    if kp_off[0] != 0 or kp_off[-1] != m or (n and np.any(np.diff(kp_off) < 0)):
        raise LocalIndexError(path("kp_off"), "keypoint offsets out of order")
    if word_off[0] != 0 or word_off[-1] != p or np.any(np.diff(word_off) < 0):
        raise LocalIndexError(path("word_off"), "posting offsets out of order")
    if p and (int(post.min()) < 0 or int(post.max()) >= n):
        raise LocalIndexError(path("post"), "a posting names no reference of the segment")
    return _Segment(
        arrs["ids"],
        kp_off,
        arrs["desc"],
        arrs["xy"],
        arrs["words"],
        arrs["size"],
        arrs["scale"],
        word_off,
        post,
        dead,
        name=name,
        saved=directory,
        dead_dirty=False,
        any_dead=bool(dead.any()),
    )


def one_to_one(
    qi: NDArray[np.intp], rj: NDArray[np.int64], dist: NDArray[np.int32]
) -> NDArray[np.intp]:
    """Pairs (query keypoint, reference keypoint) in which each keypoint of either side
    occurs once, closest descriptors first: an inlier is then one keypoint of each picture,
    so a reference of 64 keypoints never counts more than 64 (and a repeated texture does
    not vote many times for one spot)."""
    order = np.argsort(dist, kind="stable")
    qi = np.ascontiguousarray(qi, np.intp)
    rj = np.ascontiguousarray(rj, np.int64)
    if not len(qi):
        return np.zeros((0, 2), np.intp)
    if not COMPILED:  # the plain loop, the reference the kernel is measured against
        seen_q: set[int] = set()
        seen_r: set[int] = set()
        pairs = []
        for k in order:
            a, b = int(qi[k]), int(rj[k])
            if a not in seen_q and b not in seen_r:
                seen_q.add(a)
                seen_r.add(b)
                pairs.append((a, b))
        return np.asarray(pairs, np.intp).reshape(-1, 2)
    out = np.empty((len(qi), 2), np.intp)
    n = greedy_pairs(qi, rj, order.astype(np.intp), out)  # compiled: was a Python loop
    return out[:n]
