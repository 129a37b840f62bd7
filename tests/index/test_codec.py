from __future__ import annotations

import numpy as np
import pytest

from tantalio.index import filter_quality, pdq_distance, quality_mask
from tantalio.index.codec import hamming, to_bytes, to_words, words_to_hex

ZERO = "0" * 64
ONES = "f" * 64


def test_hex_round_trip_and_distance() -> None:
    h = "a5" * 32
    assert words_to_hex(to_words([h, ZERO])) == [h, ZERO]
    assert pdq_distance(ZERO, ONES) == 256  # all bits differ: no wrap-around anywhere
    assert pdq_distance(ZERO, "8" + "0" * 63) == 1
    assert pdq_distance(h.upper(), h) == 0


def test_bit_order_is_msb_first() -> None:
    # Bit 0 of the hex string is the top bit of word 0: "8000..." differs from 0 in word 0.
    w = to_words(["8" + "0" * 63])
    assert w[0, 0] == np.uint64(1 << 63) and not w[0, 1:].any()


def test_uint8_array_input_matches_hex() -> None:
    arr = np.arange(64, dtype=np.uint8).reshape(2, 32)
    hexes = [row.tobytes().hex() for row in arr]
    assert np.array_equal(to_words(arr), to_words(hexes))
    assert np.array_equal(to_bytes(hexes), arr)


def test_hamming_matches_bit_count() -> None:
    rng = np.random.default_rng(1)
    a = rng.integers(0, 2**64, size=(50, 4), dtype=np.uint64)
    b = rng.integers(0, 2**64, size=(50, 4), dtype=np.uint64)
    expected = [
        sum(bin(int(x) ^ int(y)).count("1") for x, y in zip(r, s, strict=True))
        for r, s in zip(a, b, strict=True)
    ]
    assert hamming(a, b).tolist() == expected


@pytest.mark.parametrize(
    ("bad", "message"),
    [(["abc"], "not 64 hex"), (["g" * 64], "not hexadecimal"), ([None], "not 64 hex")],
)
def test_bad_hashes_are_named_without_echoing_them(bad: list, message: str) -> None:
    with pytest.raises(ValueError, match=message) as err:
        to_words([ZERO, *bad])
    assert "#1" in str(err.value)
    assert "g" * 20 not in str(err.value)  # a hash value is never echoed whole


def test_wrong_array_shape_and_single_string_rejected() -> None:
    with pytest.raises(ValueError, match="shape"):
        to_words(np.zeros((2, 16), dtype=np.uint8))
    with pytest.raises(TypeError):
        to_words(ZERO)


def test_quality_gate() -> None:
    assert quality_mask([100, 49, 50, None]).tolist() == [True, False, True, False]
    assert filter_quality(["a", "b", "c"], [10, 90, 50]) == ["b", "c"]
    assert filter_quality(["a"], [60], minimum=70) == []
    with pytest.raises(ValueError):
        filter_quality(["a"], [1, 2])


def test_bad_hash_position_counts_across_parse_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    from tantalio.index import codec

    monkeypatch.setattr(codec, "_PARSE_BLOCK", 4)
    hashes = [ZERO] * 9 + ["nope"]
    with pytest.raises(ValueError, match="#9 "):
        to_words(hashes)
    assert len(to_words([ONES] * 9)) == 9
