"""Local features (issue 13): the copies PDQ misses (crops, overlays, screenshots, small
rotations) found by ORB keypoints, a bag-of-binary-words index (vocab.py), candidate voting
and a geometric check that explains the match.

    extract.features(luma, width, height)  -> Features  (record.py: encode/decode as text)
    index.LocalIndex.add / .search          -> [LocalMatch] with a transform and inliers
    index.LocalIndex.save / .load           -> memory-mapped segments in a directory
    verify.verify(query, ref)                -> Verified | None (RANSAC similarity)
    calibration.FalseMatchModel              -> false-match probability of a match
"""
