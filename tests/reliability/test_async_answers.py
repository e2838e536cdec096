"""Point 3: Eurostat's asynchronous API. The envelopes are the examples of Eurostat's API
description (../shared/reference/sdmx-samples/eurostat-openapi/), served by the fault server:
the data request is queued, its status polled until AVAILABLE, the data fetched and loaded."""

from __future__ import annotations

import re

import pytest
import yaml

from kmu_pipeline.replay import DEMO_SNAPSHOT
from kmu_pipeline.sources import async_answers
from tests.conftest import recorded_body
from tests.reliability import faults as f
from tests.reliability.conftest import check_errors, query, refresh

OPENAPI = "sdmx-samples/eurostat-openapi/eurostat-sdmx-rest-openapi.yaml"
DATA = "/data/isoc_cicce_use/"
XML = "application/xml"


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch):
    monkeypatch.setattr(async_answers, "ASYNC_POLL_SECONDS", 0.05)
    monkeypatch.setattr(async_answers, "ASYNC_MAX_WAIT", 1.0)


@pytest.fixture
def envelope(reference):
    """The SUBMITTED example of /1.0/async/status/{uuid}, and its key."""
    spec = yaml.safe_load((reference / OPENAPI).read_text(encoding="utf-8"))
    example = (spec["paths"]["/1.0/async/status/{uuid}"]["get"]["responses"]["200"]["content"]
               ["application/xml"]["examples"]["SUBMITTED"]["value"]).encode()
    key = re.search(rb"<ns1:key>([^<]+)<", example).group(1).decode()
    return example, key


def test_queued_request_is_polled_then_fetched_and_loaded(faults, tmp_path, envelope):
    submitted, key = envelope
    processing = submitted.replace(b">SUBMITTED<", b">PROCESSING<")
    available = submitted.replace(b">SUBMITTED<", b">AVAILABLE<")
    csv = recorded_body(DEMO_SNAPSHOT, "isoc_cicce_use").read_bytes()
    faults.add(DATA, f.body(submitted, XML))
    faults.add(f"/1.0/async/status/{key}", f.body(processing, XML), f.body(available, XML))
    faults.add(f"/1.0/async/data/{key}", f.body(csv, "application/vnd.sdmx.data+csv"))
    result = refresh(faults, tmp_path, datasets=("isoc_cicce_use",))
    assert result.success and check_errors(result) == {}
    assert len(faults.requests_to("/1.0/async/status/")) == 2
    assert len(faults.requests_to("/1.0/async/data/")) == 1
    assert query(tmp_path / "kmu.duckdb", "select value from raw.eurostat__isoc_cicce_use "
                 "where geo = 'DE' and year = 2020 and size_class = '10-49'") == [(30.62,)]


def test_never_available_is_bounded_and_expired_is_an_error(faults, tmp_path, envelope):
    submitted, key = envelope
    faults.add(DATA, f.body(submitted, XML))
    faults.add(f"/1.0/async/status/{key}", f.body(submitted, XML))
    errors = check_errors(refresh(faults, tmp_path, datasets=("isoc_cicce_use",)))
    assert f"asynchronous request {key} still SUBMITTED after" in errors[
        "eurostat__isoc_cicce_use"]
    faults.add(f"/1.0/async/status/{key}",
               f.body(submitted.replace(b">SUBMITTED<", b">EXPIRED<"), XML))
    errors = check_errors(refresh(faults, tmp_path, datasets=("isoc_cicce_use",)))
    assert f"asynchronous result {key} expired" in errors["eurostat__isoc_cicce_use"]
