"""Point 6: hostile input. XML parsing refuses external entities and entity bombs (data and
structure messages, however far down the prolog the DOCTYPE hides); landed file names cannot
escape the data directory; data values never become SQL text.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from kmu_pipeline.sources import large_answers
from tests.reliability import faults as f
from tests.reliability.conftest import check_errors, query, refresh

REPO = Path(__file__).resolve().parents[2]
DATA = "/data/isoc_cicce_use/"
SS = (b'<message:StructureSpecificData xmlns:message="http://www.sdmx.org/resources/sdmxml/'
      b'schemas/v2_1/message"><message:DataSet><Series freq="A" size_emp="10-49" '
      b'nace_r2="C10-S951_X_K" indic_is="E_CC" unit="PC_ENT" geo="DE">'
      b'<Obs TIME_PERIOD="2020" OBS_VALUE="30.62" OBS_FLAG="&xxe;"/></Series>'
      b'</message:DataSet></message:StructureSpecificData>')
LAUGHS = b"".join(
    [b'<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">'.encode()
                                 for n in range(1, 10)])


def _xxe(secret_file: Path, padding: int = 0) -> bytes:
    return (b'<?xml version="1.0" encoding="UTF-8"?>\n' + b"<!-- " + b"x" * padding + b" -->"
            + f'<!DOCTYPE m [<!ENTITY xxe SYSTEM "file://{secret_file}">]>'.encode() + SS)


def _bomb() -> bytes:
    return (b'<?xml version="1.0"?>\n<!DOCTYPE m [' + LAUGHS + b'<!ENTITY xxe "&lol9;">]>' + SS)


@pytest.mark.parametrize("kind", ["xxe", "xxe-after-long-prolog", "billion-laughs"])
def test_entity_tricks_in_data_are_refused(faults, tmp_path, kind):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-FILE-CONTENT")
    body = {"xxe": _xxe(secret), "xxe-after-long-prolog": _xxe(secret, padding=70_000),
            "billion-laughs": _bomb()}[kind]
    faults.add(DATA, f.body(body, "application/vnd.sdmx.structurespecificdata+xml;version=2.1"))
    result = refresh(faults, tmp_path / "run")  # refused before expat expands anything
    error = check_errors(result)["eurostat__isoc_cicce_use"]
    assert "DOCTYPE/ENTITY declaration refused (XXE guard)" in error and DATA in error
    db = tmp_path / "run" / "kmu.duckdb"
    assert query(db, "select count(*) from raw.eurostat__isoc_cicce_use") == [(0,)]
    flags = query(db, "select distinct flag from raw.eurostat__isoc_eb_bd")
    assert all("SECRET" not in str(flag) for (flag,) in flags)


def test_entity_tricks_in_codelists_keep_last_labels_and_the_run_publishes(faults, tmp_path):
    """Structure messages go to sdmx1 (lxml); the DOCTYPE is refused before they get there."""
    assert refresh(faults, tmp_path, datasets=("isoc_eb_bd", "codelists")).success
    db = tmp_path / "kmu.duckdb"
    labels = query(db, "select count(*) from raw.eurostat__codelists")
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-FILE-CONTENT")

    def poison(body: bytes) -> bytes:
        head, _, rest = body.partition(b"?>")
        rest = rest.replace(b'xml:lang="en">Germany<', b'xml:lang="en">&xxe;<', 1)
        return (head + b"?><!-- " + b"x" * 70_000 + b" -->"
                + f'<!DOCTYPE m [<!ENTITY xxe SYSTEM "file://{secret}">]>'.encode() + rest)

    faults.add("/codelist/ESTAT/GEO", f.transformed(poison))
    result = refresh(faults, tmp_path, datasets=("isoc_eb_bd", "codelists"))
    # the other tables still publish; the publishing step then fails, naming the dataset
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert "raw.eurostat__codelists" in failure.event_specific_data.error.message
    assert query(db, "select count(*) from raw.eurostat__codelists") == labels
    assert query(db, "select label_en from raw.eurostat__codelists where codelist = 'GEO' "
                     "and code = 'DE'") == [("Germany",)]
    (status, error), = query(db, "select status, error from meta.dataset_status "
                                 "where dataset = 'raw.eurostat__codelists'")
    assert status == "stale" and "XXE guard" in error and "/codelist/ESTAT/GEO" in error


def test_a_footer_url_cannot_move_landing_out_of_the_data_directory(faults, tmp_path,
                                                                     reference, monkeypatch):
    monkeypatch.setattr(large_answers, "FOOTER_POLL_SECONDS", 0.05)
    monkeypatch.setattr(large_answers, "FOOTER_MAX_WAIT", 0.3)
    footer = (reference / "sdmx-samples/khaeru-sdmx-test-data_ESTAT/footer2.xml").read_bytes()
    evil = footer.replace(b"http://ec.europa.eu/eurostat/SDMX/diss-web/file/",
                          faults.url.encode() + b"/eurostat/../../../../../../tmp/escape/file/")
    faults.add(DATA, f.body(evil, "application/xml"))
    archive = (reference / "sdmx-samples/khaeru-sdmx-test-data_ESTAT/footer2.zip").read_bytes()
    faults.add("/file/", f.body(archive, "application/octet-stream"))
    error = check_errors(refresh(faults, tmp_path / "run"))["eurostat__isoc_cicce_use"]
    assert "/../../" in error  # the request named as it was made (its nama_10_gdp data fails)
    assert faults.requests_to("/file/7JUdWyAy4fmjBSWT")  # followed, and landed:
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert archive in {p.read_bytes() for p in written}
    assert written and all(p.is_relative_to(tmp_path / "run") for p in written)
    assert not Path("/tmp/escape").exists()
    raw = (tmp_path / "run" / "raw").resolve()
    assert all(p.resolve().is_relative_to(raw) for p in (tmp_path / "run" / "raw").rglob("*"))


def test_codes_with_quotes_are_data_not_sql(faults, tmp_path):
    assert refresh(faults, tmp_path).success
    db = tmp_path / "kmu.duckdb"
    runs = query(db, "select count(*) from meta.runs")
    flag = "b');--"  # flags are at most 8 characters (schema)
    nace = "C10'); drop table meta.runs; --"
    code = "E_BDA'; delete from meta.requests; --"

    def edit(body: bytes) -> bytes:
        body = body.replace(b"DE,2020,30.62,,", f"DE,2020,30.62,{flag},".encode())
        return body.replace(b",C10-S951_X_K,", f",{nace},".encode(), 1)

    faults.add(DATA, f.transformed(edit))
    faults.add("/data/isoc_eb_bd/", f.transformed(lambda b: b.replace(b",E_BDA,",
                                                                      f",{code},".encode(), 1)))
    errors = check_errors(refresh(faults, tmp_path))
    assert list(errors) == ["eurostat__isoc_eb_bd"]
    assert f"unknown indic_is codes: [{code!r}]" in errors["eurostat__isoc_eb_bd"]
    assert query(db, "select flag from raw.eurostat__isoc_cicce_use where geo = 'DE' and "
                     "year = 2020 and size_class = '10-49'") == [(flag,)]
    assert query(db, "select count(*) from raw.eurostat__isoc_cicce_use where nace = ?",
                 [nace]) == [(1,)]
    assert query(db, "select count(*) from meta.runs") == [(runs[0][0] + 1,)]
    assert query(db, "select count(*) > 0 from meta.requests") == [(True,)]
    (error,), = query(db, "select error from meta.dataset_status "
                          "where dataset = 'raw.eurostat__isoc_eb_bd'")
    assert code in error


# Interpolated into SQL text, and why each is not a data value: catalogue table names and SQL
# fragments written in the code; everything a source delivers goes through parameters.
ALLOWED_IN_SQL = {
    "schema", "table", "model.schema", "dataset.table", "select_sql", "cols", "keys",
    "PREVIEW_ROWS", "_literal(description)", "_literal(text)", "column",
    "columns", "', '.join(OBSERVATION_COLUMNS)", "', '.join(OBSERVATION_KEY)",
    "COMPARISON",  # harmonisation.py: the staging model's table name, a constant
    "DESI_MART",  # desi.py: the mart's table name, a constant
    # ingest/warehouse: the catalogue table a load goes into, and its `__incoming` twin
    "incoming", "target", "table.rpartition('.')[2]",
    # sdmx_harmonise: fixed SQL; the header only chooses fragments (checked by check_columns)
    "harmonise_sql(header)", "sql",  # insert_sql: the target, its columns, fixed SQL
    "', '.join(names)",  # validation.py: the model's column names
    "seed.schema",  # sql_models.py: always `seeds`, the folder the seed CSVs live in
    # history.py: the history's view and tables, fixed SQL, the model's key columns and a
    # catalogue table name (catalogue names are [a-z0-9_]); the answer's request ids and
    # retrieval times go in as parameters ($ids, $times)
    "HISTORY", "STORED", "FIRST_LOADS", "STAMP", "retrieved", "temp",
    "STORED.partition('.')[2]", "_first_load_versions(dataset.table)",
    "_incoming_versions(incoming, retrieved)",
    "RELATIONS",  # warehouse.py: the fixed query listing tables and views
    "kind",  # schemas.comment_table: "table" or "view", from the code
    "_IN_THIS_DATABASE",  # schemas.py: a fixed condition; schema and table are parameters
    "column_type",  # warehouse.ensure_layout: a model's type, schemas.duckdb_type's fixed set
}


def _sql_calls(tree: ast.AST):
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("execute", "executemany", "sql", "query")
                and node.args):
            yield node, node.args[0]


def test_no_data_value_is_interpolated_into_sql_text():
    found = {}
    for path in sorted((REPO / "kmu_pipeline").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call, sql in _sql_calls(tree):
            parts = [sql] if not isinstance(sql, ast.BinOp) else [sql.left, sql.right]
            for part in parts:
                if isinstance(part, ast.JoinedStr):
                    for value in part.values:
                        if isinstance(value, ast.FormattedValue):
                            found.setdefault(ast.unparse(value.value), []).append(
                                f"{path.relative_to(REPO)}:{call.lineno}")
    assert found, "the scan found no SQL at all: the check itself is broken"
    unexpected = {expr: where for expr, where in found.items() if expr not in ALLOWED_IN_SQL}
    assert unexpected == {}
    sql_files = list((REPO / "dbt_like_sql").rglob("*.sql"))
    assert sql_files and not [p for p in sql_files if "{{" in p.read_text() or
                              "{%" in p.read_text()]  # no templating in the models
