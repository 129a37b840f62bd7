"""The UTC offset of a WhatsApp text export, inferred from the phone's own database.

A text export writes the phone's wall clock without a zone, at minute resolution; the
database beside it keeps UTC. The offset is not written anywhere, so it is inferred per
export file: every export message votes for each offset (a multiple of 15 minutes between
−12:00 and +14:00) at which a database message of the same chat, kind and text falls into
the same minute. The offset with the most votes is trusted only when it is clear (at least
MIN_SUPPORT votes and twice the best other offset): a wrong offset would pair unrelated
messages, and a message wrongly taken for a duplicate would be lost from the counts.

A daylight-saving change inside one export shows as two offsets an hour apart, each with its
own run of messages in time; both are accepted when each has MIN_SUPPORT votes and the votes
of one all come before those of the other.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

STEP = 15  # minutes: every zone in use is a multiple of 15 minutes from UTC
LOWEST, HIGHEST = -12 * 60, 14 * 60
MIN_SUPPORT = 3
CLEAR_RATIO = 2
DST = 60


def floor_minute(t: datetime) -> datetime:
    return t.replace(second=0, microsecond=0)


def candidate_offset(local: datetime, utc: datetime) -> int | None:
    """Minutes that take `utc` (naive) to the export's `local` minute, when a possible
    zone offset; None otherwise."""
    diff = floor_minute(local) - floor_minute(utc)
    minutes = int(diff.total_seconds() // 60)
    if minutes % STEP or not LOWEST <= minutes <= HIGHEST:
        return None
    return minutes


def format_offset(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    h, m = divmod(abs(minutes), 60)
    return f"{sign}{h:02d}:{m:02d}"


@dataclass(slots=True)
class OffsetVerdict:
    """What the votes of one export file allow.

    `offsets` holds the accepted offset(s) in minutes, earliest segment first (two only across
    a daylight-saving change; empty when none is trusted, `reason` then says why); `support`
    the votes for each offset, `runner_up` the best offset not accepted and its votes.
    """

    offsets: tuple[int, ...] = ()
    support: dict[int, int] = field(default_factory=dict)
    runner_up: tuple[int, int] | None = None
    reason: str | None = None
    first_ends: datetime | None = None  # last local time voting for the first offset only
    second_starts: datetime | None = None  # first local time voting for the second only

    def offsets_at(self, local: datetime) -> tuple[int, ...]:
        """The offset(s) that may apply at the export's local time `local`."""
        if len(self.offsets) < 2 or self.first_ends is None or self.second_starts is None:
            return self.offsets
        if local <= self.first_ends:
            return self.offsets[:1]
        if local >= self.second_starts:
            return self.offsets[1:]
        return self.offsets  # between the two runs: the change happened somewhere here

    def describe(self) -> str:
        if not self.offsets:
            return f"UTC offset not inferred ({self.reason})"
        parts = [f"{format_offset(o)} ({self.support[o]} messages)" for o in self.offsets]
        text = "UTC offset " + " then ".join(parts)
        if len(self.offsets) == 2:
            text += " (a daylight-saving change)"
        if self.runner_up:
            text += f"; next best {format_offset(self.runner_up[0])} ({self.runner_up[1]})"
        return text


def infer_offset(votes: Iterable[tuple[datetime, set[int]]]) -> OffsetVerdict:
    """The export's offset from its messages' votes: (local time, offsets it aligns at)."""
    votes = [(t, offs) for t, offs in votes if offs]
    counts: Counter[int] = Counter(o for _, offs in votes for o in offs)
    if not counts:
        return OffsetVerdict(reason="no message of the export aligns with the database")
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], abs(kv[0])))
    best, best_n = ranked[0]
    accepted = [best]
    first_ends = second_starts = None
    for partner in (best - DST, best + DST):
        if counts.get(partner, 0) >= MIN_SUPPORT:
            split = _split_in_time(votes, best, partner)
            if split is not None:
                first, second, first_ends, second_starts = split
                accepted = [first, second]
                break
    others = [(o, n) for o, n in ranked if o not in accepted]
    runner_up = others[0] if others else None
    verdict = OffsetVerdict(support={o: counts[o] for o in accepted}, runner_up=runner_up)
    if best_n < MIN_SUPPORT:
        verdict.reason = f"best {format_offset(best)} has {best_n} of {MIN_SUPPORT} messages needed"
    elif runner_up and best_n < CLEAR_RATIO * runner_up[1]:
        verdict.reason = (
            f"{format_offset(best)} ({best_n}) is not clear of "
            f"{format_offset(runner_up[0])} ({runner_up[1]})"
        )
    else:
        verdict.offsets = tuple(accepted)
        verdict.first_ends, verdict.second_starts = first_ends, second_starts
    return verdict


def _split_in_time(
    votes: list[tuple[datetime, set[int]]], a: int, b: int
) -> tuple[int, int, datetime, datetime] | None:
    """(first offset, second, last time of the first run, first time of the second) when the
    messages voting only for `a` and those voting only for `b` form two runs in time."""
    only_a = [t for t, offs in votes if a in offs and b not in offs]
    only_b = [t for t, offs in votes if b in offs and a not in offs]
    if len(only_a) < MIN_SUPPORT or len(only_b) < MIN_SUPPORT:
        return None
    if max(only_a) < min(only_b):
        return a, b, max(only_a), min(only_b)
    if max(only_b) < min(only_a):
        return b, a, max(only_b), min(only_a)
    return None


def shift(utc: datetime, minutes: int) -> datetime:
    return utc + timedelta(minutes=minutes)
