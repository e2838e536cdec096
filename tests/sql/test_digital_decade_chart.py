"""The Digital Decade chart on a hand-built marts.digital_decade: what it plots, what it says
about breaks and missing targets, and whose tables it cites."""

from __future__ import annotations

from PIL import Image

from kmu_pipeline import charts
from tests.sql.test_digital_decade import ROWS, _build

EU = [("eurostat", "digital_intensity_basic", code, "10-249", "EU27_2020", year, value, None,
       None) for code, year, value in (("E_DI3_GELO", 2023, 58.0), ("E_DI4_GELO", 2024, 73.0))]


def test_chart_plots_germany_eu_and_best_and_names_what_it_cannot_show(tmp_path):
    con = _build([*ROWS, *EU])
    data = charts.digital_decade(con, tmp_path / "dd.png", run_id="run-7")
    dii = data[(data.target == "digital_intensity")]
    assert dii[["geo", "year", "indicator_code", "value"]].values.tolist() == [
        ["DE", 2021, "E_DI3_GELO", 60.0], ["DE", 2022, "E_DI4_GELO", 77.0],
        ["DE", 2023, "E_DI3_GELO", 64.0], ["DE", 2024, "E_DI4_GELO", 80.0],
        ["DE", 2025, "E_DI3_GELO", 70.0], ["EU27_2020", 2023, "E_DI3_GELO", 58.0],
        ["EU27_2020", 2024, "E_DI4_GELO", 73.0], ["EU27_2020", 2025, "E_DI3_GELO", 71.0]]
    # the best member state travels with Germany's rows: FI in 2025
    assert dii[(dii.geo == "DE") & (dii.year == 2025)][["best_geo", "best_value"]].values.tolist() \
        == [["FI", 94.0]]
    assert sorted(set(data["target"])) == ["big_data_analytics", "cloud", "digital_intensity"]
    text = Image.open(tmp_path / "dd.png").text
    assert text["Source"] == ("Quelle: Eurostat x (kmu-pipeline: marts.digital_decade, "
                              "Lauf run-7)")
    assert text["Comment"] == (
        "Künstliche Intelligenz (Ziel: 75 %): keine Daten im Warehouse\n"
        "Reihenbruch: Wellen mit anderem Eurostat-Indikatorcode (anderer Marker) werden nicht "
        "verbunden")


def test_chart_without_any_target_data_says_so_for_each(tmp_path):
    con = _build([r for r in ROWS if r[1] == "website"])
    data = charts.digital_decade(con, tmp_path / "empty.png")
    assert data.empty
    assert Image.open(tmp_path / "empty.png").text["Comment"].splitlines() == [
        f"{label}: keine Daten im Warehouse" for label in charts.DD_TARGETS.values()]
