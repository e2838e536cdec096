"""The whole pipeline through Dagster's materialize, against the demo snapshot over HTTP."""

from __future__ import annotations

import duckdb

from kmu_pipeline.replay import DEMO_SNAPSHOT
from tests.conftest import copy_workdir, recorded_body


def _query(path, sql, params=None):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_demo_snapshot_builds_every_table_with_values(tmp_path, run_pipeline):
    result = run_pipeline(DEMO_SNAPSHOT, tmp_path, charts=False)
    assert result.success
    # each raw asset says in the UI where its time went (the phases bench/ measures)
    meta = result.asset_materializations_for_node("raw__eurostat__isoc_cicce_use")[0].metadata
    assert {"seconds_fetch", "seconds_load", "seconds_validate", "seconds_keys",
            "seconds_swap"} <= set(meta)
    assert all(meta[k].value >= 0 for k in meta if k.startswith("seconds_"))
    db = tmp_path / "kmu.duckdb"
    cloud = _query(db, """
        select size_class, value, request_id from marts.indicators
        where indicator = 'cloud_computing' and geo = 'DE' and year = 2020 and source = 'eurostat'
        order by size_class""")
    assert [(s, v) for s, v, _ in cloud] == [
        ("10+", 33.32), ("10-249", 32.35), ("10-49", 30.62), ("250+", 62.05), ("50-249", 41.18)]
    # every row traces back to the request that delivered it
    urls = _query(db, "select url from meta.requests where request_id = ?", [cloud[0][2]])
    assert urls and "/data/isoc_cicce_use/" in urls[0][0] and "format=SDMX-CSV" in urls[0][0]
    labels = _query(db, "select distinct geo_name_en, geo_name_de from marts.indicators "
                        "where geo = 'DE'")
    assert labels == [("Germany", "Deutschland")]
    gaps = _query(db, """select source, small_pct, medium_pct, round(medium_vs_small_pp, 2)
                         from marts.adoption_gaps where geo = 'DE' and year = 2020
                         and indicator in ('website', '3d_printing') order by all""")
    # the article's website figures are Destatis's; 3D printing from Eurostat's ISOC_EB_P3D
    assert gaps == [("eurostat", 5.88, 11.55, 5.67), ("genesis", 6.0, 12.0, 6.0),
                    ("genesis", 87.0, 93.0, 6.0)]
    tables = {t for (t,) in _query(db, "select schema_name || '.' || table_name "
                                       "from duckdb_tables()")}
    assert {"staging.observations", "marts.adoption_gaps", "marts.skills_shortage",
            "raw.eurostat__isoc_cicce_use", "meta.runs"} <= tables


def test_flags_are_kept_verbatim_and_missing_values_need_one(tmp_path, run_pipeline, demo_copy):
    body = recorded_body(demo_copy, "isoc_eb_bd")
    text = body.read_text()
    # Eurostat marks a break in series with b, and a confidential cell as ':' + 'c'.
    text = text.replace("DE,2020,16.25,,", "DE,2020,16.25,b,")
    text = text.replace("DE,2020,22.23,,", "DE,2020,,: c,")
    body.write_text(text)
    assert run_pipeline(demo_copy, tmp_path, charts=False).success
    rows = _query(tmp_path / "kmu.duckdb", """
        select size_class, value, flag from marts.indicators
        where indicator = 'big_data' and geo = 'DE' and year = 2020 and source = 'eurostat'
          and size_class in ('10-49', '50-249') order by size_class""")
    assert rows == [("10-49", 16.25, "b"), ("50-249", None, ": c")]


def test_bad_dataset_keeps_last_good_table_and_others_publish(tmp_path, run_pipeline, demo_copy,
                                                              published_demo):
    tmp_path = tmp_path / "run"
    copy_workdir(published_demo[0], tmp_path)  # a good run first
    body = recorded_body(demo_copy, "isoc_eb_bd")
    body.write_text(body.read_text().replace(",E_BDA,", ",E_BDX,", 1))
    cc = recorded_body(demo_copy, "isoc_cicce_use")
    cc.write_text(cc.read_text().replace("DE,2023,77.6", "DE,2023,77.7"))
    result = run_pipeline(demo_copy, tmp_path)
    checks = {(e.asset_check_key.asset_key.path[-1], e.check_name): e
              for e in result.get_asset_check_evaluations()}
    failed = checks["eurostat__isoc_eb_bd", "refresh"]
    assert not failed.passed
    error = failed.metadata["error"].value
    assert "isoc_eb_bd" in error and "/data/isoc_eb_bd/" in error and "E_BDX" in error
    # the last good table still passes its blocking schema check, so nothing is held back
    assert checks["eurostat__isoc_eb_bd", "schema"].passed
    # Dagster sees a failed run: the step that published names the failed dataset
    assert not result.success
    step_failures = [e for e in result.all_events if e.is_step_failure]
    assert [e.step_key for e in step_failures] == ["warehouse__published"]
    message = step_failures[0].event_specific_data.error.message
    assert "published generation 2" in message and "raw.eurostat__isoc_eb_bd" in message
    assert "E_BDX" in message
    published = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {"marts/indicators", "charts/cloud_gap_trend", "warehouse/published"} <= published
    db = tmp_path / "kmu.duckdb"
    assert _query(db, "select value from raw.eurostat__isoc_eb_bd where size_class = '10-49' "
                      "and geo = 'DE'") == [(16.25,)]
    assert _query(db, "select status from meta.dataset_status "
                      "where dataset = 'raw.eurostat__isoc_eb_bd'") == [("stale",)]
    assert _query(db, "select value from raw.eurostat__isoc_cicce_use where year = 2023 "
                      "and size_class = '250+' and indicator = 'cloud_computing'") == [(77.7,)]
    assert _query(db, "select max(value) from marts.indicators where indicator = "
                      "'cloud_computing' and geo = 'DE' and year = 2023") == [(77.7,)]
