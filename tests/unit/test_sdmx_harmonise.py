"""The parsing processes' pyarrow harmonisation gives what HARMONISE_SQL gives, or declines."""

from __future__ import annotations

import pyarrow as pa
import pytest

from bench.generate import DIMENSIONS, bench_catalogue, write_sdmx_ml
from kmu_pipeline.chunk_insert import ARROW_SCHEMA
from kmu_pipeline.landing import Landed
from kmu_pipeline.parse.sdmx_harmonise import harmonise_arrow, harmonise_sql, register_maps
from kmu_pipeline.parse.sdmx_ml import native_tables
from kmu_pipeline.schemas import OBSERVATION_COLUMNS
from kmu_pipeline.warehouse import connect

FLOW = "isoc_bench_x"
REQUEST = "0123456789abcdef"


def _by_sql(native: pa.Table) -> pa.Table:
    con = connect()
    register_maps(con, bench_catalogue([FLOW]).datasets[0])
    con.register("native", native)
    out = con.sql(harmonise_sql(native.column_names),
                  params={"dataset": FLOW, "request_id": REQUEST}).to_arrow_table()
    return out.select(OBSERVATION_COLUMNS).cast(ARROW_SCHEMA)


def _native(**columns: list) -> pa.Table:
    n = len(next(iter(columns.values())))
    base = {"freq": ["A"] * n, "size_emp": ["10-49"] * n, "nace_r2": ["C10"] * n,
            "indic_is": ["E_CC"] * n, "unit": ["PC_ENT"] * n, "geo": ["DE"] * n,
            "TIME_PERIOD": ["2020"] * n, "OBS_VALUE": ["1.5"] * n, "OBS_FLAG": [None] * n}
    base.update(columns)
    return pa.table({k: pa.array(v, pa.large_string()) for k, v in base.items()})


def test_generated_message_harmonises_the_same_chunk_by_chunk(tmp_path):
    write_sdmx_ml(tmp_path / "m.xml", 2500, FLOW)
    ds = bench_catalogue([FLOW]).datasets[0]
    landed = Landed(request_id=REQUEST, source="eurostat", dataset=FLOW, method="GET",
                    path="x", query=[], form=[], url="http://x", status=200, headers={},
                    retrieved_at="", sha256="", size=0, body_file="")
    chunks = list(native_tables(tmp_path / "m.xml", ds, landed, list(DIMENSIONS), 700))
    assert sum(c.num_rows for c in chunks) == 2500
    for native in chunks:
        assert harmonise_arrow(native, ds, REQUEST).cast(ARROW_SCHEMA).equals(_by_sql(native))


def test_blanks_spaces_flags_and_missing_columns_as_in_sql():
    ds = bench_catalogue([FLOW]).datasets[0]
    native = _native(OBS_VALUE=["", " 12.5 ", "1e2", "-0.5", "7"],
                     OBS_FLAG=[" c ", "", None, "b", "e "],
                     TIME_PERIOD=["2019", "2020", "2021", "2022", "2023"])
    for table in (native, native.drop_columns(["OBS_FLAG", "nace_r2"])):
        assert harmonise_arrow(table, ds, REQUEST).cast(ARROW_SCHEMA).equals(_by_sql(table))


PLAIN = {"indic_is": "E_CC", "size_emp": "10-49", "unit": "PC_ENT", "TIME_PERIOD": "2020",
         "OBS_VALUE": "1.5"}


@pytest.mark.parametrize("column, odd", [
    ("indic_is", "E_NEW"), ("size_emp", "GE500"), ("unit", "PC_X"), ("indic_is", None),
    ("TIME_PERIOD", "2020-Q1"), ("TIME_PERIOD", " 2020"), ("OBS_VALUE", "n/a"),
    ("OBS_VALUE", "+1"), ("OBS_VALUE", "1,5"),
])
def test_anything_unusual_is_left_to_sql(column, odd):
    ds = bench_catalogue([FLOW]).datasets[0]
    assert harmonise_arrow(_native(**{column: [PLAIN[column]] * 3}), ds, REQUEST) is not None
    assert harmonise_arrow(_native(**{column: [PLAIN[column], odd, PLAIN[column]]}), ds,
                           REQUEST) is None
