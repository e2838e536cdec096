"""marts.adoption_gaps run by the project's model runner: shares per size class side by side, the
gaps between them, and the flags of the inputs listed in one fixed order."""

from __future__ import annotations

from tests.sql.marts import mart_warehouse

SIZES = ["250+", "50-249", "10-49", "0-9", "10-249"]
ROWS = [  # size_class, value, flag  (cloud computing, DE, 2020, % of enterprises)
    ("0-9", 20.0, "u"), ("10-49", 30.0, None), ("50-249", 41.0, "b"), ("250+", 62.0, "b"),
    ("10-249", None, "c"),
]


def _gaps(rows) -> tuple:
    con = mart_warehouse(
        "source varchar, indicator varchar, geo varchar, unit varchar, year integer, "
        "size_class varchar, nace varchar, value double, flag varchar",
        "insert into staging.observations values ('eurostat', 'cloud_computing', 'DE', "
        "'pct_enterprises', 2020, ?, 'C10-S951_X_K', ?, ?)", rows, ["marts.adoption_gaps"])
    return con.execute(
        "select micro_pct, small_pct, medium_pct, large_pct, sme_pct, large_vs_small_pp, "
        "large_to_small_ratio, flags from marts.adoption_gaps").fetchone()


def test_gaps_between_size_classes():
    assert _gaps(ROWS)[:7] == (20.0, 30.0, 41.0, 62.0, None, 32.0, 2.067)


def test_flags_are_listed_in_one_order_whatever_the_order_of_the_rows():
    """The same inputs give the same text, so a refresh with unchanged data changes nothing."""
    for shift in range(len(ROWS)):
        rows = ROWS[shift:] + ROWS[:shift]
        assert _gaps(rows)[-1] == "0-9:u 10-249:c 250+:b 50-249:b", rows
