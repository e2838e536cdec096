"""The ingest's speed-ups keep its guarantees: the shared schema, every check, memory bounds."""

from __future__ import annotations

import pandas as pd
import pytest

from kmu_pipeline.catalogue import parse_catalogue
from kmu_pipeline.errors import SchemaError
from kmu_pipeline.ingest import validate_chunk
from kmu_pipeline.schemas import OBSERVATION_COLUMNS, OBSERVATION_KEY, Observations
from kmu_pipeline.validation import split_schema
from kmu_pipeline.warehouse import Warehouse


def test_split_schema_is_a_copy_with_every_check():
    schema = Observations.to_schema()
    split = split_schema(Observations)
    assert schema.unique == OBSERVATION_KEY and schema.coerce  # the shared model is untouched
    assert split.rows.unique is None and not split.rows_typed.coerce
    checks = {name: sorted(map(repr, column.checks)) for name, column in schema.columns.items()}
    moved = {name: sorted(map(repr, split.values.columns[name].checks))
             if name in split.values.columns else sorted(map(repr, column.checks))
             for name, column in split.rows.columns.items()}
    assert moved == checks
    assert {"geo", "indicator", "size_class", "unit", "source"} <= set(split.values.columns)
    assert {"year", "value"}.isdisjoint(split.values.columns)


def _chunk(n: int = 300, **changes) -> pd.DataFrame:
    frame = pd.DataFrame({
        "source": "eurostat", "dataset": "isoc_x", "indicator": "cloud_computing",
        "indicator_code": "E_CC", "size_class": ["10-49", "50-249", "250+"] * (n // 3),
        "nace": "C10-S951_X_K", "geo": "DE", "unit": "pct_enterprises",
        "year": [2000 + i % 100 for i in range(n)], "value": 12.5, "flag": None,
        "last_update": None,
        "request_id": "0123456789abcdef"})[OBSERVATION_COLUMNS]
    for column, (row, value) in changes.items():
        frame[column] = frame[column].astype(object)
        frame.loc[row, column] = value
    return frame


@pytest.mark.parametrize("changes, cause", [
    ({"geo": (7, "Deutschland")}, "geo: str_matches"),
    ({"size_class": (150, "10-99")}, "size_class: isin"),
    ({"request_id": (0, "short")}, "request_id: str_length"),
    ({"flag": (5, "much-too-long")}, "flag: str_length"),
    ({"value": (9, -1.0)}, "value: greater_than_or_equal_to"),
    ({"value": (9, 101.0)}, "percentages_at_most_100"),
    ({"geo": (3, None)}, "geo: not_nullable"),
])
def test_each_check_still_fails_a_single_bad_row(changes, cause):
    assert len(validate_chunk(_chunk(), _dataset(), "http://x")) == 300
    with pytest.raises(SchemaError, match=cause) as info:
        validate_chunk(_chunk(**changes), _dataset(), "http://x")
    cases = info.value.failure_cases
    assert len(cases) >= 1 and "failure_case" in cases


def _dataset():
    return parse_catalogue("""
[sources.eurostat]
base_url = "http://example.invalid"
base_url_env = "X"
[[datasets]]
name = "isoc_x"
source = "eurostat"
indicators = { E_CC = "cloud_computing" }
""").datasets[0]


def test_build_connections_are_memory_bounded(tmp_path, monkeypatch):
    wh = Warehouse(tmp_path / "kmu.duckdb")
    with wh.connect_build("r1") as con:
        limit = con.execute("select current_setting('memory_limit')").fetchone()[0]
    assert limit.replace(" ", "") == "122.0MiB"  # 128 MB
    monkeypatch.setenv("KMU_DUCKDB_MEMORY_LIMIT", "1GB")
    with wh.connect_build("r2") as con:
        limit = con.execute("select current_setting('memory_limit')").fetchone()[0]
    assert limit.replace(" ", "") == "953.6MiB"  # 1 GB


def test_values_seen_in_earlier_chunks_are_not_rechecked_but_new_ones_are():
    seen: dict[str, set] = {}
    validate_chunk(_chunk(), _dataset(), "http://x", seen)
    assert seen["geo"] == {"DE"} and seen["size_class"] == {"10-49", "50-249", "250+"}
    validate_chunk(_chunk(), _dataset(), "http://x", seen)
    with pytest.raises(SchemaError, match="geo: str_matches"):
        validate_chunk(_chunk(geo=(299, "Germany")), _dataset(), "http://x", seen)
    assert "Germany" not in seen["geo"]
