"""Issue 17.3 in Dagster: the agencies' release stamps are observations of upstream/<entry>
source assets (their data version), and declarative automation requests a raw asset when its
source was observed with a new stamp, and no other."""

from __future__ import annotations

from dagster import AssetKey, DagsterInstance, evaluate_automation_conditions

from kmu_pipeline.catalogue import load_catalogue
from kmu_pipeline.defs.definitions import build_definitions
from kmu_pipeline.defs.resources import SourcesResource, WarehouseResource
from kmu_pipeline.replay import ReplayServer

CLOUD, BIG_DATA = "eurostat__isoc_cicce_use", "eurostat__isoc_eb_bd"


def _observed_version(instance: DagsterInstance, name: str) -> str | None:
    record = instance.get_latest_data_version_record(AssetKey(["upstream", name]))
    observation = record.asset_observation if record else None
    return observation.data_version if observation else None


def test_observations_carry_the_stamp_and_a_new_one_requests_only_its_raw_asset(demo_copy,
                                                                                 tmp_path):
    instance = DagsterInstance.ephemeral()
    with ReplayServer(demo_copy) as server:
        defs = build_definitions({
            "warehouse": WarehouseResource(path=str(tmp_path / "kmu.duckdb")),
            "sources": SourcesResource(landing_dir=str(tmp_path / "raw"),
                                       base_urls=server.base_urls(load_catalogue().sources))})
        observe = defs.resolve_job_def("observe_upstream")
        assert observe.execute_in_process(instance=instance).success
        assert _observed_version(instance, CLOUD) == "2026-02-27T23:00:00+0100"
        assert _observed_version(instance, "genesis__unternehmensregister") == \
            "28.12.2022 17:12:43h"
        assert _observed_version(instance, "desi__desi") == "none stated"
        # nothing but the signals was asked: no data request landed
        assert not [p for p in (tmp_path / "raw").rglob("*.body")
                    if not p.parent.name.startswith(("dataflow_", "metadata_table"))]
        first = evaluate_automation_conditions(defs=defs, instance=instance)

        structure, = demo_copy.glob("eurostat/isoc_cicce_use/dataflow_*/*.body")
        text = structure.read_text(encoding="utf-8")
        structure.write_text(text.replace("<c:AnnotationTitle>2026-02-27T23:00:00+0100",
                                          "<c:AnnotationTitle>2026-07-15T23:00:00+0100"),
                             encoding="utf-8")
        assert observe.execute_in_process(instance=instance).success
    assert _observed_version(instance, CLOUD) == "2026-07-15T23:00:00+0100"
    second = evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    requested = {key.to_user_string() for key in second.get_requested_asset_keys()} \
        if hasattr(second, "get_requested_asset_keys") else {
            r.key.to_user_string() for r in second.results if r.true_subset.size}
    assert f"raw/{CLOUD}" in requested
    assert f"raw/{BIG_DATA}" not in requested
