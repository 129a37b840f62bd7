"""First uploaders: for each media file seen in several groups or on several phones, who
posted it first, and how it spread (who forwarded it where, when), on one clock (issue 15).

Phones disagree about time. A database stores UTC, but from the phone's own clock; a text
export stores the phone's local time with no zone at all (Madrid and São Paulo are four
hours apart), so comparing raw times names the wrong first poster. The method
(docs/decisions/network.md):

1. Clocks. Each exhibit has up to two clocks: its UTC times (databases, and exports whose
   offset was inferred against the phone's own database, `exportmatch.py`) and its local
   times (other exports).
2. Anchors. The same message seen on two clocks: same group (by subject), same sender (an
   account key shared across phones) and same content (media SHA-256, else the text),
   within MAX_SKEW of each other. Each such pair votes for the difference of the two
   clocks, in minutes.
3. Pairwise offsets. For two clocks, the difference most votes agree with (within
   AGREE_MINUTES), when at least MIN_ANCHORS votes do; its median is the offset. A forward
   of the same file by the same sender into the same group later on does not outvote the
   genuine copies.
4. One reference. The UTC clock with the most messages is the reference; other clocks are
   placed on it along the strongest chain of pairwise offsets (most anchors first). A UTC
   clock with no anchors is trusted as UTC; a local clock with none is left on phone time
   and every post read on it is marked unaligned.
5. Posts. Copies of one media file on aligned clocks within SAME_POST_MINUTES, by the same
   sender in the same group, are one post seen on several phones. The earliest post is the
   first; it is uncertain when another sender's post is within UNCERTAIN_MINUTES of it, or
   when either was read on an unaligned clock.
"""

from __future__ import annotations

import hashlib
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tantalio.network.rank import AccountScore
from tantalio.store.chats import KnownRow
from tantalio.store.chats.copies import CopyRow

Clock = tuple[int, bool]  # (exhibit id, True: the phone's local time)


@dataclass(frozen=True, slots=True)
class SpreadRules:
    """The method's tolerances; configuration, not constants (house style)."""

    max_skew: timedelta = timedelta(hours=26)  # the farthest two clocks may be apart
    agree_minutes: float = 2.0
    min_anchors: int = 3
    same_post_minutes: float = 3.0
    uncertain_minutes: float = 3.0


@dataclass(slots=True)
class ClockFix:
    clock: Clock
    exhibit: str
    offset_minutes: float | None  # clock minus reference; None: not aligned
    anchors: int  # votes behind the offset (0: reference or trusted UTC)
    via: str  # "reference", "utc", "anchors", "unaligned"

    def to_json(self) -> dict[str, Any]:
        return {
            "exhibit": self.exhibit,
            "clock": "local" if self.clock[1] else "utc",
            "offset_minutes": None if self.offset_minutes is None else round(self.offset_minutes),
            "anchors": self.anchors,
            "via": self.via,
        }


@dataclass(slots=True)
class SpreadPost:
    at: datetime | None  # on the reference clock (naive UTC when a UTC clock is the reference)
    sender_id: int | None
    sender: str | None
    group_id: int | None
    chat: str | None  # group subject (or the direct chat's peer id)
    exhibits: list[str]
    raw: list[datetime]  # the times as the phones wrote them
    forwarded: bool
    aligned: bool
    sender_local: bool = False  # known only by a contact name on one phone

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat() if self.at else None,
            "sender": self.sender,
            "sender_id": self.sender_id,
            "group": self.chat,
            "group_id": self.group_id,
            "exhibits": self.exhibits,
            "as_written": sorted(t.isoformat() for t in self.raw),
            "forwarded": self.forwarded,
            "aligned": self.aligned,
        }


@dataclass(slots=True)
class MediaSpread:
    sha256: str
    posts: list[SpreadPost]  # in time order, the first first
    category: int | None = None
    known: bool = False
    uncertain: str | None = None  # why the first poster is not certain

    @property
    def first(self) -> SpreadPost:
        return self.posts[0]

    @property
    def groups(self) -> int:
        return len({p.chat for p in self.posts})

    @property
    def exhibits(self) -> list[str]:
        return sorted({e for p in self.posts for e in p.exhibits})

    def to_json(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "known": self.known,
            "category": self.category,
            "first": self.first.to_json(),
            "certain": self.uncertain is None,
            "uncertain": self.uncertain,
            "groups": self.groups,
            "exhibits": self.exhibits,
            "spread": [p.to_json() for p in self.posts],
        }


@dataclass(slots=True)
class SpreadReport:
    clocks: dict[Clock, ClockFix]
    media: list[MediaSpread] = field(default_factory=list)

    def first_posts(self) -> dict[int, list[MediaSpread]]:
        """Account id -> the media it posted first."""
        out: dict[int, list[MediaSpread]] = defaultdict(list)
        for m in self.media:
            if m.first.sender_id is not None:
                out[m.first.sender_id].append(m)
        return dict(out)


def _clock(c: CopyRow) -> Clock:
    return (c.exhibit_id, c.local_time and c.utc_offset is None)


def _utc(c: CopyRow) -> datetime | None:
    """The copy's time on its clock: local export times with an inferred offset made UTC."""
    if c.timestamp is None:
        return None
    if c.local_time and c.utc_offset is not None:
        return c.timestamp - timedelta(minutes=c.utc_offset)
    return c.timestamp


def _ident(c: CopyRow) -> str | None:
    """What makes two copies the same message across phones; None when nothing can."""
    if c.group is None or c.sender is None or c.sender_local:
        return None
    if c.media_sha256:
        content = c.media_sha256
    elif c.text and c.text.strip():
        content = hashlib.sha1(" ".join(c.text.split()).encode("utf-8", "replace")).hexdigest()
    else:
        return None
    return f"{c.group.casefold()}\x1f{c.sender}\x1f{content}"


def _pair_offsets(
    copies: Sequence[CopyRow], rules: SpreadRules
) -> dict[tuple[Clock, Clock], tuple[float, int]]:
    """(a, b) -> (minutes clock a runs ahead of clock b, anchors), for a < b."""
    by_ident: dict[str, dict[Clock, list[datetime]]] = defaultdict(lambda: defaultdict(list))
    for c in copies:
        ident, t = _ident(c), _utc(c)
        if ident is not None and t is not None:
            by_ident[ident][_clock(c)].append(t)
    votes: dict[tuple[Clock, Clock], list[float]] = defaultdict(list)
    limit = rules.max_skew.total_seconds() / 60
    for clocks in by_ident.values():
        if len(clocks) < 2:
            continue
        keys = sorted(clocks)
        for i, a in enumerate(keys):
            for b in keys[i + 1 :]:
                for ta in clocks[a]:
                    for tb in clocks[b]:
                        d = (ta - tb).total_seconds() / 60
                        if abs(d) <= limit:
                            votes[(a, b)].append(d)
    out: dict[tuple[Clock, Clock], tuple[float, int]] = {}
    for pair, diffs in votes.items():
        counts = Counter(round(d) for d in diffs)
        window = int(rules.agree_minutes)
        best = max(
            counts, key=lambda m: (sum(counts[m + k] for k in range(-window, window + 1)), -abs(m))
        )
        agreeing = [d for d in diffs if abs(d - best) <= rules.agree_minutes]
        if len(agreeing) >= rules.min_anchors:
            out[pair] = (statistics.median(agreeing), len(agreeing))
    return out


def align_clocks(
    copies: Sequence[CopyRow], rules: SpreadRules | None = None
) -> dict[Clock, ClockFix]:
    """Each clock's offset from the reference clock (steps 1-4 of the module docstring)."""
    rules = rules or SpreadRules()
    sizes = Counter(_clock(c) for c in copies)
    names = {_clock(c): c.exhibit for c in copies}
    if not sizes:
        return {}
    utc = [k for k in sizes if not k[1]]
    reference = max(utc or sizes, key=lambda k: (sizes[k], -k[0]))
    fixes = {reference: ClockFix(reference, names[reference], 0.0, 0, "reference")}
    edges = _pair_offsets(copies, rules)
    while True:  # strongest edge from the aligned set to a clock not yet aligned
        best: tuple[int, Clock, float] | None = None
        for (a, b), (d, n) in edges.items():
            if (a in fixes) == (b in fixes):
                continue
            if a in fixes:  # b = a - d on the reference clock
                offset, new = (fixes[a].offset_minutes or 0.0) - d, b
            else:
                offset, new = (fixes[b].offset_minutes or 0.0) + d, a
            if best is None or n > best[0]:
                best = (n, new, offset)
        if best is None:
            break
        n, new, offset = best
        fixes[new] = ClockFix(new, names[new], offset, n, "anchors")
    for k in sizes:
        if k not in fixes:
            local = k[1]
            fixes[k] = ClockFix(
                k, names[k], None if local else 0.0, 0, "unaligned" if local else "utc"
            )
    return fixes


def media_spread(
    copies: Sequence[CopyRow],
    known: dict[str, KnownRow] | None = None,
    rules: SpreadRules | None = None,
    only: Iterable[str] | None = None,
) -> SpreadReport:
    """First poster and spread of every media file posted more than once (in two or more
    groups, or twice in one; one post seen on two phones is once), or of `only` these
    SHA-256 values."""
    rules = rules or SpreadRules()
    known = known or {}
    fixes = align_clocks(copies, rules)
    wanted = set(only) if only is not None else None
    by_sha: dict[str, list[CopyRow]] = defaultdict(list)
    for c in copies:
        if c.media_sha256 and (wanted is None or c.media_sha256 in wanted):
            by_sha[c.media_sha256].append(c)
    report = SpreadReport(fixes)
    for sha, items in by_sha.items():
        chats = {(c.group or f"peer:{c.peer_id}") for c in items}
        if wanted is None and len(chats) < 2 and len({c.exhibit_id for c in items}) < 2:
            continue
        posts = _posts(items, fixes, rules)
        if not posts or (wanted is None and len(posts) < 2):
            continue  # one post seen on two phones has not spread
        row = known.get(sha)
        spread = MediaSpread(sha, posts, row.category if row else None, row is not None)
        spread.uncertain = _uncertainty(posts, rules)
        report.media.append(spread)
    report.media.sort(key=lambda m: (not m.known, m.first.at or datetime.max, m.sha256))
    return report


def _posts(
    items: list[CopyRow], fixes: dict[Clock, ClockFix], rules: SpreadRules
) -> list[SpreadPost]:
    placed = []
    for c in items:
        t = _utc(c)
        fix = fixes[_clock(c)]
        offset = fix.offset_minutes
        aligned = offset is not None
        at = t - timedelta(minutes=offset) if t and offset is not None else t
        placed.append((at, c, aligned))
    placed.sort(key=lambda x: (x[0] is None, x[0] or datetime.max, x[1].id))
    posts: list[SpreadPost] = []
    for at, c, aligned in placed:
        chat = c.group or (f"direct:{c.peer_id}" if c.peer_id else None)
        same = next(
            (
                p
                for p in posts
                if p.chat == chat
                and (p.sender == c.sender or c.sender_local or p.sender_local or p.sender is None)
                and at is not None
                and p.at is not None
                and abs((at - p.at).total_seconds()) <= rules.same_post_minutes * 60
            ),
            None,
        )
        if same is not None:  # the same post, seen on another phone
            if c.exhibit not in same.exhibits:
                same.exhibits.append(c.exhibit)
            if c.timestamp:
                same.raw.append(c.timestamp)
            same.forwarded = same.forwarded or c.forwarded
            if c.sender and not c.sender_local and (same.sender is None or same.sender_local):
                same.sender, same.sender_id, same.sender_local = c.sender, c.sender_id, False
            continue
        posts.append(
            SpreadPost(
                at=at,
                sender_id=c.sender_id,
                sender=c.sender,
                group_id=c.group_id,
                chat=chat,
                exhibits=[c.exhibit],
                raw=[c.timestamp] if c.timestamp else [],
                forwarded=c.forwarded,
                aligned=aligned,
                sender_local=c.sender_local,
            )
        )
    return posts


def _uncertainty(posts: list[SpreadPost], rules: SpreadRules) -> str | None:
    first = posts[0]
    if first.at is None:
        return "the first copy has no time"
    if not first.aligned:
        return f"read on a clock not aligned with the others ({', '.join(first.exhibits)})"
    others = [p for p in posts[1:] if p.sender != first.sender]
    for p in others:
        if not p.aligned:
            return f"a post by {p.sender} is on a clock not aligned with the others"
    gap = (others[0].at - first.at).total_seconds() if others and others[0].at else None
    if gap is not None and gap <= rules.uncertain_minutes * 60:
        return f"{others[0].sender} posted it within {rules.uncertain_minutes:g} minutes"
    return None


def attach_first_posts(ranking: Iterable[AccountScore], report: SpreadReport) -> None:
    """Fill each ranked account's `first_posts` (known material first, then by time)."""
    firsts = report.first_posts()
    for r in ranking:
        r.first_posts = [m.to_json() for m in firsts.get(r.id, [])]
