"""Validate a DuckDB table against its pandera model without moving the table into Python.

Every check of a model like Observations is row-wise: a column check (dtype, nulls, isin,
str_matches, ranges) looks at one value, a dataframe check at one row's values of a few columns.
A row-wise check holds for every row exactly when it holds for every distinct value of what it
reads. So pandera validates two frames of the table's distinct values: the distinct values
(NULL included) of each column no dataframe check reads, and the distinct combinations of the
columns the dataframe checks read (the model's `metadata["row_check_columns"]`), with those
checks. Within a frame, shorter columns are repeated to a common length, which adds no value
that is not in the table. For 500k observations the frames have a few hundred and ~43k rows;
building them is one `select distinct` a column in DuckDB (bench/: pandera's share is 10-16% of
the ingest, where pandera over chunks took 20% and a Python round trip of every row).

Checks for which this is not true (column uniqueness, aggregates such as a mean) are refused
when the schema is prepared; the model's key uniqueness runs as one DuckDB query instead.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd
import pandera.errors
import pandera.pandas as pa
import pyarrow as pa_arrow
import pyarrow.compute as pc

from kmu_pipeline.errors import KmuError
from kmu_pipeline.schemas import Observations, model_metadata

# pandera's built-in checks that test one value at a time
ROW_WISE_CHECKS = frozenset({
    "isin", "notin", "str_matches", "str_contains", "str_startswith", "str_endswith",
    "str_length", "greater_than", "greater_than_or_equal_to", "less_than",
    "less_than_or_equal_to", "in_range", "equal_to", "not_equal_to",
})
FAILURE_ROWS = 100
# pandera imports and registers its pandas backends inside the first validate() of a process;
# here they come with this module's imports
pa.DataFrameSchema.register_default_backends(pd.DataFrame)


@dataclass(frozen=True)
class DistinctSchema:
    columns: pa.DataFrameSchema  # the column checks of the columns no dataframe check reads
    joint: pa.DataFrameSchema  # the columns the dataframe checks read, with those checks
    key: tuple[str, ...]  # the model's unique key, checked in DuckDB

    @property
    def joint_columns(self) -> tuple[str, ...]:
        return tuple(self.joint.columns)


@functools.cache
def distinct_schema(model: type[pa.DataFrameModel]) -> DistinctSchema:
    """The model's schema for distinct-value frames, split in two: the columns no dataframe
    check reads, checked on their distinct values (a frame of a few hundred rows), and the
    columns the dataframe checks read, checked on their distinct combinations (the value
    column makes those many). One frame of both repeated the short columns to the long one's
    length: pandera then checked each value of a constant column tens of thousands of times."""
    schema = model.to_schema()  # cached by pandera: read, never changed (the parts are copies)
    key = tuple(schema.unique or ())
    joint = list(model_metadata(model).get("row_check_columns", ()))
    for name, column in schema.columns.items():
        odd = [c.name for c in column.checks if c.name not in ROW_WISE_CHECKS]
        if column.unique or odd:
            raise KmuError(f"{model.__name__}.{name}: {'unique' if column.unique else odd} is not "
                           f"a row-wise check; validate this model over its rows instead")
    if schema.checks and not joint:
        raise KmuError(f"{model.__name__} has dataframe checks but does not declare the columns "
                       f"they read (Config.metadata row_check_columns)")
    columns, joint_schema = schema.remove_columns(joint), schema.select_columns(joint)
    columns.checks, columns.unique, joint_schema.unique = [], None, None
    return DistinctSchema(columns=columns, joint=joint_schema, key=key)


def _padded(columns: dict[str, pa_arrow.ChunkedArray], order: list[str]) -> pd.DataFrame:
    """The columns as one frame, shorter ones repeated to the longest one's length (which adds
    no value that is not in the table); an empty table has no values, only its types."""
    length = max((len(v) for v in columns.values()), default=0)
    index = pa_arrow.array(np.arange(length))
    return pa_arrow.table({c: (columns[c].take(pc.remainder(index, len(columns[c])))
                               if 0 < len(columns[c]) < length else columns[c])
                           for c in order}).to_pandas()


def distinct_frames(con: duckdb.DuckDBPyConnection, table: str,
                    spec: DistinctSchema) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every distinct value of every column of spec.columns, and every distinct combination of
    spec.joint's, typed as the table's columns are. One `select distinct` per column: a single
    query of ten list(distinct ...) aggregates took twice as long."""
    columns = {column: con.sql(f'select distinct "{column}" from {table}').to_arrow_table()
               .column(0) for column in spec.columns.columns}
    frame = _padded(columns, list(spec.columns.columns))
    if not spec.joint_columns:
        return frame, pd.DataFrame()
    names = list(spec.joint_columns)
    joint = con.sql(f"select distinct {', '.join(names)} from {table}").to_arrow_table()
    return frame, _padded({c: joint.column(c) for c in names}, names)


@dataclass
class TableValidation:
    rows: int
    failure_cases: pd.DataFrame
    # wall seconds: "validate" (distinct values + pandera), "keys" (key uniqueness)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.failure_cases.empty


def duplicate_keys(con: duckdb.DuckDBPyConnection, table: str,
                   key: tuple[str, ...]) -> pd.DataFrame:
    """Keys that occur more than once (up to 5), with their counts.

    Grouping 64-bit hashes of the key needs a fifth of the memory and time of grouping its
    strings (5M rows: 0.4 s vs 1.1 s); equal keys have equal hashes, so only colliding hashes
    are then grouped by the key itself.
    """
    columns = ", ".join(key)
    collisions = [h for (h,) in con.execute(
        f"select h from (select hash({columns}) as h from {table}) "
        f"group by h having count(*) > 1 limit 1000").fetchall()]
    if not collisions:
        return pd.DataFrame(columns=[*key, "n"])
    return con.execute(
        f"select {columns}, count(*) as n from {table} where list_contains(?, hash({columns})) "
        f"group by all having count(*) > 1 limit 5", [collisions]).fetchdf()


def validate_table(con: duckdb.DuckDBPyConnection, table: str,
                   model: type[pa.DataFrameModel] = Observations) -> TableValidation:
    """pandera over the table's distinct values, plus key uniqueness in DuckDB; failure cases
    in pandera's format (column, check, failure_case), without row indexes."""
    spec = distinct_schema(model)
    started = time.perf_counter()
    (rows,), = con.execute(f"select count(*) from {table}").fetchall()
    failures = []
    frames = distinct_frames(con, table, spec)
    for schema, frame in zip((spec.columns, spec.joint), frames, strict=True):
        if not schema.columns:
            continue
        try:
            schema.validate(frame, lazy=True)
        except pandera.errors.SchemaErrors as exc:
            cases = exc.failure_cases.drop_duplicates(["column", "check", "failure_case"])
            failures.append(cases.assign(index=None).head(FAILURE_ROWS))
    seconds = {"validate": time.perf_counter() - started}
    started = time.perf_counter()
    if spec.key:
        dupes = duplicate_keys(con, table, spec.key)
        if len(dupes):
            text = dupes.astype(str).agg("|".join, axis=1)
            failures.append(pd.DataFrame({
                "column": "key", "check": f"multiple_fields_uniqueness of {', '.join(spec.key)}",
                "failure_case": text}))
    seconds["keys"] = time.perf_counter() - started
    cases = pd.concat(failures, ignore_index=True) if failures else pd.DataFrame()
    return TableValidation(rows=rows, failure_cases=cases, seconds=seconds)
