"""`kmu-pipeline catalogue check`: every catalogue entry against the agency's own structure.

The same check each raw asset runs before its data request (the source adapter's `check`), for
the whole catalogue at once and without asking for any data: a new user runs it first, a
maintainer after editing catalogue.toml.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kmu_pipeline.catalogue import Catalogue
from kmu_pipeline.errors import AuthError, CatalogueMismatchError, KmuError
from kmu_pipeline.sources.http import HttpClient
from kmu_pipeline.sources.registry import adapter_for


@dataclass(frozen=True)
class EntryCheck:
    dataset: str
    source: str
    code: str
    status: str   # ok | mismatch | error | skipped
    detail: str   # what is wrong, or (ok) what the entry was checked against

    @property
    def failed(self) -> bool:
        return self.status in ("mismatch", "error")


def check_catalogue(catalogue: Catalogue, client: HttpClient,
                    base_urls: Mapping[str, str]) -> list[EntryCheck]:
    """One EntryCheck per catalogue entry, in catalogue order."""
    results = []
    for dataset in catalogue.datasets:
        adapter = adapter_for(dataset.source)
        try:
            checked = adapter.check(dataset, catalogue.sources[dataset.source], client,
                                    base_urls[dataset.source])
        except CatalogueMismatchError as exc:
            status, detail = "mismatch", exc.detail
        except AuthError as exc:  # no credentials for this source: not checked, and says so
            status, detail = "skipped", exc.detail
        except KmuError as exc:
            status, detail = "error", str(exc)
        else:
            status, detail = "ok", checked
        results.append(EntryCheck(dataset.name, dataset.source, dataset.code, status, detail))
    return results
