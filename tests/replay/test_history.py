"""Two replayed releases of isoc_cicce_use: history.observations, marts.revisions, the README's
"what changed since my last analysis" query, a re-run adding nothing, and the rebuild from the
landed responses (kmu-pipeline history rebuild) equal to the history the runs built."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

from kmu_pipeline.cli import main
from kmu_pipeline.replay import DEMO_SNAPSHOT
from tests.conftest import REPO, copy_workdir
from tests.replay.conftest import materialize_all

RELEASE_2 = DEMO_SNAPSHOT / "releases" / "2026-06"
CICCE = "raw.eurostat__isoc_cicce_use"


def _query(workdir: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(workdir / "kmu.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def _history_rows(workdir: Path) -> int:
    return _query(workdir, "select count(*) from history.observations")[0][0]


@pytest.fixture(scope="module")
def two_releases(tmp_path_factory, published_demo) -> Path:
    workdir = tmp_path_factory.mktemp("releases") / "run"
    copy_workdir(published_demo[0], workdir)  # the demo, then release 2
    assert materialize_all(RELEASE_2, workdir, charts=False).success
    return workdir


def test_the_second_release_adds_its_five_changes(two_releases):
    rows = _query(two_releases, f"""
        select geo, size_class, year, value, flag, change, valid_from_agency::varchar,
               valid_to_agency::varchar, valid_to_retrieved is null
        from history.observations where raw_table = '{CICCE}' and indicator = 'cloud_computing'
          and (change <> 'new' or year = 2025 or valid_to_retrieved is not null)
        order by geo, size_class, year, valid_from_retrieved""")
    march, june = "2026-02-27 23:00:00", "2026-06-30 23:00:00"
    assert rows == [
        ("DE", "10+", 2023, 47.0, None, "new", march, june, False),
        ("DE", "10+", 2023, 46.2, None, "revised", june, None, True),
        ("DE", "10+", 2025, 51.2, "p", "new", june, None, True),
        ("DE", "10-49", 2023, 43.34, None, "new", march, june, False),
        ("DE", "10-49", 2023, 44.1, None, "revised", june, None, True),
        ("DE", "250+", 2021, 70.83, None, "new", march, june, False),
        ("DE", "250+", 2021, 70.83, "b", "revised", june, None, True),
        ("EU27_2020", "50-249", 2020, 45.66, None, "new", march, june, False),
        ("EU27_2020", "50-249", 2020, None, None, "withdrawn", june, None, True),
    ]
    # E_CC: 26 observations in release 1, then 5 new versions; E_CC1_SI: 447 in release 1,
    # restamped but unchanged in release 2, so no new version: 478 rows for the dataset
    assert _query(two_releases, f"select indicator, count(*) from history.observations "
                                f"where raw_table = '{CICCE}' group by all order by all") == [
        ("cloud_computing", 31), ("cloud_sophisticated_intermediate", 447)]
    # release 2's versions carry the retrieval time meta.requests has for their request
    assert _query(two_releases, f"""
        select count(*) from history.observations h join meta.requests r using (request_id)
        where h.raw_table = '{CICCE}'
          and h.valid_from_retrieved = r.retrieved_at::timestamptz at time zone 'UTC'""") == [(5,)]


def test_revisions_sums_up_the_release(two_releases):
    rows = _query(two_releases, """
        select is_first_release, is_latest_release, new_count, revised_count, withdrawn_count,
               flag_changed_count, largest_revision_pp, largest_revision_observation,
               flags_changed, agency_last_update::varchar, previous_retrieved_at is not null
        from marts.revisions where dataset = 'isoc_cicce_use' and indicator = 'cloud_computing'
        order by retrieved_at""")
    assert rows == [
        (True, False, 26, 0, 0, 0, None, None, None, "2026-02-27 23:00:00", False),
        (False, True, 1, 3, 1, 1, -0.8, "DE 10+ 2023", "DE 250+ 2021: (none) -> b",
         "2026-06-30 23:00:00", True),
    ]
    # the Digital Decade cloud KPI (E_CC1_SI) came with release 1 (stamped as printed in the
    # download, 11:00) and did not change in release 2
    assert _query(two_releases, """
        select is_first_release, new_count, revised_count, withdrawn_count,
               agency_last_update::varchar
        from marts.revisions where dataset = 'isoc_cicce_use'
          and indicator = 'cloud_sophisticated_intermediate'""") == [
        (True, 447, 0, 0, "2026-02-27 11:00:00")]
    # the other datasets had one release each
    assert _query(two_releases, "select count(*) from marts.revisions "
                                "where dataset <> 'isoc_cicce_use' and not is_first_release"
                  ) == [(0,)]


def test_the_readme_query_lists_what_changed_since_release_one(two_releases):
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Revisions")[1].split("\n## ")[0]
    (query,) = re.findall(r"```sql\n(.*?)```", section, re.S)
    rows = _query(two_releases, query.strip().rstrip(";"))
    assert [row[:10] for row in rows] == [
        ("cloud_computing", "DE", "10+", 2023, "revised", 47.0, 46.2, -0.8, None, None),
        ("cloud_computing", "DE", "10+", 2025, "new", None, 51.2, None, None, "p"),
        ("cloud_computing", "DE", "10-49", 2023, "revised", 43.34, 44.1, 0.76, None, None),
        ("cloud_computing", "DE", "250+", 2021, "revised", 70.83, 70.83, 0.0, None, "b"),
        ("cloud_computing", "EU27_2020", "50-249", 2020, "withdrawn", 45.66, None, None, None,
         None),
    ]


def test_rebuild_from_the_landed_responses_equals_the_history(two_releases, capsys, tmp_path):
    args = ["--warehouse", str(two_releases / "kmu.duckdb"), "history", "rebuild",
            "--landing", str(two_releases / "raw"), "--output", str(tmp_path / "rebuilt.duckdb")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "equal to the published history" in out
    rows = _history_rows(two_releases)
    assert f"rebuilt {rows} history rows" in out
    with duckdb.connect(str(tmp_path / "rebuilt.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from history.observations where change = "
                           "'withdrawn'").fetchone() == (1,)
    # without release 2's retrieval in the landing store, the rebuild no longer matches
    landing = tmp_path / "raw"
    shutil.copytree(two_releases / "raw", landing)
    (data,) = landing.glob("eurostat/isoc_cicce_use/data_*/history.jsonl")
    lines = data.read_text().splitlines()
    data.write_text("\n".join(line for line in lines if "f081afbef33fa706" not in line) + "\n")
    assert main([*args[:4], "--landing", str(landing)]) == 1
    # release 2's 5 versions are missing, and the 4 versions they closed differ (valid_to
    # set in one history, open in the other): 5 + 4 + 4
    assert "13 rows differ from the published history" in capsys.readouterr().out


def test_a_third_run_with_the_same_release_adds_nothing(two_releases):
    before = _history_rows(two_releases)
    assert materialize_all(RELEASE_2, two_releases, charts=False).success
    assert _history_rows(two_releases) == before
