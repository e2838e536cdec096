"""The article's Abb. 2 and 3 and the gap trend, regenerated from the warehouse of a demo run."""

from __future__ import annotations

import shutil

import duckdb
import pytest
from dagster import DagsterInstance
from PIL import Image

from kmu_pipeline import charts
from kmu_pipeline.defs.execution import INSTANCE_SETTINGS
from kmu_pipeline.defs.inline_charts import INLINE_DIR, INLINE_LIMIT, copy_published, inline_url
from kmu_pipeline.replay import DEMO_SNAPSHOT
from kmu_pipeline.warehouse import Warehouse
from tests.reliability import faults
from tests.reliability.faults import FaultServer
from tests.replay.conftest import materialize_against, materialize_all

# The article's figures for Germany 2020, whole percent, as the article quotes Destatis
# 52911-0003; every value is in its text (../shared/seed/000_4caa965f7d6daa3e.txt): website
# 93/87/59 and employees with internet 69/57/56 (lines 139-151), cloud 31/41, big data 15/21 and
# none for micro firms, 3D printing 4/6/12, e-commerce 12/18/27 (lines 405-440), no internet for
# 3 % / 1 % (lines 486-488), fixed broadband 89/95/97 and speed sufficient 77 (lines 497-507),
# ICT specialists 43/12, hard to fill 65 (all SMEs), training 43/18 (lines 513-524). The same
# values are row D1 of kmu_pipeline/demo_snapshot/README.md. Cloud for micro firms is only
# "knapp ein Viertel" in the text, so the demo has no number for it and the chart says "k. A.".
ABB2 = {("website", "0-9"): 59, ("website", "10-49"): 87, ("website", "50-249"): 93,
        ("employees_internet_access", "0-9"): 69, ("employees_internet_access", "10-49"): 57,
        ("employees_internet_access", "50-249"): 56, ("cloud_computing", "10-49"): 31,
        ("cloud_computing", "50-249"): 41, ("big_data", "10-49"): 15, ("big_data", "50-249"): 21,
        ("3d_printing", "0-9"): 4, ("3d_printing", "10-49"): 6, ("3d_printing", "50-249"): 12,
        ("ecommerce_sales", "0-9"): 12, ("ecommerce_sales", "10-49"): 18,
        ("ecommerce_sales", "50-249"): 27}
ABB3 = {("internet_access", "0-9"): 97, ("internet_access", "10-49"): 99,
        ("fixed_broadband", "0-9"): 89, ("fixed_broadband", "10-49"): 95,
        ("fixed_broadband", "50-249"): 97, ("broadband_speed_sufficient", "0-9"): 77,
        ("ict_specialists_employed", "10-49"): 12, ("ict_specialists_employed", "50-249"): 43,
        ("ict_vacancies_hard_to_fill", "0-249"): 65, ("ict_training", "10-49"): 18,
        ("ict_training", "50-249"): 43}
NAMES = ("abb1_desi_2020", "abb2_digital_integration", "abb3_framework_conditions",
         "cloud_gap_trend", "digital_decade_targets", "ai_gap_by_member_state")


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("charts")
    # a persistent instance as the project's (data/dagster_home): its local compute log
    # manager's directory is where the webserver serves the inline charts from
    home = workdir / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(INSTANCE_SETTINGS)
    with DagsterInstance.from_config(str(home)) as instance:
        result = materialize_all(DEMO_SNAPSHOT, workdir, instance=instance)
    assert result.success
    return workdir, result


def _plotted(data):
    return {(i, s): v for i, s, v in data[["indicator", "size_class", "value"]].itertuples(
        index=False) if v == v}  # NaN (published without a number) is not a plotted value


def test_demo_run_writes_the_article_figures_from_the_warehouse(demo_run):
    workdir, result = demo_run
    for name in NAMES:
        png = workdir / "charts" / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (workdir / "charts" / f"{name}.svg").read_text().startswith("<?xml")
        meta = result.asset_materializations_for_node(f"charts__{name}")[0].metadata
        assert meta["chart_embedded"].value.startswith(f"![{name}](data:image/png;base64,")
        assert meta["path"].value == str(png)
        # the Dagster metadata says what the files say: title, source with the run
        text = Image.open(png).text
        assert meta["title"].value == text["Title"] and meta["source"].value == text["Source"]
        assert meta["run_id"].value == result.run_id and "stale" not in meta
    # the PNG says which tables and which run it was drawn from
    source = Image.open(workdir / "charts" / "abb2_digital_integration.png").text["Source"]
    assert "GENESIS 52911-0003" in source and result.run_id in source
    # the AI gap: E_AI_TANY for the EU-27 and all 27 member states, 2021 and 2023-2025, so no
    # member state is named as missing
    ai = result.asset_materializations_for_node("charts__ai_gap_by_member_state")[0].metadata
    assert ai["rows_plotted"].value == 28 * 4 and "notes" not in ai
    con = duckdb.connect(str(workdir / "kmu.duckdb"), read_only=True)
    for figure, expected in (("abb2", ABB2), ("abb3", ABB3)):
        data = charts.article_figure(con, figure, workdir / "again.png")
        assert _plotted(data) == expected
        # all from Destatis; flag e = final does not qualify a value, so no number is hatched
        assert set(data["source"]) == {"genesis"} and data[data.is_flagged]["value"].isna().all()
    labels = dict(con.execute("select label_de, label_en from marts.article_figures "
                              "where indicator = 'ict_training'").fetchall())
    assert labels == {"IT-Weiterbildung": "ICT training"}
    # big data for micro firms: published as '.', kept as a gap with its sign, never a zero
    assert con.execute("select value, flag from marts.article_figures where indicator = "
                       "'big_data' and size_class = '0-9' and year = 2020").fetchall() == [
        (None, ".")]
    # Abb. 1: one stacked bar per EU28 country and the EU, Germany 56.05 (12th)
    abb1 = charts.desi_stacked(con, workdir / "abb1.png").drop_duplicates("geo")
    assert len(abb1) == 29 and abb1["geo"].tolist().index("DE") == 11
    # in German, as the article names them, with its title and data year
    svg = (workdir / "charts" / "abb1_desi_2020.svg").read_text()
    assert all(f">{name}<" in svg for name in ("Deutschland", "Großbritannien", "Tschechien",
                                                "Europäische Union", "Indexpunkte (0-100)"))
    assert ">Abb. 1: Digitale Wettbewerbsfähigkeit im europäischen Vergleich, 2019<" in svg
    # the trend: the demo's Eurostat cloud waves for DE; EU27_2020 has no 10-49 share
    trend = charts.gap_trend(con, "cloud_computing", workdir / "trend.png")
    con.close()
    de = trend[trend.geo == "DE"].set_index("year")["large_vs_small_pp"].to_dict()  # as rounded
    assert de == {2018: 28.22, 2020: 31.43, 2021: 32.41, 2023: 34.26}
    notes = Image.open(workdir / "charts" / "cloud_gap_trend.png").text["Comment"]
    assert notes == "EU-27: kein Abstand berechenbar (250+ oder 10-49 fehlt)"


def test_published_charts_are_inline_on_their_materialisation(demo_run, tmp_path):
    """Issue 15.6: each chart's "chart" entry is Markdown the UI renders inline (< 1,000
    characters) showing /logs/kmu_charts/<run>/<chart>/svg and linking the PNG, which the
    webserver serves from the instance's compute log directory: copies of the published files,
    byte for byte."""
    workdir, result = demo_run
    served = workdir / "dagster_home" / "storage" / INLINE_DIR / result.run_id
    assert sorted(p.name for p in served.iterdir()) == sorted(
        f"{n}.{ext}" for n in NAMES for ext in ("png", "svg"))
    for name in NAMES:
        meta = result.asset_materializations_for_node(f"charts__{name}")[0].metadata
        markdown = meta["chart"].value
        assert len(markdown) < INLINE_LIMIT
        svg, png = (inline_url(result.run_id, name, ext) for ext in ("svg", "png"))
        assert svg == f"/logs/{INLINE_DIR}/{result.run_id}/{name}/svg"
        assert markdown == f"![{meta['title'].value}]({svg})\n\n[PNG, 300 dpi]({png})"
        for ext in ("png", "svg"):
            published = (workdir / "charts" / f"{name}.{ext}").read_bytes()
            assert (served / f"{name}.{ext}").read_bytes() == published
    # the files in data/charts are the last publishing run's: no other run gets a copy of them
    with DagsterInstance.local_temp(str(tmp_path)) as instance:
        assert copy_published(instance, Warehouse(workdir / "kmu.duckdb"), "another-run",
                              [workdir / "charts" / f"{NAMES[0]}.png"]) == []


def test_demo_digital_decade_from_eurostat_dii(demo_run):
    """Germany's SMEs (10-249) in the demo: Eurostat ISOC_E_DII values read from the download
    cited in the demo README (2023 61.38, 2024 79.87 E_DI4_GELO, 2025 73.55)."""
    workdir, result = demo_run
    con = duckdb.connect(str(workdir / "kmu.duckdb"), read_only=True)
    row = con.execute(
        "select value, previous_year, has_break, comparable_year, pace_observed_pp_per_year, "
        "pace_needed_pp_per_year, is_on_course, projected_year, member_rank, ranked_members_count, "
        "best_geo, best_value, eu_value from marts.digital_decade where target = "
        "'digital_intensity' and geo = 'DE' and size_class = '10-249' and year = 2025").fetchone()
    con.close()
    # pace from 2023, not from 2024 (E_DI4_GELO): (73.55 - 61.38) / 2 = 6.085 a year; needed
    # (90 - 73.55) / 5 = 3.29; 16.45 / 6.085 = 2.7 years -> 2028; all 27 member states are
    # ranked (EE 72.12, flag d, is below Germany) and 11 of them are above Germany
    assert row == (73.55, 2024, True, 2023, 6.08, 3.29, True, 2028, 12, 27, "FI", 94.04, 71.39)
    notes = Image.open(workdir / "charts" / "digital_decade_targets.png").text["Comment"]
    assert notes.splitlines() == [
        "Reihenbruch: Wellen mit anderem Eurostat-Indikatorcode (anderer Marker) werden nicht "
        "verbunden"]


DD_COLUMNS = ("indicator_code, value, flag, has_break, comparable_year, "
              "pace_observed_pp_per_year, pace_needed_pp_per_year, is_on_course, projected_year, "
              "member_rank, ranked_members_count, best_geo, best_value, eu_value")


def test_demo_digital_decade_ai_and_data_analytics(demo_run):
    """AI (isoc_eb_ai E_AI_TANY) and data analytics (isoc_eb_das E_DA) in the demo, checked by
    hand against the rows of the downloads cited in the demo README."""
    con = duckdb.connect(str(demo_run[0] / "kmu.duckdb"), read_only=True)

    def row(target, geo, size, year):
        return con.execute(f"select {DD_COLUMNS} from marts.digital_decade where target = ? "
                           "and geo = ? and size_class = ? and year = ?",
                           [target, geo, size, year]).fetchone()

    # DE SMEs' AI 2025: 24.93 (2024 18.78): 6.15 a year, (75 - 24.93) / 5 = 10.01 needed,
    # 50.07 / 6.15 = 8.1 -> 2034; DK 40.99 first, 7 member states above Germany
    assert row("ai", "DE", "10-249", 2025) == (
        "E_AI_TANY", 24.93, None, False, 2024, 6.15, 10.01, False, 2034, 8, 27, "DK", 40.99, 18.9)
    # large firms 2024: 48.20 (2023 35.39) is 12.81 a year against 4.47 needed: 2027
    assert row("ai", "DE", "250+", 2024)[5:9] == (12.81, 4.47, True, 2027)
    # data analytics replaces big data: 2023 is a break with no earlier E_DA wave, no pace;
    # 2025 is paced from 2023: (36.20 - 35.82) / 2 = 0.19, 38.8 / 0.19 -> 2025 + 205 = 2230
    assert row("big_data_analytics", "DE", "10-249", 2023)[:7] == (
        "E_DA", 35.82, None, True, None, None, 5.6)
    assert row("big_data_analytics", "DE", "10-249", 2025) == (
        "E_DA", 36.2, None, False, 2023, 0.19, 7.76, False, 2230, 20, 27, "DK", 58.82, 38.59)
    # PT 50-249 is published without a value (flag u): kept, not ranked
    assert row("big_data_analytics", "PT", "50-249", 2025)[1:3] == (None, "u")
    assert row("big_data_analytics", "DE", "50-249", 2025)[9:11] == (15, 26)
    # a flagged DII cell is carried with its flag and ranked
    assert row("digital_intensity", "EE", "10-249", 2025)[1:3] == (72.12, "d")
    con.close()


def test_demo_digital_decade_cloud_kpi(demo_run):
    """Cloud is the Digital Decade KPI isoc_cicce_use E_CC1_SI (sophisticated or intermediate
    services, from 2021), checked by hand against the download cited in the demo README; the
    article's broader E_CC stays out of the mart."""
    con = duckdb.connect(str(demo_run[0] / "kmu.duckdb"), read_only=True)

    def row(geo, size, year):
        return con.execute(f"select {DD_COLUMNS} from marts.digital_decade where target = "
                           "'cloud' and geo = ? and size_class = ? and year = ?",
                           [geo, size, year]).fetchone()

    # all enterprises 2025: 46.03 (2023 38.50): 3.765 a year, (75 - 46.03) / 5 = 5.79 needed;
    # 28.97 / 3.765 = 7.7 -> 2033; FI 73.12 first, 11 member states above Germany
    assert row("DE", "10+", 2025) == (
        "E_CC1_SI", 46.03, None, False, 2023, 3.77, 5.79, False, 2033, 12, 27, "FI", 73.12, 46.69)
    # 2021 is E_CC1_SI's first wave: no earlier wave, no pace, no break (E_CC is not chained)
    assert row("DE", "10+", 2021)[:8] == ("E_CC1_SI", 31.83, None, False, None, None, 4.8, None)
    # SMEs 2025: 45.04, (45.04 - 37.49) / 2 = 3.775 a year (3.7749... in binary: 3.77) against
    # 29.96 / 5 = 5.99 needed; 29.96 / 3.775 = 7.9 -> 2033
    assert row("DE", "10-249", 2025)[5:11] == (3.77, 5.99, False, 2033, 12, 27)
    # large firms 2025: 75.69 is beyond 75: reached, on course, projected the survey year
    assert row("DE", "250+", 2025)[5:9] == (3.64, 0.0, True, 2025)
    # Spain has a 2024 wave: 2025 is paced from it, (36.71 - 31.85) / 1
    assert row("ES", "10-249", 2025)[4:6] == (2024, 4.86)
    # PT 50-249 2023 and 2025 are published without a value (flag u): kept, not ranked
    assert row("PT", "50-249", 2025)[1:3] == (None, "u")
    assert row("DE", "50-249", 2025)[9:11] == (18, 26)
    assert row("FR", "10-249", 2023)[1:3] == (21.79, "b")
    assert con.execute("select count(*), count(distinct indicator_code) from "
                       "marts.digital_decade where target = 'cloud'").fetchone() == (447, 1)
    con.close()


def test_chart_content_follows_the_warehouse(demo_run, tmp_path):
    workdir, _ = demo_run
    changed = tmp_path / "changed.duckdb"
    shutil.copy(workdir / "kmu.duckdb", changed)
    with duckdb.connect(str(changed)) as con:
        con.execute("update marts.article_figures set value = 64 where indicator = 'website' "
                    "and size_class = '0-9'")
    with duckdb.connect(str(workdir / "kmu.duckdb"), read_only=True) as con:
        before = charts.article_figure(con, "abb2", tmp_path / "before.png")
    with duckdb.connect(str(changed), read_only=True) as con:
        after = charts.article_figure(con, "abb2", tmp_path / "after.png")
    pick = "label_de == 'Website' and size_class == '0-9'"
    assert before.query(pick)["value"].tolist() == [59.0]
    assert after.query(pick)["value"].tolist() == [64.0]
    assert (tmp_path / "before.png").read_bytes() != (tmp_path / "after.png").read_bytes()


def test_readme_main_command_writes_the_charts(readme_run, tmp_path):
    workdir, _ = readme_run  # tests/conftest.py: the README's first command, once a session
    con = duckdb.connect(str(workdir / "data" / "kmu.duckdb"), read_only=True)
    (run_id,) = con.execute("select run_id from meta.runs").fetchone()
    expected = _plotted(charts.article_figure(con, "abb3", tmp_path / "abb3.png"))
    con.close()
    assert expected == ABB3
    for name in NAMES:
        png = workdir / "data" / "charts" / f"{name}.png"
        assert png.stat().st_size > 10_000
    # the published picture is the one this run drew from its warehouse
    for name in NAMES:
        source = Image.open(workdir / "data" / "charts" / f"{name}.png").text["Source"]
        assert f"Lauf {run_id})" in source


def test_a_failed_refresh_marks_the_charts_it_feeds_as_stale(demo_run, tmp_path):
    """Issue 15.5: Eurostat refuses isoc_cicce_use on the next run; its last good rows stay,
    and the charts drawn from them carry 'Daten vom <last success> — nicht aktualisiert'."""
    workdir = tmp_path / "data"
    shutil.copytree(demo_run[0], workdir, symlinks=True)
    with duckdb.connect(str(workdir / "kmu.duckdb"), read_only=True) as con:
        (last_good,) = con.execute("select last_success_at from meta.dataset_status where "
                                   "dataset = 'raw.eurostat__isoc_cicce_use'").fetchone()
    with FaultServer(DEMO_SNAPSHOT) as server:
        server.add("isoc_cicce_use", faults.status(400, b"refused for the test"))
        result = materialize_against(server, workdir)
    with duckdb.connect(str(workdir / "kmu.duckdb"), read_only=True) as con:
        assert con.execute("select status from meta.dataset_status where dataset = "
                           "'raw.eurostat__isoc_cicce_use'").fetchall() == [("stale",)]
    marker = f"Daten vom {last_good:%d.%m.%Y} — nicht aktualisiert"
    for name in ("cloud_gap_trend", "digital_decade_targets"):  # both read isoc_cicce_use
        assert Image.open(workdir / "charts" / f"{name}.png").text["Warning"] == marker
        meta = result.asset_materializations_for_node(f"charts__{name}")[0].metadata
        assert meta["stale"].value == marker and meta["run_id"].value == result.run_id
    for name in ("abb1_desi_2020", "abb2_digital_integration"):  # DESI, Destatis: fresh
        assert "Warning" not in Image.open(workdir / "charts" / f"{name}.png").text
