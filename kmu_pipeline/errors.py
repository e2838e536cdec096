"""One exception class per failure a user can act on.

Every error names the dataset, the request and the cause, so a red asset or a failed CLI run
says what to fix without a stack trace. Library code raises; only cli.py turns errors into exit
codes.
"""

from __future__ import annotations


class KmuError(Exception):
    """Base class: `dataset` and `url` say where, the message says what went wrong."""

    hint = ""

    def __init__(self, message: str, *, dataset: str = "", url: str = "") -> None:
        self.dataset = dataset
        self.url = url
        self.detail = message
        parts = [f"dataset {dataset}" if dataset else "", f"request {url}" if url else ""]
        where = ", ".join(p for p in parts if p)
        text = f"{where}: {message}" if where else message
        super().__init__(f"{text} ({self.hint})" if self.hint else text)


class UpstreamError(KmuError):
    """The agency answered with an error that retrying did not cure (5xx, timeouts)."""

    hint = "the service may be down; the last good data was kept"


class NotFoundError(KmuError):
    """The flow, table or key does not exist upstream (HTTP 404, GENESIS -1/104)."""

    hint = "check the dataset code and filters in catalogue.toml"


class RefusedError(KmuError):
    """The agency refused the request as asked (HTTP 400 and other 4xx faults): permanent, so
    never retried; the catalogue entry has to change."""

    hint = ("the agency refuses the request as the catalogue entry asks it; correct the entry in "
            "catalogue.toml (`kmu-pipeline catalogue check` lists every mismatch); retrying "
            "will not help; the last good data was kept")


class CatalogueMismatchError(KmuError):
    """The catalogue asks for codes the agency's own structure does not have (found before the
    data request, so nothing was asked that the agency would refuse)."""

    hint = ("correct the entry in catalogue.toml; `kmu-pipeline catalogue check` checks every "
            "entry; no data was requested and the last good data was kept")


class NoDataError(KmuError):
    """The agency said explicitly that it has no data for the key (Eurostat fault 100 "No
    Results Found"): recorded as such, not as a failure of the service."""


class SkippedError(KmuError):
    """The source could not be asked at all (no credentials for its live service): recorded as
    skipped, the last good data kept; not a failure of the service or the data."""


class AuthError(KmuError):
    """Credentials are missing, wrong or not allowed to do this (HTTP 401/403, GENESIS auth)."""

    hint = "check the credentials this source reads from the environment (README, Live mode)"


class TooLargeError(KmuError):
    """The answer is too large for a direct request and the queued route did not finish in time."""

    hint = "narrow the filters or raise the wait bound"


class MalformedPayloadError(KmuError):
    """The body is not what the format promises (truncated, HTML error page, bad XML/CSV/ZIP)."""


class EmptyAnswerError(MalformedPayloadError):
    """An answer without observations, or with far fewer, where the last good table has some."""

    hint = ("a header-only, cut or partial answer is not the agency withdrawing its data; the "
            "last good data was kept")


class SchemaError(KmuError):
    """The parsed data breaks the observation schema (unknown code, out of range, duplicates)."""

    def __init__(self, message: str, *, dataset: str = "", url: str = "", failure_cases=None):
        super().__init__(message, dataset=dataset, url=url)
        self.failure_cases = failure_cases


class PublishConflict(KmuError):
    """Another run published while this one was building: its build is based on older data."""
