"""Point 2: transient failures are retried with backoff and jitter, bounded in count and time;
permanent ones are not. Driven through HttpClient.fetch against the fault server.

(tests/unit/test_http.py covers the basic 503-then-200, 404 and count-bound cases.)
"""

from __future__ import annotations

import time

import pytest

from kmu_pipeline.catalogue import load_catalogue
from kmu_pipeline.errors import (
    AuthError,
    NotFoundError,
    RefusedError,
    TooLargeError,
    UpstreamError,
)
from kmu_pipeline.landing import LandingStore
from kmu_pipeline.sources import eurostat
from kmu_pipeline.sources.http import HttpClient, RetryPolicy
from tests.reliability import faults as f

FAST = RetryPolicy(max_attempts=4, max_seconds=10, initial_wait=0.01, max_wait=0.05)
FLOW = "/data/isoc_cicce_use/"


def _fetch(server, tmp_path, retry=FAST, timeout=(2, 5), waits=None):
    """Fetch through the real client; `waits` (a list) records every wait between attempts,
    which still really happens: the bounds are checked on the waits, not on a loaded clock."""
    def sleep(seconds: float) -> None:
        if waits is not None:
            waits.append(seconds)
        time.sleep(seconds)

    catalogue = load_catalogue()
    request = eurostat.data_request(catalogue.dataset("isoc_cicce_use"),
                                    catalogue.sources["eurostat"])
    client = HttpClient(landing=LandingStore(tmp_path / "raw"), retry=retry, timeout=timeout,
                        sleep=sleep)
    return client.fetch(request, server.base_url("eurostat"))


def _no_partial_files(root):
    return not [p for p in root.rglob("*") if p.name.startswith(".partial")]


@pytest.mark.parametrize("fault", [
    f.status(429), f.status(500), f.status(502), f.status(503, b"<html>busy</html>", "text/html"),
    f.status(504), f.dropped(), f.truncated(0.5), f.truncated(0.0),
    f.stalled(1.0),  # longer than the 0.3 s read timeout below
], ids=["429", "500", "502", "503", "504", "connection-reset", "truncated-half",
        "truncated-headers-only", "read-timeout"])
def test_transient_failure_is_retried_and_the_good_answer_lands(faults, tmp_path, fault):
    faults.add(FLOW, fault, f.recorded())
    landed = _fetch(faults, tmp_path, timeout=(2, 0.3))
    assert len(faults.requests_to(FLOW)) == 2
    text = landed.body_path(tmp_path / "raw").read_text()
    assert text.startswith("DATAFLOW,") and "DE,2020,30.62" in text  # whole, not the cut body
    assert _no_partial_files(tmp_path / "raw")
    assert len(list((tmp_path / "raw").rglob("*.body"))) == 1  # nothing partial was landed


def test_retry_after_is_honoured(faults, tmp_path):
    faults.add(FLOW, f.status(429, headers={"Retry-After": "1"}), f.recorded())
    waits = []
    _fetch(faults, tmp_path, waits=waits)
    assert len(waits) == 1 and 1.0 <= waits[0] < 3  # the server's 1 s, not FAST's 0.05 s
    assert len(faults.requests_to(FLOW)) == 2


def test_retry_after_beyond_the_time_bound_gives_up_at_once(faults, tmp_path):
    faults.add(FLOW, f.status(503, headers={"Retry-After": "3600"}))
    waits = []
    with pytest.raises(UpstreamError) as caught:
        _fetch(faults, tmp_path, waits=waits)
    assert waits == []  # never sleeps an hour, nor the whole bound
    assert len(faults.requests_to(FLOW)) == 1
    message = str(caught.value)
    assert "dataset isoc_cicce_use" in message and FLOW in message
    assert "gave up after 1 attempts" in message and "HTTP 503" in message


def test_retries_are_bounded_in_time(faults, tmp_path):
    faults.add(FLOW, f.status(502))
    policy = RetryPolicy(max_attempts=100, max_seconds=1.0, initial_wait=0.2, max_wait=0.4)
    waits = []
    with pytest.raises(UpstreamError, match="attempts in"):
        _fetch(faults, tmp_path, retry=policy, waits=waits)
    assert sum(waits) <= policy.max_seconds, waits  # no wait starts that would end past it
    assert 2 <= len(faults.requests_to(FLOW)) < 10


def test_backoff_grows_and_is_jittered(faults, tmp_path):
    faults.add(FLOW, f.status(503))
    policy = RetryPolicy(max_attempts=4, max_seconds=30, initial_wait=0.1, max_wait=5)
    with pytest.raises(UpstreamError, match="gave up after 4 attempts"):
        _fetch(faults, tmp_path, retry=policy)
    client = HttpClient(landing=LandingStore(tmp_path), retry=policy)

    class State:  # what tenacity hands the wait strategy
        outcome = None

        def __init__(self, n):
            self.attempt_number = n

    waits = [[client._wait(State(n)) for n in (1, 2, 3)] for _ in range(20)]
    for first, second, third in waits:
        assert 0.1 <= first <= 0.2 and 0.2 <= second <= 0.3 and 0.4 <= third <= 0.5
    assert len({w[0] for w in waits}) > 10  # jitter: no two clients retry in lockstep


# Eurostat's answers as documented: 404 "100 No results found", 413 EXTRACTION_TOO_BIG
TOO_BIG = (b'<S:Fault xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><faultcode>413'
           b'</faultcode><faultstring>EXTRACTION_TOO_BIG: The requested extraction is too big, '
           b'estimated 420709314 rows, max authorised is 5000000</faultstring></S:Fault>')


@pytest.mark.parametrize("code, error, answer, shown", [
    (400, RefusedError, b"140 Syntax error", "140 Syntax error"),
    (401, AuthError, b"Unauthorized", "Unauthorized"),
    (403, AuthError, b"Forbidden", "Forbidden"),
    (404, NotFoundError, b"100 No results found", "100 No results found"),
    (413, TooLargeError, TOO_BIG, "fault 413: EXTRACTION_TOO_BIG: The requested extraction is "
                                  "too big, estimated 420709314 rows, max authorised is 5000000"),
])
def test_permanent_failure_is_not_retried(faults, tmp_path, code, error, answer, shown):
    faults.add(FLOW, f.status(code, answer, "application/xml"))
    with pytest.raises(error) as caught:
        _fetch(faults, tmp_path)
    assert len(faults.requests_to(FLOW)) == 1
    message = str(caught.value)
    assert f"HTTP {code}" in message and shown in message  # the fault's text, whole
    assert "dataset isoc_cicce_use" in message and FLOW in message
    assert "GENESIS" not in message  # a Eurostat refusal does not send users to GENESIS vars
    assert _no_partial_files(tmp_path / "raw")


def test_a_host_that_does_not_resolve_fails_at_once_without_retrying(tmp_path):
    """Issue 15.5: with no network every dataset used to retry its DNS failure for minutes.
    `.invalid` never resolves (RFC 2606), so this needs no network and no fault server."""
    waits = []
    catalogue = load_catalogue()
    request = eurostat.data_request(catalogue.dataset("isoc_cicce_use"),
                                    catalogue.sources["eurostat"])
    client = HttpClient(landing=LandingStore(tmp_path / "raw"), sleep=waits.append,
                        retry=RetryPolicy(max_attempts=5, max_seconds=60))
    with pytest.raises(UpstreamError, match="cannot resolve the host of 'kmu-no-such-host.invalid'"
                                            r".*not retried") as caught:
        client.fetch(request, "http://kmu-no-such-host.invalid/api")
    assert waits == []  # not a single retry wait
    assert caught.value.dataset == "isoc_cicce_use"
