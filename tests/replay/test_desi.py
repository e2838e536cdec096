"""DESI 2020 through the real client: the Commission's full download replayed from a local
server; dimension 4 recomputed from its raw indicators reproduces every published score."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from kmu_pipeline.catalogue import load_catalogue
from kmu_pipeline.errors import MalformedPayloadError
from kmu_pipeline.parse.desi_csv import parse_desi
from kmu_pipeline.replay import add_recording
from kmu_pipeline.sources.desi import download_request
from tests.replay.conftest import materialize_all

DOWNLOAD = "desi/DESI_2020_edition_digital-agenda-data_mett29-DataViz.csv"


def test_full_download_reproduces_integration_scores_and_ranks(reference, demo_copy, tmp_path):
    shutil.rmtree(demo_copy / "desi")  # the real, complete download instead of the demo's part
    request = download_request(load_catalogue().dataset("desi"))
    add_recording(demo_copy, source="desi", dataset=request.dataset, path=request.path,
                  body=(reference / DOWNLOAD).read_bytes(), content_type="text/csv")
    result = materialize_all(demo_copy, tmp_path / "run", charts=False)
    assert result.success
    check = next(e for e in result.get_asset_check_evaluations()
                 if e.check_name == "desi_integration_reproduced")
    assert check.passed and check.metadata["countries"].value == 28
    assert check.metadata["max_abs_difference"].value <= 0.5
    con = duckdb.connect(str(tmp_path / "run" / "kmu.duckdb"), read_only=True)
    assert con.execute("select count(*) from raw.desi__desi").fetchone() == (16704,)
    rows = con.execute("select geo, score, recomputed_score, dimension_rank, overall_rank "
                       "from marts.desi_2020 where dimension = 'desi_4_idt' and geo <> 'EU' "
                       "order by dimension_rank").fetchall()
    assert len(rows) == 28 and max(abs(s - r) for _, s, r, _, _ in rows) < 0.001
    recomputed_order = [g for g, *_ in sorted(rows, key=lambda row: -row[2])]
    assert recomputed_order == [g for g, *_ in rows]  # same ranks as published
    germany = next(row for row in rows if row[0] == "DE")
    assert germany[3] == 18 and germany[4] == 12  # the article: 18th in integration, 12th overall
    assert con.execute("select geo from marts.desi_2020 where overall_rank = 1 limit 1"
                       ).fetchone() == ("FI",)


def test_an_html_page_is_not_the_desi_download(tmp_path):
    from kmu_pipeline.landing import Landed

    body = tmp_path / "b.body"
    body.write_text("<html><body>Digital Scoreboard maintenance</body></html>")
    landed = Landed(request_id="0123456789abcdef", source="desi", dataset="desi", method="GET",
                    path="download/DESI.csv", query=(), form=(), url="http://127.0.0.1/x",
                    status=200, headers={}, retrieved_at="", sha256="", size=0,
                    body_file="b.body")
    with pytest.raises(MalformedPayloadError, match="not the DESI CSV"):
        parse_desi(landed, body)
