"""Dates and times of WhatsApp text exports, whose style follows the phone's locale.

A header carries a date of three numeric fields (separated by `/`, `.` or `-`, with 2- or
4-digit years) and a time (`23:59`, `23:59:59`, `11:59 PM`, `11:59\u202fp.m.`, `11:59 a. m.`,
`11.59`). Which of the first two fields is the day is not written anywhere, so it is inferred
once per file from all its dates (`infer_order`):

1. a 4-digit first field means year-month-day;
2. a first field above 12 somewhere means day-first, a second field above 12 month-first;
3. if every date fits both ways, the order under which the messages run most nearly in
   chronological order wins (exports are written in order);
4. if that ties too (all dates equal, or symmetric), dots mean day-first (the locales
   that write `31.12.20` are day-first), a 12-hour clock with `/` means month-first (US),
   anything else day-first.

Two-digit years are 20yy: WhatsApp did not exist before 2009.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

# Marks a phone puts around text (LRM, RLM, isolates, embeddings) and the spaces it uses.
INVISIBLE = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
SPACES = " \u00a0\u202f\u2009"

DATE = r"(?P<date>\d{1,4}[./-]\d{1,2}[./-]\d{1,4})\.?"
TIME = r"(?P<time>\d{1,2}[:.]\d{2}(?:[:.]\d{2})?)"
# 12-hour markers: AM/PM in the forms locales write them ("a. m." is Spanish, "vorm." old German).
AMPM = r"(?P<ampm>[AaPp]\.?[" + SPACES + r"]?[Mm]\.?|vorm\.|nachm\.)"
_SP = f"[{SPACES}]"
# Words some locales put between date and time (French Android: `13/01/2021 à 09:00`).
_AT = rf"(?:{_SP}+(?:à|às|a las|um|alle|at))?"

# Android: `31/12/2020, 23:59 - Name: text`; iOS: `[31/12/2020, 23:59:59] Name: text`.
ANDROID_HEADER = re.compile(
    rf"^[{INVISIBLE}]*{DATE},?{_AT}{_SP}+{TIME}(?:{_SP}*{AMPM})?{_SP}*[-\u2013]{_SP}(?P<rest>.*)$"
)
IOS_HEADER = re.compile(
    rf"^[{INVISIBLE}]*\[{DATE},?{_AT}{_SP}+{TIME}(?:{_SP}*{AMPM})?\]{_SP}?(?P<rest>.*)$"
)


@dataclass(frozen=True, slots=True)
class DateOrder:
    """Which field is which: `ymd`, `dmy` or `mdy`, and why (for the decision log)."""

    order: str
    reason: str


_DATE_SEP = re.compile(r"[./-]")
_TIME_SEP = re.compile(r"[:.]")


@lru_cache(maxsize=8192)
def split_date(text: str) -> tuple[int, int, int]:
    """The three fields of a header's date (cached: an export repeats each day's date on
    every message of that day)."""
    a, b, c = (int(x) for x in _DATE_SEP.split(text))
    return a, b, c


def _build(order: str, f: tuple[int, int, int]) -> tuple[int, int, int] | None:
    if order == "ymd":
        y, m, d = f
    elif order == "dmy":
        d, m, y = f
    else:
        m, d, y = f
    if y < 100:
        y += 2000
    if not (1 <= m <= 12 and 1 <= d <= 31):
        return None
    return y, m, d


def infer_order(dates: list[str], twelve_hour: bool = False) -> DateOrder:
    """Decide the field order of a file from all its header dates (rules in the module doc)."""
    fields = [split_date(d) for d in dates]
    if not fields:
        return DateOrder("dmy", "no dates")
    if any(len(_DATE_SEP.split(d)[0]) == 4 for d in dates):
        return DateOrder("ymd", "4-digit year first")
    first_big = any(f[0] > 12 for f in fields)
    second_big = any(f[1] > 12 for f in fields)
    if first_big and not second_big:
        return DateOrder("dmy", "a first field above 12")
    if second_big and not first_big:
        return DateOrder("mdy", "a second field above 12")
    if first_big and second_big:
        valid = {o: sum(_build(o, f) is not None for f in fields) for o in ("dmy", "mdy")}
        best = max(valid, key=lambda o: valid[o])
        return DateOrder(best, "conflicting fields; the order that fits most dates")
    inversions = {}
    for order in ("dmy", "mdy"):
        built = [_build(order, f) for f in fields]
        inversions[order] = sum(
            1 for x, y in zip(built, built[1:], strict=False) if x and y and y < x
        )
    if inversions["dmy"] != inversions["mdy"]:
        best = min(inversions, key=lambda o: inversions[o])
        return DateOrder(best, "runs in chronological order")
    sep = re.sub(r"\d", "", dates[0])[:1]
    if sep == ".":
        return DateOrder("dmy", "ambiguous; dots are day-first")
    if sep == "/" and twelve_hour:
        return DateOrder("mdy", "ambiguous; slashes with a 12-hour clock are month-first")
    return DateOrder("dmy", "ambiguous; day-first by default")


def parse_datetime(date: str, time: str, ampm: str | None, order: str) -> datetime | None:
    """The naive local datetime of a header; None when the fields cannot be a date."""
    ymd = _build(order, split_date(date))
    if ymd is None:
        return None
    parts = [int(x) for x in _TIME_SEP.split(time)]
    hour, minute = parts[0], parts[1]
    second = parts[2] if len(parts) > 2 else 0
    if ampm:
        marker = re.sub(rf"[.{SPACES}]", "", ampm).lower()
        pm = marker in ("pm", "nachm")
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if pm else 0)
    try:
        return datetime(ymd[0], ymd[1], ymd[2], hour, minute, second)
    except ValueError:
        return None
