"""What every chart file carries, on small hand-made warehouses: a 300-dpi PNG and an SVG with
the title, the source and the run in their metadata (never in the picture), the bases of the
shares, the article's words for a cell without a number, and the stale marker."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime

from PIL import Image

from kmu_pipeline import charts
from tests.sql.marts import mart_warehouse

DC = "{http://purl.org/dc/elements/1.1/}"
ROWS = [  # source, dataset, indicator, size_class, year, value, flag, unit
    ("genesis", "ikt_by_size", "website", "0-9", 2020, 59.0, None, "pct_enterprises"),
    ("genesis", "ikt_by_size", "employees_internet_access", "0-9", 2020, 69.0, None,
     "pct_employed"),
    ("genesis", "ikt_by_size", "cloud_computing", "10-49", 2020, 31.0, None, "pct_enterprises"),
]


def _article(rows=ROWS):
    return mart_warehouse(
        "source varchar, dataset varchar, indicator varchar, size_class varchar, year integer, "
        "value double, flag varchar, unit varchar, geo varchar default 'DE', "
        "nace varchar default 'TOTAL', conf_status varchar default null",
        "insert into staging.observations (source, dataset, indicator, size_class, year, value, "
        "flag, unit) values (?, ?, ?, ?, ?, ?, ?, ?)", rows, ["marts.article_figures"])


def _svg_metadata(path) -> dict[str, str]:
    root = ET.parse(path).getroot()
    work = root.find(".//{http://creativecommons.org/ns#}Work")
    return {child.tag.removeprefix(DC): child.text or "" for child in work}


def test_png_at_300_dpi_and_svg_carry_title_source_and_run(tmp_path):
    data = charts.article_figure(_article(), "abb2", tmp_path / "abb2.png", run_id="run-42")
    png = Image.open(tmp_path / "abb2.png")
    assert [round(d) for d in png.info["dpi"]] == [300, 300]
    source = ("Quelle: Statistisches Bundesamt, GENESIS 52911-0003 "
              "(kmu-pipeline: marts.article_figures, Lauf run-42)")
    assert png.text["Title"] == "Abb. 2: Digitale Integration von KMU, 2020"
    assert png.text["Source"] == source
    svg = _svg_metadata(tmp_path / "abb2.svg")
    assert svg["title"] == png.text["Title"] and svg["source"] == source
    assert svg["identifier"] == "run-42"
    # the run is metadata, never drawn: the SVG's visible text does not hold it
    drawn = re.sub(r"<metadata>.*</metadata>", "", (tmp_path / "abb2.svg").read_text(),
                   flags=re.S)
    assert "run-42" not in drawn and "Lauf" not in drawn
    assert ">Quelle: Statistisches Bundesamt, GENESIS 52911-0003<" in drawn
    # and it is what the Dagster asset shows beside the picture
    assert data.attrs["chart_metadata"]["source"] == source
    assert data.attrs["chart_metadata"]["run_id"] == "run-42"


def test_a_share_of_another_base_is_footnoted_and_the_article_words_stand_in(tmp_path):
    charts.article_figure(_article(), "abb2", tmp_path / "abb2.png")
    text = Image.open(tmp_path / "abb2.png").text
    assert text["Description"].splitlines() == ["¹ in % der Beschäftigten"]
    assert text["Comment"].splitlines() == [
        "Cloud Computing, 0-9 Beschäftigte: keine Zahl der Quelle; der Artikel nennt "
        "„knapp ein Viertel“",
        "Ohne Wert im Warehouse, daher ohne Balken: Website (10-49); Beschäftigte mit "
        "Internetzugang (10-49)"]
    # once the warehouse has the number, the chart draws it and quotes nothing
    with_number = [*ROWS, ("genesis", "ikt_by_size", "cloud_computing", "0-9", 2020, 24.0, None,
                           "pct_enterprises")]
    data = charts.article_figure(_article(with_number), "abb2", tmp_path / "with.png")
    assert "knapp" not in Image.open(tmp_path / "with.png").text["Comment"]
    assert data.query("indicator == 'cloud_computing'")["value"].tolist() == [24.0, 31.0]


def test_a_cell_without_a_row_is_named_once_not_marked_in_every_slot(tmp_path):
    rows = [("genesis", "ikt_by_size", "ict_vacancies_hard_to_fill", "0-249", 2020, 65.0, None,
             "pct_recruiting_enterprises"),
            ("genesis", "ikt_by_size", "ict_training", "10-49", 2020, 18.0, None,
             "pct_enterprises"),
            ("genesis", "ikt_by_size", "ict_training", "50-249", 2020, 43.0, None,
             "pct_enterprises")]
    charts.article_figure(_article(rows), "abb3", tmp_path / "abb3.png")
    text = Image.open(tmp_path / "abb3.png").text
    assert text["Title"] == "Abb. 3: Rahmenbedingungen für die digitale Integration in KMU, 2020"
    assert text["Description"] == ("¹ in % der Unternehmen, die IT-Fachkräfte eingestellt haben "
                                   "oder einstellen wollten")
    assert text["Comment"] == ("Ohne Wert im Warehouse, daher ohne Balken: Schwer zu besetzende "
                               "IT-Stellen (10-49, 50-249)")


def _status(con, rows):
    con.execute("create schema if not exists meta")
    con.execute("create table meta.dataset_status (dataset varchar, status varchar, "
                "last_success_at timestamp)")
    con.executemany("insert into meta.dataset_status values (?, ?, ?)", rows)


def test_a_stale_dataset_puts_its_date_on_the_chart(tmp_path):
    con = _article()
    _status(con, [("raw.genesis__ikt_by_size", "stale", datetime(2026, 11, 2, 5, 0)),
                  ("raw.eurostat__isoc_ciweb", "stale", datetime(2026, 10, 1))])
    data = charts.article_figure(con, "abb2", tmp_path / "stale.png")
    # only the tables the chart plots count: isoc_ciweb is stale but not drawn here
    assert Image.open(tmp_path / "stale.png").text["Warning"] == (
        "Daten vom 02.11.2026 — nicht aktualisiert")
    assert data.attrs["chart_metadata"]["stale"] == "Daten vom 02.11.2026 — nicht aktualisiert"
    assert "Daten vom 02.11.2026" in _svg_metadata(tmp_path / "stale.svg")["description"]
    con.execute("update meta.dataset_status set status = 'ok'")
    charts.article_figure(con, "abb2", tmp_path / "fresh.png")
    assert "Warning" not in Image.open(tmp_path / "fresh.png").text
    assert (tmp_path / "stale.png").read_bytes() != (tmp_path / "fresh.png").read_bytes()
