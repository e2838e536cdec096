"""The one place that lists the sources: name -> adapter. Resources, CLI and ingest iterate it."""

from __future__ import annotations

from kmu_pipeline.sources import desi, eurostat, genesis
from kmu_pipeline.sources.adapter import SourceAdapter

ADAPTERS: dict[str, SourceAdapter] = {
    a.name: a for a in (eurostat.ADAPTER, genesis.ADAPTER, desi.ADAPTER)}


def adapter_for(source: str) -> SourceAdapter:
    try:
        return ADAPTERS[source]
    except KeyError:
        raise KeyError(f"no adapter for source {source!r}; registered: {sorted(ADAPTERS)}") \
            from None
