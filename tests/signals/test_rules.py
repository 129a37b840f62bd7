"""MatchRules: defaults, validation, and the vPDQ verdict."""

from __future__ import annotations

import pytest

from tantalio.signals import MatchRules, RulesError
from tantalio.signals.rules import RULE_VPDQ_INDEX, RULE_VPDQ_QUERY
from tantalio.signals.vpdq import Shares


def test_defaults_are_threatexchanges() -> None:
    r = MatchRules()
    assert (r.pdq_threshold, r.min_quality, r.vpdq_frame_distance) == (31, 50, 31)
    assert r.vpdq_query_share == 0.8 and r.orientations and r.frames_vs_images


def test_from_mapping_refuses_typos_and_bad_values() -> None:
    assert MatchRules.from_mapping({"pdq_threshold": 20}).pdq_threshold == 20
    with pytest.raises(RulesError, match="pdq_treshold"):
        MatchRules.from_mapping({"pdq_treshold": 20})
    with pytest.raises(RulesError, match="min_quality"):
        MatchRules(min_quality=101)
    with pytest.raises(RulesError, match="vpdq_query_share"):
        MatchRules(vpdq_query_share=1.5)
    assert MatchRules.from_mapping(MatchRules().to_dict()) == MatchRules()


def test_vpdq_verdict_either_share() -> None:
    r = MatchRules()
    assert r.vpdq_verdict(Shares(1.0, 1 / 6, 3)) == RULE_VPDQ_QUERY  # an excerpt
    assert r.vpdq_verdict(Shares(1 / 6, 1.0, 3)) == RULE_VPDQ_INDEX  # contains the known video
    assert r.vpdq_verdict(Shares(0.5, 0.5, 3)) is None
    tx = MatchRules(vpdq_index_share=None)  # threatexchange's rule: query share only
    assert tx.vpdq_verdict(Shares(1 / 6, 1.0, 3)) is None
    assert tx.vpdq_verdict(Shares(0.8, 0.0, 3)) == RULE_VPDQ_QUERY


def test_quality_gate() -> None:
    r = MatchRules(min_quality=50)
    assert r.pdq_ok(None) and r.pdq_ok(50) and not r.pdq_ok(49)
