"""Tiles say what is known of a media (issue 16): the hash set's category name, series and
match for known media, the reasons a new media ranks where it does, classifier labels with
their source, and the full exhibit path on hover."""

from __future__ import annotations

import re

import httpx
import pytest

from tantalio.triage.classify_run import classify_case

from .conftest import DemoEnv

pytestmark = pytest.mark.anyio


async def test_tiles_show_the_entry_reasons_and_labels(
    demo_env: DemoEnv, d_examiner: httpx.AsyncClient
) -> None:
    case_id = demo_env.demo.case_id
    classify_case(demo_env.workspace, None, user="erin")
    body = (await d_examiner.get(f"/api/cases/{case_id}/media", params={"limit": 100})).json()
    items = {i["media_id"]: i for i in body["items"]}
    known = items[demo_env.demo.media["pic5"]]
    assert known["verdict"] == "known"
    assert known["match"]["hash_set"] == "demo-known"
    assert known["match"]["category_name"] == "Child abuse material"  # the entry's, by name
    assert known["match"]["algorithm"] in ("md5", "sha1", "sha256")
    camera = items[demo_env.demo.media["cam0"]]
    assert camera["verdict"] == "new" and camera["match"] is None
    assert "camera EXIF" in camera["reasons"] and "GPS" in camera["reasons"]
    assert "camera-photo (media-kind 1)" in camera["reasons"]
    assert [lab["source"] for lab in camera["labels"]] == ["media-kind 1"]

    page = await d_examiner.get(f"/cases/{case_id}/triage")
    assert page.status_code == 200
    assert "Child abuse material" in page.text and "demo-known" in page.text
    # the tile names the category short, so series and distance fit; the full name on hover
    assert re.search(r'title="hash set demo-known: Child abuse material[^"]*">CAM ·', page.text)
    assert "camera EXIF · GPS" in page.text
    assert 'title="laptop/' in page.text  # the full path with its exhibit on hover
