"""marts.revisions on a hand-written history: two releases of one indicator, one of another."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from kmu_pipeline.history import STORED, ensure_history
from kmu_pipeline.sql_models import SQL_DIR, model_from_sql, run_model

MARCH, JULY = datetime(2026, 3, 1, 10), datetime(2026, 7, 1, 6, 30)
OLD, NEW = datetime(2026, 2, 27, 23), datetime(2026, 6, 30, 23)
COLUMNS = ("indicator, size_class, geo, year, value, flag, change, valid_from_agency, "
           "valid_to_agency, valid_from_retrieved, valid_to_retrieved")
# cloud computing: 4 observations in March; in July 10-49 2023 +0.76, 10+ 2023 -0.8, 250+ 2021
# flagged b, 2025 new, EU27 withdrawn. Big data: one release, in March only.
HISTORY_ROWS = [
    ("cloud_computing", "10-49", "DE", 2023, 43.34, None, "new", OLD, NEW, MARCH, JULY),
    ("cloud_computing", "10-49", "DE", 2023, 44.1, None, "revised", NEW, None, JULY, None),
    ("cloud_computing", "10+", "DE", 2023, 47.0, None, "new", OLD, NEW, MARCH, JULY),
    ("cloud_computing", "10+", "DE", 2023, 46.2, None, "revised", NEW, None, JULY, None),
    ("cloud_computing", "250+", "DE", 2021, 70.83, None, "new", OLD, NEW, MARCH, JULY),
    ("cloud_computing", "250+", "DE", 2021, 70.83, "b", "revised", NEW, None, JULY, None),
    ("cloud_computing", "10+", "DE", 2025, 51.2, "p", "new", NEW, None, JULY, None),
    ("cloud_computing", "50-249", "EU27_2020", 2020, 45.66, None, "new", OLD, NEW, MARCH, JULY),
    ("cloud_computing", "50-249", "EU27_2020", 2020, None, None, "withdrawn", NEW, None, JULY,
     None),
    ("big_data", "10-49", "DE", 2020, 16.25, None, "new", OLD, None, MARCH, None),
]


@pytest.fixture
def revisions() -> list[tuple]:
    con = duckdb.connect()
    ensure_history(con)
    con.executemany(
        f"insert into {STORED} (source, dataset, nace, unit, raw_table, request_id, {COLUMNS}) "
        f"values ('eurostat', 'isoc_cicce_use', 'C10-S951_X_K', 'pct_enterprises', "
        f"'raw.eurostat__isoc_cicce_use', 'aaaaaaaaaaaaaaaa', {', '.join('?' * 11)})",
        HISTORY_ROWS)
    sql = (SQL_DIR / "marts" / "revisions.sql").read_text()
    run_model(con, model_from_sql("marts.revisions", sql))
    return con.execute(
        "select indicator, retrieved_at, previous_retrieved_at, agency_last_update, "
        "is_latest_release, is_first_release, new_count, revised_count, withdrawn_count, "
        "flag_changed_count, largest_revision_pp, largest_revision_observation, flags_changed "
        "from marts.revisions order by indicator, retrieved_at").fetchall()


def test_each_release_counts_its_changes_per_indicator(revisions):
    assert revisions == [
        ("big_data", MARCH, None, OLD, False, True, 1, 0, 0, 0, None, None, None),
        ("cloud_computing", MARCH, None, OLD, False, True, 4, 0, 0, 0, None, None, None),
        # the largest revision is the 10+ one: -0.8 against +0.76; the flag-only revision of
        # 250+ 2021 has no revision in points
        ("cloud_computing", JULY, MARCH, NEW, True, False, 1, 3, 1, 1, -0.8, "DE 10+ 2023",
         "DE 250+ 2021: (none) -> b"),
    ]
