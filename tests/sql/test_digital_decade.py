"""marts.digital_decade run by the project's model runner on hand-checkable observations:
distance to the 2030 target, observed and needed pace, projection, breaks between indicator
codes (never bridged), rank among member states only, flags and confidentiality carried."""

from __future__ import annotations

import duckdb

from kmu_pipeline.catalogue import Catalogue
from tests.sql.marts import mart_warehouse

DII, CC = "digital_intensity_basic", "cloud_sophisticated_intermediate"
ROWS = [  # source, indicator, indicator_code, size_class, geo, year, value, flag, conf_status
    # Germany's DII alternates between two variable sets: every wave is a break
    ("eurostat", DII, "E_DI3_GELO", "10-249", "DE", 2021, 60.0, None, None),
    ("eurostat", DII, "E_DI4_GELO", "10-249", "DE", 2022, 77.0, None, None),
    ("eurostat", DII, "E_DI3_GELO", "10-249", "DE", 2023, 64.0, None, None),
    ("eurostat", DII, "E_DI4_GELO", "10-249", "DE", 2024, 80.0, None, None),
    ("eurostat", DII, "E_DI3_GELO", "10-249", "DE", 2025, 70.0, None, None),
    ("eurostat", DII, "E_DI3_GELO", "10-249", "FR", 2023, 50.0, "b", None),
    ("eurostat", DII, "E_DI3_GELO", "10-249", "FR", 2025, 46.0, None, None),  # falling
    ("eurostat", DII, "E_DI3_GELO", "10-249", "FI", 2025, 94.0, None, None),  # beyond
    ("eurostat", DII, "E_DI3_GELO", "10-249", "DK", 2025, 90.0, None, None),  # not "more than"
    ("eurostat", DII, "E_DI3_GELO", "10-249", "IT", 2025, None, None, "C"),  # confidential
    ("eurostat", DII, "E_DI3_GELO", "10-249", "NO", 2025, 95.0, None, None),  # not a member
    ("eurostat", DII, "E_DI3_GELO", "10-249", "EU27_2020", 2025, 71.0, None, None),
    ("eurostat", CC, "E_CC1_SI", "10+", "DE", 2021, 40.0, None, None),
    ("eurostat", CC, "E_CC1_SI", "10+", "DE", 2023, 46.0, None, None),
    # the article's broader cloud share (E_CC, any cloud service): not the Digital Decade KPI
    ("eurostat", "cloud_computing", "E_CC", "10+", "DE", 2020, 33.0, None, None),
    ("eurostat", "cloud_computing", "E_CC", "10+", "DE", 2023, 47.0, None, None),
    ("genesis", CC, "IKTCLOUD", "10+", "DE", 2023, 99.0, None, None),  # Destatis: not compared
    ("eurostat", "big_data", "E_BDA", "10+", "DE", 2020, 18.0, None, None),
    ("eurostat", "data_analytics", "E_DA", "10+", "DE", 2023, 30.0, None, None),
    ("eurostat", "website", "E_WEB", "10+", "DE", 2023, 80.0, None, None),  # no target
]
COLUMNS = ("distance_pp, target_reached, previous_year, has_break, comparable_year, "
           "pace_observed_pp_per_year, pace_needed_pp_per_year, is_on_course, projected_year")


def _build(rows=ROWS, catalogue: Catalogue | None = None) -> duckdb.DuckDBPyConnection:
    return mart_warehouse(
        "source varchar, dataset varchar default 'x', indicator varchar, "
        "indicator_code varchar, size_class varchar, nace varchar default 'C10-S951_X_K', "
        "geo varchar, unit varchar default 'pct_enterprises', year integer, value double, "
        "flag varchar, conf_status varchar",
        "insert into staging.observations (source, indicator, indicator_code, size_class, geo, "
        "year, value, flag, conf_status) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows, ["staging.stg_eu_members", "marts.adoption_ranking", "marts.digital_decade"],
        catalogue)


def _by(con, target: str) -> dict:
    rows = con.execute(f"select geo, year, {COLUMNS} from marts.digital_decade "
                       "where target = ? order by geo, year", [target]).fetchall()
    return {(r[0], r[1]): r[2:] for r in rows}


def test_pace_is_measured_within_one_indicator_code_only():
    by = _by(_build(), "digital_intensity")
    # 2022: first E_DI4_GELO wave, previous wave is E_DI3_GELO: a break and no pace
    assert by[("DE", 2022)] == (13.0, False, 2021, True, None, None, 1.63, None, None)
    # 2023: pace from 2021 (same code): (64 - 60) / 2 = 2.0 a year; needed 26 / 7 = 3.71;
    # at 2.0 a year the 26 points take 13 years: 2036
    assert by[("DE", 2023)] == (26.0, False, 2022, True, 2021, 2.0, 3.71, False, 2036)
    # 2024 from 2022: (80 - 77) / 2 = 1.5; needed 10 / 6 = 1.67; ceil(10 / 1.5) = 7 -> 2031
    assert by[("DE", 2024)] == (10.0, False, 2023, True, 2022, 1.5, 1.67, False, 2031)
    # 2025 from 2023, never from 2024 (80 -> 70 would be a fall of 10 across the break)
    assert by[("DE", 2025)] == (20.0, False, 2024, True, 2023, 3.0, 4.0, False, 2032)
    assert by[("DE", 2021)] == (30.0, False, None, False, None, None, 3.33, None, None)


def test_negative_pace_has_no_projected_year_and_flags_are_carried():
    con = _build()
    assert _by(con, "digital_intensity")[("FR", 2025)] == (
        44.0, False, 2023, False, 2023, -2.0, 8.8, False, None)
    flags = con.execute("select flag, pace_flags from marts.digital_decade "
                        "where geo = 'FR' order by year").fetchall()
    assert flags == [("b", "2023:b"), (None, "2023:b")]


def test_target_reached_only_beyond_ninety_for_digital_intensity():
    by = _by(_build(), "digital_intensity")
    assert by[("FI", 2025)] == (-4.0, True, None, False, None, None, 0.0, True, 2025)
    assert by[("DK", 2025)][:2] == (0.0, False)  # "more than 90 %": 90 is not enough
    assert by[("DK", 2025)][6:] == (0.0, None, None)  # nothing short, no pace known


def test_rank_among_member_states_best_and_eu_aggregate():
    con = _build()
    rows = con.execute(
        "select geo, value, conf_status, member_rank, ranked_members_count, best_geo, best_value, "
        "eu_value from marts.digital_decade where target = 'digital_intensity' and year = 2025 "
        "order by geo").fetchall()
    assert rows == [
        ("DE", 70.0, None, 3, 4, "FI", 94.0, 71.0), ("DK", 90.0, None, 2, 4, "FI", 94.0, 71.0),
        ("EU27_2020", 71.0, None, None, 4, "FI", 94.0, 71.0),
        ("FI", 94.0, None, 1, 4, "FI", 94.0, 71.0), ("FR", 46.0, None, 4, 4, "FI", 94.0, 71.0),
        ("IT", None, "C", None, 4, "FI", 94.0, 71.0),  # confidential: kept, never ranked
        ("NO", 95.0, None, None, 4, "FI", 94.0, 71.0)]  # not a member: never best


def test_big_data_to_data_analytics_is_a_break_not_a_trend():
    con = _build()
    rows = con.execute(
        "select indicator, year, has_break, previous_indicator_code, pace_observed_pp_per_year, "
        "break_note from marts.digital_decade where target = 'big_data_analytics' "
        "order by year").fetchall()
    assert rows == [
        ("big_data", 2020, False, None, None, None),
        ("data_analytics", 2023, True, "E_BDA", None,
         "E_BDA (2020) -> E_DA (2023): different survey concept or variable set, not compared; "
         "no earlier wave with E_DA, no pace")]
    note = con.execute("select break_note from marts.digital_decade where geo = 'DE' and "
                       "year = 2025 and target = 'digital_intensity'").fetchone()[0]
    assert note.endswith("not compared; pace from 2023 (E_DI3_GELO)")


def test_only_eurostat_targets_enter_and_cloud_pace():
    con = _build()
    assert _by(con, "cloud") == {
        ("DE", 2021): (35.0, False, None, False, None, None, 3.89, None, None),
        # (46 - 40) / 2 = 3.0; needed 29 / 7 = 4.14; ceil(29 / 3) = 10 -> 2033
        ("DE", 2023): (29.0, False, 2021, False, 2021, 3.0, 4.14, False, 2033)}
    others = con.execute("select count(*) from marts.digital_decade "
                         "where indicator in ('website', 'cloud_computing') "
                         "or indicator_code = 'IKTCLOUD'").fetchone()
    assert others == (0,)
