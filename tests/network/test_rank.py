"""The distributor score on hand-made networks (docs/decisions/network.md)."""

from __future__ import annotations

import math

import pytest

from tantalio.network import ScoreWeights, build_graph, rank
from tantalio.store.chats import (
    AccountRow,
    ChatGraphData,
    GroupRow,
    KnownRow,
    MembershipRow,
    PostRow,
)

K1, K2, NEW, GOOD = "a" * 64, "b" * 64, "c" * 64, "d" * 64


def _data(
    posts: list[tuple[int, int | None, str | None]], members: dict[int, list[int]]
) -> ChatGraphData:
    accounts = [
        AccountRow(i, f"{i}@s.whatsapp.net", f"{i}@s.whatsapp.net", f"+{i}", None, [], [], [], [])
        for i in range(1, 21)
    ]
    groups = [GroupRow(g, f"{g}@g.us", f"{g}@g.us", f"G{g}", None, [], []) for g in members]
    memberships = [
        MembershipRow(g, a, "member", "listed", None, False)
        for g, ids in members.items()
        for a in ids
    ]
    rows = [
        PostRow(f"p{n}", g, None, a, None, sha, "image" if sha else None, False, False)
        for n, (a, g, sha) in enumerate(posts)
    ]
    known = {K1: KnownRow(1, ["S"], ["hashset:x"]), K2: KnownRow(3, [], ["hashset:x"])}
    return ChatGraphData(accounts, groups, memberships, rows, known, {GOOD}, [], [])


def _scores(data: ChatGraphData, weights: ScoreWeights | None = None) -> dict[int, float]:
    return {r.id: r.score for r in rank(data, build_graph(data), weights)}


def test_category_and_reach_weight_known_posts() -> None:
    members = {1: [1, 2, 3], 2: list(range(4, 20))}
    data = _data([(1, 1, K1), (4, 2, K1), (5, 2, K2)], members)
    s = _scores(data)
    assert s[1] == pytest.approx(1.0 * math.log2(2 + 2))  # cat 1, two others in group 1
    assert s[4] == pytest.approx(1.0 * math.log2(2 + 15))  # same item, bigger audience
    assert s[5] == pytest.approx(0.3 * math.log2(2 + 15))  # CGI weighs less
    assert s[2] == 0.0


def test_spreading_across_groups_multiplies() -> None:
    members = {1: [1, 2], 2: [1, 3], 3: [4, 5]}
    data = _data([(1, 1, K1), (1, 2, K1), (4, 3, K1), (4, 3, K2)], members)
    s = _scores(data)
    one = math.log2(3)
    assert s[1] == pytest.approx(2 * one * 1.25)  # two groups: x (1 + 0.25)
    assert s[4] == pytest.approx(one * 1.0 + one * 0.3)  # one group: no spread bonus


def test_reposting_the_same_item_counts_posts_not_score() -> None:
    data = _data([(1, 1, K1), (1, 1, K1), (1, 1, K1)], {1: [1, 2]})
    [r] = [r for r in rank(data, build_graph(data)) if r.id == 1]
    assert r.known_posts == 3 and r.known_media == 1
    assert r.score == pytest.approx(math.log2(3))


def test_new_media_count_only_where_known_material_circulates() -> None:
    members = {1: [1, 2, 3], 2: [4, 5, 6]}
    data = _data([(1, 1, NEW), (2, 1, K1), (4, 2, NEW), (5, 2, "e" * 64)], members)
    ranked = {r.id: r for r in rank(data, build_graph(data))}
    assert ranked[4].new_posts == 1 and ranked[4].score == 0.0  # benign group: no weight
    share = 1 / 2  # group 1: one of its two media is known
    assert ranked[1].score == pytest.approx(0.5 * math.log2(4) * share)


def test_known_good_is_neither_known_nor_new() -> None:
    data = _data([(1, 1, GOOD)], {1: [1, 2]})
    [r] = [r for r in rank(data, build_graph(data)) if r.id == 1]
    assert (r.known_posts, r.new_posts, r.score, r.messages) == (0, 0, 0.0, 1)


def test_weights_are_configuration() -> None:
    data = _data([(1, 1, K2)], {1: [1, 2]})
    heavy = ScoreWeights(category=((3, 2.0),))
    assert _scores(data, heavy)[1] == pytest.approx(2.0 * math.log2(3))


def test_ranking_order_and_json_keys() -> None:
    data = _data([(3, 1, K1), (3, 1, K2), (2, 1, K2)], {1: [1, 2, 3]})
    ranking = rank(data, build_graph(data))
    assert [r.id for r in ranking[:2]] == [3, 2]
    obj = ranking[0].to_json()
    assert {"account", "score", "groups", "known_posts", "new_posts"} <= set(obj)
    assert (
        obj["account"] == "+3"
        and obj["groups"] == 1
        and obj["known_by_category"] == {"1": 1, "3": 1}
    )
