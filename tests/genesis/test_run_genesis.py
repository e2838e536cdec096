"""GENESIS through the CLI: the real register answer replayed, the demo's Destatis figures next
to Eurostat's, and a live run without credentials stopped before any request."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import duckdb

from kmu_pipeline.catalogue import load_catalogue
from kmu_pipeline.replay import add_recording
from kmu_pipeline.sources.genesis import metadata_request, table_request, values_request
from tests.genesis.cassettes import answers, first, register_sizes, values_answer


def _cli(*args, cwd, env=None):
    base = {k: v for k, v in os.environ.items() if not k.startswith("KMU_")}
    return subprocess.run([sys.executable, "-m", "kmu_pipeline.cli", *args], cwd=cwd,
                          env={**base, "PYTHONWARNINGS": "ignore", **(env or {})},
                          capture_output=True, text=True, timeout=300)


def test_replayed_register_and_destatis_next_to_eurostat(reference, demo_copy, tmp_path):
    register = load_catalogue().dataset("unternehmensregister")
    recorded = answers(reference, "52111-0001")
    # the real answer replaces the demo's empty one (a recording folder replays its history)
    shutil.rmtree(demo_copy / "genesis" / register.name)
    for request, answer in ((metadata_request(register), first(recorded, "metadata/table")),
                            (values_request(register, "BESG12"),
                             values_answer(reference, "BESG12", register_sizes(reference))),
                            (table_request(register), first(recorded, "data/tablefile"))):
        add_recording(demo_copy, source="genesis", dataset=register.name, path=request.path,
                      form=list(request.form), method="POST", body=answer.body,
                      content_type=answer.content_type)
    run = _cli("run", "--replay", str(demo_copy), cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    con = duckdb.connect(str(tmp_path / "data" / "kmu.duckdb"), read_only=True)
    register_rows = con.execute(
        "select size_class, sum(value)::bigint from staging.observations "
        "where dataset = 'unternehmensregister' group by 1 order by 1").fetchall()
    # 2023, summed over the 17 WZ 2008 sections of the real answer
    assert dict(register_rows)["10-49"] == 40738 + 381 + 648 + 2132 + 42005 + 57041 + 17865 + (
        29793 + 10803 + 1923 + 4665 + 28469 + 20600 + 12225 + 42061 + 6191 + 13666)
    assert [s for s, _ in register_rows] == ["0-9", "10-49", "250+", "50-249"]
    side_by_side = con.execute(
        "select indicator, size_class, genesis_value, eurostat_value, difference "
        "from staging.stg_germany__genesis_vs_eurostat where year = 2020 "
        "and indicator in ('cloud_computing', 'big_data') order by 1, 2").fetchall()
    assert side_by_side == [("big_data", "10-49", 15.0, 16.25, -1.25),
                            ("big_data", "50-249", 21.0, 22.23, -1.23),
                            ("cloud_computing", "10-49", 31.0, 30.62, 0.38),
                            ("cloud_computing", "50-249", 41.0, 41.18, -0.18)]
    # firms without cloud computing: the real 2023 register x (100 - 31 %) from the demo's 2020
    behind = con.execute(
        "select register_year, enterprises_count, firms_behind_count from marts.firms_behind "
        "where source = 'genesis' and indicator = 'cloud_computing' and size_class = '10-49'"
    ).fetchall()
    small = dict(register_rows)["10-49"]
    assert behind == [(2023, small, round(small * 0.69))]
    hard_to_fill = con.execute(
        "select value, flag from marts.indicators where source = 'genesis' and "
        "indicator = 'ict_vacancies_hard_to_fill' and size_class = '0-249'").fetchall()
    assert hard_to_fill == [(65.0, "e")]  # the article's Fachkräftemangel figure


def test_live_run_without_credentials_skips_genesis_and_runs_the_rest(demo_server, tmp_path):
    """Issue 15.5: Eurostat and DESI need no account. With GENESIS live (its real URL, which
    this machine cannot reach) and no credentials, its datasets are skipped before any request
    (a request would have failed: stale, not skipped) and the rest is refreshed and published."""
    run = _cli("run", cwd=tmp_path, env={
        "KMU_EUROSTAT_BASE_URL": demo_server.base_url("eurostat"),
        "KMU_DESI_BASE_URL": demo_server.base_url("desi")})
    assert run.returncode == 0, run.stderr[-3000:]
    assert "skipping genesis (3 datasets): no GENESIS credentials in the environment (set " \
           "KMU_GENESIS_TOKEN, or KMU_GENESIS_USERNAME and KMU_GENESIS_PASSWORD)" in run.stderr
    assert "SKIPPED raw.genesis__ikt_by_size: dataset ikt_by_size: not asked: no GENESIS" \
           in run.stderr
    assert "published data/kmu.duckdb" in run.stdout
    con = duckdb.connect(str(tmp_path / "data" / "kmu.duckdb"), read_only=True)
    status = dict(con.execute("select dataset, status || ' ' || checked from "
                              "meta.dataset_status").fetchall())
    assert {d: s for d, s in status.items() if d.startswith("raw.genesis")} == {
        f"raw.genesis__{n}": "skipped not_checked"
        for n in ("ikt_by_size", "ikt_germany", "unternehmensregister")}
    assert status["raw.eurostat__isoc_cicce_use"] == "ok changed"
    assert not list((tmp_path / "data" / "raw").glob("genesis/*/*/*.body"))  # nothing asked
    assert con.execute("select count(*) from raw.eurostat__isoc_cicce_use").fetchone()[0] > 0
