"""The marts' rows_and_ranges check counts, per column, the values outside the column's unit."""

from __future__ import annotations

import duckdb

from kmu_pipeline.defs.checks import out_of_range


def test_out_of_range_counts_shares_over_100_and_negative_counts_only():
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create table marts.t (share_pct double, firms_count integer, gap_pp double)")
    con.execute("insert into marts.t values (101, -1, -40), (100, 0, 5), (-0.5, 3, null)")
    assert out_of_range(con, "marts.t") == {"share_pct": 2, "firms_count": 1}
    con.execute("delete from marts.t where share_pct <> 100")
    assert out_of_range(con, "marts.t") == {}
