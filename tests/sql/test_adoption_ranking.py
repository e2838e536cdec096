"""marts.adoption_ranking run by the project's model runner on hand-checkable observations:
gap to the EU aggregate and to the best member state, rank among members only (aggregates and
non-members never ranked, ties share a rank), change since the previous wave, flags kept."""

from __future__ import annotations

import duckdb

from tests.sql.marts import mart_warehouse

ROWS = [  # geo, year, value, flag  (cloud computing, 10-49, % of enterprises)
    ("DE", 2018, 20.5, None), ("DE", 2020, 30.6, None), ("DE", 2021, 38.4, "b"),
    ("FI", 2020, 60.0, None), ("DK", 2020, 60.0, None),  # tie for best
    ("FR", 2020, 25.0, None), ("IT", 2020, None, "c"),   # confidential: no rank
    ("NO", 2020, 70.0, None),                            # not a member: never best or ranked
    ("EU27_2020", 2020, 36.1, None),                     # aggregate: compared, never ranked
]


def _build() -> duckdb.DuckDBPyConnection:
    return mart_warehouse(
        "source varchar, indicator varchar, unit varchar, year integer, size_class varchar, "
        "nace varchar, geo varchar, value double, flag varchar",
        "insert into staging.observations values ('eurostat', 'cloud_computing', "
        "'pct_enterprises', ?, '10-49', 'C10-S951_X_K', ?, ?, ?)",
        [(year, geo, value, flag) for geo, year, value, flag in ROWS],
        ["staging.stg_eu_members", "marts.adoption_ranking"])


def test_ranking_gaps_and_change():
    con = _build()
    rows = con.execute(
        "select geo, year, value, flag, eu_value, gap_to_eu_pp, best_geo, best_value, "
        "gap_to_best_pp, member_rank, ranked_members_count, previous_year, "
        "change_since_previous_pp from marts.adoption_ranking order by geo, year").fetchall()
    by = {(r[0], r[1]): r[2:] for r in rows}
    assert by[("DE", 2020)] == (30.6, None, 36.1, -5.5, "DK+FI", 60.0, -29.4, 3, 4, 2018, 10.1)
    assert by[("DK", 2020)][7] == 1 and by[("FI", 2020)][7] == 1 and by[("FR", 2020)][7] == 4
    assert by[("IT", 2020)] == (None, "c", 36.1, None, "DK+FI", 60.0, None, None, 4, None, None)
    assert by[("NO", 2020)][7] is None and by[("EU27_2020", 2020)][7] is None
    assert by[("DE", 2021)][:2] == (38.4, "b") and by[("DE", 2021)][-2:] == (2020, 7.8)
    assert by[("DE", 2021)][2] is None  # no EU aggregate that year: no gap, not a guess
