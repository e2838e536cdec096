"""A flow's structure is parsed by sdmx1 once per body: the parse is kept beside the landed body
(content-addressed by its sha256) and read back by the next refresh that gets the same body."""

from __future__ import annotations

import json
import shutil

import pytest

from kmu_pipeline.landing import LandingStore
from kmu_pipeline.parse import sdmx_structure
from kmu_pipeline.parse.sdmx_structure import CACHE_SUFFIX, cached_flow_structure
from kmu_pipeline.replay import DEMO_SNAPSHOT


@pytest.fixture
def structure(tmp_path):
    """The demo's isoc_cicce_use structure answer, in a landing folder of the test's own."""
    shutil.copytree(DEMO_SNAPSHOT / "eurostat" / "isoc_cicce_use", tmp_path / "eurostat" /
                    "isoc_cicce_use")
    landed = next(item for item in LandingStore(tmp_path).iter_landed()
                  if item.folder.startswith("dataflow_"))
    return landed, landed.body_path(tmp_path)


def test_the_second_read_of_the_same_body_does_not_parse(structure, monkeypatch):
    landed, body = structure
    first = cached_flow_structure(landed, body)
    assert first.last_update == "2026-02-27T23:00:00+0100" and "E_CC1_SI" in first.codes["indic_is"]
    cache = body.with_name(body.stem + CACHE_SUFFIX)
    assert json.loads(cache.read_text())["sha256"] == landed.sha256

    def no_parse(*args):
        raise AssertionError("parsed again")

    monkeypatch.setattr(sdmx_structure, "parse_flow_structure", no_parse)
    again = cached_flow_structure(landed, body)
    assert again == first and again.years() == first.years()


@pytest.mark.parametrize("edit", [
    lambda saved: {**saved, "sha256": "0" * 64},     # written for other bytes
    lambda saved: {**saved, "parser": "older"},      # written by other code
    lambda saved: {"flow": saved["flow"]},           # cut short
])
def test_a_cache_for_other_bytes_or_code_is_parsed_again(structure, edit):
    landed, body = structure
    first = cached_flow_structure(landed, body)
    cache = body.with_name(body.stem + CACHE_SUFFIX)
    cache.write_text(json.dumps(edit(json.loads(cache.read_text()))))
    assert cached_flow_structure(landed, body) == first
    assert json.loads(cache.read_text())["sha256"] == landed.sha256  # rewritten


def test_a_cache_that_is_not_json_is_parsed_again(structure):
    landed, body = structure
    cache = body.with_name(body.stem + CACHE_SUFFIX)
    cache.write_text("{not json")
    assert cached_flow_structure(landed, body).flow.lower() == "isoc_cicce_use"
