"""pandera over a table's distinct values finds exactly what pandera over its rows finds."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pandera.errors
import pandera.pandas as pa
import pytest
from pandera.typing import Series

from kmu_pipeline.errors import KmuError
from kmu_pipeline.schemas import OBSERVATION_COLUMNS, OBSERVATION_KEY, Observations, create_table
from kmu_pipeline.validation import distinct_schema, validate_table
from kmu_pipeline.warehouse import Warehouse


def _frame(n: int = 300, **changes) -> pd.DataFrame:
    frame = pd.DataFrame({
        "source": "eurostat", "dataset": "isoc_x", "indicator": "cloud_computing",
        "indicator_code": "E_CC", "size_class": ["10-49", "50-249", "250+"] * (n // 3),
        "nace": "C10-S951_X_K", "geo": "DE", "unit": "pct_enterprises",
        "year": [2000 + i % 100 for i in range(n)], "value": 12.5, "flag": None,
        "conf_status": None, "last_update": None,
        "request_id": "0123456789abcdef"})[OBSERVATION_COLUMNS]
    for column, (row, value) in changes.items():
        frame[column] = frame[column].astype(object)
        frame.loc[row, column] = value
    return frame


def _table(frame: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    create_table(con, "obs", Observations)
    con.register("frame", frame)
    con.execute("insert into obs select * from frame")
    return con


def test_distinct_schema_is_a_copy_with_every_check():
    schema = Observations.to_schema()
    spec = distinct_schema(Observations)
    assert schema.unique == OBSERVATION_KEY and spec.key == tuple(OBSERVATION_KEY)
    both = {**spec.columns.columns, **spec.joint.columns}
    assert spec.columns.unique is None and spec.joint.unique is None
    assert not set(spec.columns.columns) & set(spec.joint.columns)
    assert {n: list(map(repr, c.checks)) for n, c in both.items()} == {
        n: list(map(repr, c.checks)) for n, c in schema.columns.items()}
    assert [c.name for c in spec.joint.checks] == [c.name for c in schema.checks]
    assert spec.columns.checks == [] and schema.checks  # the model's own schema is untouched


@pytest.mark.parametrize("changes, column, check, value", [
    ({"geo": (7, "Deutschland")}, "geo", "str_matches", "Deutschland"),
    ({"size_class": (150, "10-99")}, "size_class", "isin", "10-99"),
    ({"request_id": (0, "short")}, "request_id", "str_length", "short"),
    ({"flag": (5, "much-too-long")}, "flag", "str_length", "much-too-long"),
    ({"value": (9, -1.0)}, "value", "greater_than_or_equal_to", "-1.0"),
    ({"value": (9, 101.0)}, "value", "percentages_at_most_100", "101.0"),
    ({"value": (9, None)}, None, "missing_value_is_flagged", None),
    ({"geo": (3, None)}, "geo", "not_nullable", None),
    ({"year": (3, 1200)}, "year", "greater_than_or_equal_to", "1200"),
])
def test_each_check_still_fails_a_single_bad_row(changes, column, check, value):
    assert validate_table(_table(_frame()), "obs").passed
    result = validate_table(_table(_frame(**changes)), "obs")
    cases = result.failure_cases
    hit = cases[cases["check"].str.startswith(check)]
    hit = hit[hit["column"] == column] if column else hit
    assert len(hit) == 1, cases
    if value is not None:
        assert str(hit["failure_case"].iloc[0]) == value
    assert result.rows == 300


def test_duplicate_keys_are_found_in_duckdb():
    frame = _frame()
    result = validate_table(_table(pd.concat([frame, frame.iloc[[4]]])), "obs")
    (check,) = set(result.failure_cases["check"])
    assert check.startswith("multiple_fields_uniqueness") and result.rows == 301
    assert "|2" in result.failure_cases["failure_case"].iloc[0]  # the key and its count


def _failures(cases: pd.DataFrame) -> set[tuple[str, str, str]]:
    return {(str(r.column), str(r.check), str(r.failure_case)) for r in cases.itertuples()}



@pytest.mark.parametrize("seed", range(12))
def test_same_failures_as_pandera_over_every_row(seed):
    """Random bad values in random rows: the same checks fail, for the same values."""
    rng = np.random.default_rng(seed)
    frame = _frame(300)
    bad = {"geo": ["Deutschland", None, "de"], "size_class": ["10-99", None],
           "unit": ["pct", "PC_ENT"], "value": [-3.0, 140.0, None], "flag": ["toolongflag"],
           "year": [1800, 2200], "request_id": ["x"], "indicator": ["cloud"]}
    for column in rng.choice(sorted(bad), size=rng.integers(1, 4), replace=False):
        frame[column] = frame[column].astype(object)
        for row in rng.choice(300, size=rng.integers(1, 5), replace=False):
            frame.loc[row, column] = bad[column][rng.integers(len(bad[column]))]
    frame["year"] = frame["year"].astype("int64")
    frame["value"] = frame["value"].astype("float64")
    spec = distinct_schema(Observations)
    try:
        Observations.to_schema().validate(frame, lazy=True)  # the model itself, every row
        expected = set()
    except pandera.errors.SchemaErrors as exc:
        expected = _failures(exc.failure_cases[exc.failure_cases["failure_case"].notna()])
    cases = validate_table(_table(frame), "obs").failure_cases
    found = _failures(cases[cases["failure_case"].notna()]) if len(cases) else set()
    # keys: pandera lists each duplicated key's columns, validate_table the keys with counts
    assert any(k.startswith("multiple_fields_uniqueness") for _, k, _ in found) == any(
        k == "multiple_fields_uniqueness" for _, k, _ in expected)
    found = {f for f in found if f[0] != "key"}
    expected = {f for f in expected if f[1] != "multiple_fields_uniqueness"}
    # a failed dataframe check lists every column of its row; only those it reads are real
    dataframe_checks = {c.name for c in spec.joint.checks}
    expected = {(c, k, v) for c, k, v in expected
                if k not in dataframe_checks or c in spec.joint_columns}
    assert found == expected


def test_dataframe_checks_read_only_the_declared_columns():
    """A dataframe check reading an undeclared column would be tested on made-up rows."""
    spec = distinct_schema(Observations)
    frame = _frame()[list(spec.joint_columns)]
    for check in spec.joint.checks:
        assert check(frame).check_passed  # a KeyError here: declare the column it reads


def test_checks_that_are_not_row_wise_are_refused():
    class Averaged(pa.DataFrameModel):
        value: Series[float]

        @pa.check("value", name="mean")
        @classmethod
        def mean(cls, series: pd.Series) -> bool:
            return series.mean() < 50

    class UniqueColumn(pa.DataFrameModel):
        geo: Series[str] = pa.Field(unique=True)

    for model, words in ((Averaged, "mean"), (UniqueColumn, "unique")):
        with pytest.raises(KmuError, match=f"{model.__name__}.*{words}.*not a row-wise check"):
            distinct_schema(model)


def test_empty_table_passes_and_counts_no_rows():
    result = validate_table(_table(_frame(0)), "obs")
    assert result.passed and result.rows == 0


def test_build_connections_are_memory_bounded(tmp_path, monkeypatch):
    wh = Warehouse(tmp_path / "kmu.duckdb")
    with wh.connect_build("r1") as con:
        limit = con.execute("select current_setting('memory_limit')").fetchone()[0]
    assert limit.replace(" ", "") == "122.0MiB"  # 128 MB
    monkeypatch.setenv("KMU_DUCKDB_MEMORY_LIMIT", "1GB")
    with wh.connect_build("r2") as con:
        limit = con.execute("select current_setting('memory_limit')").fetchone()[0]
    assert limit.replace(" ", "") == "953.6MiB"  # 1 GB
