"""Identical runs keep the published file's size bounded (issue 18.14): DuckDB reuses the blocks
a replaced table freed, and the file is its blocks and a header, nothing that accumulates."""

from __future__ import annotations

from pathlib import Path

from kmu_pipeline.replay import DEMO_SNAPSHOT, ReplayServer
from tests.conftest import copy_workdir, touch_published
from tests.reliability.conftest import query
from tests.replay.conftest import materialize_against

HEADER_BYTES = 3 * 4096  # DuckDB's file header and its two database headers


def _blocks(db: Path) -> tuple[int, int, int]:
    (total, free, block_size), = query(
        db, "select total_blocks, free_blocks, block_size from pragma_database_size()")
    return total, free, block_size


def test_identical_runs_do_not_grow_the_published_file(tmp_path, published_demo):
    workdir = copy_workdir(published_demo[0], tmp_path / "run")  # run 1, then two more
    db = workdir / "kmu.duckdb"
    blocks = []

    def measure() -> None:
        blocks.append(_blocks(db))
        total, _, block_size = blocks[-1]
        assert db.stat().st_size <= HEADER_BYTES + total * block_size

    measure()
    with ReplayServer(DEMO_SNAPSHOT) as server:
        published = db.read_bytes()  # an identical run publishes nothing
        assert materialize_against(server, workdir, charts=False).success
        assert db.read_bytes() == published
        for _ in range(3):  # published again all the same: the same rows replace the same
            touch_published(db)
            assert materialize_against(server, workdir, charts=False).success
            measure()
    assert query(db, "select count(*) from meta.runs") == [(4,)]
    # run 1 built from nothing; runs 2 and 3 settle (the meta tables' upserted rows move to
    # blocks of their own: meta.dataset_status takes three by run 3, measured); from then on
    # each run replaces the models with the same rows, and the blocks they free are what the
    # next run writes into (meta.runs grows by a row a run: at most one block more)
    totals = [total for total, _, _ in blocks]
    assert max(totals[3:]) <= totals[2] + 1, blocks
    assert all(free <= total // 4 for total, free, _ in blocks), blocks
