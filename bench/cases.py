"""One benchmark case per process, so that each peak resident memory is its own.

`python -m bench.cases <case> ...` prints one JSON line. The ingest cases call the production
functions the raw assets call (refresh_dataset through the real HttpClient against a replay
server; Warehouse.publish); the baselines call DuckDB's read_csv and sdmx1 directly.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path


def _peak_mb() -> float:
    """Peak resident memory of this process (VmHWM), or of the largest child it waited for if
    that was larger (an ingest starts none; a sampler of the process tree took ~5% of a
    one-core ingest for nothing). Not getrusage's ru_maxrss of this process: Linux carries that
    over from the parent through fork and exec, so a child would report the runner's peak."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # kB
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return max(int(line.split()[1]) / 1024, children)
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def _refresh(names: list[str], base_url: str, workdir: Path, run_id: str,
             one_process: bool = False) -> dict:
    """refresh_dataset of every name, then the publish. one_process: the build stays open from
    dataset to dataset, as in `kmu-pipeline run` (warehouse.keep_builds_open); else each
    refresh opens and closes it, as each step does under Dagster's multiprocess executor."""
    from contextlib import nullcontext

    from kmu_pipeline.warehouse import keep_builds_open

    with keep_builds_open() if one_process else nullcontext():
        return _refresh_all(names, base_url, workdir, run_id)


def _refresh_all(names: list[str], base_url: str, workdir: Path, run_id: str) -> dict:
    from bench.generate import bench_catalogue
    from kmu_pipeline.ingest import refresh_dataset
    from kmu_pipeline.landing import LandingStore
    from kmu_pipeline.sources.http import HttpClient
    from kmu_pipeline.warehouse import Warehouse

    catalogue = bench_catalogue(names)
    client = HttpClient(landing=LandingStore(workdir / "raw"))
    warehouse = Warehouse(workdir / "kmu.duckdb")
    started = time.perf_counter()
    reports = [refresh_dataset(ds, client=client, base_url=base_url, warehouse=warehouse,
                               run_id=run_id, catalogue=catalogue)
               for ds in catalogue.datasets]
    errors = [str(r.error) for r in reports if not r.ok]
    if errors:
        raise SystemExit(f"ingest failed: {errors}")
    refreshed = time.perf_counter() - started
    published = warehouse.publish(run_id).published  # sweeps dead builds too
    total = time.perf_counter() - started
    seconds: dict[str, float] = {}
    for report in reports:
        for phase, value in report.seconds.items():
            seconds[phase] = seconds.get(phase, 0.0) + value
    return {"rows": sum(r.rows for r in reports), "refresh_s": refreshed, "total_s": total,
            "unchanged": [r.unchanged for r in reports], "seconds": seconds,
            "published": published}


def case_ingest(args: argparse.Namespace) -> dict:
    """refresh_dataset of one bench dataset into a fresh build (download, parse, validate, load),
    as `kmu-pipeline run` runs it (the build opened once, before the download), or with
    --per-step as a step of the multiprocess executor (the build opened again for the load)."""
    import kmu_pipeline.ingest  # noqa: F401  (imports are not what we measure)

    baseline = _peak_mb()
    result = _refresh([args.dataset], args.base_url, Path(args.workdir), "bench",
                      one_process=not args.per_step)
    return {**result, "peak_mb": _peak_mb(), "import_mb": baseline}


def case_refresh(args: argparse.Namespace) -> dict:
    """A full refresh of a bench catalogue, then the same again with nothing changed upstream,
    both as `kmu-pipeline run` runs them (one process); then the no-op once more with a build
    connection per dataset (steps in processes of their own)."""
    names, workdir = args.dataset.split(","), Path(args.workdir)
    full = _refresh(names, args.base_url, workdir, "full", one_process=True)
    noop = _refresh(names, args.base_url, workdir, "noop", one_process=True)
    per_step = _refresh(names, args.base_url, workdir, "noop-per-step")
    return {"full": full, "noop": noop, "noop_per_step": per_step, "peak_mb": _peak_mb()}


def case_read_csv(args: argparse.Namespace) -> dict:
    """DuckDB's bare read_csv of the same SDMX-CSV body into a table (the yardstick), with no
    more threads than the case has CPUs, as the ingest's connections: DuckDB's default of one
    per CPU of the machine made it 20% slower when pinned to one CPU (machine.fit_threads)."""
    import duckdb

    from kmu_pipeline.machine import fit_threads

    con = duckdb.connect()
    fit_threads(con)
    baseline = _peak_mb()
    started = time.perf_counter()
    con.execute("create table native as select * from read_csv(?)", [args.file])
    seconds = time.perf_counter() - started
    rows = con.execute("select count(*) from native").fetchone()[0]
    return {"rows": rows, "seconds": seconds, "peak_mb": _peak_mb(), "import_mb": baseline}


def case_sdmx1(args: argparse.Namespace) -> dict:
    """sdmx1 read_sdmx + to_pandas of an SDMX-ML body (bench.run says which: the ingest's own, or
    one of its size that stands for a larger one)."""
    import sdmx

    baseline = _peak_mb()
    started = time.perf_counter()
    message = sdmx.read_sdmx(args.file)
    frame = sdmx.to_pandas(message)
    seconds = time.perf_counter() - started
    return {"rows": len(frame), "seconds": seconds, "peak_mb": _peak_mb(),
            "import_mb": baseline}


CASES = {"ingest": case_ingest, "refresh": case_refresh, "read_csv": case_read_csv,
         "sdmx1": case_sdmx1}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.cases")
    parser.add_argument("case", choices=sorted(CASES))
    parser.add_argument("--base-url", default="")
    parser.add_argument("--dataset", default="")
    parser.add_argument("--workdir", default="")
    parser.add_argument("--file", default="")
    parser.add_argument("--per-step", action="store_true")
    args = parser.parse_args(argv)
    print(json.dumps(CASES[args.case](args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
