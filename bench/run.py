"""Ingest benchmarks: `python -m bench.run --sizes 0.5M,5M` (see bench/RESULTS.md).

Generates Eurostat-shaped SDMX-CSV and SDMX-ML bodies (bench/generate.py) in landing layout,
serves them with the project's ReplayServer, and runs every case in its own process
(bench/cases.py): the production ingest of each body (as `kmu-pipeline run` loads it, and as
a step of the multiprocess executor), DuckDB's bare read_csv of the CSV, sdmx1 on the SDMX-ML
body, and a full vs a no-op refresh. Prints rates, ratios against the targets
of issues 6 and 14, validation's share and peak memory, all from this one run. `--cpus 0`
pins every case, the yardsticks and the replay server to the CPUs named: what the figures are
without a second idle core.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.generate import write_sdmx_csv, write_sdmx_ml
from kmu_pipeline.landing import LandingStore, Request
from kmu_pipeline.replay import ReplayServer
from kmu_pipeline.sources.eurostat import SDMX_CSV, STRUCTURE, data_request, structure_request

SDMX_ML = "application/vnd.sdmx.structurespecificdata+xml;version=2.1"
# sdmx1 is timed on the SDMX-ML body itself up to this many observations (0.5M: 20-80 s, 1.1 GB).
# Its rate falls as the body grows (one VM: 22k obs/s on 20k obs, 20k on 100k, 18k on 500k), so
# a larger body is compared with its rate on a body of this size, which errs in sdmx1's favour.
SDMX1_MAX_OBS = 500_000
# the rate on this small a slice is printed beside it: sessions up to 12 extrapolated from it
SDMX1_SLICE = 20_000
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
    the generated bodies use, in Eurostat's layout (kmu_pipeline.demo_snapshot), with the
    UPDATE_DATA annotation every Eurostat flow carries (the bodies' LAST UPDATE, as ISO 8601):
    an unchanged stamp is how a refresh learns that nothing changed upstream."""
    from bench.generate import GEOS, NACE, SIZES, UNITS, UPDATE_DATA, indicator_codes
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
                                          {"UPDATE_DATA": UPDATE_DATA},
                                          prepared="2026-01-01T00:00:00Z"))


def run_case(case: str, workdir: Path, *flags: str, **kwargs: str) -> dict:
    argv = [sys.executable, "-m", "bench.cases", case, "--workdir", str(workdir), *flags]
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
        for key, most in (("sdmx1", SDMX1_MAX_OBS), ("slice", SDMX1_SLICE)):
            # the ML body of that size (the same flow name: one file where the size is run too)
            timed = min(n, most)
            plan[(key, n)] = (None, body(cache, "ml", timed, f"isoc_bench_ml_{timed}"))
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
        for key, flags in ((fmt, ()), (f"{fmt}_step", ("--per-step",))):
            case_dir = work / "runs" / name
            shutil.rmtree(case_dir, ignore_errors=True)
            out[key] = run_case("ingest", case_dir, *flags, base_url=base_url, dataset=name)
            if out[key]["rows"] != n:
                raise SystemExit(f"{name}: loaded {out[key]['rows']} rows, generated {n}")
            shutil.rmtree(case_dir, ignore_errors=True)
    for key in ("sdmx1", "slice"):
        out[key] = run_case("sdmx1", work / "tmp", file=str(plan[(key, n)][1]))
    return out


def _rate(rows: int, seconds: float) -> float:
    return rows / seconds if seconds > 0 else math.inf


def ingest_seconds(result: dict) -> float:
    """parse + validate + load: the refresh minus the download (reported on its own)."""
    return result["refresh_s"] - result["seconds"].get("fetch", 0.0)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


@dataclass(frozen=True)
class Spread:
    """One figure over the repeats: its median is what a target is judged on."""

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def show(self, spec: str, unit: str = "") -> str:
        """`median unit [min-max]`, e.g. `0.55x [0.50-0.61]`."""
        return (f"{self.median:{spec}}{unit} [{min(self.values):{spec.lstrip('0123456789')}}-"
                f"{max(self.values):{spec.lstrip('0123456789')}}]")


def size_figures(r: dict) -> dict[str, float]:
    """The figures of one size in one repeat; each ratio against the yardstick of that repeat."""
    n = r["n"]
    out = {"read_csv_s": r["read_csv"]["seconds"], "read_csv_peak": r["read_csv"]["peak_mb"],
           "sdmx1_rate": _rate(r["sdmx1"]["rows"], r["sdmx1"]["seconds"]),
           "slice_rate": _rate(r["slice"]["rows"], r["slice"]["seconds"]),
           "sdmx1_peak": r["sdmx1"]["peak_mb"]}
    yardsticks = {"csv": _rate(r["read_csv"]["rows"], r["read_csv"]["seconds"]),
                  "ml": out["sdmx1_rate"]}
    for fmt, yardstick in yardsticks.items():
        res = r[fmt]
        secs = ingest_seconds(res)
        out |= {f"{fmt}_s": secs, f"{fmt}_refresh_s": res["refresh_s"],
                f"{fmt}_ratio": _rate(n, secs) / yardstick,
                f"{fmt}_share": res["seconds"].get("validate", 0.0) / secs,
                f"{fmt}_checks": (res["seconds"].get("validate", 0.0)
                                  + res["seconds"].get("keys", 0.0)) / secs,
                f"{fmt}_peak": res["peak_mb"], f"{fmt}_import": res["import_mb"]}
        out |= {f"{fmt}_phase_{k}": v for k, v in res["seconds"].items()}
        out[f"{fmt}_step_ratio"] = _rate(n, ingest_seconds(r[f"{fmt}_step"])) / yardstick
    out["ml_slice_ratio"] = _rate(n, out["ml_s"]) / out["slice_rate"]
    return out


def spreads(figures: list[dict[str, float]]) -> dict[str, Spread]:
    return {key: Spread(tuple(f[key] for f in figures if key in f)) for key in figures[0]}


def report_size(n: int, mb: tuple[float, float], s: dict[str, Spread], repeats: int,
                ) -> list[str]:
    sdmx1 = s["sdmx1_rate"].median
    lines = [f"== {label(n)} observations (SDMX-CSV {mb[0]:.1f} MB, SDMX-ML {mb[1]:.1f} MB): "
             f"median [min-max] of {repeats} runs ==",
             f"  duckdb bare read_csv              {s['read_csv_s'].median:8.2f} s "
             f"{_rate(n, s['read_csv_s'].median):12,.0f} obs/s   runs "
             f"{s['read_csv_s'].show('.2f', ' s')}   peak {s['read_csv_peak'].median:5.0f} MB",
             f"  sdmx1 read_sdmx+to_pandas         {n / sdmx1:8.2f} s {sdmx1:12,.0f} obs/s   "
             f"runs {s['sdmx1_rate'].show(',.0f', ' obs/s')}   peak "
             f"{s['sdmx1_peak'].median:5.0f} MB   ({_timed_on(n, SDMX1_MAX_OBS)}; on a "
             f"{min(n, SDMX1_SLICE):,}-obs slice: {s['slice_rate'].median:,.0f} obs/s)"]
    for fmt, target in (("csv", TARGETS["csv"]), ("ml", TARGETS["ml"])):
        ratio, share, secs = s[f"{fmt}_ratio"], s[f"{fmt}_share"], s[f"{fmt}_s"]
        phases = [k.removeprefix(f"{fmt}_phase_") for k in s if k.startswith(f"{fmt}_phase_")]
        against = "duckdb read_csv" if fmt == "csv" else "sdmx1"
        lines += [
            f"  ingest SDMX-{fmt.upper():3} parse+validate+load {secs.median:8.2f} s "
            f"{_rate(n, secs.median):12,.0f} obs/s   runs {secs.show('.2f', ' s')}"
            f"   peak {s[f'{fmt}_peak'].median:5.0f} MB (imports "
            f"{s[f'{fmt}_import'].median:.0f} MB)",
            f"      incl. download from replay    {s[f'{fmt}_refresh_s'].median:8.2f} s   phases "
            + ", ".join(f"{p} {s[f'{fmt}_phase_{p}'].median:.2f}s" for p in phases),
            f"      ratio to {against:16} {ratio.median:8.2f}x  runs {ratio.show('.2f', 'x')}  "
            f"(target >= {target:g}x)  {verdict(ratio.median >= target)}",
            *([f"      (against sdmx1's rate on the {min(n, SDMX1_SLICE):,}-obs slice, the "
               f"yardstick up to session 12: {s['ml_slice_ratio'].median:.2f}x, runs "
               f"{s['ml_slice_ratio'].show('.2f', 'x')})"] if fmt == "ml" else []),
            f"      (as `kmu-pipeline run` loads it; as a step of the multiprocess executor, "
            f"which opens the build again for the load: {s[f'{fmt}_step_ratio'].median:.2f}x, "
            f"runs {s[f'{fmt}_step_ratio'].show('.2f', 'x')})",
            f"      pandera validation share       {share.median:8.1%}   runs "
            f"{share.show('.1%')}  (target <= {TARGETS['validate']:.0%})  "
            f"{verdict(share.median <= TARGETS['validate'])}",
            f"      + key uniqueness, size classes {s[f'{fmt}_checks'].median:8.1%}   (the "
            f"model's checks that DuckDB runs)",
        ]
    return lines


def _timed_on(n: int, most: int) -> str:
    if n <= most:
        return "timed on this body"
    return f"timed on a {most:,}-obs body, its rate taken for {label(n)}"


def report_memory(by_size: dict[int, dict[str, Spread]]) -> list[str]:
    sizes = sorted(by_size)
    lines = ["== peak memory of the ingest (median of the runs) =="]
    for fmt in ("csv", "ml"):
        peaks = [by_size[n][f"{fmt}_peak"].median for n in sizes]
        growth = peaks[-1] / peaks[0]
        ok = peaks[-1] <= TARGETS["peak_mb"] and growth <= 1.25
        lines.append(f"  SDMX-{fmt.upper():3} " + "  ".join(
            f"{label(n)}: {p:.0f} MB" for n, p in zip(sizes, peaks, strict=True))
            + f"   growth x{growth:.2f} (target <= {TARGETS['peak_mb']:.0f} MB at "
              f"{label(sizes[-1])}, not growing: <= x1.25)  {verdict(ok)}")
    return lines


def refresh_figures(r: dict) -> dict[str, float]:
    full, noop = r["full"], r["noop"]
    n = len(full["unchanged"])
    skipped = all(noop["unchanged"]) and "load" not in noop["seconds"]
    return {"full_s": full["total_s"], "noop_s": noop["total_s"],
            "ratio": noop["total_s"] / full["total_s"], "rows": full["rows"], "datasets": n,
            "per_step_ratio": r["noop_per_step"]["total_s"] / full["total_s"],
            "unchanged": sum(noop["unchanged"]), "skipped": float(skipped),
            "noop_published": float(noop["published"]),
            "per_dataset_ms": noop["refresh_s"] / n * 1000,
            "publish_ms": (noop["total_s"] - noop["refresh_s"]) * 1000}


def report_refresh(s: dict[str, Spread], sizes: list[int], repeats: int) -> list[str]:
    n = int(s["datasets"].median)
    skipped = min(s["skipped"].values) == 1.0
    unchanged = int(min(s["unchanged"].values))
    ratio = s["ratio"].median
    return [
        f"== refresh of the bench catalogue ({n} datasets: SDMX-CSV and SDMX-ML at "
        f"{', '.join(label(x) for x in sizes)} obs) from replay, then publish: median "
        f"[min-max] of {repeats} runs ==",
        f"  full refresh   {s['full_s'].median:8.2f} s  ({int(s['rows'].median):,} rows)  runs "
        f"{s['full_s'].show('.2f', ' s')}",
        f"  no-op refresh  {s['noop_s'].median:8.2f} s  (304 Not Modified; unchanged: "
        f"{unchanged}/{n}; parse/validate/load skipped: {'yes' if skipped else 'NO'}; "
        f"{s['per_dataset_ms'].median:.0f} ms a dataset + {s['publish_ms'].median:.0f} ms "
        f"publish; new generation: {'yes' if max(s['noop_published'].values) else 'no'})  runs "
        f"{s['noop_s'].show('.2f', ' s')}",
        f"  ratio no-op / full   {ratio:6.1%}  runs {s['ratio'].show('.1%')}  (target <= "
        f"{TARGETS['noop']:.0%})  {verdict(ratio <= TARGETS['noop'] and skipped)}",
        f"  (one process, as `kmu-pipeline run`; with a build connection per dataset, as "
        f"multiprocess steps: {s['per_step_ratio'].median:.1%}, runs "
        f"{s['per_step_ratio'].show('.1%')})",
    ]


def run_repeat(sizes: list[int], plan: dict, recordings: Path, work: Path,
               ) -> tuple[list[dict], dict]:
    """Every case once: each size's yardsticks and ingests, then the catalogue refresh."""
    with ReplayServer(recordings) as server:
        base_url = server.base_url("eurostat")
        results = [measure_size(n, plan, base_url, work) for n in sizes]
        refresh_dir = work / "runs" / "refresh"
        shutil.rmtree(refresh_dir, ignore_errors=True)
        refresh = run_case("refresh", refresh_dir, base_url=base_url,
                           dataset=",".join(plan["refresh"]))
        shutil.rmtree(refresh_dir, ignore_errors=True)
    return results, refresh


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--sizes", default="0.5M,5M",
                        help="observation counts, comma-separated (e.g. 0.5M,5M or 2000)")
    parser.add_argument("--repeats", type=int, default=5,
                        help="runs of every case; each figure is the median over them")
    parser.add_argument("--workdir", default=str(ROOT / "bench" / ".work"),
                        help="where bodies, recordings and warehouses go (bodies are cached)")
    parser.add_argument("--cpus", default="",
                        help="CPU numbers, comma-separated (e.g. 0): run every case, yardstick "
                             "and the replay server on these CPUs only")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.cpus:
        # the cases are child processes, which inherit the affinity
        os.sched_setaffinity(0, {int(c) for c in args.cpus.split(",")})
    sizes = sorted(parse_size(s) for s in args.sizes.split(","))
    work = Path(args.workdir)
    recordings, plan = prepare(sizes, work)
    load_before = os.getloadavg()
    per_size: dict[int, list[dict]] = {n: [] for n in sizes}
    refreshes, megabytes = [], {}
    for repeat in range(1, args.repeats + 1):
        print(f"run {repeat}/{args.repeats}", file=sys.stderr, flush=True)
        results, refresh = run_repeat(sizes, plan, recordings, work)
        for r in results:
            per_size[r["n"]].append(size_figures(r))
            megabytes[r["n"]] = (r["csv_mb"], r["ml_mb"])
        refreshes.append(refresh_figures(refresh))
    by_size = {n: spreads(figures) for n, figures in per_size.items()}
    for n in sizes:
        print("\n".join(report_size(n, megabytes[n], by_size[n], args.repeats)))
    print("\n".join(report_memory(by_size)))
    print("\n".join(report_refresh(spreads(refreshes), sizes, args.repeats)))
    load_after = os.getloadavg()
    print(f"== load average (1 min) before {load_before[0]:.2f}, after {load_after[0]:.2f} "
          f"on {os.cpu_count()} cores; every case ran on CPU(s) "
          f"{','.join(map(str, sorted(os.sched_getaffinity(0))))} ==")
    return 0


if __name__ == "__main__":
    sys.exit(main())
