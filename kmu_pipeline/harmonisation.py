"""How far Destatis and Eurostat disagree for Germany (staging.stg_germany__genesis_vs_eurostat).

The two agencies publish the same EU survey for Germany with different aggregates and rounding,
so differences are expected; large ones point at a mapping error in the catalogue (a wrong
indicator or unit code), which is why a check reports them without failing the run.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

COMPARISON = "staging.stg_germany__genesis_vs_eurostat"
DEFAULT_THRESHOLD = 2.0  # points: whole-percent rounding (0.5) plus definitional differences


@dataclass(frozen=True)
class SourceDifferences:
    compared: int
    max_abs_difference: float | None
    over_threshold: pd.DataFrame

    @property
    def agree(self) -> bool:
        return self.over_threshold.empty


def source_differences(con: duckdb.DuckDBPyConnection,
                       threshold: float = DEFAULT_THRESHOLD) -> SourceDifferences:
    compared, max_abs = con.execute(
        f"select count(*), max(abs(difference)) from {COMPARISON}").fetchone()
    over = con.execute(
        f"select indicator, size_class, unit, year, genesis_value, eurostat_value, difference "
        f"from {COMPARISON} where abs(difference) > ? order by abs(difference) desc",
        [threshold]).fetchdf()
    return SourceDifferences(compared, max_abs, over)
