from __future__ import annotations

from datetime import datetime

import pytest

from tantalio.chats.textdates import ANDROID_HEADER, IOS_HEADER, infer_order, parse_datetime


@pytest.mark.parametrize(
    ("dates", "twelve", "order"),
    [
        (["2021-01-13", "2021-01-14"], False, "ymd"),
        (["13/01/2021", "01/02/2021"], False, "dmy"),
        (["01/13/21", "02/01/21"], True, "mdy"),
        (["03/01/21", "03/02/21", "04/01/21"], False, "mdy"),  # only chronology tells
        (["01/03/21", "02/03/21", "01/04/21"], False, "dmy"),
        (["05.06.21", "05.06.21"], False, "dmy"),  # a tie: dots are day-first
        (["05/06/21", "05/06/21"], True, "mdy"),  # a tie: slashes + 12 h are month-first
        (["05/06/21", "05/06/21"], False, "dmy"),
    ],
)
def test_date_order_is_inferred_per_file(dates: list[str], twelve: bool, order: str) -> None:
    assert infer_order(dates, twelve_hour=twelve).order == order


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("12/31/20, 11:59 PM - A: x", datetime(2020, 12, 31, 23, 59)),
        ("31/12/2020, 23:59 - A: x", datetime(2020, 12, 31, 23, 59)),
        ("31.12.20, 23:59 - A: x", datetime(2020, 12, 31, 23, 59)),
        ("31/12/20, 12:05\u202fa.\u00a0m. - A: x", datetime(2020, 12, 31, 0, 5)),
        ("31/12/20, 12:05 p. m. - A: x", datetime(2020, 12, 31, 12, 5)),
        ("31-12-2020 23:59 - A: x", datetime(2020, 12, 31, 23, 59)),
        ("\u200e[31/12/2020, 23:59:58] A: x", datetime(2020, 12, 31, 23, 59, 58)),
        ("[12/31/20, 1:02:03\u202fAM] A: x", datetime(2020, 12, 31, 1, 2, 3)),
    ],
)
def test_header_styles(line: str, expected: datetime) -> None:
    m = IOS_HEADER.match(line) or ANDROID_HEADER.match(line)
    assert m is not None
    order = infer_order([m["date"]], twelve_hour=bool(m["ampm"])).order
    assert parse_datetime(m["date"], m["time"], m["ampm"], order) == expected
    assert m["rest"] == "A: x"


def test_impossible_times_are_none() -> None:
    assert parse_datetime("13/01/2021", "25:61", None, "dmy") is None
    assert parse_datetime("31/02/2021", "10:00", None, "dmy") is None
    assert parse_datetime("01/01/2021", "13:00", "PM", "dmy") is None
