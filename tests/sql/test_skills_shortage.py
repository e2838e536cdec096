"""marts.skills_shortage run by the project's model runner on hand-checkable observations."""

from __future__ import annotations

import duckdb

from tests.sql.marts import mart_warehouse

COLUMNS = "source, geo, year, size_class, indicator, unit, value"
ROWS = [
    # DE: Eurostat publishes the share of recruiters (unit PC_ENT_ITSPRCR2) -> used as published
    ("eurostat", "DE", 2020, "10-49", "ict_recruitment_tried", "pct_enterprises", 8.0),
    ("eurostat", "DE", 2020, "10-49", "ict_vacancies_hard_to_fill", "pct_enterprises", 5.0),
    ("eurostat", "DE", 2020, "10-49", "ict_vacancies_hard_to_fill", "pct_recruiting_enterprises",
     65.0),
    ("eurostat", "DE", 2020, "10-49", "ict_specialists_employed", "pct_enterprises", 12.42),
    ("eurostat", "DE", 2020, "10-49", "ict_training", "pct_enterprises", 18.0),
    ("eurostat", "EU27_2020", 2020, "10-49", "ict_specialists_employed", "pct_enterprises", 13.57),
    # FR: only the two shares of all enterprises -> ratio computed, 100 * 3 / 12 = 25.0
    ("eurostat", "FR", 2020, "10-49", "ict_recruitment_tried", "pct_enterprises", 12.0),
    ("eurostat", "FR", 2020, "10-49", "ict_vacancies_hard_to_fill", "pct_enterprises", 3.0),
]


def _build() -> duckdb.DuckDBPyConnection:
    return mart_warehouse(
        "source varchar, geo varchar, year integer, size_class varchar, indicator varchar, "
        "unit varchar, value double",
        f"insert into staging.observations ({COLUMNS}) values (?, ?, ?, ?, ?, ?, ?)", ROWS,
        ["marts.skills_shortage"])


def test_hard_to_fill_share_of_recruiters_published_or_computed_never_mixed_units():
    con = _build()
    rows = con.execute(
        "select geo, employing_pct, recruiting_pct, hard_to_fill_pct, training_pct, "
        "hard_to_fill_share_of_recruiters_pct, is_hard_to_fill_share_published "
        "from marts.skills_shortage order by geo").fetchall()
    assert rows == [
        ("DE", 12.42, 8.0, 5.0, 18.0, 65.0, True),
        ("EU27_2020", 13.57, None, None, None, None, False),
        ("FR", None, 12.0, 3.0, None, 25.0, False),
    ]
    germany_vs_eu = con.execute("select eu_employing_pct, employing_vs_eu_pp from "
                                "marts.skills_shortage where geo = 'DE'").fetchall()
    assert germany_vs_eu == [(13.57, -1.15)]
