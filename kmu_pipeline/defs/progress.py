"""One line per asset as a run goes, read from the run's event log (in process or not)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from dagster import DagsterEventType, DagsterInstance, RunsFilter

EVENTS = (DagsterEventType.ASSET_MATERIALIZATION, DagsterEventType.ASSET_CHECK_EVALUATION,
          DagsterEventType.STEP_FAILURE, DagsterEventType.STEP_SKIPPED)
POLL_SECONDS = 0.5
RUN_TAG = "kmu/cli_run"


def describe(event) -> str | None:
    """The progress line of one Dagster event, or None for an event not worth a line."""
    data = event.event_specific_data
    if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
        materialization = data.materialization
        rows = materialization.metadata.get("dagster/row_count")
        suffix = f" ({rows.value} rows)" if rows is not None else ""
        return f"  materialized {materialization.asset_key.to_user_string()}{suffix}"
    if event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
        if data.passed:
            return None
        return (f"  check failed {data.asset_key.to_user_string()}:{data.check_name} "
                f"({data.severity.value})")
    if event.event_type == DagsterEventType.STEP_FAILURE:
        error = data.error
        cause = (error.cause or error).message.strip().splitlines()[0]
        return f"  step failed {event.step_key}: {cause}"
    return f"  skipped {event.step_key} (an upstream step failed)"


class Progress:
    """Prints describe() of each event of the run tagged `tag` while it runs (a thread polls
    the instance: steps in other processes write their events there, not to this process)."""

    def __init__(self, instance: DagsterInstance, tag: str,
                 write: Callable[[str], None] = print):
        self.instance, self.tag, self.write = instance, tag, write
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="kmu-progress", daemon=True)
        self._cursor: str | None = None
        self._run_id: str | None = None

    def __enter__(self) -> Progress:
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._stop.set()
        self._thread.join()
        self._print_new()  # what arrived after the last poll

    def _poll(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            self._print_new()

    def _print_new(self) -> None:
        if self._run_id is None:
            runs = self.instance.get_run_ids(RunsFilter(tags={RUN_TAG: self.tag}), limit=1)
            if not runs:
                return
            self._run_id = runs[0]
        connection = self.instance.get_records_for_run(self._run_id, cursor=self._cursor,
                                                       of_type=set(EVENTS))
        self._cursor = connection.cursor
        for record in connection.records:
            line = describe(record.event_log_entry.dagster_event)
            if line:
                self.write(line)
