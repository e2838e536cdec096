"""kmu-pipeline: run the refresh, list the catalogue, query the warehouse.

Thin over the same definitions Dagster loads: `run` executes the refresh_all job, recorded in the
project's Dagster instance (the one `dagster dev` shows with the same DAGSTER_HOME).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from pathlib import Path

import duckdb

from kmu_pipeline.catalogue import CatalogueError, load_catalogue
from kmu_pipeline.errors import KmuError
from kmu_pipeline.replay import DEMO_SNAPSHOT, ReplayServer
from kmu_pipeline.sources.registry import adapter_for
from kmu_pipeline.warehouse import RELATIONS, Warehouse, keep_builds_open

log = logging.getLogger("kmu_pipeline")


MAX_PARALLEL = 16  # step processes; each holds Dagster and DuckDB (~200 MB)


def _bounded(low: int, high: int, what: str):
    """An argparse type: an integer in [low, high], else a usage error naming the bounds."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be a whole number, not {text!r}") \
                from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{what} must be between {low} and {high}, "
                                             f"not {value}")
        return value
    return parse


def _recordings(text: str) -> str:
    """An argparse type: a directory holding recorded responses (landing layout)."""
    path = Path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is not a directory")
    if not any(path.glob("*/*/*/response.json")):
        raise argparse.ArgumentTypeError(f"{text} holds no recorded responses "
                                         f"(<source>/<dataset>/<request>/response.json)")
    return text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kmu-pipeline", description=__doc__)
    parser.add_argument("--warehouse", default="data/kmu.duckdb", help="DuckDB file")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="refresh every dataset and model, then publish")
    run.add_argument("--replay", nargs="?", const=str(DEMO_SNAPSHOT), metavar="DIR",
                     type=_recordings,
                     help="answer requests from recorded responses (default: the demo snapshot)")
    run.add_argument("--landing", default="data/raw", help="where raw responses are kept")
    run.add_argument("--force", action="store_true",
                     help="ask every dataset's data even where the agency's release stamp or "
                          "ETag says it has not changed")
    run.add_argument("--parallel", type=_bounded(1, MAX_PARALLEL, "--parallel"), default=1,
                     metavar="N",
                     help="run up to N steps at once, each in its own process (Dagster's "
                          "multiprocess executor); default 1 = in this process")
    run.add_argument("--verbose", action="store_true",
                     help="print Dagster's event stream instead of one line per asset")
    sub.add_parser("datasets", help="list the catalogue")
    catalogue = sub.add_parser("catalogue", help="the dataset catalogue")
    catalogue_sub = catalogue.add_subparsers(dest="catalogue_command", required=True)
    check = catalogue_sub.add_parser(
        "check", help="check every entry against the agencies' own structures (no data is "
                      "requested); exits 1 on any mismatch")
    check.add_argument("--replay", nargs="?", const=str(DEMO_SNAPSHOT), metavar="DIR",
                       type=_recordings,
                       help="answer from recorded responses (default: the demo snapshot)")
    check.add_argument("--landing", default="data/raw",
                       help="where the structure answers are kept")
    sub.add_parser("tables", help="list the warehouse tables with row counts")
    query = sub.add_parser("query", help="run read-only SQL against the published warehouse")
    query.add_argument("sql")
    query.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    docs = sub.add_parser("docs", help="print the data dictionary (Markdown) of the warehouse")
    docs.add_argument("--output", metavar="FILE",
                      help="write it to FILE instead of standard output")
    history = sub.add_parser("history", help="the observation history (history.observations)")
    history_sub = history.add_subparsers(dest="history_command", required=True)
    rebuild = history_sub.add_parser(
        "rebuild", help="recompute it from the landed responses and compare it with the "
                        "published warehouse's; exits 1 when they differ")
    rebuild.add_argument("--landing", default="data/raw", help="where raw responses are kept")
    rebuild.add_argument("--output", help="also write the rebuilt history to this DuckDB file")
    serve = sub.add_parser("replay-server", help="serve recorded responses over HTTP")
    serve.add_argument("directory", nargs="?", default=str(DEMO_SNAPSHOT), type=_recordings)
    serve.add_argument("--port", type=_bounded(0, 65535, "--port"), default=8765,
                       help="0: any free port")
    return parser


def _base_urls(stack: contextlib.ExitStack, replay: str | None) -> dict[str, str]:
    """Source -> base URL: a replay server's mounts, or none (live)."""
    if not replay:
        return {}
    server = stack.enter_context(ReplayServer(Path(replay)))
    log.info("replaying recorded responses from %s at %s", replay, server.url)
    return server.base_urls(load_catalogue().sources)


def cmd_run(args: argparse.Namespace) -> int:
    import uuid

    from kmu_pipeline.defs.execution import project_instance, quiet_loggers
    from kmu_pipeline.defs.progress import RUN_TAG, Progress

    if not args.replay:
        _announce_skipped_sources()
    tags = {RUN_TAG: uuid.uuid4().hex}
    with contextlib.ExitStack() as stack:
        urls = _base_urls(stack, args.replay)
        instance = stack.enter_context(project_instance(Path(args.warehouse)))
        if not args.verbose:  # the progress lines say what happens, one per asset
            stack.enter_context(Progress(instance, tags[RUN_TAG]))
        run = _run_parallel if args.parallel > 1 else _run_in_process
        result = run(args, urls, instance, quiet_loggers(args.verbose), tags)
    return _report_run(Warehouse(args.warehouse), result)


def _run_in_process(args: argparse.Namespace, urls: dict[str, str], instance, run_config: dict,
                    tags: dict[str, str]):
    from kmu_pipeline.defs.definitions import build_definitions
    from kmu_pipeline.defs.resources import SourcesResource, WarehouseResource

    defs = build_definitions({
        "warehouse": WarehouseResource(path=args.warehouse),
        "sources": SourcesResource(landing_dir=args.landing, base_urls=urls,
                                   force_refresh=args.force),
    })
    with keep_builds_open():  # every step runs in this process: the build stays open
        return defs.resolve_job_def("refresh_all").execute_in_process(
            run_config=run_config, instance=instance, tags=tags, raise_on_error=False)


def cmd_catalogue(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from kmu_pipeline.catalogue_check import check_catalogue
    from kmu_pipeline.defs.resources import SourcesResource

    with contextlib.ExitStack() as stack:
        sources = SourcesResource(landing_dir=args.landing,
                                  base_urls=_base_urls(stack, args.replay))
        catalogue = load_catalogue()
        results = check_catalogue(catalogue, sources.client(),
                                  {name: sources.base_url(source)
                                   for name, source in catalogue.sources.items()})
    print(tabulate([(r.dataset, r.source, r.code, r.status, r.detail) for r in results],
                   headers=["entry", "source", "code", "status",
                            "what is wrong (ok: what was checked)"],
                   maxcolwidths=[None, None, None, None, 90]))
    failed = [r for r in results if r.failed]
    skipped = [r for r in results if r.status == "skipped"]
    print(f"{len(results) - len(failed) - len(skipped)} of {len(results)} entries match the "
          f"agencies' structures; {len(failed)} do not; {len(skipped)} not checked")
    return 1 if failed else 0


def _announce_skipped_sources() -> None:
    """Live mode asks every source it can: one without credentials is skipped (its datasets
    keep their last good data, marked skipped), said here before any download. Unusable
    credentials (a control character, say) raise AuthError: fail before any request."""
    catalogue = load_catalogue()
    for name, source in catalogue.sources.items():
        datasets = catalogue.of_source(name)
        why = adapter_for(name).missing_credentials(source.resolved_base_url())
        if datasets and why:
            print(f"skipping {name} ({len(datasets)} datasets): {why}", file=sys.stderr)


def _run_parallel(args: argparse.Namespace, urls: dict[str, str], instance, run_config: dict,
                  tags: dict[str, str]):
    """Step processes read their resources from KMU_* variables (defs/execution.py)."""
    from kmu_pipeline.defs.execution import run_multiprocess
    from kmu_pipeline.defs.resources import FORCE_ENV

    env = {"KMU_WAREHOUSE": str(Path(args.warehouse).resolve()),
           "KMU_LANDING_DIR": str(Path(args.landing).resolve()),
           FORCE_ENV: "1" if args.force else ""}
    sources = load_catalogue().sources
    env.update({sources[name].base_url_env: url for name, url in urls.items()})
    return run_multiprocess(env, args.parallel, instance, run_config, tags)


def _report_run(warehouse: Warehouse, result) -> int:
    """What the run did to the published warehouse, and why when it published nothing."""
    record = warehouse.record()
    if record.run_id != result.run_id and result.success:  # Warehouse.publish: no change
        print(refresh_summary(_upstream_checks(result)))
        print(f"nothing new to publish: every table and chart as published; {warehouse.path} "
              f"stays as published by run {record.run_id} at {record.published_at}")
        return 0
    if record.run_id != result.run_id:
        why = "; ".join(_step_failures(result)) or "the run built nothing to publish"
        print(f"nothing was published: run {result.run_id} failed: {why}", file=sys.stderr)
        still = (f"{warehouse.path} still holds run {record.run_id}, published at "
                 f"{record.published_at}" if record.run_id else "no warehouse was published yet")
        print(f"nothing published; {still}")
        return 1
    con = duckdb.connect(str(warehouse.state_dir / record.base_name()), read_only=True)
    try:  # the run's own copy: an analyst's read-write connection cannot lock it
        statuses = con.execute("select dataset, status, checked, error from meta.dataset_status "
                               "order by 1").fetchall()
        tables = con.execute(f"select count(*) from ({RELATIONS})").fetchone()[0]
    finally:
        con.close()
    stale = [(dataset, error) for dataset, status, _, error in statuses if status == "stale"]
    for dataset, error in stale:
        print(f"FAILED {dataset}: {error}", file=sys.stderr)
    for dataset, status, _, error in statuses:
        if status == "skipped":
            print(f"SKIPPED {dataset}: {error}", file=sys.stderr)
    print(refresh_summary([checked or "not_checked" for _, _, checked, _ in statuses]))
    state = "published" if result.success else "run had failures; published what completed:"
    print(f"{state} {warehouse.path} ({tables} tables, {len(stale)} stale datasets)")
    return 0 if result.success and not stale else 1


def refresh_summary(checked: list[str]) -> str:
    """One line on what upstream had: a run that refreshed nothing says so."""
    counts = {kind: checked.count(kind) for kind in
              ("changed", "unchanged_upstream", "unchanged_bytes", "not_checked")}
    if not counts["changed"]:
        head = f"nothing was refreshed: no dataset had new data ({len(checked)} datasets)"
    else:
        head = f"{counts['changed']} of {len(checked)} datasets refreshed with new data"
    return (f"{head}; unchanged by the agencies' release stamps: {counts['unchanged_upstream']}, "
            f"asked and the same: {counts['unchanged_bytes']}, not checked (failed or skipped): "
            f"{counts['not_checked']}")


def _upstream_checks(result) -> list[str]:
    """What each raw asset's refresh found upstream, from the run's materialisations."""
    metadata = [event.event_specific_data.materialization.metadata
                for event in result.all_events if event.is_step_materialization]
    return [entry["upstream_check"].value for entry in metadata if "upstream_check" in entry]


def _step_failures(result) -> list[str]:
    """'<step>: <error>' for each failed step, the step's own exception under Dagster's."""
    failures = []
    for event in result.all_events:
        if event.is_step_failure:
            error = event.event_specific_data.error
            cause = error.cause or error
            failures.append(f"{event.step_key}: {cause.message.strip()}")
    return failures


def cmd_datasets(_: argparse.Namespace) -> int:
    for ds in load_catalogue().datasets:
        indicators = ", ".join(f"{k}->{v}" for k, v in ds.indicators.items())
        print(f"{ds.table:42} {ds.source:9} {ds.code:18} {indicators}")
    return 0


def cmd_tables(args: argparse.Namespace) -> int:
    with Warehouse(args.warehouse).read() as con:
        rows = con.execute(f"select schema_name || '.' || name, coalesce(estimated_size::varchar, "
                           f"kind), comment from ({RELATIONS}) order by 1").fetchall()
    for name, size, comment in rows:
        print(f"{name:45} {size:>9}  {(comment or '')[:70]}")
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    with Warehouse(args.warehouse).read() as con:
        result = con.execute(args.sql)
        if result is None or result.description is None:  # "", a comment: nothing to show
            print("error: the query holds no statement that returns rows", file=sys.stderr)
            return 1
        frame = result.fetchdf()
    print(frame.to_csv(index=False).rstrip("\n") if args.csv else frame.to_string(index=False))
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    """Standard output unless --output: a tracked file is rewritten only when asked for."""
    from kmu_pipeline.data_dictionary import render, write

    if not Path(args.warehouse).exists():
        raise FileNotFoundError(f"no warehouse at {args.warehouse}; run `kmu-pipeline run` first")
    if args.output:
        print(f"wrote {write(args.warehouse, args.output)}")
    else:  # byte for byte what --output writes, so `docs > file` gives the same file
        sys.stdout.write(render(args.warehouse))
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    from kmu_pipeline.history import HISTORY
    from kmu_pipeline.history_rebuild import differences, rebuild_history

    con, rebuilt = rebuild_history(Path(args.landing), Warehouse(args.warehouse))
    try:
        differ = differences(con)
        if args.output:
            con.execute("attach ? as output", [args.output])
            con.execute("create schema if not exists output.history")
            con.execute(f"create or replace table output.{HISTORY} as select * from {HISTORY}")
            con.execute("detach output")
    finally:
        con.close()
    print(f"rebuilt {rebuilt.rows} history rows from {rebuilt.loads} loads of {args.landing} "
          f"({rebuilt.refused} refused, as the refresh did); "
          + ("equal to the published history" if not differ
             else f"{differ} rows differ from the published history"))
    return 1 if differ else 0


def cmd_replay_server(args: argparse.Namespace) -> int:
    server = ReplayServer(Path(args.directory), port=args.port)
    settings = " ".join(f"{source.base_url_env}={server.base_url(name)}"
                        for name, source in load_catalogue().sources.items())
    print(f"serving {args.directory} at {server.url}; set {settings}")
    with contextlib.suppress(KeyboardInterrupt):
        server.httpd.serve_forever()
    return 0


COMMANDS = {"run": cmd_run, "datasets": cmd_datasets, "catalogue": cmd_catalogue,
            "tables": cmd_tables, "query": cmd_query, "docs": cmd_docs,
            "history": cmd_history, "replay-server": cmd_replay_server}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    quiet = args.command == "run" and not args.verbose  # the progress lines replace the log
    logging.basicConfig(level=logging.CRITICAL if quiet else logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s")
    if quiet:  # the multiprocess executor's engine events bypass the run's console logger
        logging.getLogger("dagster").setLevel(logging.CRITICAL)
    try:
        return COMMANDS[args.command](args)
    except (KmuError, CatalogueError, OSError, duckdb.Error) as exc:
        # a missing or unreadable warehouse, a directory given as one, an unwritable landing
        # directory, a port in use: one line that says what, never a traceback
        print(f"error: {type(exc).__name__}: {exc}" if not isinstance(exc, KmuError)
              else f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
