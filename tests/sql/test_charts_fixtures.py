"""marts.article_figures and the chart functions on small hand-checkable warehouses."""

from __future__ import annotations

from dataclasses import replace

import duckdb
from PIL import Image

from kmu_pipeline import charts
from kmu_pipeline.catalogue import load_catalogue
from kmu_pipeline.sql_models import SQL_DIR, model_from_sql, run_model, sources_model
from tests.sql.marts import mart_warehouse

ROWS = [  # source, dataset, indicator, size_class, year, value, flag
    ("genesis", "ikt_by_size", "website", "0-9", 2020, 59.0, "e"),
    ("eurostat", "isoc_ciweb", "website", "0-9", 2020, 58.7, None),  # Destatis preferred
    ("eurostat", "isoc_ciweb", "website", "10-49", 2020, 87.4, "b"),  # fallback, break flag
    ("genesis", "ikt_by_size", "big_data", "0-9", 2020, None, "."),  # no number published
    ("genesis", "ikt_by_size", "website", "0-9", 2021, 61.0, "p"),  # another wave
    ("eurostat", "isoc_ciweb", "website", "250+", 2020, 96.0, None),  # not in the figure
]


def _warehouse(rows=ROWS) -> duckdb.DuckDBPyConnection:
    return mart_warehouse(
        "source varchar, dataset varchar, indicator varchar, size_class varchar, year integer, "
        "value double, flag varchar, geo varchar default 'DE', nace varchar default 'TOTAL', "
        "unit varchar default 'pct_enterprises', conf_status varchar default null",
        "insert into staging.observations (source, dataset, indicator, size_class, year, value, "
        "flag) values (?, ?, ?, ?, ?, ?, ?)", rows, ["marts.article_figures"])


def test_destatis_preferred_eurostat_fallback_and_flags():
    rows = _warehouse().execute(
        "select indicator, label_en, size_class, year, value, flag, is_flagged, source, "
        "is_destatis_missing from marts.article_figures order by indicator, year, size_class"
    ).fetchall()
    assert rows == [
        ("big_data", "Big data analysis", "0-9", 2020, None, ".", True, "genesis", False),
        ("website", "Website", "0-9", 2020, 59.0, "e", False, "genesis", False),
        ("website", "Website", "10-49", 2020, 87.4, "b", True, "eurostat", True),
        ("website", "Website", "0-9", 2021, 61.0, "p", True, "genesis", False)]


def test_article_chart_cites_its_tables_and_shows_flags(tmp_path):
    con = _warehouse()
    data = charts.article_figure(con, "abb2", tmp_path / "abb2.png", run_id="run-1")
    assert data[["indicator", "size_class", "flag", "is_flagged"]].values.tolist() == [
        ["website", "0-9", "e", False], ["website", "10-49", "b", True],
        ["big_data", "0-9", ".", True]]
    assert data["value"].fillna(-1).tolist() == [59.0, 87.4, -1]  # -1: no number, no bar
    text = Image.open(tmp_path / "abb2.png").text
    assert text["Source"] == ("Quelle: Eurostat isoc_ciweb; Statistisches Bundesamt, GENESIS "
                              "52911-0003 (kmu-pipeline: marts.article_figures, Lauf run-1)")
    assert text["Title"] == "Abb. 2: Digitale Integration von KMU, 2020"
    # the key explains the hatching and the sign, which this picture shows
    assert text["Description"].splitlines() == [charts.article.KEY["flagged"],
                                                charts.article.KEY["sign"]]
    # the year is a parameter: 2021 holds only the provisional Destatis value
    later = charts.article_figure(con, "abb2", tmp_path / "abb2_2021.png", year=2021)
    assert later[["size_class", "value", "flag"]].values.tolist() == [["0-9", 61.0, "p"]]
    # the flag alone changes the picture (hatched, letter on the bar)
    con.execute("update marts.article_figures set is_flagged = false, flag = null "
                "where source = 'eurostat'")
    charts.article_figure(con, "abb2", tmp_path / "unflagged.png", run_id="run-1")
    assert (tmp_path / "abb2.png").read_bytes() != (tmp_path / "unflagged.png").read_bytes()


GAPS = [  # geo, year, small_pct, large_pct, flags
    ("DE", 2018, 20.0, 50.0, None),
    ("DE", 2020, 30.0, 62.0, "250+:b"),
    ("DE", 2021, 38.0, 71.0, None),
    ("EU27_2020", 2021, 34.0, 72.0, None),
    ("FR", 2021, 30.0, 60.0, None),
]


def _gaps(rows=GAPS) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create schema staging")
    run_model(con, sources_model(load_catalogue()))  # the chart picks its sources by scope
    con.execute("create table marts.adoption_gaps (source varchar, indicator varchar, "
                "geo varchar, unit varchar, year integer, small_pct double, large_pct double, "
                "large_vs_small_pp double, flags varchar)")
    con.executemany("insert into marts.adoption_gaps values ('eurostat', 'cloud_computing', ?, "
                    "'pct_enterprises', ?, ?, ?, ? - ?, ?)",
                    [(g, y, s, lg, lg, s, f) for g, y, s, lg, f in rows])
    return con


def test_gap_trend_over_several_waves(tmp_path):
    data = charts.gap_trend(_gaps(), "cloud_computing", tmp_path / "trend.png")
    rows = data.fillna({"flags": ""})[["geo", "year", "large_vs_small_pp", "flags"]]
    assert rows.values.tolist() == [  # FR is not asked for
        ["DE", 2018, 30.0, ""], ["DE", 2020, 32.0, "250+:b"], ["DE", 2021, 33.0, ""],
        ["EU27_2020", 2021, 38.0, ""]]
    text = Image.open(tmp_path / "trend.png").text
    assert text["Comment"] == "EU-27: nur eine Erhebungswelle (2021), kein Verlauf"
    assert text["Source"] == ("Quelle: Eurostat isoc_cicce_use (kmu-pipeline: "
                              "marts.adoption_gaps)")
    # a second EU wave removes the note and changes the picture
    charts.gap_trend(_gaps([*GAPS, ("EU27_2020", 2020, 30.0, 65.0, None)]), "cloud_computing",
                     tmp_path / "two_waves.png")
    assert "Comment" not in Image.open(tmp_path / "two_waves.png").text
    assert (tmp_path / "trend.png").read_bytes() != (tmp_path / "two_waves.png").read_bytes()


def test_gap_trend_with_no_gap_says_so(tmp_path):
    data = charts.gap_trend(_gaps([("DE", 2020, None, 62.0, None)]), "cloud_computing",
                            tmp_path / "none.png")
    assert len(data) == 1 and data["large_vs_small_pp"].isna().all()
    assert Image.open(tmp_path / "none.png").text["Comment"] == (
        "Deutschland: kein Abstand berechenbar (250+ oder 10-49 fehlt)\n"
        "EU-27: kein Abstand berechenbar (250+ oder 10-49 fehlt)")


def test_a_confidential_cell_is_labelled_as_such_not_as_missing(tmp_path):
    con = _warehouse()
    con.execute("insert into staging.observations (source, dataset, indicator, size_class, "
                "year, value, flag, conf_status) values ('eurostat', 'isoc_cicce_use', "
                "'cloud_computing', '0-9', 2020, null, null, 'C')")
    run_model(con, model_from_sql("marts.article_figures",
                                  (SQL_DIR / "marts" / "article_figures.sql").read_text()))
    data = charts.article_figure(con, "abb2", tmp_path / "abb2.png")
    cloud = data[data.indicator == "cloud_computing"]
    assert cloud[["size_class", "is_confidential"]].values.tolist() == [["0-9", True]]
    assert "(vertr.): vertraulich" in Image.open(tmp_path / "abb2.png").text["Description"]
    con.execute("update marts.article_figures set is_confidential = false")
    charts.article_figure(con, "abb2", tmp_path / "as_missing.png")
    assert (tmp_path / "abb2.png").read_bytes() != (tmp_path / "as_missing.png").read_bytes()


def test_a_flag_with_dollar_signs_is_printed_not_parsed_as_mathtext(tmp_path):
    """Issue 18.4: '$$' is a legal two-character flag; matplotlib read it as mathtext."""
    con = _warehouse([("eurostat", "isoc_ciweb", "website", "10-49", 2020, 87.4, "$$")])
    data = charts.article_figure(con, "abb2", tmp_path / "abb2.png")
    assert data["flag"].tolist() == ["$$"] and (tmp_path / "abb2.png").stat().st_size > 0


def test_gap_trend_reads_the_sources_of_its_scope_and_cites_them(tmp_path):
    data = charts.gap_trend(_gaps(), "cloud_computing", tmp_path / "national.png",
                            scope="national")
    assert data.empty  # every row of the mart is the EU survey's
    assert Image.open(tmp_path / "national.png").text["Source"] == (
        "Quelle: Statistisches Bundesamt, GENESIS 52911-0003 52911-0001 (kmu-pipeline: "
        "marts.adoption_gaps)")


def test_a_chart_cites_from_the_catalogue_it_is_handed(tmp_path):
    """Issue 14: the catalogue is passed in (the chart assets hand theirs to the drawing code);
    an entry's agency as that catalogue names it is what the picture cites."""
    shipped = load_catalogue()
    handed = replace(shipped, sources={**shipped.sources, "eurostat": replace(
        shipped.sources["eurostat"], agency="Eurostat (as handed in)")})
    charts.gap_trend(_gaps(), "cloud_computing", tmp_path / "trend.png", catalogue=handed)
    assert Image.open(tmp_path / "trend.png").text["Source"].startswith(
        "Quelle: Eurostat (as handed in) isoc_cicce_use")
    charts.article_figure(_warehouse(), "abb2", tmp_path / "abb2.png", catalogue=handed)
    assert "Eurostat (as handed in) isoc_ciweb" in Image.open(tmp_path / "abb2.png").text[
        "Source"]
