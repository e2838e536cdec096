"""Issue 17.3: a dataset whose upstream has not changed is not fetched. The agencies' own
stamps (Eurostat's UPDATE_DATA on the flow, GENESIS's Updated on the table) are read from the
answer the entry is checked against anyway; equal to the stamp already loaded, no data is asked.
Counted on the landing store's history.jsonl: one line per request the client made."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests.conftest import copy_workdir
from tests.replay.conftest import materialize_all

# the demo's flows and tables whose structure states a last-update stamp (demo_snapshot/README)
STAMPED = {"isoc_cicce_use", "isoc_e_dii", "isoc_eb_ai", "isoc_eb_das", "isoc_eb_bd",
           "isoc_eb_p3d", "isoc_ske_itrcrs", "isoc_ske_itspe", "ikt_by_size", "ikt_germany",
           "unternehmensregister"}
SIGNALS = ("dataflow_", "metadata_table")  # Eurostat's structure, GENESIS's table metadata


def _requests_made(raw: Path) -> dict[str, int]:
    """'<dataset>/<request folder>' -> how many times the client asked it."""
    return {f"{h.parent.parent.name}/{h.parent.name}": len(h.read_text().splitlines())
            for h in raw.glob("*/*/*/history.jsonl")}


def _history_rows(workdir: Path) -> int:
    con = duckdb.connect(str(workdir / "kmu.duckdb"), read_only=True)
    try:
        return con.execute("select count(*) from history.observations").fetchone()[0]
    finally:
        con.close()


def _status(workdir: Path) -> dict[str, tuple]:
    con = duckdb.connect(str(workdir / "kmu.duckdb"), read_only=True)
    try:
        return {d.split("__", 1)[1]: (checked, stamp) for d, checked, stamp in con.execute(
            "select dataset, checked, upstream_updated from meta.dataset_status").fetchall()}
    finally:
        con.close()


def _checked(result) -> dict[str, tuple]:
    """What each raw asset's refresh found, as the run's materialisations say it: a run that
    changed nothing publishes nothing, so the file still says what the run before found."""
    found = {}
    for event in result.get_asset_materialization_events():
        metadata = event.materialization.metadata
        if event.asset_key.path[0] == "raw":
            stamp = metadata["upstream_updated"].value
            found[event.asset_key.path[-1].split("__", 1)[1]] = (
                metadata["upstream_check"].value, None if stamp == "not stated" else stamp)
    return found


def _asked_again(before: dict[str, int], after: dict[str, int]) -> dict[str, list[str]]:
    asked: dict[str, list[str]] = {}
    for folder, count in after.items():
        if count > before.get(folder, 0):
            dataset, _, request = folder.partition("/")
            asked.setdefault(dataset, []).append(request)
    return asked


def test_an_unchanged_upstream_costs_one_signal_request_and_a_new_stamp_asks_data(
        demo_copy, tmp_path, published_demo):
    tmp_path = tmp_path / "run"
    copy_workdir(published_demo[0], tmp_path)  # the demo's first run
    first = _requests_made(tmp_path / "raw")
    versions = _history_rows(tmp_path)
    assert {d for d, (checked, _) in _status(tmp_path).items()} >= STAMPED
    assert {checked for checked, _ in _status(tmp_path).values()} == {"changed"}

    published = (tmp_path / "kmu.duckdb").read_bytes()
    again = materialize_all(demo_copy, tmp_path, charts=False)
    assert again.success
    second = _requests_made(tmp_path / "raw")
    status = _checked(again)
    assert status.keys() == _status(tmp_path).keys()
    # nothing new anywhere: the run published nothing, the file is the first run's
    assert (tmp_path / "kmu.duckdb").read_bytes() == published
    assert _history_rows(tmp_path) == versions > 0  # nothing fetched, no vintage added
    assert {d for d, (checked, _) in status.items() if checked == "unchanged_upstream"} == STAMPED
    assert status["isoc_cicce_use"][1] == "2026-02-27T23:00:00+0100"
    assert status["unternehmensregister"][1] == "28.12.2022 17:12:43h"
    asked = _asked_again(first, second)
    for dataset in STAMPED:  # exactly one request each: the signal
        assert len(asked[dataset]) == 1 and asked[dataset][0].startswith(SIGNALS), asked[dataset]
    # a source stating no stamp (the DESI download) is asked conditionally and compared by bytes
    assert status["desi"] == ("unchanged_bytes", None)
    # what Dagster shows on the raw asset (issue 17.4): the check, the stamp, the vintages
    metadata, = [e.materialization.metadata for e in again.get_asset_materialization_events()
                 if e.asset_key.to_user_string() == "raw/eurostat__isoc_cicce_use"]
    con = duckdb.connect(str(tmp_path / "kmu.duckdb"), read_only=True)
    try:
        rows = con.execute("select count(*) from raw.eurostat__isoc_cicce_use").fetchone()[0]
    finally:
        con.close()
    assert metadata["upstream_check"].value == "unchanged_upstream"
    assert metadata["upstream_updated"].value == "2026-02-27T23:00:00+0100"
    assert metadata["vintage_count"].value == rows > 0  # the first load: every row new


    # a new release stamp on one flow: its data is asked again, the others' still not
    structure, = demo_copy.glob("eurostat/isoc_cicce_use/dataflow_*/*.body")
    text = structure.read_text(encoding="utf-8")
    old = "<c:AnnotationTitle>2026-02-27T23:00:00+0100</c:AnnotationTitle>"
    assert text.count(old) == 1
    structure.write_text(text.replace(old, old.replace("2026-02-27", "2026-07-15")),
                         encoding="utf-8")
    assert materialize_all(demo_copy, tmp_path, charts=False).success
    asked = _asked_again(second, _requests_made(tmp_path / "raw"))
    assert sorted(r.split("_")[0] for r in asked["isoc_cicce_use"]) == ["data", "dataflow"]
    assert "isoc_eb_bd" in asked and len(asked["isoc_eb_bd"]) == 1  # the others: signal only
    # the same bytes came back (a re-stamp without new values): kept, with the new stamp
    assert _status(tmp_path)["isoc_cicce_use"] == ("unchanged_bytes", "2026-07-15T23:00:00+0100")
