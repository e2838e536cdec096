"""marts.firms_behind: shares x enterprise register counts, nearest register year."""

from __future__ import annotations

from tests.sql.marts import mart_warehouse

ROWS = [  # source, indicator, unit, size_class, nace, year, value, flag
    ("genesis", "enterprises", "enterprises_count", "10-49", "WZ08-C", 2021, 40000.0, "e"),
    ("genesis", "enterprises", "enterprises_count", "10-49", "WZ08-G", 2021, 60000.0, "e"),
    ("genesis", "enterprises", "enterprises_count", "10-49", "WZ08-C", 2023, 50000.0, "e"),
    ("genesis", "cloud_computing", "pct_enterprises", "10-49", "TOTAL", 2020, 31.0, "e"),
    ("genesis", "big_data", "pct_enterprises", "0-9", "TOTAL", 2020, None, "."),
]


def test_counts_from_shares_and_the_nearest_register_year():
    con = mart_warehouse(
        "source varchar, indicator varchar, unit varchar, size_class varchar, nace varchar, "
        "year integer, value double, flag varchar, geo varchar default 'DE'",
        "insert into staging.observations (source, indicator, unit, size_class, nace, year, "
        "value, flag) values (?, ?, ?, ?, ?, ?, ?, ?)", ROWS, ["marts.firms_behind"])
    rows = con.execute("select indicator, size_class, year, share_pct, register_year, "
                       "enterprises_count, firms_using_count, firms_behind_count "
                       "from marts.firms_behind").fetchall()
    # 2021 (1 year off) beats 2023 (3 years off); 100,000 x 69 % = 69,000 firms without cloud
    assert rows == [("cloud_computing", "10-49", 2020, 31.0, 2021, 100000, 31000, 69000)]
