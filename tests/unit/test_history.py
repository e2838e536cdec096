"""history.record_changes on hand-made loads: what a change is, what is not one."""

from __future__ import annotations

import math
from datetime import datetime

import pytest

from kmu_pipeline.catalogue import load_catalogue
from kmu_pipeline.history import (
    FIRST_LOADS,
    HISTORY,
    STORED,
    _columns,
    ensure_history,
    history_key,
    record_changes,
    write_down_first_load,
)
from kmu_pipeline.landing import Landed
from kmu_pipeline.schemas import OBSERVATION_COLUMNS, Observations, create_table
from kmu_pipeline.warehouse import connect

DATASET = load_catalogue().dataset("isoc_cicce_use")


def _landed(rid: str, at: str) -> Landed:
    return Landed(request_id=rid, source="eurostat", dataset=DATASET.name, method="GET",
                  path="data", query=[], form=[], url="http://x/data", status=200, headers={},
                  retrieved_at=at, sha256=rid * 4, size=1, body_file=f"{rid}.body")


def _load(con, rows: list[tuple], rid: str, at: str) -> int:
    """Load `rows` (geo, year, value, flag, conf, LAST UPDATE) as the load path does: into a
    new table, record, then put it in place of the raw table."""
    incoming = f"{DATASET.table}__incoming"
    create_table(con, incoming, Observations)
    con.executemany(
        f"insert into {incoming} ({', '.join(OBSERVATION_COLUMNS)}) values "
        f"('eurostat', 'isoc_cicce_use', 'cloud_computing', 'E_CC', '10-49', 'C10-S951_X_K', "
        f"?, 'pct_enterprises', ?, ?, ?, ?, ?, '{rid}')", rows)
    recorded = record_changes(con, DATASET, [_landed(rid, at)], incoming)
    con.execute(f"drop table if exists {DATASET.table}")
    con.execute(f"alter table {incoming} rename to {DATASET.table.partition('.')[2]}")
    return recorded


@pytest.fixture
def con():
    con = connect()
    con.execute("create schema raw")
    yield con
    con.close()


def _versions(con) -> list[tuple]:
    return con.execute(f"select geo, year, value, flag, conf_status, change, valid_from_agency, "
                       f"valid_to_agency, valid_from_retrieved, valid_to_retrieved from {HISTORY} "
                       f"order by geo, year, valid_from_retrieved").fetchall()


def test_the_key_is_the_models_unique_columns():
    assert history_key() == ["source", "dataset", "indicator", "size_class", "nace", "geo",
                             "unit", "year"]


def test_a_revised_value_flag_and_withdrawal_close_the_old_versions(con):
    first = [("DE", 2021, 38.42, None, None, "27/02/26 23:00:00"),
             ("DE", 2023, 43.34, None, None, "27/02/26 23:00:00"),
             ("EU27_2020", 2020, 36.1, None, None, "27/02/26 23:00:00")]
    assert _load(con, first, "a" * 16, "2026-03-01T10:00:00+00:00") == 3
    # the same data again, with a newer stamp only: no change, no rows
    again = [(g, y, v, f, c, "01/03/26 08:00:00") for g, y, v, f, c, _ in first]
    assert _load(con, again, "a" * 16, "2026-03-02T10:00:00+00:00") == 0
    second = [("DE", 2021, 38.42, "b", None, "30/06/26 23:00:00"),      # flag only
              ("DE", 2023, 44.1, None, None, "30/06/26 23:00:00"),      # value
              ("DE", 2025, 51.2, "p", None, "30/06/26 23:00:00")]       # new; EU27 withdrawn
    assert _load(con, second, "b" * 16, "2026-07-01T08:30:00+02:00") == 4
    march, june = datetime(2026, 3, 1, 10), datetime(2026, 7, 1, 6, 30)  # UTC
    old, new = datetime(2026, 2, 27, 23), datetime(2026, 6, 30, 23)
    assert _versions(con) == [
        ("DE", 2021, 38.42, None, None, "new", old, new, march, june),
        ("DE", 2021, 38.42, "b", None, "revised", new, None, june, None),
        ("DE", 2023, 43.34, None, None, "new", old, new, march, june),
        ("DE", 2023, 44.1, None, None, "revised", new, None, june, None),
        ("DE", 2025, 51.2, "p", None, "new", new, None, june, None),
        ("EU27_2020", 2020, 36.1, None, None, "new", old, new, march, june),
        ("EU27_2020", 2020, None, None, None, "withdrawn", new, None, june, None),
    ]
    withdrawal = con.execute(f"select request_id from {HISTORY} where change = 'withdrawn'")
    assert withdrawal.fetchall() == [("b" * 16,)]


def test_nan_is_stored_as_null_and_never_counts_as_a_change(con):
    rows = [("DE", 2021, math.nan, None, "C", "27/02/26 23:00:00")]
    assert _load(con, rows, "a" * 16, "2026-03-01T10:00:00+00:00") == 1
    assert _load(con, rows, "a" * 16, "2026-03-02T10:00:00+00:00") == 0
    assert con.execute(f"select value, conf_status from {HISTORY}").fetchall() == [(None, "C")]
    # confidentiality lifted: a revision
    rows = [("DE", 2021, 40.0, None, None, "30/06/26 23:00:00")]
    assert _load(con, rows, "b" * 16, "2026-07-01T10:00:00+00:00") == 1


def test_a_withdrawn_observation_that_comes_back_is_new_again(con):
    row = [("DE", 2021, 38.42, None, None, "27/02/26 23:00:00")]
    other = [("DE", 2023, 43.34, None, None, "27/02/26 23:00:00")]
    _load(con, row + other, "a" * 16, "2026-03-01T10:00:00+00:00")
    assert _load(con, other, "a" * 16, "2026-04-01T10:00:00+00:00") == 1
    assert _load(con, row + other, "a" * 16, "2026-05-01T10:00:00+00:00") == 1
    assert [v[5] for v in _versions(con) if v[1] == 2021] == ["new", "withdrawn", "new"]
    current = con.execute(f"select count(*) from {HISTORY} where valid_to_retrieved is null")
    assert current.fetchone()[0] == 2


def test_tables_of_other_models_have_no_history(con):
    labels = load_catalogue().dataset("codelists")
    assert record_changes(con, labels, [], f"{labels.table}__incoming") == 0
    assert not con.execute("select count(*) from duckdb_tables() where schema_name = 'history'"
                           ).fetchone()[0]


def test_rebuild_without_a_published_warehouse_says_so(tmp_path, capsys):
    from kmu_pipeline.cli import main

    assert main(["--warehouse", str(tmp_path / "kmu.duckdb"), "history", "rebuild",
                 "--landing", str(tmp_path / "raw")]) == 1
    assert f"no warehouse published at {tmp_path / 'kmu.duckdb'}" in capsys.readouterr().err


def test_a_broken_retrieval_record_is_refused_by_file_and_line(tmp_path):
    from kmu_pipeline.errors import KmuError
    from kmu_pipeline.history_rebuild import retrievals

    folder = tmp_path / "eurostat" / "isoc_cicce_use" / "data-aaaaaaaaaaaaaaaa"
    folder.mkdir(parents=True)
    (folder / "history.jsonl").write_text('{"request_id": "x"}\n{"request_id": \n')
    with pytest.raises(KmuError, match=r"dataset isoc_cicce_use: .*history.jsonl line 2 is not"):
        retrievals(tmp_path, DATASET, {"aaaaaaaaaaaaaaaa"})


def _stored(con) -> list[tuple]:
    return con.execute(f"select geo, year, change, request_id, valid_to_retrieved is null "
                       f"from {STORED} order by geo, year, valid_from_retrieved").fetchall()


STAMP, MARCH = "27/02/26 23:00:00", "2026-03-01T10:00:00+00:00"
FIRST = [("DE", 2021, 38.42, None, None, STAMP), ("DE", 2023, 43.34, None, None, STAMP),
         ("EU27_2020", 2020, 36.1, None, None, STAMP)]


def test_a_first_load_writes_a_row_per_request_not_a_copy_of_the_table(con):
    assert _load(con, FIRST, "a" * 16, MARCH) == 3
    assert _stored(con) == []
    assert con.execute(f"select raw_table, request_id, last_update, valid_from_agency, "
                       f"valid_from_retrieved from {FIRST_LOADS}").fetchall() == [
        (DATASET.table, "a" * 16, STAMP, datetime(2026, 2, 27, 23), datetime(2026, 3, 1, 10))]
    old, march = datetime(2026, 2, 27, 23), datetime(2026, 3, 1, 10)
    assert _versions(con) == [("DE", 2021, 38.42, None, None, "new", old, None, march, None),
                              ("DE", 2023, 43.34, None, None, "new", old, None, march, None),
                              ("EU27_2020", 2020, 36.1, None, None, "new", old, None, march,
                               None)]
    # a revision writes down the version it closes and its successor, nothing else
    revised = [FIRST[0], ("DE", 2023, 44.1, None, None, "30/06/26 23:00:00"), FIRST[2]]
    assert _load(con, revised, "a" * 16, "2026-07-01T10:00:00+00:00") == 1
    assert _stored(con) == [("DE", 2023, "new", "a" * 16, False),
                            ("DE", 2023, "revised", "a" * 16, True)]
    assert [v[2] for v in _versions(con)] == [38.42, 43.34, 44.1, 36.1]


def test_a_first_load_whose_request_has_two_stamps_is_written_down(con):
    rows = [FIRST[0], ("DE", 2023, 43.34, None, None, "28/02/26 09:00:00")]
    assert _load(con, rows, "a" * 16, MARCH) == 2
    assert con.execute(f"select count(*) from {FIRST_LOADS}").fetchone() == (0,)
    assert [(g, y, c) for g, y, c, *_ in _stored(con)] == [("DE", 2021, "new"),
                                                          ("DE", 2023, "new")]
    assert [v[6] for v in _versions(con)] == [datetime(2026, 2, 27, 23),
                                              datetime(2026, 2, 28, 9)]


@pytest.mark.parametrize("stamps, first_loads, stored", [
    ((None, None), [("a" * 16, None)], 0),   # SDMX-ML: no row has a stamp, one between them
    ((STAMP, None), [], 2),                  # some rows have one, some not: two
])
def test_rows_without_a_stamp_share_one_only_among_themselves(con, stamps, first_loads, stored):
    rows = [(*row[:5], stamp) for row, stamp in zip(FIRST[:2], stamps, strict=True)]
    assert _load(con, rows, "a" * 16, MARCH) == 2
    assert con.execute(f"select request_id, last_update from {FIRST_LOADS}").fetchall() \
        == first_loads
    assert len(_stored(con)) == stored


def test_an_unchanged_row_under_another_request_keeps_its_first_version(con):
    _load(con, FIRST, "a" * 16, MARCH)
    before = _versions(con)
    assert _load(con, FIRST, "c" * 16, "2026-04-01T10:00:00+00:00") == 0
    assert _versions(con) == before  # same versions, same clocks, same request
    assert [r[3] for r in _stored(con)] == ["a" * 16] * 3
    assert _load(con, FIRST, "c" * 16, "2026-05-01T10:00:00+00:00") == 0
    assert _versions(con) == before


def test_an_answer_of_no_data_keeps_the_first_load_in_the_history(con):
    _load(con, FIRST, "a" * 16, MARCH)
    before = _versions(con)
    write_down_first_load(con, DATASET)          # what refresh_dataset does on NoDataError
    create_table(con, DATASET.table, Observations)
    assert con.execute(f"select count(*) from {DATASET.table}").fetchone() == (0,)
    assert _versions(con) == before
    assert con.execute(f"select count(*) from {FIRST_LOADS}").fetchone() == (0,)


def test_no_data_for_a_table_never_loaded_writes_nothing_down(con):
    """The first answer of a dataset may be "no data": its raw table does not exist yet, and
    the history (of the other tables) must stay as it is."""
    _load(con, FIRST, "a" * 16, MARCH)
    before = _versions(con)
    never = load_catalogue().dataset("isoc_eb_bd")
    write_down_first_load(con, never)
    assert _versions(con) == before and _stored(con) == []


def test_a_history_table_of_the_old_layout_becomes_the_stored_versions(con):
    """Warehouses published before first loads were kept as a view hold every version in
    the table history.observations: the first load after the upgrade keeps them."""
    columns = ", ".join(f"{name} {kind}" for name, (kind, _) in _columns().items())
    con.execute(f"create schema history; create table {HISTORY} ({columns})")
    con.execute(f"insert into {HISTORY} (source, dataset, indicator, size_class, nace, geo, "
                f"unit, year, value, change, raw_table, request_id) values ('eurostat', "
                f"'isoc_cicce_use', 'cloud_computing', '10-49', 'C10-S951_X_K', 'DE', "
                f"'pct_enterprises', 2021, 38.42, 'new', '{DATASET.table}', '{'a' * 16}')")
    ensure_history(con)
    assert con.execute("select table_type from information_schema.tables where table_schema "
                       "= 'history' and table_name = 'observations'").fetchone() == ("VIEW",)
    assert con.execute(f"select geo, value from {HISTORY}").fetchall() == [("DE", 38.42)]
    # the stored version is current: an unchanged reload adds nothing, nothing is copied
    assert _load(con, FIRST[:1], "a" * 16, MARCH) == 0
    assert con.execute(f"select count(*) from {STORED}").fetchone() == (1,)


def _reference(loads: list[tuple[list[tuple], str, str]]) -> list[tuple]:
    """The history by its rules, written plainly: per key a list of versions."""
    versions: dict[tuple, list[list]] = {}
    for rows, rid, at in loads:
        when = datetime.fromisoformat(at).replace(tzinfo=None)
        incoming = {(g, y): (None if v is not None and math.isnan(v) else v, f, c, u)
                    for g, y, v, f, c, u in rows}
        for key in sorted(set(incoming) | set(versions)):
            history = versions.setdefault(key, [])
            current = history[-1] if history else None
            if key in incoming:
                value, flag, conf, stamp = incoming[key]
                if current is None or current[3] == "withdrawn":
                    change = "new"
                elif current[:3] != [value, flag, conf]:
                    change = "revised"
                else:
                    continue
                successor = [value, flag, conf, change, stamp, when, None, rid]
            elif current is not None and current[3] != "withdrawn":
                successor = [None, None, None, "withdrawn", None, when, None, rid]
            else:
                continue
            if current is not None:
                current[6] = when
            history.append(successor)
    return sorted(((g, y, *v) for (g, y), vs in versions.items() for v in vs),
                  key=lambda version: (version[0], version[1], version[7]))


@pytest.mark.parametrize("seed", range(24))
def test_random_loads_give_the_history_its_rules_say(con, seed):
    """Random loads over 6 observations (values, flags, NaN, withdrawals, comebacks, another
    request, a first load with two stamps) against _reference."""
    import random

    rng = random.Random(seed)
    keys = [(g, y) for g in ("DE", "FR", "EU27_2020") for y in (2021, 2023)]
    loads = []
    for number in range(6):
        stamp = f"{number + 1:02d}/03/26 23:00:00"
        rows = []
        for geo, year in rng.sample(keys, rng.randint(1, len(keys))):
            value, flag, conf = rng.choice([(10.0, None, None), (12.5, None, None),
                                            (12.5, "b", None), (math.nan, "c", "C"),
                                            (None, ":", None)])
            mixed = seed % 3 == 0 and number == 0 and geo == "FR"  # two stamps in one request
            rows.append((geo, year, value, flag, conf, "28/02/26 09:00:00" if mixed else stamp))
        rid = rng.choice(["a" * 16, "a" * 16, "b" * 16])
        loads.append((rows, rid, f"2026-0{number + 3}-01T10:00:00+00:00"))
        _load(con, rows, rid, loads[-1][2])
    recorded = con.execute(f"select geo, year, value, flag, conf_status, change, last_update, "
                           f"valid_from_retrieved, valid_to_retrieved, request_id from {HISTORY} "
                           f"order by geo, year, valid_from_retrieved").fetchall()
    assert recorded == _reference(loads)
