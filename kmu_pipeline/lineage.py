"""Which raw datasets feed each SQL model, read from the SQL, its seeds and the catalogue.

Every model reads `staging.observations`, the union of all observation datasets, so its table
lineage says nothing about which dataset a mart uses. A model narrows the union by naming
harmonised indicators (a string literal in its SQL, or the `indicator` column of a seed it
reads); the datasets whose catalogue entry maps to a named indicator are its raw inputs. A model
that names none uses them all; one that reads another model inherits that model's datasets.
Over-approximate by design: a dataset is listed when a model could read its rows (a filter on
`source` is not read: in a CASE or on another table's join it does not narrow the union).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable

import sqlglot
from sqlglot import exp

from kmu_pipeline.catalogue import Catalogue
from kmu_pipeline.sql_models import OBSERVATIONS, Seed, SqlModel


def string_literals(sql: str) -> set[str]:
    tree = sqlglot.parse_one(sql, dialect="duckdb")
    return {lit.this for lit in tree.find_all(exp.Literal) if lit.is_string}


def _seed_indicators(seeds: Iterable[Seed]) -> set[str]:
    names = set()
    for seed in seeds:
        with open(seed.path, encoding="utf-8", newline="") as fh:
            names |= {row["indicator"] for row in csv.DictReader(fh) if "indicator" in row}
    return names


def raw_inputs(models: list[SqlModel], seeds: list[Seed],
               catalogue: Catalogue) -> dict[str, tuple[str, ...]]:
    """model table -> the raw tables (`raw.<source>__<name>`) whose rows it may read."""
    observed = catalogue.of_model("observations")
    raw_tables = {ds.table for ds in catalogue.datasets}
    seed_by_table = {seed.table: seed for seed in seeds}
    by_table = {model.table: model for model in models}
    found: dict[str, set[str]] = {}

    def inputs(table: str) -> set[str]:
        if table in found:
            return found[table]
        model = by_table[table]
        literals = string_literals(model.sql)
        literals |= _seed_indicators(seed_by_table[t] for t in model.depends_on
                                     if t in seed_by_table)
        result: set[str] = set()
        for upstream in model.depends_on:
            if upstream in raw_tables:
                result.add(upstream)
            elif upstream == OBSERVATIONS:
                named = [ds for ds in observed if literals & set(ds.indicators.values())]
                result |= {ds.table for ds in named or observed}
            elif upstream in by_table:
                result |= inputs(upstream)
        found[table] = result
        return result

    return {model.table: tuple(sorted(inputs(model.table))) for model in models}
