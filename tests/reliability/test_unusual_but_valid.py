"""Issue 18 point 12: answers that are valid but unusual load like the plain ones.

A UTF-8 byte order mark before an SDMX-ML message, an RFC 4180 header with every field quoted,
and `NaN` as the value of a flagged observation (Eurostat writes it for "no value") all come
through the real client from a lying server; the NaN must reach the raw table and the marts as
NULL, never as a floating-point NaN that sorts above every number and passes `is not null`.
"""

from __future__ import annotations

import csv
import io
from xml.sax.saxutils import quoteattr

import pytest

from tests.reliability import faults as f
from tests.reliability.conftest import check_errors, query, refresh
from tests.replay.conftest import materialize_against

CLOUD = "/data/isoc_cicce_use/"
CLOUD_DE = ("select indicator_code, size_class, year, value, flag "
            "from raw.eurostat__isoc_cicce_use where geo = 'DE' order by all")
SDMX_ML_TYPE = "application/vnd.sdmx.structurespecificdata+xml"
SERIES_KEY = ("freq", "size_emp", "nace_r2", "indic_is", "unit", "geo")


def as_sdmx_ml(body: bytes) -> bytes:
    """The recorded SDMX-CSV answer as the structure-specific SDMX-ML message Eurostat sends
    for the same request: one Series per key, one Obs per row, empty attributes left out."""
    series: dict[tuple, list[dict]] = {}
    for row in csv.DictReader(io.StringIO(body.decode("utf-8"))):
        series.setdefault(tuple(row[k] for k in SERIES_KEY), []).append(row)
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<message:StructureSpecificData '
             'xmlns:message="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message" '
             'xmlns:ss="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/structurespecific">'
             '<message:DataSet ss:structureRef="ESTAT_ISOC_CICCE_USE_1_0">']
    for key, rows in series.items():
        parts.append("<Series " + " ".join(f"{k}={quoteattr(v)}" for k, v in
                                           zip(SERIES_KEY, key, strict=True)) + ">")
        for row in rows:
            attrs = {k: row[k] for k in ("TIME_PERIOD", "OBS_VALUE", "OBS_FLAG") if row[k]}
            parts.append("<Obs " + " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items())
                         + "/>")
        parts.append("</Series>")
    parts.append("</message:DataSet></message:StructureSpecificData>\n")
    return "".join(parts).encode("utf-8")


def quoted_header(body: bytes) -> bytes:
    header, rest = body.split(b"\n", 1)
    return b",".join(b'"' + name + b'"' for name in header.split(b",")) + b"\n" + rest


def nan_with_flag(body: bytes) -> bytes:
    """DE, 10-49, 2020: no value, flag u (low reliability), as Eurostat writes it."""
    edited = body.replace(b"10-49,C10-S951_X_K,E_CC,PC_ENT,DE,2020,30.62,,",
                          b"10-49,C10-S951_X_K,E_CC,PC_ENT,DE,2020,NaN,u,")
    assert edited != body  # the recording still holds the row this test edits
    return edited


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """The cloud rows of Germany as the recorded, plain SDMX-CSV answer loads them."""
    from kmu_pipeline.replay import DEMO_SNAPSHOT
    from tests.reliability.faults import FaultServer

    workdir = tmp_path_factory.mktemp("plain")
    with FaultServer(DEMO_SNAPSHOT) as server:
        assert refresh(server, workdir, datasets=("isoc_cicce_use",)).success
    rows = query(workdir / "kmu.duckdb", CLOUD_DE)
    assert len(rows) > 10
    return rows


CASES = {
    "sdmx-ml": f.transformed(as_sdmx_ml, SDMX_ML_TYPE),  # the converter itself is right
    "sdmx-ml-with-bom": f.transformed(lambda b: b"\xef\xbb\xbf" + as_sdmx_ml(b), SDMX_ML_TYPE),
    "sdmx-csv-quoted-header": f.transformed(quoted_header),
    "sdmx-csv-quoted-header-with-bom": f.transformed(lambda b: b"\xef\xbb\xbf" + quoted_header(b)),
}


@pytest.mark.parametrize("case", CASES)
def test_valid_answer_in_an_unusual_form_loads_the_same_rows(faults, tmp_path, plain, case):
    faults.add(CLOUD, CASES[case])
    result = refresh(faults, tmp_path, datasets=("isoc_cicce_use",))
    assert check_errors(result) == {}
    assert query(tmp_path / "kmu.duckdb", CLOUD_DE) == plain


@pytest.mark.parametrize("form", ["sdmx-csv", "sdmx-ml"])
def test_nan_with_a_flag_is_stored_as_null(faults, tmp_path, form):
    edit = (nan_with_flag if form == "sdmx-csv"
            else lambda b: as_sdmx_ml(nan_with_flag(b)))
    faults.add(CLOUD, f.transformed(edit, SDMX_ML_TYPE if form == "sdmx-ml" else None))
    result = refresh(faults, tmp_path, datasets=("isoc_cicce_use",))
    assert check_errors(result) == {}
    cell = query(tmp_path / "kmu.duckdb",
                 "select value, isnan(value), flag from raw.eurostat__isoc_cicce_use "
                 "where geo = 'DE' and year = 2020 and size_class = '10-49'")
    assert cell == [(None, None, "u")]


def test_nan_with_a_flag_reaches_the_marts_as_null(faults, tmp_path):
    faults.add(CLOUD, f.transformed(nan_with_flag))
    result = materialize_against(faults, tmp_path, charts=False, force_refresh=True)
    assert result.success
    db = tmp_path / "kmu.duckdb"
    gaps = query(db, "select small_pct, large_vs_small_pp, flags from marts.adoption_gaps "
                     "where source = 'eurostat' and indicator = 'cloud_computing' "
                     "and geo = 'DE' and year = 2020")
    assert gaps == [(None, None, "10-49:u")]
    ranking = query(db, "select value, member_rank, gap_to_eu_pp from marts.adoption_ranking "
                        "where source = 'eurostat' and indicator = 'cloud_computing' "
                        "and geo = 'DE' and year = 2020 and size_class = '10-49'")
    assert ranking == [(None, None, None)]
    nans = query(db, "select count(*) from marts.indicators where isnan(value)")
    assert nans == [(0,)]
