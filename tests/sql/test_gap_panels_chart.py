"""Issue 16.3: the AI adoption gap, small (10-49) vs large (250+) firms, one panel per member
state, drawn from marts.adoption_gaps built by the project's models on hand-made rows."""

from __future__ import annotations

from PIL import Image

from kmu_pipeline import charts
from tests.sql.marts import mart_warehouse

AI = [  # geo, year, size_class, value
    ("DE", 2021, "10-49", 8.0), ("DE", 2021, "250+", 24.0),
    ("DE", 2023, "10-49", 10.0), ("DE", 2023, "250+", 35.0),
    ("FR", 2023, "10-49", 5.0), ("FR", 2023, "250+", 30.0),
    ("EU27_2020", 2023, "10-49", 6.0), ("EU27_2020", 2023, "250+", 30.0),
    ("NO", 2023, "10-49", 9.0), ("NO", 2023, "250+", 40.0),  # not a member: no panel
]


def _warehouse(rows) -> object:
    return mart_warehouse(
        "source varchar default 'eurostat', dataset varchar default 'isoc_eb_ai', "
        "indicator varchar default 'ai_any', geo varchar, year integer, size_class varchar, "
        "value double, flag varchar, nace varchar default 'C10-S951_X_K', "
        "unit varchar default 'pct_enterprises'",
        "insert into staging.observations (geo, year, size_class, value) values (?, ?, ?, ?)",
        rows, ["marts.adoption_gaps"])


def test_one_panel_per_member_state_with_small_and_large_shares(tmp_path):
    data = charts.gap_panels(_warehouse(AI), "ai_any", tmp_path / "ai.png", run_id="run-3")
    plotted = data[["geo", "year", "small_pct", "large_pct", "large_vs_small_pp"]]
    assert plotted.values.tolist() == [
        ["DE", 2021, 8.0, 24.0, 16.0], ["DE", 2023, 10.0, 35.0, 25.0],
        ["EU27_2020", 2023, 6.0, 30.0, 24.0], ["FR", 2023, 5.0, 30.0, 25.0]]
    text = Image.open(tmp_path / "ai.png").text
    assert text["Title"] == "Künstliche Intelligenz: kleine und große Unternehmen je Mitgliedstaat"
    assert text["Source"] == "Quelle: Eurostat isoc_eb_ai (kmu-pipeline: marts.adoption_gaps, " \
                             "Lauf run-3)"
    # the 25 member states without a value are named, in German
    without = text["Comment"].removeprefix("ohne Wert: ").split(", ")
    assert len(without) == 25 and "Österreich" in without and "Frankreich" not in without
    # another value, another picture
    charts.gap_panels(_warehouse([*AI[:-3], ("EU27_2020", 2023, "250+", 31.0)]), "ai_any",
                      tmp_path / "ai2.png")
    assert (tmp_path / "ai.png").read_bytes() != (tmp_path / "ai2.png").read_bytes()


def test_without_any_ai_value_the_chart_says_keine_daten(tmp_path):
    data = charts.gap_panels(_warehouse([("NO", 2023, "10-49", 9.0)]), "ai_any",
                             tmp_path / "none.png")
    assert data.empty
    assert Image.open(tmp_path / "none.png").text["Comment"] == (
        "keine Daten: Eurostat isoc_eb_ai hat im Warehouse keinen Anteil für 10-49 oder 250+ "
        "Beschäftigte")
