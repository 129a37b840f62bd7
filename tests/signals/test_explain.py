from __future__ import annotations

from tantalio.signals.explain import describe


def test_local_features_transform_in_words() -> None:
    t = {"model": "similarity", "scale": 0.8, "rotation_deg": 3.04, "flip": True,
         "crop_box": [48, 36, 432, 324], "query_box": [0, 0, 384, 288], "inliers": 38,
         "false_match_probability": 9.6e-26}  # fmt: skip
    text = describe("local-features", t)
    assert text.startswith("part of the picture (local features)")
    assert "384×288 px at (48, 36)" in text and "scaled ×0.80" in text
    assert "rotated 3.0°" in text and "mirrored" in text and "38 keypoints agree" in text
    assert "9.6e-26" in text


def test_trim_and_plain_matches_in_words() -> None:
    trim = {"model": "trim", "query_box": [0, 200, 320, 440], "rotation_deg": 0, "flip": False,
            "inliers": None, "false_match_probability": None}  # fmt: skip
    text = describe("pdq-trimmed", trim)
    assert text == (
        "picture inside a frame (trimmed PDQ); the picture is the 320×240 px at (0, 200) "
        "of this file, the rest is frame"
    )
    assert describe("pdq", None) == "similar picture (PDQ)"
    assert describe("sha256", None) == "same file (SHA-256)"
