"""Issue 18.6: the landing store keeps every distinct body (history is rebuilt from them), so
its total growth is bounded (KMU_LANDING_MAX_GB): an answer that would cross the bound is
refused while it arrives, not kept, and fails only its own dataset."""

from __future__ import annotations

import duckdb

from tests.replay.conftest import materialize_all

BOUND = 200_000  # bytes: about a third of the demo's answers


def test_answers_past_the_landing_bound_are_refused_and_not_kept(demo_copy, tmp_path,
                                                                 monkeypatch):
    monkeypatch.setenv("KMU_LANDING_MAX_GB", str(BOUND / 1e9))
    materialize_all(demo_copy, tmp_path, charts=False)
    bodies = sum(p.stat().st_size for p in (tmp_path / "raw").rglob("*.body"))
    assert 0 < bodies <= BOUND
    assert not list((tmp_path / "raw").rglob(".partial-*"))
    con = duckdb.connect(str(tmp_path / "kmu.duckdb"), read_only=True)
    status = con.execute("select dataset, status, error from meta.dataset_status").fetchall()
    refused = [(d, e) for d, s, e in status if s == "stale"]
    assert refused and len(refused) < len(status)  # the others were refreshed and published
    for dataset, error in refused:
        name = dataset.split("__", 1)[1]
        assert f"dataset {name}, request http" in error, error
        assert "would exceed its bound of 0.0002 GB" in error and "KMU_LANDING_MAX_GB" in error
