"""A refresh reads an answer's structure once, however many steps ask (HttpClient.read_once)."""

from __future__ import annotations

from kmu_pipeline.landing import Landed, LandingStore
from kmu_pipeline.sources.http import HttpClient


def _landed(sha256: str) -> Landed:
    return Landed(request_id="r" * 16, source="eurostat", dataset="d", method="GET", path="p",
                  query=[], form=[], url="http://x/p", status=200, headers={},
                  retrieved_at="", sha256=sha256, size=1, body_file="b")


def test_the_same_bytes_are_read_once_per_client_and_other_bytes_again(tmp_path):
    reads: list[str] = []

    def reader(landed: Landed) -> str:
        reads.append(landed.sha256)
        return f"parsed {landed.sha256}"

    client = HttpClient(landing=LandingStore(tmp_path))
    assert client.read_once(_landed("a"), reader) == "parsed a"
    assert client.read_once(_landed("a"), reader) == "parsed a"
    assert client.read_once(_landed("b"), reader) == "parsed b"
    assert reads == ["a", "b"]
    # a new client (a new run) reads again: nothing outlives the refresh it served
    HttpClient(landing=LandingStore(tmp_path)).read_once(_landed("a"), reader)
    assert reads == ["a", "b", "a"]


def test_a_reader_that_fails_is_asked_again(tmp_path):
    calls = []

    def reader(landed: Landed) -> str:
        calls.append(1)
        raise ValueError("broken")

    client = HttpClient(landing=LandingStore(tmp_path))
    for _ in range(2):
        try:
            client.read_once(_landed("a"), reader)
        except ValueError:
            pass
    assert len(calls) == 2
