"""The streaming SDMX-ML parser on real Eurostat messages from ../shared/reference."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
import sdmx

from kmu_pipeline.catalogue import parse_catalogue
from kmu_pipeline.errors import MalformedPayloadError, SchemaError, TooLargeError
from kmu_pipeline.landing import Landed
from kmu_pipeline.parse.sdmx_ml import CHUNK_ROWS, insert_landed, iter_native_rows, native_tables
from kmu_pipeline.schemas import Observations, create_table

ESTAT = "sdmx-samples/khaeru-sdmx-test-data_ESTAT"
CATALOGUE = """
[sources.eurostat]
base_url = "http://example.invalid"
base_url_env = "X"
scope = "eu"
[[datasets]]
name = "isoc_test"
source = "eurostat"
code = "isoc_test"
indicators = { E_CC = "cloud_computing" }
units = { PC_ENT = "pct_enterprises" }
size_classes = { "10-49" = "10-49" }
"""


def _landed(name: str = "isoc_test") -> Landed:
    return Landed(request_id="0123456789abcdef", source="eurostat", dataset=name, method="GET",
                  path="data/x", query=[], form=[], url="http://127.0.0.1/eurostat/data/x",
                  status=200, headers={"content-type": "application/xml"}, retrieved_at="",
                  sha256="", size=0, body_file="")


def _load(body, ds, dims, chunk_rows: int = CHUNK_ROWS) -> pd.DataFrame:
    """The message through insert_landed (as the Eurostat adapter loads it) into an
    observations table, in key order."""
    con = duckdb.connect()
    create_table(con, "obs", Observations)
    rows = insert_landed(con, "obs", _landed(), body, ds, dims, chunk_rows=chunk_rows)
    frame = con.sql("select * from obs order by geo, year").df()
    assert len(frame) == rows
    return frame


def test_real_structure_specific_message_streams_like_sdmx1(reference):
    path = reference / ESTAT / "NAMA_10_GDP-ss.xml"
    ds = parse_catalogue(CATALOGUE).datasets[0]
    rows = list(iter_native_rows(path, ds, _landed()))
    assert rows[0] == {"geo": "LU", "na_item": "B1GQ", "unit": "CP_MEUR", "freq": "A",
                       "TIME_PERIOD": "2012", "OBS_VALUE": "46526.2"}
    ours = pd.DataFrame(rows).set_index("TIME_PERIOD")["OBS_VALUE"].astype(float)
    theirs = sdmx.to_pandas(sdmx.read_sdmx(path)).reset_index()
    assert sorted(ours.items()) == sorted(
        zip(theirs["TIME_PERIOD"], theirs["value"], strict=True))


def test_real_413_footer_raises_too_large_with_file_url(reference):
    ds = parse_catalogue(CATALOGUE).datasets[0]
    with pytest.raises(TooLargeError, match=r"isoc_test.*diss-web/file/7JUdWyAy4fmjBSWT"):
        list(iter_native_rows(reference / ESTAT / "footer2.xml", ds, _landed()))


def test_isoc_message_becomes_tidy_rows(tmp_path):
    body = tmp_path / "m.xml"
    body.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<m:StructureSpecificData xmlns:m="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/'
        'message" xmlns:u="urn:x"><u:DataSet>'
        '<Series freq="A" size_emp="10-49" nace_r2="C10-S951_X_K" indic_is="E_CC" unit="PC_ENT"'
        ' geo="DE"><Obs TIME_PERIOD="2020" OBS_VALUE="30.62"/>'
        '<Obs TIME_PERIOD="2021" OBS_VALUE="38.42" OBS_FLAG="b"/></Series>'
        '</u:DataSet></m:StructureSpecificData>')
    ds = parse_catalogue(CATALOGUE).datasets[0]
    dims = ["freq", "size_emp", "nace_r2", "indic_is", "unit", "geo"]
    frame = _load(body, ds, dims)
    frame = frame.astype(object).where(frame.notna(), None)
    assert frame[["indicator", "size_class", "geo", "year", "value", "flag"]].values.tolist() == [
        ["cloud_computing", "10-49", "DE", 2020, 30.62, None],
        ["cloud_computing", "10-49", "DE", 2021, 38.42, "b"]]


def test_entity_declarations_are_refused(tmp_path):
    body = tmp_path / "bomb.xml"
    body.write_text('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><a>&lol;</a>')
    ds = parse_catalogue(CATALOGUE).datasets[0]
    with pytest.raises(MalformedPayloadError, match="isoc_test.*DOCTYPE"):
        list(iter_native_rows(body, ds, _landed()))


SS_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
           '<m:StructureSpecificData xmlns:m="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/'
           'message" xmlns:u="urn:x"><u:DataSet>')
DIMS = ["freq", "size_emp", "nace_r2", "indic_is", "unit", "geo"]


def _series(geo: str, years: dict[int, str]) -> str:
    obs = "".join(f'<Obs TIME_PERIOD="{y}" OBS_VALUE="{v}"/>' for y, v in years.items())
    return (f'<Series freq="A" size_emp="10-49" nace_r2="C10-S951_X_K" indic_is="E_CC" '
            f'unit="PC_ENT" geo="{geo}">{obs}</Series>')


def test_series_keys_survive_chunk_boundaries(tmp_path):
    body = tmp_path / "m.xml"
    body.write_text(SS_HEAD + _series("DE", {2019: "1", 2020: "2", 2021: "3"})
                    + _series("FR", {2020: "4"}) + _series("IT", {2020: "5", 2021: "6"})
                    + "</u:DataSet></m:StructureSpecificData>")
    ds = parse_catalogue(CATALOGUE).datasets[0]
    for chunk_rows in (1, 2, 4, 100):
        frame = _load(body, ds, DIMS, chunk_rows)
        assert frame[["geo", "year", "value"]].values.tolist() == [
            ["DE", 2019, 1.0], ["DE", 2020, 2.0], ["DE", 2021, 3.0], ["FR", 2020, 4.0],
            ["IT", 2020, 5.0], ["IT", 2021, 6.0]], chunk_rows


def test_generic_message_and_footer_go_to_the_lxml_reader(reference):
    ds = parse_catalogue(CATALOGUE).datasets[0]
    with pytest.raises(TooLargeError, match="7JUdWyAy4fmjBSWT"):
        _load(reference / ESTAT / "footer2.xml", ds, DIMS)


def test_doctype_after_a_long_prolog_is_still_refused(tmp_path):
    body = tmp_path / "late.xml"
    body.write_text('<?xml version="1.0"?><!--' + "x" * 8000 + '-->'
                    '<!DOCTYPE m [<!ENTITY e "boom">]>' + SS_HEAD[SS_HEAD.index("<m:"):]
                    + "</u:DataSet></m:StructureSpecificData>")
    ds = parse_catalogue(CATALOGUE).datasets[0]
    with pytest.raises(MalformedPayloadError, match="isoc_test.*DOCTYPE"):
        _load(body, ds, DIMS)


def test_malformed_structure_specific_xml_names_the_request(tmp_path):
    body = tmp_path / "cut.xml"
    body.write_text(SS_HEAD + _series("DE", {2020: "1"})[:-12])
    ds = parse_catalogue(CATALOGUE).datasets[0]
    with pytest.raises(MalformedPayloadError, match=r"isoc_test.*eurostat/data/x.*malformed"):
        _load(body, ds, DIMS)


@pytest.mark.parametrize("edit, text", [
    (lambda t: t.replace('indic_is="E_CC" unit="PC_ENT" geo="FR"',
                         'indic_is="E_NEW" unit="PC_ENT" geo="FR"'),
     "unknown indic_is codes: ['E_NEW']"),
    (lambda t: t.replace('OBS_VALUE="4"', 'OBS_VALUE="n/a"'), "non-numeric OBS_VALUE: ['n/a']"),
])
def test_unmapped_codes_and_bad_values_are_named(tmp_path, edit, text):
    body = tmp_path / "m.xml"
    body.write_text(edit(SS_HEAD + _series("DE", {2020: "1"}) + _series("FR", {2020: "4"})
                         + "</u:DataSet></m:StructureSpecificData>"))
    ds = parse_catalogue(CATALOGUE).datasets[0]
    with pytest.raises(SchemaError) as info:
        _load(body, ds, DIMS, chunk_rows=1)
    assert text in str(info.value) and "isoc_test" in str(info.value)


def _native(body, ds, dims, chunk_rows: int = CHUNK_ROWS) -> list[tuple]:
    """The native rows native_tables reads, as tuples in document order."""
    columns = [*dims, "TIME_PERIOD", "OBS_VALUE", "OBS_FLAG", "CONF_STATUS"]
    return [tuple(row[c] for c in columns)
            for table in native_tables(body, ds, _landed(), dims, chunk_rows)
            for row in table.select(columns).to_pylist()]


def _lxml_native(body, ds, dims) -> list[tuple]:
    columns = [*dims, "TIME_PERIOD", "OBS_VALUE", "OBS_FLAG", "CONF_STATUS"]
    return [tuple(row.get(c) for c in columns) for row in iter_native_rows(body, ds, _landed())]


def test_real_structure_specific_message_reads_as_sdmx1_reads_it(reference):
    path = reference / ESTAT / "NAMA_10_GDP-ss.xml"
    ds = parse_catalogue(CATALOGUE).datasets[0]
    dims = ["geo", "na_item", "unit", "freq"]
    rows = _native(path, ds, dims)
    assert rows[0] == ("LU", "B1GQ", "CP_MEUR", "A", "2012", "46526.2", None, None)
    assert rows == _lxml_native(path, ds, dims)
    theirs = sdmx.to_pandas(sdmx.read_sdmx(path)).reset_index()
    assert sorted((r[4], float(r[5])) for r in rows) == sorted(
        zip(theirs["TIME_PERIOD"], theirs["value"], strict=True))


SS_TAIL = "</u:DataSet></m:StructureSpecificData>"
KEY = 'freq="A" size_emp="10-49" nace_r2="C10-S951_X_K" indic_is="E_CC" unit="PC_ENT"'


@pytest.mark.parametrize("name, text", [
    ("two data sets", SS_HEAD + _series("DE", {2020: "1"}) + _series("FR", {2020: "2"})
     + '</u:DataSet><u:DataSet>' + _series("IT", {2020: "3", 2021: "4"}) + SS_TAIL),
    ("series without observations", SS_HEAD + f'<Series {KEY} geo="AT"/>'
     + _series("DE", {2020: "1"}) + f'<Series {KEY} geo="BE"></Series>'
     + _series("FR", {2020: "2"}) + f'<Series {KEY} geo="CZ"/>' + SS_TAIL),
    ("entities and references in values", SS_HEAD + f'<Series {KEY} geo="D&amp;E&#233;">'
     '<Obs TIME_PERIOD="2020" OBS_VALUE="1" OBS_FLAG=\'&quot;b&lt;\'/></Series>' + SS_TAIL),
    ("attributes in any order, some missing", SS_HEAD + f'<Series geo="DE" {KEY}>'
     '<Obs OBS_FLAG="c" CONF_STATUS="C" TIME_PERIOD="2019"/>'
     '<Obs OBS_VALUE="2" TIME_PERIOD="2020"/></Series>' + SS_TAIL),
    ("byte order mark", "\ufeff" + SS_HEAD + _series("DE", {2020: "1"}) + SS_TAIL),
    ("a comment (the lxml reader)", SS_HEAD + "<!-- <Obs TIME_PERIOD='1'/> -->"
     + _series("DE", {2020: "1"}) + SS_TAIL),
    ("observations outside series (the lxml reader)", SS_HEAD
     + f'<Obs {KEY} geo="DE" TIME_PERIOD="2020" OBS_VALUE="1"/>' + SS_TAIL),
])
def test_structure_specific_reader_reads_what_the_lxml_reader_reads(tmp_path, name, text):
    body = tmp_path / "m.xml"
    body.write_text(text, encoding="utf-8")
    ds = parse_catalogue(CATALOGUE).datasets[0]
    ours = _native(body, ds, DIMS, chunk_rows=2)
    assert ours == _lxml_native(body, ds, DIMS) and ours, name


def test_a_real_cross_sectional_message_reads_as_the_lxml_reader_reads_it(reference):
    """Eurostat's demography sample puts TIME_PERIOD on the series and a measure per <Obs>:
    a series attribute stands for an observation's own where the observation has none."""
    body = reference / ESTAT / "demography-xs.xml"
    ds = parse_catalogue(CATALOGUE).datasets[0]
    dims = ["FREQ", "SEX", "COUNTRY"]
    ours = _native(body, ds, dims, chunk_rows=5)
    assert ours[0] == ("A", "T", "BE", "2007", "1.82", None, None)
    assert ours == _lxml_native(body, ds, dims) and len(ours) == 60


def test_a_latin_1_message_goes_to_the_lxml_reader(tmp_path):
    body = tmp_path / "m.xml"
    body.write_bytes(SS_HEAD.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').encode()
                     + _series("D\xe9", {2020: "1"}).encode("latin-1") + SS_TAIL.encode())
    ds = parse_catalogue(CATALOGUE).datasets[0]
    assert [r[5] for r in _native(body, ds, DIMS)] == ["D\u00e9"]
    # the lxml reader's plain strings load as xml2arrow's dictionary-coded keys do
    assert list(_load(body, ds, DIMS)["geo"]) == ["D\u00e9"]


@pytest.mark.parametrize("tail, what", [
    (SS_TAIL + "<junk/>", "Extra content at the end"),
    ("</u:DataSet>", "Premature end of data"),
    (SS_TAIL.replace("</u:DataSet>", f'<Series {KEY} geo="A<B"/></u:DataSet>'), "Unescaped '<'"),
    (SS_TAIL.replace("</u:DataSet>", '<Obs TIME_PERIOD="2020"/></u:DataSet>'),
     "read 1 <Obs> inside series, the body has 2 <Obs> tags"),
])
def test_what_xml2arrow_would_let_through_is_refused(tmp_path, tail, what):
    body = tmp_path / "m.xml"
    body.write_text(SS_HEAD + _series("DE", {2020: "1"}) + tail)
    ds = parse_catalogue(CATALOGUE).datasets[0]
    with pytest.raises(MalformedPayloadError, match="isoc_test") as info:
        _native(body, ds, DIMS)
    assert what in str(info.value)
