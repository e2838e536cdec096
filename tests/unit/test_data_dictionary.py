"""The data dictionary lists every warehouse table and column with DuckDB's comments."""

from pathlib import Path

import duckdb

from kmu_pipeline.cli import main
from kmu_pipeline.data_dictionary import missing_comments, render


def _warehouse(path: Path) -> Path:
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute("create table marts.a (x integer, y varchar)")
    con.execute("comment on table marts.a is 'Table A | pipes'")
    con.execute("comment on column marts.a.x is 'the x'")
    con.execute("create table marts.b (z double)")
    con.close()
    return path


def test_render_lists_tables_columns_and_comments(tmp_path):
    text = render(_warehouse(tmp_path / "w.duckdb"))
    assert "## marts.a" in text and "## marts.b" in text
    assert "Table A \\| pipes" in text
    assert "| x | INTEGER | the x |" in text
    assert "| y | VARCHAR |  |" in text


def test_missing_comments_flags_tables_and_columns(tmp_path):
    missing = missing_comments(_warehouse(tmp_path / "w.duckdb"))
    assert missing == ["marts.b", "marts.a.y", "marts.b.z"]


def test_cli_docs_writes_file(tmp_path, capsys):
    wh = _warehouse(tmp_path / "w.duckdb")
    out = tmp_path / "docs" / "dd.md"
    assert main(["--warehouse", str(wh), "docs", "--output", str(out)]) == 0
    assert out.read_text().startswith("# Data dictionary")
    assert main(["--warehouse", str(tmp_path / "none.duckdb"), "docs"]) == 1


def test_cli_docs_prints_and_writes_no_file_unless_asked(tmp_path, capsys, monkeypatch):
    """Issue 15.7: `kmu-pipeline docs` used to rewrite docs/data_dictionary.md, a tracked file."""
    wh = _warehouse(tmp_path / "w.duckdb")
    monkeypatch.chdir(tmp_path)
    assert main(["--warehouse", str(wh), "docs"]) == 0
    assert capsys.readouterr().out == render(wh)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.duckdb"]
