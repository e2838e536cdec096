"""A recordings directory that overlays another: its answers stand in for the base's."""

from __future__ import annotations

import pytest

from kmu_pipeline.landing import request_id
from kmu_pipeline.replay import OVERLAY_FILE, RecordingIndex, add_recording


def _record(root, path: str, body: bytes) -> None:
    add_recording(root, source="eurostat", dataset="isoc_cicce_use", path=path, body=body,
                  content_type="text/plain")


def _body(index: RecordingIndex, path: str) -> bytes:
    _, body = index.answer("eurostat", request_id("GET", path, [], []))
    return body.read_bytes()


def test_an_overlay_answers_its_requests_and_the_base_the_others(tmp_path):
    base, release = tmp_path / "base", tmp_path / "base" / "releases" / "r2"
    _record(base, "data/one", b"one, release 1")
    _record(base, "data/two", b"two, release 1")
    _record(release, "data/one", b"one, release 2")
    (release / OVERLAY_FILE).write_text("../..\n")
    index = RecordingIndex(release)
    assert _body(index, "data/one") == b"one, release 2"
    assert _body(index, "data/two") == b"two, release 1"
    assert _body(RecordingIndex(base), "data/one") == b"one, release 1"


def test_an_overlay_of_a_missing_base_is_refused_by_name(tmp_path):
    _record(tmp_path / "r2", "data/one", b"one")
    (tmp_path / "r2" / OVERLAY_FILE).write_text("../nowhere\n")
    with pytest.raises(FileNotFoundError, match="nowhere, which is not a directory"):
        RecordingIndex(tmp_path / "r2")
