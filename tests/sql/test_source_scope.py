"""Issue 14: the models pick sources by the scope the catalogue gives them (staging.sources),
never by name. The same rows under made-up source names build the same tables, and swapping the
two scopes swaps the sources' roles."""

from __future__ import annotations

from kmu_pipeline.catalogue import Catalogue, parse_catalogue
from tests.sql.marts import mart_warehouse
from tests.sql.test_digital_decade import _build

CATALOGUE = """
[sources.{eu}]
base_url = "http://127.0.0.1/eu"
base_url_env = "KMU_TEST_EU_URL"
scope = "eu"
[sources.{national}]
base_url = "http://127.0.0.1/national"
base_url_env = "KMU_TEST_NATIONAL_URL"
scope = "national"
"""
SWAPS = [("pan_eu", "office"), ("office", "pan_eu")]  # (the eu source, the national one)


def _catalogue(eu: str, national: str) -> Catalogue:
    return parse_catalogue(CATALOGUE.format(eu=eu, national=national))


def _germany(catalogue: Catalogue, rows, model: str):
    return mart_warehouse(
        "source varchar, dataset varchar default 'd', indicator varchar default 'website', "
        "indicator_code varchar default 'W', size_class varchar default '10-49', "
        "unit varchar default 'pct_enterprises', year integer default 2020, "
        "geo varchar default 'DE', nace varchar, value double, flag varchar, "
        "conf_status varchar default null",
        "insert into staging.observations (source, nace, value, flag) values (?, ?, ?, ?)",
        rows, [model], catalogue)


def test_the_germany_comparison_pairs_the_national_office_with_the_eu_survey():
    rows = [("pan_eu", "C10-S951_X_K", 77.0, None), ("pan_eu", "TOTAL", 70.0, None),
            ("office", "C10-S951_X_K", 60.0, None), ("office", "TOTAL", 78.0, None)]
    table = "staging.stg_germany__genesis_vs_eurostat"
    found = [_germany(_catalogue(eu, national), rows, table).execute(
        f"select genesis_value, eurostat_value, difference from {table}").fetchall()
        for eu, national in SWAPS]
    # the national office's total economy against the EU survey's headline aggregate
    assert found == [[(78.0, 77.0, 1.0)], [(70.0, 60.0, 10.0)]]


def test_the_article_figures_prefer_the_national_office_whatever_its_name():
    rows = [("pan_eu", "TOTAL", 58.7, None), ("office", "TOTAL", 59.0, "e")]
    query = "select source, value, is_flagged, is_destatis_missing from marts.article_figures"
    found = [_germany(_catalogue(eu, national), rows, "marts.article_figures").execute(query)
             .fetchall() for eu, national in SWAPS]
    # the national office's 'e' (Destatis: final) does not qualify its value
    assert found == [[("office", 59.0, False, False)], [("pan_eu", 58.7, False, False)]]
    # where the office has no row the EU survey stands in, and its 'e' (estimated) is a flag
    alone = _germany(_catalogue("office", "pan_eu"), rows[1:], "marts.article_figures")
    assert alone.execute(query).fetchall() == [("office", 59.0, True, True)]


def test_the_digital_decade_reads_the_eu_scope_only():
    dii = "digital_intensity_basic"
    rows = [("pan_eu", dii, "E_DI3_GELO", "10-249", "DE", 2023, 60.0, None, None),
            ("office", dii, "IKTDI", "10-249", "DE", 2023, 99.0, None, None)]
    query = "select source, indicator_code, value, member_rank from marts.digital_decade"
    found = [_build(rows, _catalogue(eu, national)).execute(query).fetchall()
             for eu, national in SWAPS]
    # ranked within its own source (marts.adoption_ranking joined on the row's source)
    assert found == [[("pan_eu", "E_DI3_GELO", 60.0, 1)], [("office", "IKTDI", 99.0, 1)]]
