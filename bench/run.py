"""Ingest benchmarks: `python -m bench.run --sizes 0.5M,5M` (see bench/RESULTS.md).

Generates Eurostat-shaped SDMX-CSV and SDMX-ML bodies (bench/generate.py) in landing layout,
serves them with the project's ReplayServer, and runs every case in its own process
(bench/cases.py): the production ingest of each body, DuckDB's bare read_csv of the CSV, sdmx1
on an SDMX-ML slice, and a full vs a no-op refresh. Prints rates, ratios against the targets
of issue 6, validation's share and peak memory, all from this one run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

from bench.generate import write_sdmx_csv, write_sdmx_ml
from kmu_pipeline.landing import LandingStore, Request
from kmu_pipeline.replay import ReplayServer
from kmu_pipeline.sources.eurostat import SDMX_CSV, STRUCTURE, data_request, structure_request

SDMX_ML = "application/vnd.sdmx.structurespecificdata+xml;version=2.1"
SDMX1_SLICE = 20_000  # sdmx1 parses ~10k obs/s: time a slice of this many, extrapolate
TARGETS = {"csv": 0.5, "ml": 30.0, "peak_mb": 400.0, "noop": 0.05, "validate": 0.20}
ROOT = Path(__file__).resolve().parents[1]


def parse_size(text: str) -> int:
    text = text.strip().upper()
    scale = {"K": 1_000, "M": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("KM")) * scale)


def label(n: int) -> str:
    return f"{n / 1e6:g}M" if n >= 1_000_000 else (f"{n / 1e3:g}k" if n >= 1_000 else str(n))


def body(cache: Path, fmt: str, n: int, flow: str) -> Path:
    """The generated body, cached by format, size and flow (generation is deterministic)."""
    path = cache / f"{flow}-{n}.{fmt}"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        (write_sdmx_csv if fmt == "csv" else write_sdmx_ml)(partial, n, flow)
        partial.replace(path)
    return path


def record(recordings: Path, name: str, source_body: Path, content_type: str) -> None:
    """Put `source_body` in landing layout as Eurostat's answer to the data query of `name`."""
    from bench.generate import bench_catalogue

    catalogue = bench_catalogue([name])
    request: Request = data_request(catalogue.datasets[0], catalogue.sources["eurostat"])
    store = LandingStore(recordings)
    tmp = store.temp_body(request)
    tmp.close()
    os.unlink(tmp.name)
    os.link(source_body, tmp.name)  # the cache keeps its copy; commit moves the link
    store.commit(request, Path(tmp.name), url=request.url("https://bench.invalid"), status=200,
                 headers={"content-type": content_type})
    record_structure(recordings, catalogue)


def record_structure(recordings: Path, catalogue) -> None:
    """The flow's structure answer, which the source checks before its data request: every code
    the generated bodies use, in Eurostat's layout (kmu_pipeline.demo_snapshot)."""
    from bench.generate import GEOS, NACE, SIZES, UNITS, indicator_codes
    from kmu_pipeline.demo_snapshot.eurostat_structure import flow_structure_xml
    from kmu_pipeline.replay import add_recording

    dataset = catalogue.datasets[0]
    request = structure_request(dataset, catalogue.sources["eurostat"])
    codes = {"freq": ["A"], "size_emp": SIZES, "nace_r2": NACE, "indic_is": indicator_codes(),
             "unit": UNITS, "geo": GEOS}
    add_recording(recordings, source="eurostat", dataset=dataset.name, path=request.path,
                  query=list(request.query), content_type=STRUCTURE,
                  body=flow_structure_xml(dataset.code.upper(), dataset.title,
                                          {dim: [(c, c) for c in values]
                                           for dim, values in codes.items()},
                                          {}, prepared="2026-01-01T00:00:00Z"))


def run_case(case: str, workdir: Path, **kwargs: str) -> dict:
    argv = [sys.executable, "-m", "bench.cases", case, "--workdir", str(workdir)]
    for key, value in kwargs.items():
        argv += [f"--{key.replace('_', '-')}", value]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [
        str(ROOT), os.environ.get("PYTHONPATH", "")]))}
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode:
        raise SystemExit(f"bench case {case} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def prepare(sizes: list[int], work: Path) -> tuple[Path, dict]:
    """Generate bodies and recordings; return the recordings root and what lies where."""
    cache, recordings = work / "cache", work / "recordings"
    shutil.rmtree(recordings, ignore_errors=True)
    plan = {}
    for n in sizes:
        for fmt, ctype in (("csv", SDMX_CSV), ("ml", SDMX_ML)):
            name = f"isoc_bench_{fmt}_{n}"
            path = body(cache, fmt, n, name)
            record(recordings, name, path, ctype)
            plan[(fmt, n)] = (name, path)
        slice_n = min(n, SDMX1_SLICE)
        plan[("slice", n)] = (None, body(cache, "ml", slice_n, f"isoc_bench_slice_{slice_n}"))
    names = [plan[(fmt, n)][0] for n in sizes for fmt in ("csv", "ml")]
    plan["refresh"] = names
    return recordings, plan


def measure_size(n: int, plan: dict, base_url: str, work: Path) -> dict:
    out = {"n": n}
    csv_name, csv_path = plan[("csv", n)]
    ml_name, ml_path = plan[("ml", n)]
    out["csv_mb"], out["ml_mb"] = csv_path.stat().st_size / 1e6, ml_path.stat().st_size / 1e6
    out["read_csv"] = run_case("read_csv", work / "tmp", file=str(csv_path))
    for fmt, name in (("csv", csv_name), ("ml", ml_name)):
        case_dir = work / "runs" / name
        shutil.rmtree(case_dir, ignore_errors=True)
        out[fmt] = run_case("ingest", case_dir, base_url=base_url, dataset=name)
        if out[fmt]["rows"] != n:
            raise SystemExit(f"{name}: loaded {out[fmt]['rows']} rows, generated {n}")
        shutil.rmtree(case_dir, ignore_errors=True)
    out["sdmx1"] = run_case("sdmx1", work / "tmp", file=str(plan[("slice", n)][1]))
    return out


def _rate(rows: int, seconds: float) -> float:
    return rows / seconds if seconds > 0 else math.inf


def ingest_seconds(result: dict) -> float:
    """parse + validate + load: the refresh minus the download (reported on its own)."""
    return result["refresh_s"] - result["seconds"].get("fetch", 0.0)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report_size(r: dict) -> tuple[list[str], dict]:
    n = r["n"]
    bare = _rate(r["read_csv"]["rows"], r["read_csv"]["seconds"])
    sdmx1 = _rate(r["sdmx1"]["rows"], r["sdmx1"]["seconds"])
    lines = [f"== {label(n)} observations (SDMX-CSV {r['csv_mb']:.1f} MB, "
             f"SDMX-ML {r['ml_mb']:.1f} MB) ==",
             f"  duckdb bare read_csv              {r['read_csv']['seconds']:8.2f} s "
             f"{bare:12,.0f} obs/s   peak {r['read_csv']['peak_mb']:5.0f} MB",
             f"  sdmx1 read_sdmx+to_pandas         {n / sdmx1:8.2f} s {sdmx1:12,.0f} obs/s"
             f"   (timed on a {r['sdmx1']['rows']:,}-obs slice, extrapolated to {label(n)}; "
             f"slice peak {r['sdmx1']['peak_mb']:.0f} MB)"]
    ratios = {}
    for fmt, yardstick, target in (("csv", bare, TARGETS["csv"]), ("ml", sdmx1, TARGETS["ml"])):
        res = r[fmt]
        secs = ingest_seconds(res)
        rate = _rate(n, secs)
        ratio = rate / yardstick
        share = res["seconds"].get("validate", 0.0) / secs
        checks = share + res["seconds"].get("keys", 0.0) / secs
        ratios[fmt] = (ratio, share, res["peak_mb"])
        against = "duckdb read_csv" if fmt == "csv" else "sdmx1"
        lines += [
            f"  ingest SDMX-{fmt.upper():3} parse+validate+load {secs:8.2f} s {rate:12,.0f} obs/s"
            f"   peak {res['peak_mb']:5.0f} MB (imports {res['import_mb']:.0f} MB)",
            f"      incl. download from replay    {res['refresh_s']:8.2f} s "
            f"{_rate(n, res['refresh_s']):12,.0f} obs/s   phases "
            + ", ".join(f"{k} {v:.2f}s" for k, v in res["seconds"].items()),
            f"      ratio to {against:16} {ratio:8.2f}x  (target >= {target:g}x)  "
            f"{verdict(ratio >= target)}",
            f"      pandera validation share       {share:8.1%}   (target <= "
            f"{TARGETS['validate']:.0%})  {verdict(share <= TARGETS['validate'])}",
            f"      + key uniqueness, size classes {checks:8.1%}   (the model's checks that "
            f"DuckDB runs)",
        ]
    return lines, ratios


def report_memory(ratios: dict[int, dict]) -> list[str]:
    sizes = sorted(ratios)
    lines = ["== peak memory of the ingest (its process and any parser processes it forks) =="]
    for fmt in ("csv", "ml"):
        peaks = [ratios[n][fmt][2] for n in sizes]
        growth = peaks[-1] / peaks[0]
        ok = peaks[-1] <= TARGETS["peak_mb"] and growth <= 1.25
        lines.append(f"  SDMX-{fmt.upper():3} " + "  ".join(
            f"{label(n)}: {p:.0f} MB" for n, p in zip(sizes, peaks, strict=True))
            + f"   growth x{growth:.2f} (target <= {TARGETS['peak_mb']:.0f} MB at "
              f"{label(sizes[-1])}, not growing: <= x1.25)  {verdict(ok)}")
    return lines


def report_refresh(r: dict, sizes: list[int]) -> list[str]:
    full, noop = r["full"], r["noop"]
    ratio = noop["total_s"] / full["total_s"]
    skipped = all(noop["unchanged"]) and "load" not in noop["seconds"]
    n = len(full["unchanged"])
    return [
        f"== refresh of the bench catalogue ({n} datasets: SDMX-CSV and SDMX-ML at "
        f"{', '.join(label(s) for s in sizes)} obs) from replay, then publish ==",
        f"  full refresh   {full['total_s']:8.2f} s  ({full['rows']:,} rows)",
        f"  no-op refresh  {noop['total_s']:8.2f} s  (304 Not Modified; unchanged: "
        f"{sum(noop['unchanged'])}/{n}; parse/validate/load skipped: "
        f"{'yes' if skipped else 'NO'}; {noop['refresh_s'] / n * 1000:.0f} ms a dataset "
        f"+ {(noop['total_s'] - noop['refresh_s']) * 1000:.0f} ms publish)",
        f"  ratio no-op / full   {ratio:6.1%}  (target <= {TARGETS['noop']:.0%})  "
        f"{verdict(ratio <= TARGETS['noop'] and skipped)}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--sizes", default="0.5M,5M",
                        help="observation counts, comma-separated (e.g. 0.5M,5M or 2000)")
    parser.add_argument("--workdir", default=str(ROOT / "bench" / ".work"),
                        help="where bodies, recordings and warehouses go (bodies are cached)")
    args = parser.parse_args(argv)
    sizes = sorted(parse_size(s) for s in args.sizes.split(","))
    work = Path(args.workdir)
    recordings, plan = prepare(sizes, work)
    results, ratios = [], {}
    with ReplayServer(recordings) as server:
        base_url = server.base_url("eurostat")
        for n in sizes:
            results.append(measure_size(n, plan, base_url, work))
        refresh_dir = work / "runs" / "refresh"
        shutil.rmtree(refresh_dir, ignore_errors=True)
        refresh = run_case("refresh", refresh_dir, base_url=base_url,
                           dataset=",".join(plan["refresh"]))
        shutil.rmtree(refresh_dir, ignore_errors=True)
    for r in results:
        lines, ratios[r["n"]] = report_size(r)
        print("\n".join(lines))
    print("\n".join(report_memory(ratios)))
    print("\n".join(report_refresh(refresh, sizes)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
