"""Validate a whole warehouse table against the Observations schema, batch by batch."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd
import pandera.errors

from kmu_pipeline.schemas import OBSERVATION_COLUMNS, OBSERVATION_KEY, Observations

BATCH_ROWS = 250_000


@dataclass
class TableValidation:
    rows: int
    failure_cases: pd.DataFrame

    @property
    def passed(self) -> bool:
        return self.failure_cases.empty


def validate_table(con: duckdb.DuckDBPyConnection, table: str) -> TableValidation:
    """pandera per batch (flat memory) plus a key-uniqueness query over the whole table."""
    failures: list[pd.DataFrame] = []
    rows = 0
    reader = con.sql(f"select {', '.join(OBSERVATION_COLUMNS)} from {table}").to_arrow_reader(
        BATCH_ROWS)
    for batch in reader:
        frame = batch.to_pandas()
        rows += len(frame)
        try:
            Observations.validate(frame, lazy=True)
        except pandera.errors.SchemaErrors as exc:
            failures.append(exc.failure_cases.head(100))
    dupes = con.execute(
        f"select {', '.join(OBSERVATION_KEY)}, count(*) as n from {table} "
        f"group by all having count(*) > 1 limit 20").fetchdf()
    if len(dupes):
        failures.append(pd.DataFrame({"column": "key", "check": "unique",
                                      "failure_case": dupes.astype(str).agg("|".join, axis=1)}))
    cases = pd.concat(failures, ignore_index=True) if failures else pd.DataFrame()
    return TableValidation(rows=rows, failure_cases=cases)
