"""Issue 15.3 and 18.10: any subset of assets is one build and one atomic publish, and charts
are published with the warehouse they were drawn from, never before it.

Each test starts from a copy of one published demo run and materialises a subset through the
project's refresh_all job (as "Materialize" on a selection in the UI does).
"""

from __future__ import annotations

import hashlib

import pytest
from dagster import AssetKey

from kmu_pipeline.defs.publish import PUBLISHED
from tests.conftest import copy_workdir
from tests.reliability.publishing import (
    CHART,
    CHART_FILE,
    builds_left,
    chart_source,
    outdate_chart,
    outdate_table,
    published_runs,
    run_selection,
)


@pytest.fixture
def workdir(published_demo, tmp_path):
    return copy_workdir(published_demo[0], tmp_path / "data")


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_publish_alone_has_nothing_to_publish_and_changes_nothing(workdir, demo_server,
                                                                  published_demo):
    before = _digest(workdir / "kmu.duckdb")
    result = run_selection(workdir, demo_server, [PUBLISHED])
    assert result.success
    said = result.asset_materializations_for_node("warehouse__published")[0].metadata
    assert "nothing to publish" in said["published"].value
    assert _digest(workdir / "kmu.duckdb") == before
    assert published_runs(workdir / "kmu.duckdb") == [published_demo[1]]
    assert builds_left(workdir) == []


def test_a_chart_alone_is_published_with_its_warehouse(workdir, demo_server, published_demo):
    outdate_chart(workdir)
    result = run_selection(workdir, demo_server, [CHART])
    assert result.success
    runs = published_runs(workdir / "kmu.duckdb")
    assert runs == [published_demo[1], result.run_id]  # the chart's run published
    assert f"Lauf {result.run_id})" in chart_source(workdir)  # and its picture with it
    assert builds_left(workdir) == []


@pytest.mark.parametrize("key", [AssetKey(["raw", "eurostat__isoc_cicce_use"]),
                                 AssetKey(["marts", "adoption_gaps"])],
                         ids=["one-raw-asset", "one-mart"])
def test_one_asset_alone_is_published(workdir, demo_server, published_demo, key):
    if key.path[0] == "marts":  # a raw asset's forced refresh is a change: new requests
        outdate_table(workdir, "marts.adoption_gaps")
    result = run_selection(workdir, demo_server, [key])
    assert result.success
    assert published_runs(workdir / "kmu.duckdb") == [published_demo[1], result.run_id]
    # the charts were not in the run: they still name the run that drew them, which published
    assert f"Lauf {published_demo[1]})" in chart_source(workdir)
    assert builds_left(workdir) == []


def test_a_run_that_fails_to_publish_leaves_the_charts_of_the_last_publish(workdir,
                                                                           demo_server,
                                                                           published_demo):
    # the previous file cannot be kept (a directory in its place): the publish step fails
    (workdir / "kmu.prev.duckdb").unlink(missing_ok=True)
    (workdir / "kmu.prev.duckdb").mkdir()
    outdate_chart(workdir)  # a change to publish
    picture = _digest(workdir / "charts" / CHART_FILE)
    result = run_selection(workdir, demo_server, [CHART, PUBLISHED])
    assert not result.success
    assert published_runs(workdir / "kmu.duckdb") == [published_demo[1]]
    assert _digest(workdir / "charts" / CHART_FILE) == picture  # not the failed run's picture


def test_a_mart_and_a_chart_rebuilt_as_published_publish_nothing(workdir, demo_server,
                                                                 published_demo):
    before = _digest(workdir / "kmu.duckdb"), _digest(workdir / "charts" / CHART_FILE)
    result = run_selection(workdir, demo_server, [AssetKey(["marts", "adoption_gaps"]), CHART])
    assert result.success
    # whichever step ended the run (an asset or a check) says what its publish did
    ended = [e.materialization for e in result.get_asset_materialization_events()]
    said = [m.metadata["published"].value for m in ended + result.get_asset_check_evaluations()
            if "published" in m.metadata]
    assert [text for text in said if "changed nothing" in text], said
    assert (_digest(workdir / "kmu.duckdb"), _digest(workdir / "charts" / CHART_FILE)) == before
    assert published_runs(workdir / "kmu.duckdb") == [published_demo[1]]
    assert builds_left(workdir) == []
    # the published picture changed (another drawing code): the same run now publishes
    outdate_chart(workdir)
    result = run_selection(workdir, demo_server, [AssetKey(["marts", "adoption_gaps"]), CHART])
    assert published_runs(workdir / "kmu.duckdb") == [published_demo[1], result.run_id]
    assert f"Lauf {result.run_id})" in chart_source(workdir)


@pytest.mark.parametrize("sql", ["", "-- only a comment"])
def test_a_query_without_a_statement_is_one_line(workdir, sql, capsys):
    """Found by bench/adversarial: `kmu-pipeline query ""` raised an AttributeError."""
    from kmu_pipeline.cli import main

    assert main(["--warehouse", str(workdir / "kmu.duckdb"), "query", sql]) == 1
    assert "holds no statement that returns rows" in capsys.readouterr().err


def test_a_malformed_catalogue_is_one_line(tmp_path, monkeypatch, capsys):
    """Found by bench/adversarial: KMU_CATALOGUE=<bad TOML> gave a TOMLDecodeError traceback."""
    from kmu_pipeline.cli import main

    bad = tmp_path / "catalogue.toml"
    bad.write_text("[sources.eurostat\nbase_url = 1\n", encoding="utf-8")
    monkeypatch.setenv("KMU_CATALOGUE", str(bad))  # read per file: the shipped one is intact
    assert main(["datasets"]) == 1
    assert "the catalogue is not valid TOML" in capsys.readouterr().err
