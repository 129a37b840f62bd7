"""The case store's migration history is one line: parallel branches that each add a revision
on the same parent must be re-chained when merged, or a workspace would have two heads."""

from __future__ import annotations

from tantalio.store.migrate import head_revisions


def test_one_head() -> None:
    assert len(head_revisions()) == 1, sorted(head_revisions())
