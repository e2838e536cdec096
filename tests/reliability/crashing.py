"""Killing runs at named points (tests/reliability/test_crash*.py): a run killed with SIGKILL at
any point leaves the published warehouse intact, and the next run completes normally (no stale
lock, build or temp file blocks it).

Each run is `kmu-pipeline run --replay` (cli.main) in a forked child process that SIGKILLs
itself when it reaches the named point: nothing is cleaned up, as with `kill -9` or the OOM
killer. The points are split over two test files so that two workers share the runs.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import time
from pathlib import Path

import duckdb
from PIL import Image

from tests.conftest import copy_workdir, touch_published

KILL_POINTS = {
    # a raw body half written to its .partial file under data/raw
    "landing": ("kmu_pipeline.landing.LandingStore.commit", 3, False),
    # the run's build half copied from the published file
    "build-copy": ("kmu_pipeline.warehouse.shutil.copyfile", 1, True),
    # inside the transaction that swaps a raw table in the build
    "load": ("kmu_pipeline.warehouse.comment_table", 4, False),
    # between SQL models
    "models": ("kmu_pipeline.defs.sql.run_model", 2, False),
    # every chart drawn into the run's build folder, not yet published
    "charts": ("kmu_pipeline.charts.output._write", 7, True),  # a PNG and an SVG a chart
    # build checkpointed and flushed, previous kept, not yet committed or renamed
    "publish": ("kmu_pipeline.warehouse.keep_previous", 1, True),
    # published, but the lock file, sweep and data dictionary not done
    "after-publish": ("kmu_pipeline.defs.publish.write_dictionary", 1, False),
}


# the points of test_crash.py and of test_crash_late.py: every point, each once
EARLY = ["landing", "build-copy", "load", "models", "charts"]
LATE = ["publish", "after-publish"]
assert sorted(EARLY + LATE) == sorted(KILL_POINTS)


def _run(workdir: Path, point: str | None) -> None:
    """The child: patch `point` to SIGKILL on its nth call, then run the CLI."""
    if point:
        target, nth, after = KILL_POINTS[point]
        owner_name, _, attr = target.rpartition(".")
        owner = _resolve(owner_name)
        original = getattr(owner, attr)
        calls = [0]

        def killer(*args, **kwargs):
            calls[0] += 1
            if calls[0] < nth:
                return original(*args, **kwargs)
            if point == "landing":  # die with the body half on disk
                partial = Path(args[2] if len(args) > 2 else kwargs["temp_path"])
                partial.write_bytes(partial.read_bytes()[: partial.stat().st_size // 2])
            if point == "build-copy":  # die with the copy half written
                original(*args, **kwargs)
                with open(args[1], "r+b") as fh:
                    fh.truncate(os.path.getsize(args[1]) // 2)
            elif after:
                original(*args, **kwargs)
            os.kill(os.getpid(), signal.SIGKILL)

        setattr(owner, attr, killer)
    from kmu_pipeline import cli

    os.chdir(workdir)
    os._exit(cli.main(["run", "--replay"]))


def _resolve(dotted: str):
    import importlib

    parts = dotted.split(".")
    for n in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:n]))
        except ImportError:
            continue
        for attr in parts[n:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


def _child(workdir: Path, point: str | None) -> int:
    # every run replays the README run's answers: so that each publishes and reaches every
    # point of the publish
    touch_published(workdir / "data" / "kmu.duckdb")
    process = multiprocessing.get_context("fork").Process(target=_run, args=(workdir, point))
    process.start()
    process.join(120)
    return process.exitcode


def _fingerprint(db: Path) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [f"{s}.{t}" for s, t in con.execute(
            "select schema_name, table_name from duckdb_tables() order by all").fetchall()]
        counts = {t: con.execute(f"select count(*) from {t}").fetchone()[0]
                  for t in tables if t != "meta.runs"}
        # both sources have a value per size class: ordered by size class alone, the two came
        # in whichever order the mart's rows were stored (a run's parallel writes vary it)
        counts["cloud_de_2020"] = con.execute(
            "select list(value order by size_class, source, value) from marts.indicators "
            "where geo = 'DE' and year = 2020 and indicator = 'cloud_computing'").fetchone()[0]
        runs = [r for (r,) in con.execute(
            "select run_id from meta.runs order by published_at").fetchall()]
        return {"tables": counts, "runs": runs}
    finally:
        con.close()


def kill_at_each(points: list[str], workdir: Path, first_run: Path) -> None:
    """From a copy of `first_run` (a complete README run), a run killed at each of `points` in
    turn, each leaving the published warehouse as it was; then a run that completes and
    leaves nothing of the killed ones behind."""
    copy_workdir(first_run, workdir)
    db = workdir / "data" / "kmu.duckdb"
    before = _fingerprint(db)
    assert len(before["runs"]) == 1 and before["tables"]["marts.indicators"] > 0
    for point in points:
        if point == "landing":  # unchanged bodies are 304s; make the run download again
            shutil.rmtree(workdir / "data" / "raw")
        assert _child(workdir, point) == -signal.SIGKILL, point
        after = _fingerprint(db)  # opens, every table readable
        if point == "after-publish":  # the run had published: a complete new run
            assert after["tables"] == before["tables"] and len(after["runs"]) == 2
            before = after
        else:
            assert after == before, point
        # a killed run's pictures are never published: every chart names a published run
        assert _chart_runs(workdir) <= set(after["runs"]), point
    if "landing" in points:
        partials = list((workdir / "data" / "raw").rglob(".partial-*"))
        assert partials  # the killed download (landing sweeps its partials once old)
        old = time.time() - 7 * 3600
        for path in partials:
            os.utime(path, (old, old))
    assert _child(workdir, None) == 0  # nothing left behind blocks the next run
    final = _fingerprint(db)
    changed = {t: (before["tables"].get(t), n) for t, n in final["tables"].items()
               if before["tables"].get(t) != n}
    assert final["tables"] == before["tables"] and len(final["runs"]) == len(before["runs"]) + 1, (
        f"tables changed (before, after): {changed}; runs before {before['runs']}, "
        f"after {final['runs']}")
    assert not list((workdir / "data" / "raw").rglob(".partial-*"))
    # builds, half copies, locks and staged charts of the killed runs: gone, whatever their age
    assert [p.name for p in (workdir / "data" / ".build").iterdir()] == []


def _chart_runs(workdir: Path) -> set[str]:
    """The run ids the published charts name in their PNG source line."""
    runs = set()
    for png in (workdir / "data" / "charts").glob("*.png"):
        source = Image.open(png).text.get("Source") or ""
        if "Lauf " in source:
            runs.add(source.rpartition("Lauf ")[2].rstrip(")"))
    return runs
