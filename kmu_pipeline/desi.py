"""DESI 2020, dimension 4: how well the recomputation from raw indicators reproduces the
published scores (the check behind marts.desi_2020). The DESI download itself is a raw table
like any other: catalogue entry `desi`, sources/desi.py, parse/desi_csv.py, schemas.DesiRows.
"""

from __future__ import annotations

DESI_MART = "marts.desi_2020"
MAX_DIFFERENCE = 0.5  # points: the tolerance the issue sets for the recomputation


def integration_reproduction(con) -> dict:
    """How well the recomputed dimension 4 matches the published one, over the 28 countries."""
    countries, worst, mismatched = con.execute(f"""
        with ranked as (
            select geo, recomputed_minus_published as diff, dimension_rank,
                rank() over (order by recomputed_score desc) as recomputed_rank
            from {DESI_MART}
            where dimension = 'desi_4_idt' and geo <> 'EU'
        )
        select count(*), max(abs(diff)), count(*) filter (where recomputed_rank <> dimension_rank)
        from ranked""").fetchone()
    return {"countries": countries, "max_abs_difference": worst, "rank_mismatches": mismatched,
            "passed": bool(countries) and worst is not None and worst <= MAX_DIFFERENCE
            and mismatched == 0}
