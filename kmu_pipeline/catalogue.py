"""Load catalogue.toml into frozen, validated Dataset records.

The catalogue is data, not code: adding a dataset is one [[datasets]] entry, and everything
downstream (assets, checks, replay, CLI listing) is generated from these records.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from types import MappingProxyType

CATALOGUE_PATH = Path(__file__).with_name("catalogue.toml")
SIZE_CLASSES = ("0-9", "10-49", "50-249", "250+", "10-249", "0-249", "10+", "0+")
# What a source's figures cover, the role models and charts select it by (never by its name)
SCOPES = {"eu": "every EU member state by one method",
          "national": "one country's national statistics office"}
_NAME = re.compile(r"^[a-z0-9_]+$")


class CatalogueError(ValueError):
    """The catalogue file itself is inconsistent (raised at load time, before any request)."""


@dataclass(frozen=True)
class Source:
    """An upstream agency: its default base URL, the env var that overrides it, the name
    charts cite it by, its scope (SCOPES) and (Eurostat) the dimension order of its series
    keys."""

    name: str
    base_url: str
    base_url_env: str
    agency: str
    scope: str
    dimensions: tuple[str, ...] = ()
    # (warn, fail) days since a raw table's last materialisation: the release rhythm; None for
    # a closed edition that is never republished
    freshness: tuple[int, int] | None = None

    def resolved_base_url(self) -> str:
        return os.environ.get(self.base_url_env, "").strip() or self.base_url


@dataclass(frozen=True)
class Dataset:
    """One raw table: where it comes from, its table model, and how codes map to the
    harmonised vocabulary. Keys an entry may have are exactly the fields below (plus size_map);
    any other key is refused when the catalogue is read, so a misspelt key never becomes a
    silent default."""

    name: str
    source: str
    code: str
    title: str
    model: str = "observations"     # schemas.TABLE_MODELS: observations, labels, desi
    indicators: Mapping[str, str] = field(default_factory=dict)
    units: Mapping[str, str] = field(default_factory=dict)
    size_classes: Mapping[str, str] = field(default_factory=dict)
    filters: Mapping[str, str] = field(default_factory=dict)
    start_period: int | None = None
    end_period: int | None = None
    verified: str = ""
    # GENESIS tables: the ffcsv variables carrying the harmonised dimensions
    indicator_variable: str | None = None  # or "value_variable_code": one value variable each
    size_variable: str | None = None       # absent: the whole table is `size_class`
    size_class: str | None = None
    nace_variable: str | None = None       # absent: nace = TOTAL
    # labels tables: the codelists to fetch
    codelists: tuple[str, ...] = ()

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

    def of_model(self, model: str) -> tuple[Dataset, ...]:
        return tuple(d for d in self.datasets if d.model == model)

    def indicator_names(self) -> list[str]:
        """Every harmonised indicator name the catalogue maps to."""
        return sorted({v for ds in self.datasets for v in ds.indicators.values()})


_MAPPINGS = ("indicators", "units", "filters")
_DATASET_KEYS = {f.name for f in fields(Dataset)} | {"size_map"}
_SOURCE_KEYS = {f.name for f in fields(Source)} - {"name"}


def _frozen(mapping: Mapping | None) -> Mapping:
    return MappingProxyType(dict(mapping or {}))


def _refuse_unknown(keys, allowed: set[str], where: str) -> None:
    unknown = sorted(set(keys) - allowed)
    if unknown:
        raise CatalogueError(f"{where}: unknown keys {unknown}; it takes {sorted(allowed)}")


def _size_classes(entry: dict, maps: Mapping[str, Mapping[str, str]], where: str) -> dict:
    """The entry's size codes: its own `size_classes` and those of its `size_map`."""
    sizes = dict(entry.get("size_classes", {}))
    if "size_map" in entry:
        if entry["size_map"] not in maps:
            raise CatalogueError(f"{where}: size_map {entry['size_map']!r} is not a [maps.*] "
                                 f"table")
        sizes.update(maps[entry["size_map"]])
    bad = sorted(set(sizes.values()) - set(SIZE_CLASSES))
    if bad:
        raise CatalogueError(f"{where}: size classes {bad} are not in {SIZE_CLASSES}")
    return sizes


def _build_dataset(entry: dict, maps: Mapping[str, Mapping[str, str]],
                   sources: set[str]) -> Dataset:
    name = entry.get("name", "")
    where = f"catalogue entry {name or '?'!r}"
    _refuse_unknown(entry, _DATASET_KEYS, where)
    if not _NAME.match(name):
        raise CatalogueError(f"{where}: name must match {_NAME.pattern}")
    if entry.get("source") not in sources:
        raise CatalogueError(f"{where}: source {entry.get('source')!r} not in {sorted(sources)}")
    values = {k: v for k, v in entry.items() if k != "size_map"}
    if values.get("model", "observations") == "observations" and not values.get("indicators"):
        raise CatalogueError(f"{where}: an observations table needs at least one indicator")
    if values.get("size_class") and values["size_class"] not in SIZE_CLASSES:
        raise CatalogueError(f"{where}: size_class {values['size_class']!r} is not in "
                             f"{SIZE_CLASSES}")
    values.update({k: _frozen(values.get(k)) for k in _MAPPINGS})
    values["size_classes"] = _frozen(_size_classes(entry, maps, where))
    values["codelists"] = tuple(values.get("codelists", ()))
    values["code"] = str(values.get("code", name))
    values.setdefault("title", "")
    return Dataset(**values)


def parse_catalogue(text: str) -> Catalogue:
    """Parse and validate catalogue TOML text."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"the catalogue is not valid TOML: {exc}") from None
    sources = {}
    for name, spec in doc.get("sources", {}).items():
        _refuse_unknown(spec, _SOURCE_KEYS, f"catalogue source {name!r}")
        sources[name] = Source(name=name, base_url=spec["base_url"].rstrip("/"),
                               base_url_env=spec["base_url_env"],
                               agency=spec.get("agency", name), scope=_scope(spec, name),
                               dimensions=tuple(spec.get("dimensions", ())),
                               freshness=_freshness(spec, name))
    maps = doc.get("maps", {})
    datasets = tuple(_build_dataset(e, maps, set(sources)) for e in doc.get("datasets", []))
    names = [d.asset_name for d in datasets]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise CatalogueError(f"duplicate dataset names in catalogue: {dupes}")
    return Catalogue(sources=_frozen(sources), datasets=datasets)


def _scope(spec: dict, name: str) -> str:
    """The source's scope, stated: a missing one would make every model that selects by scope
    drop the source's rows without a word."""
    if "scope" not in spec:
        raise CatalogueError(f"catalogue source {name!r}: no scope; it takes one of "
                             f"{tuple(SCOPES)}")
    if spec["scope"] not in SCOPES:
        raise CatalogueError(f"catalogue source {name!r}: scope {spec['scope']!r} is not one "
                             f"of {tuple(SCOPES)}")
    return spec["scope"]


def _freshness(spec: dict, name: str) -> tuple[int, int] | None:
    if "freshness" not in spec:
        return None
    window = spec["freshness"]
    _refuse_unknown(window, {"warn_days", "fail_days"}, f"catalogue source {name!r} freshness")
    try:
        warn, fail = int(window["warn_days"]), int(window["fail_days"])
    except (KeyError, TypeError, ValueError):
        raise CatalogueError(f"catalogue source {name!r}: freshness needs warn_days and "
                             f"fail_days as whole days, got {window!r}") from None
    if not 0 < warn < fail:
        raise CatalogueError(f"catalogue source {name!r}: freshness warn_days ({warn}) must be "
                             f"positive and below fail_days ({fail})")
    return warn, fail


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
