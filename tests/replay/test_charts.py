"""The article's Abb. 2 and 3 and the gap trend, regenerated from the warehouse of a demo run."""

from __future__ import annotations

import shutil

import duckdb

from kmu_pipeline import charts
from kmu_pipeline.replay import DEMO_SNAPSHOT
from tests.replay.conftest import materialize_all

# The article's figures for Germany 2020 (../shared/seed/000_4caa965f7d6daa3e.txt, Destatis
# 52911-0003 as quoted there, whole percent): (indicator, size class) -> value
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



def test_demo_run_writes_the_article_figures_from_the_warehouse(tmp_path):
    result = materialize_all(DEMO_SNAPSHOT, tmp_path)
    assert result.success
    for name in ("abb1_desi_2020", "abb2_digital_integration", "abb3_framework_conditions",
                 "cloud_gap_trend"):
        png = tmp_path / "charts" / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        meta = result.asset_materializations_for_node(f"charts__{name}")[0].metadata
        assert meta["chart"].value.startswith(f"![{name}](data:image/png;base64,")
        assert meta["rows_plotted"].value > 0
    con = duckdb.connect(str(tmp_path / "kmu.duckdb"), read_only=True)
    for figure, expected in (("abb2", ABB2), ("abb3", ABB3)):
        data = charts.article_figure(con, figure, tmp_path / "again.png")
        got = {(i, s): v for i, s, v in con.execute(
            "select indicator, size_class, value from marts.article_figures where figure = ? "
            "and year = 2020 and value is not null", [figure]).fetchall()}
        assert got == expected and set(data["source"]) == {"genesis"}
    # Abb. 1: one stacked bar per EU28 country and the EU, Germany 56.05 (12th)
    abb1 = charts.desi_stacked(con, tmp_path / "abb1.png").drop_duplicates("geo")
    assert len(abb1) == 29 and abb1["geo"].tolist().index("DE") == 11
    con.close()


def test_chart_content_follows_the_warehouse(tmp_path):
    assert materialize_all(DEMO_SNAPSHOT, tmp_path).success
    changed = tmp_path / "changed.duckdb"
    shutil.copy(tmp_path / "kmu.duckdb", changed)
    with duckdb.connect(str(changed)) as con:
        con.execute("update marts.article_figures set value = 64 where indicator = 'website' "
                    "and size_class = '0-9'")
    with duckdb.connect(str(tmp_path / "kmu.duckdb"), read_only=True) as con:
        before = charts.article_figure(con, "abb2", tmp_path / "before.png")
    with duckdb.connect(str(changed), read_only=True) as con:
        after = charts.article_figure(con, "abb2", tmp_path / "after.png")
    pick = "label_de == 'Website' and size_class == '0-9'"
    assert before.query(pick)["value"].tolist() == [59.0]
    assert after.query(pick)["value"].tolist() == [64.0]
    assert (tmp_path / "before.png").read_bytes() != (tmp_path / "after.png").read_bytes()
