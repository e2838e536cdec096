"""A large SDMX-ML message parsed in two halves gives exactly the rows of one sequential parse;
a cut that is not between two <Series> of the DataSet falls back to one sequential parse."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from bench.generate import DIMENSIONS, bench_catalogue, write_sdmx_ml
from kmu_pipeline.chunk_insert import ARROW_SCHEMA
from kmu_pipeline.errors import MalformedPayloadError
from kmu_pipeline.ingest import load_dataset
from kmu_pipeline.landing import Landed
from kmu_pipeline.parse import sdmx_ml_split
from kmu_pipeline.parse.sdmx_ml import native_tables, parse_landed
from kmu_pipeline.parse.sdmx_ml_split import SplitFailed, find_cut, observation_tables_in_halves

FLOW = "isoc_bench_x"
DIMS = list(DIMENSIONS)


@pytest.fixture(autouse=True)
def cut_small_messages(monkeypatch):
    monkeypatch.setattr(sdmx_ml_split, "MIN_SPLIT_BYTES", 0)


def _landed() -> Landed:
    return Landed(request_id="0123456789abcdef", source="eurostat", dataset=FLOW, method="GET",
                  path=f"data/{FLOW}", query=[], form=[], url=f"http://127.0.0.1/data/{FLOW}",
                  status=200, headers={"content-type": "application/xml"}, retrieved_at="",
                  sha256="", size=0, body_file="m.xml")


def _dataset():
    return bench_catalogue([FLOW]).datasets[0]


def _whole(path) -> pa.Table:
    return pa.concat_tables(native_tables(path, _dataset(), _landed(), DIMS, 500))


def test_halves_give_the_rows_of_one_parse_in_order(tmp_path):
    body = tmp_path / "m.xml"
    write_sdmx_ml(body, 3000, FLOW)
    offset, opening, closing = find_cut(body)
    assert 0 < offset < body.stat().st_size and body.read_bytes()[offset:].startswith(b"<Series")
    assert opening.endswith(b">") and closing == b"</u:DataSet></m:StructureSpecificData>"
    halves = pa.concat_tables(observation_tables_in_halves(body, _dataset(), _landed(), DIMS,
                                                           500)).cast(ARROW_SCHEMA)
    one = pa.concat_tables(parse_landed(_landed(), body, _dataset(), DIMS, 500, halves=False))
    assert halves.num_rows == 3000 and halves.equals(one.cast(ARROW_SCHEMA))


def _trap(tmp_path) -> tuple:
    """A message whose middle lies in a comment holding a <Series> (a cut there is wrong)."""
    write_sdmx_ml(tmp_path / "a.xml", 1200, FLOW)
    text = (tmp_path / "a.xml").read_text()
    middle = text.index("    <Series ", len(text) // 2)
    first, second = text[:middle], text[middle:]
    fake = ('<Series freq="A" size_emp="10-49" nace_r2="C10" indic_is="E_CC" unit="PC_ENT" '
            'geo="XX"><Obs TIME_PERIOD="2020" OBS_VALUE="1"/></Series>')
    padding = " " * (len(fake) + 10 + abs(len(first) - len(second)))
    comment = "<!-- " + padding + fake + " -->\n"
    path = tmp_path / "m.xml"
    path.write_text(first + comment + second)
    return path, comment


def test_a_cut_inside_a_comment_is_refused_by_the_halves(tmp_path):
    path, comment = _trap(tmp_path)
    offset, _, _ = find_cut(path)
    start = path.read_text().index(comment)
    assert start < offset < start + len(comment)  # the trap is armed
    with pytest.raises(SplitFailed):
        list(observation_tables_in_halves(path, _dataset(), _landed(), DIMS, 500))


def _load(tmp_path, path) -> tuple[duckdb.DuckDBPyConnection, int]:
    landed = _landed()
    target = landed.body_path(tmp_path / "raw")
    target.parent.mkdir(parents=True)
    path.replace(target)
    con = duckdb.connect()
    con.execute("create schema raw; create schema meta")
    rows = load_dataset(con, _dataset(), [landed], tmp_path / "raw", bench_catalogue([FLOW]),
                        {})
    return con, rows


def test_ingest_falls_back_to_one_parse_and_keeps_every_row_once(tmp_path):
    path, _ = _trap(tmp_path)
    expected = _whole(path).num_rows
    con, rows = _load(tmp_path, path)
    table = _dataset().table
    assert rows == expected == con.execute(f"select count(*) from {table}").fetchone()[0]
    assert con.execute(f"select count(*) from {table} where geo = 'XX'").fetchone()[0] == 0


def test_malformed_second_half_is_reported_as_the_whole_message_would_be(tmp_path):
    body = tmp_path / "m.xml"
    write_sdmx_ml(body, 3000, FLOW)
    data = body.read_bytes()
    body.write_bytes(data[: len(data) * 3 // 4] + b'<Obs TIME_PERIOD="20')  # truncated
    # expat's own error with the true line number, as a parse in one piece gives it
    with pytest.raises(MalformedPayloadError,
                       match=f"dataset {FLOW}.*malformed SDMX-ML: .*: line [0-9]+, column"):
        _load(tmp_path, body)


def test_a_doctype_is_never_cut_and_the_message_refused(tmp_path):
    body = tmp_path / "m.xml"
    write_sdmx_ml(body, 3000, FLOW)
    text = body.read_text()
    declaration, _, rest = text.partition("\n")
    body.write_text(declaration + '\n<!DOCTYPE m [<!ENTITY e "x">]>\n' + rest)
    assert find_cut(body) is None
    with pytest.raises(MalformedPayloadError, match="DOCTYPE/ENTITY declaration refused"):
        _load(tmp_path, body)
