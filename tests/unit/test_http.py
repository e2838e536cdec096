"""HttpClient against pytest-httpserver: retries, permanent errors, conditional requests."""

from __future__ import annotations

import pytest
from werkzeug import Response

from kmu_pipeline.errors import NotFoundError, UpstreamError
from kmu_pipeline.landing import LandingStore, Request
from kmu_pipeline.sources.http import HttpClient, RetryPolicy

FAST = RetryPolicy(max_attempts=3, max_seconds=5, initial_wait=0.01, max_wait=0.05)


def _client(tmp_path):
    return HttpClient(landing=LandingStore(tmp_path), retry=FAST, timeout=(2, 5))


def test_transient_503_is_retried_then_lands(httpserver, tmp_path):
    httpserver.expect_ordered_request("/data/x").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/data/x").respond_with_data("DATAFLOW,a\n", status=200)
    landed = _client(tmp_path).fetch(Request("eurostat", "x", "data/x"), httpserver.url_for(""))
    assert landed.body_path(tmp_path).read_text() == "DATAFLOW,a\n"
    assert len(httpserver.log) == 2


def test_404_is_not_retried_and_names_the_request(httpserver, tmp_path):
    httpserver.expect_request("/data/nope").respond_with_data("No such flow", status=404)
    with pytest.raises(NotFoundError, match=r"dataset x, request http://.*/data/nope: HTTP 404"):
        _client(tmp_path).fetch(Request("eurostat", "x", "data/nope"), httpserver.url_for(""))
    assert len(httpserver.log) == 1


def test_retries_are_bounded(httpserver, tmp_path):
    httpserver.expect_request("/data/x").respond_with_data("down", status=502)
    with pytest.raises(UpstreamError, match="gave up after 3 attempts"):
        _client(tmp_path).fetch(Request("eurostat", "x", "data/x"), httpserver.url_for(""))
    assert len(httpserver.log) == 3


def test_etag_makes_the_second_fetch_a_304(httpserver, tmp_path):
    def handler(request):
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        return Response("DATAFLOW\n", headers={"ETag": '"v1"'})

    httpserver.expect_request("/data/x").respond_with_handler(handler)
    client = _client(tmp_path)
    first = client.fetch(Request("eurostat", "x", "data/x"), httpserver.url_for(""))
    second = client.fetch(Request("eurostat", "x", "data/x"), httpserver.url_for(""))
    assert second.not_modified and second.sha256 == first.sha256


def test_long_downloads_report_progress(httpserver, tmp_path, monkeypatch):
    monkeypatch.setattr("kmu_pipeline.sources.http.PROGRESS_EVERY", 1 << 16)
    httpserver.expect_request("/data/big").respond_with_data(b"x" * (1 << 18))
    seen = []
    client = HttpClient(landing=LandingStore(tmp_path), retry=FAST, progress=seen.append)
    client.fetch(Request("eurostat", "big", "data/big"), httpserver.url_for(""))
    assert len(seen) == 4 and seen[0].startswith("big: 0.1 MiB from http://")
