"""What agencies send, validated without I/O: identities, refusals that never echo values."""

from __future__ import annotations

import secrets

import pytest

from tantalio.exchange.records import (
    BadInput,
    identity_of,
    parse_query,
    parse_record,
    vpdq_identity,
)


def test_identity_is_the_first_present_hash() -> None:
    sha256, sha1, md5, pdq = (secrets.token_hex(n) for n in (32, 20, 16, 32))
    assert identity_of({"md5": md5, "sha256": sha256.upper()}) == f"sha256:{sha256}"
    assert identity_of({"md5": md5, "sha1": sha1, "pdq": pdq}) == f"sha1:{sha1}"
    assert identity_of({"pdq": pdq, "md5": md5}) == f"md5:{md5}"
    assert identity_of({"pdq": pdq}) == f"pdq:{pdq}"
    frames = [secrets.token_hex(32) for _ in range(3)]
    assert identity_of({"vpdq": frames}) == f"vpdq:{vpdq_identity(list(reversed(frames)))}"
    with pytest.raises(BadInput, match="at least one of"):
        identity_of({"category": 1})


def test_record_fields_are_checked_and_normalised() -> None:
    rec = parse_record(
        {
            "sha256": "AB" * 32,
            "category": 0,
            "status": "in-progress",
            "first_seen": "2026-03-04T10:00:00Z",
            "series": "  S-1 ",
            "shared": {"note": "seen on forum X"},
        }
    )
    assert rec.sha256 == "ab" * 32 and rec.first_seen == "2026-03-04"
    assert (rec.category, rec.status, rec.series) == (0, "in-progress", "S-1")
    assert rec.shared == {"note": "seen on forum X"}
    bad = [
        ({"sha256": "g" * 64}, "sha256 must be 64 hex digits"),
        ({"md5": "a" * 31}, "md5 must be 32 hex digits"),
        ({"sha1": 5}, "sha1 must be a hex string"),
        ({"pdq": "a" * 64, "pdq_quality": 101}, "pdq_quality must be an integer"),
        ({"pdq": "a" * 64, "category": True}, "category must be an integer"),
        ({"pdq": "a" * 64, "status": "done"}, "status must be one of"),
        ({"pdq": "a" * 64, "victim_identified": "yes"}, "victim_identified must be true"),
        ({"pdq": "a" * 64, "first_seen": "yesterday"}, "first_seen must be an ISO date"),
        ({"pdq": "a" * 64, "vpdq": ["a" * 63]}, "vpdq must be a list"),
        ({"pdq": "a" * 64, "shared": {"f": {"nested": 1}}}, "shared must be an object"),
        ({"pdq": "a" * 64, "case_ref": "x" * 300}, "case_ref must be a string of at most"),
    ]
    for raw, message in bad:
        with pytest.raises(BadInput, match=message) as err:
            parse_record(raw)
        assert "g" * 64 not in str(err.value) and "a" * 31 not in str(err.value)


def test_queries_take_up_to_eight_orientations() -> None:
    pdq = secrets.token_hex(32)
    q = parse_query({"id": 7, "pdq": pdq, "pdq_orientations": [pdq.upper()] * 8})
    assert q.ref == 7 and q.pdq_orientations == [pdq] * 8
    with pytest.raises(BadInput, match="more than 8"):
        parse_query({"pdq": pdq, "pdq_orientations": [pdq] * 9})
    with pytest.raises(BadInput, match="at least one of"):
        parse_query({"id": "x", "pdq_quality": 90})
    with pytest.raises(BadInput, match="id must be"):
        parse_query({"id": [1], "md5": "a" * 32})
