"""Subscriptions to signed list deltas (issue #11): fetch deltas from an exchange or a folder,
verify them as the next links of the list's chain, apply them to a workspace hash set
(re-triaging earlier cases for the affected hashes only) or to a platform bank."""
