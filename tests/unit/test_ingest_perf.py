"""The ingest's speed-ups keep its guarantees: the shared schema, keys across chunks, bounds."""

from __future__ import annotations

from kmu_pipeline.ingest import CHUNK_SCHEMA, CHUNK_SCHEMA_TYPED
from kmu_pipeline.schemas import OBSERVATION_KEY, Observations
from kmu_pipeline.warehouse import Warehouse


def test_chunk_schemas_are_copies_and_leave_observations_intact():
    schema = Observations.to_schema()
    assert schema.unique == OBSERVATION_KEY and schema.coerce
    assert CHUNK_SCHEMA.unique is None and CHUNK_SCHEMA.coerce
    assert not CHUNK_SCHEMA_TYPED.coerce
    assert set(CHUNK_SCHEMA.columns) == set(schema.columns)
    assert [list(map(repr, c.checks)) for c in CHUNK_SCHEMA.columns.values()] == [
        list(map(repr, c.checks)) for c in schema.columns.values()]


def test_build_connections_are_memory_bounded(tmp_path, monkeypatch):
    wh = Warehouse(tmp_path / "kmu.duckdb")
    with wh.connect_build("r1") as con:
        limit = con.execute("select current_setting('memory_limit')").fetchone()[0]
    assert limit.replace(" ", "") in ("183.1MiB", "192.0MB", "192MB")
    monkeypatch.setenv("KMU_DUCKDB_MEMORY_LIMIT", "1GB")
    with wh.connect_build("r2") as con:
        limit = con.execute("select current_setting('memory_limit')").fetchone()[0]
    assert limit.replace(" ", "") in ("953.6MiB", "1.0GB", "1GB")
