"""Bad input fails the schema check, names dataset and request, keeps the last good table."""

from __future__ import annotations

import duckdb
import pytest
from dagster import materialize

from kmu_pipeline.catalogue import load_catalogue
from kmu_pipeline.defs.assets import build_raw_asset
from kmu_pipeline.defs.publish import build_publish_asset
from kmu_pipeline.defs.resources import SourcesResource, WarehouseResource
from kmu_pipeline.replay import ReplayServer
from tests.conftest import recorded_body

ROW = "ESTAT:ISOC_CICCE_USE(1.0),27/02/26 23:00:00,A,10-49,C10-S951_X_K,E_CC,PC_ENT,DE,2020,30.62,,"


def _refresh(recordings, tmp_path):
    with ReplayServer(recordings) as server:
        resources = {
            "warehouse": WarehouseResource(path=str(tmp_path / "kmu.duckdb")),
            "sources": SourcesResource(landing_dir=str(tmp_path / "raw"),
                                       base_urls=server.base_urls(["eurostat"]),
                                       # the edited recording keeps its flow's release stamp
                                       max_attempts=1, force_refresh=True),
        }
        catalogue = load_catalogue()
        asset = build_raw_asset(catalogue.dataset("isoc_cicce_use"), catalogue)
        publish = build_publish_asset(list(asset.keys))
        result = materialize([asset, publish], resources=resources, raise_on_error=False)
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation


@pytest.mark.parametrize("edit, cause", [
    (lambda t: t.replace(",E_CC,PC_ENT,DE,2021", ",E_CCX,PC_ENT,DE,2021"),
     "unknown indic_is codes: ['E_CCX']"),
    (lambda t: t.replace("DE,2020,30.62", "DE,2020,130.62"), "percentages_at_most_100"),
    (lambda t: t + ROW + "\n", "multiple_fields_uniqueness"),
    (lambda t: t.replace("DE,2020,30.62", "DE,2020,thirty"), "non-numeric OBS_VALUE"),
    (lambda t: t.replace("DE,2020,30.62,,", "DE,2020,,,"), "missing_value_is_flagged"),
    (lambda t: t[: len(t) // 2] + '"unterminated\n', "malformed SDMX-CSV"),
])
def test_bad_input_fails_check_and_keeps_last_good(tmp_path, demo_copy, edit, cause):
    assert _refresh(demo_copy, tmp_path).passed
    body = recorded_body(demo_copy, "isoc_cicce_use")
    body.write_text(edit(body.read_text()))
    evaluation = _refresh(demo_copy, tmp_path)
    assert not evaluation.passed
    error = evaluation.metadata["error"].value
    assert cause in error and "dataset isoc_cicce_use" in error
    assert "/data/isoc_cicce_use/A." in error
    con = duckdb.connect(str(tmp_path / "kmu.duckdb"), read_only=True)
    assert con.execute("select count(*), max(value) from raw.eurostat__isoc_cicce_use "
                       "where geo = 'DE' and indicator_code = 'E_CC'").fetchone() == (20, 77.6)
    assert con.execute("select status from meta.dataset_status").fetchall() == [("stale",)]
