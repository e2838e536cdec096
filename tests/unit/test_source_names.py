"""Issue 14, "plain grep": a source's name is spelled as a string literal only where the source
is defined (the registry and its adapter; the catalogue is TOML, not searched). Models, charts
and checks select sources by the scope the catalogue gives them (staging.sources), so adding or
renaming a source changes none of them."""

from __future__ import annotations

import re
from pathlib import Path

from kmu_pipeline.sources.registry import ADAPTERS
from tests.conftest import REPO

NAMES = sorted(ADAPTERS)
LITERAL = re.compile("(['\"])(?:" + "|".join(map(re.escape, NAMES)) + r")\1")
SEARCHED = ("kmu_pipeline/**/*.py", "dbt_like_sql/**/*.sql")

DEFINED = {"kmu_pipeline/sources/registry.py", *(f"kmu_pipeline/sources/{n}.py" for n in NAMES)}
# The demo recorders, run by hand, each write one source's recorded answers into
# kmu_pipeline/demo_snapshot/<source>/: fixture makers of that source (as tests/genesis/
# cassettes.py is), never imported by the pipeline.
RECORDERS = {"kmu_pipeline/demo_snapshot/make_eurostat.py",
             "kmu_pipeline/demo_snapshot/make_release.py",  # a second Eurostat release
             "kmu_pipeline/demo_snapshot/make_genesis.py",
             "kmu_pipeline/demo_snapshot/make_desi.py"}
# The same word meaning something else: (file, the text around it on its line, what it is)
HOMONYMS = [
    ("kmu_pipeline/schemas.py", '"desi": DesiRows',
     "the table model of the DESI download (a catalogue entry's model = \"desi\")"),
    ("dbt_like_sql/marts/desi_2020.sql", "w.indicator = 'desi'",
     "DESI's indicator id of the overall index"),
]


def _spelled(root: Path = REPO) -> list[tuple[str, int, str]]:
    """(file, line number, line) of every source name as a string literal outside the
    definitions and recorders."""
    found = []
    for pattern in SEARCHED:
        for path in sorted(root.glob(pattern)):
            name = path.relative_to(root).as_posix()
            if name in DEFINED | RECORDERS:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if LITERAL.search(line) and not any(
                        name == file and text in line for file, text, _ in HOMONYMS):
                    found.append((name, number, line.strip()))
    return found


def test_source_names_are_spelled_only_where_the_sources_are_defined():
    assert not _spelled(), ("select sources by scope (staging.sources, catalogue.sources[...]"
                            ".scope), not by name: " + "; ".join(map(str, _spelled())))


def test_the_exceptions_still_exist():
    """An exception whose file or text is gone is removed, so the list stays what it allows."""
    for name in DEFINED | RECORDERS:
        assert (REPO / name).is_file(), name
    for name, text, _ in HOMONYMS:
        assert text in (REPO / name).read_text(encoding="utf-8"), (name, text)


def test_a_name_as_a_filter_is_found(tmp_path):
    """The search finds what it is for: a literal in a model or a chart, quoted either way."""
    (tmp_path / "dbt_like_sql" / "marts").mkdir(parents=True)
    (tmp_path / "dbt_like_sql" / "marts" / "x.sql").write_text(
        "select * from staging.observations where source = 'genesis'\n")
    (tmp_path / "kmu_pipeline" / "charts").mkdir(parents=True)
    (tmp_path / "kmu_pipeline" / "charts" / "x.py").write_text('SOURCE = "eurostat"\n')
    assert [(name, number) for name, number, _ in _spelled(tmp_path)] == [
        ("kmu_pipeline/charts/x.py", 1), ("dbt_like_sql/marts/x.sql", 1)]
