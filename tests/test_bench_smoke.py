"""bench/ at a tiny size: the benchmark code keeps working (the real sizes stay out of tests)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pandas as pd

from tests.conftest import REPO


def test_bench_runs_at_smoke_size_and_prints_every_figure(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--sizes", "2000,3000", "--repeats", "2",
         "--workdir", str(tmp_path), "--cpus", "0"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    for figure in (r"duckdb bare read_csv\s+[\d.]+ s\s+[\d,]+ obs/s",
                   r"sdmx1 read_sdmx\+to_pandas .*timed on this body; on a 2,000-obs slice: "
                   r"[\d,]+ obs/s",
                   r"against sdmx1's rate on the 2,000-obs slice, the yardstick up to session "
                   r"12: [\d.]+x, runs [\d.]+x \[[\d.]+-[\d.]+\]",
                   r"every case ran on CPU\(s\) 0 ==",
                   r"ratio to duckdb read_csv\s+[\d.]+x  runs [\d.]+x \[[\d.]+-[\d.]+\]",
                   r"ratio to sdmx1\s+[\d.]+x  runs [\d.]+x \[[\d.]+-[\d.]+\]",
                   r"as a step of the multiprocess executor, which opens the build again for "
                   r"the load: [\d.]+x, runs [\d.]+x \[[\d.]+-[\d.]+\]",
                   r"pandera validation share\s+[\d.]+%",
                   r"2k observations .*: median \[min-max\] of 2 runs",
                   r"SDMX-CSV 2k: \d+ MB\s+3k: \d+ MB",
                   r"SDMX-ML  2k: \d+ MB\s+3k: \d+ MB",
                   r"ratio no-op / full\s+[\d.]+%  runs [\d.]+% \[[\d.]+%-[\d.]+%\]"):
        assert re.search(figure, out), f"missing {figure!r} in:\n{out}"
    assert out.count("ingest SDMX-CSV") == 2 and out.count("ingest SDMX-ML") == 2
    assert out.count("as a step of the multiprocess executor, which opens") == 4
    # a verdict for each target, judged on the medians
    assert len(re.findall(r"\((?:target [^)]*)\)\s+(?:PASS|FAIL)", out)) == 11
    # the no-op refresh really skipped parsing: every dataset unchanged upstream
    assert "unchanged: 4/4; parse/validate/load skipped: yes" in out
    # and it published nothing: nothing changed (README, "A run that changes nothing ...")
    assert re.search(r"ms publish; new generation: no\)", out), out
    # generated once, deterministically: the same size gives the same bytes
    bodies = sorted((tmp_path / "cache").glob("isoc_bench_csv_2000-2000.csv"))
    assert len(bodies) == 1 and bodies[0].read_bytes().startswith(
        b"DATAFLOW,LAST UPDATE,freq,size_emp,nace_r2,indic_is,unit,geo,TIME_PERIOD,OBS_VALUE,"
        b"OBS_FLAG,CONF_STATUS\n")


def test_generated_csv_and_ml_carry_the_same_observations(tmp_path):
    import duckdb

    from bench.generate import DIMENSIONS, bench_catalogue, write_sdmx_csv, write_sdmx_ml
    from kmu_pipeline.landing import Landed
    from kmu_pipeline.parse import sdmx_csv, sdmx_ml
    from kmu_pipeline.schemas import Observations, create_table
    from kmu_pipeline.validation import validate_table

    ds = bench_catalogue(["isoc_bench_x"]).datasets[0]
    frames = {}
    for write, name in ((write_sdmx_csv, "b.csv"), (write_sdmx_ml, "b.xml")):
        write(tmp_path / name, 700, "isoc_bench_x")
        again = tmp_path / f"again-{name}"
        write(again, 700, "isoc_bench_x")
        assert again.read_bytes() == (tmp_path / name).read_bytes()  # deterministic
        landed = Landed(request_id="0123456789abcdef", source="eurostat", dataset=ds.name,
                        method="GET", path="data/x", query=[], form=[], url="http://x/data/x",
                        status=200, headers={}, retrieved_at="", sha256="", size=0,
                        body_file=name)
        con = duckdb.connect()
        create_table(con, "obs", Observations)
        if name == "b.csv":
            sdmx_csv.insert_landed(con, "obs", landed, tmp_path / name, ds, list(DIMENSIONS))
        else:
            sdmx_ml.insert_landed(con, "obs", landed, tmp_path / name, ds, list(DIMENSIONS),
                                  chunk_rows=64)
        assert validate_table(con, "obs").passed
        frames[name] = con.sql("select * exclude (last_update) from obs order by indicator, "
                               "size_class, nace, geo, unit, year").df()
    assert len(frames["b.csv"]) == 700
    pd.testing.assert_frame_equal(frames["b.csv"], frames["b.xml"])
    assert frames["b.csv"]["value"].isna().sum() == frames["b.csv"]["flag"].eq("c").sum() > 0


def test_each_figure_is_the_median_of_its_runs_with_their_range():
    from bench.run import Spread

    ratio = Spread((0.41, 0.62, 0.55, 0.58, 0.49))
    assert ratio.median == 0.55
    assert ratio.show(".2f", "x") == "0.55x [0.41-0.62]"
    assert Spread((0.05, 0.07)).show("5.1%") == " 6.0% [5.0%-7.0%]"
