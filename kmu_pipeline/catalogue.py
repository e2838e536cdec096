"""Load catalogue.toml into frozen, validated Dataset records.

The catalogue is data, not code: adding a dataset is one [[datasets]] entry, and everything
downstream (assets, checks, replay, CLI listing) is generated from these records.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType

CATALOGUE_PATH = Path(__file__).with_name("catalogue.toml")
SIZE_CLASSES = ("0-9", "10-49", "50-249", "250+", "10-249", "0-249", "10+", "0+")
_NAME = re.compile(r"^[a-z0-9_]+$")


class CatalogueError(ValueError):
    """The catalogue file itself is inconsistent (raised at load time, before any request)."""


@dataclass(frozen=True)
class Source:
    """An upstream agency: its default base URL and the env var that overrides it."""

    name: str
    base_url: str
    base_url_env: str
    options: Mapping[str, object] = field(default_factory=dict)

    def resolved_base_url(self) -> str:
        return os.environ.get(self.base_url_env, "").strip() or self.base_url


@dataclass(frozen=True)
class Dataset:
    """One source table and how its codes map to the harmonised vocabulary."""

    name: str
    source: str
    code: str
    title: str
    indicators: Mapping[str, str]
    units: Mapping[str, str]
    size_classes: Mapping[str, str]
    filters: Mapping[str, str] = field(default_factory=dict)
    start_period: int | None = None
    end_period: int | None = None
    verified: str = ""
    options: Mapping[str, object] = field(default_factory=dict)

    @property
    def table(self) -> str:
        """Schema-qualified raw table name, e.g. raw.eurostat__isoc_cicce_use."""
        return f"raw.{self.source}__{self.name}"

    @property
    def asset_name(self) -> str:
        return f"{self.source}__{self.name}"


@dataclass(frozen=True)
class Catalogue:
    sources: Mapping[str, Source]
    datasets: tuple[Dataset, ...]

    def dataset(self, name: str) -> Dataset:
        for ds in self.datasets:
            if name in (ds.name, ds.asset_name):
                return ds
        known = ", ".join(d.name for d in self.datasets)
        raise KeyError(f"unknown dataset {name!r}; the catalogue has: {known}")

    def of_source(self, source: str) -> tuple[Dataset, ...]:
        return tuple(d for d in self.datasets if d.source == source)


_DATASET_KEYS = {
    "name", "source", "code", "title", "indicators", "units", "size_map", "size_classes",
    "filters", "start_period", "end_period", "verified",
}


def _frozen(mapping: Mapping | None) -> Mapping:
    return MappingProxyType(dict(mapping or {}))


def _build_dataset(entry: dict, maps: Mapping[str, Mapping[str, str]],
                   sources: set[str]) -> Dataset:
    name = entry.get("name", "")
    where = f"catalogue entry {name or '?'!r}"
    if not _NAME.match(name):
        raise CatalogueError(f"{where}: name must match {_NAME.pattern}")
    if entry.get("source") not in sources:
        raise CatalogueError(f"{where}: source {entry.get('source')!r} not in {sorted(sources)}")
    size_classes = dict(entry.get("size_classes", {}))
    if "size_map" in entry:
        if entry["size_map"] not in maps:
            raise CatalogueError(f"{where}: size_map {entry['size_map']!r} is not a [maps.*] table")
        size_classes.update(maps[entry["size_map"]])
    bad = sorted(set(size_classes.values()) - set(SIZE_CLASSES))
    if bad:
        raise CatalogueError(f"{where}: size classes {bad} are not in {SIZE_CLASSES}")
    if not entry.get("indicators"):
        raise CatalogueError(f"{where}: needs at least one indicator mapping")
    return Dataset(
        name=name,
        source=entry["source"],
        code=str(entry.get("code", name)),
        title=entry.get("title", ""),
        indicators=_frozen(entry["indicators"]),
        units=_frozen(entry.get("units")),
        size_classes=_frozen(size_classes),
        filters=_frozen(entry.get("filters")),
        start_period=entry.get("start_period"),
        end_period=entry.get("end_period"),
        verified=entry.get("verified", ""),
        options=_frozen({k: v for k, v in entry.items() if k not in _DATASET_KEYS}),
    )


def parse_catalogue(text: str) -> Catalogue:
    """Parse and validate catalogue TOML text."""
    doc = tomllib.loads(text)
    sources = {
        name: Source(
            name=name,
            base_url=spec["base_url"].rstrip("/"),
            base_url_env=spec["base_url_env"],
            options=_frozen({k: v for k, v in spec.items()
                             if k not in ("base_url", "base_url_env")}),
        )
        for name, spec in doc.get("sources", {}).items()
    }
    maps = doc.get("maps", {})
    datasets = tuple(_build_dataset(e, maps, set(sources)) for e in doc.get("datasets", []))
    names = [d.asset_name for d in datasets]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise CatalogueError(f"duplicate dataset names in catalogue: {dupes}")
    return Catalogue(sources=_frozen(sources), datasets=datasets)


CATALOGUE_ENV = "KMU_CATALOGUE"


def load_catalogue(path: Path | None = None) -> Catalogue:
    """The catalogue: `path`, else the file KMU_CATALOGUE names (a deployment's own catalogue,
    or a corrected copy to try with `kmu-pipeline catalogue check`), else the shipped one.
    Read once per process and file."""
    chosen = path or os.environ.get(CATALOGUE_ENV, "").strip() or CATALOGUE_PATH
    return _read_catalogue(Path(chosen).resolve())


@cache
def _read_catalogue(path: Path) -> Catalogue:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogueError(f"cannot read the catalogue {path}: {exc.strerror}") from None
    return parse_catalogue(text)
