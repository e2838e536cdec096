"""Issue 15.7: what the README tells analysts holds on the demo warehouse: the `query` example
shows the source of each row, gaps print as published, and docs/data_dictionary.md is exactly
what `kmu-pipeline docs` prints for a fresh demo run (so it cannot go stale unnoticed)."""

from __future__ import annotations

import re

import pytest

from kmu_pipeline.cli import main
from tests.conftest import REPO

README = (REPO / "README.md").read_text()


@pytest.fixture
def warehouse(readme_run):
    """The warehouse the README's first command publishes (tests/conftest.py)."""
    return str(readme_run[0] / "data" / "kmu.duckdb")


def _query(warehouse, sql, capsys) -> list[str]:
    assert main(["--warehouse", warehouse, "query", "--csv", sql]) == 0
    return capsys.readouterr().out.splitlines()


def test_readme_query_example_names_the_source_of_each_row(warehouse, capsys):
    (sql,) = re.findall(r'kmu-pipeline query "(.*?)"', README)
    header, *rows = _query(warehouse, sql, capsys)
    assert header.split(",") == ["source", "indicator", "size_class", "value"]
    assert len(rows) == len(set(rows))  # no row printed twice
    # cloud computing, 10-49: Destatis and Eurostat, told apart by the source
    assert {"genesis,cloud_computing,10-49,31.0", "eurostat,cloud_computing,10-49,30.62"} <= set(
        rows)


def test_gaps_print_as_published_not_as_float_noise(warehouse, capsys):
    _, *rows = _query(warehouse, "select year, large_vs_small_pp from marts.adoption_gaps where "
                      "geo = 'DE' and indicator = 'cloud_computing' and source = 'eurostat' "
                      "order by year", capsys)
    assert rows == ["2018,28.22", "2020,31.43", "2021,32.41", "2023,34.26"]


def test_docs_data_dictionary_is_what_kmu_pipeline_docs_prints(warehouse, capsys):
    assert main(["--warehouse", warehouse, "docs"]) == 0
    printed = capsys.readouterr().out
    assert printed == (REPO / "docs" / "data_dictionary.md").read_text(encoding="utf-8"), (
        "docs/data_dictionary.md is stale: regenerate it with kmu-pipeline docs --output")
