"""Does a catalogue entry ask only for what the agency has? One comparison for every source.

A source adapter reads the agency's own structure (Eurostat's dataflow with its partial
codelists, GENESIS's table metadata) into "dimension -> codes it has" and hands it here with
"dimension -> codes the entry asks for". Every mismatch is named, with the codes the agency does
have, so the message says what to write in catalogue.toml instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kmu_pipeline.catalogue import Dataset
from kmu_pipeline.errors import CatalogueMismatchError

SHOWN_CODES = 40  # codes of a long codelist listed in a message; the rest are counted


@dataclass(frozen=True)
class Mismatch:
    """One dimension (or other part of the request) the agency does not have as asked."""

    dimension: str
    rejected: tuple[str, ...]
    available: tuple[str, ...]
    note: str = ""

    def __str__(self) -> str:
        if self.note:
            return f"{self.dimension}: {self.note}"
        shown = ", ".join(self.available[:SHOWN_CODES])
        more = len(self.available) - SHOWN_CODES
        has = (f"it has {shown}{f' and {more} more' if more > 0 else ''}" if self.available
               else "the structure lists no codes for it")
        return f"{self.dimension}: {list(self.rejected)} not there ({has})"


def find_mismatches(requested: Mapping[str, Iterable[str]],
                    available: Mapping[str, Iterable[str]]) -> list[Mismatch]:
    """The requested codes, dimension by dimension, that the structure does not list."""
    found = []
    for dimension, codes in requested.items():
        if dimension not in available:
            found.append(Mismatch(dimension, tuple(codes), (),
                                  note=f"no such dimension (the structure has "
                                       f"{', '.join(available) or 'none'})"))
            continue
        have = set(available[dimension])
        rejected = tuple(c for c in codes if c not in have)
        if rejected:
            found.append(Mismatch(dimension, rejected, tuple(sorted(have))))
    return found


def raise_for_mismatches(dataset: Dataset, mismatches: list[Mismatch], what: str,
                         url: str) -> None:
    """CatalogueMismatchError naming every mismatch of `dataset` against `what`."""
    if mismatches:
        raise CatalogueMismatchError(
            f"the catalogue asks for what {what} does not have: "
            + "; ".join(str(m) for m in mismatches), dataset=dataset.name, url=url)
