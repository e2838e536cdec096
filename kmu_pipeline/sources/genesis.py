"""Destatis GENESIS-Online REST web service 2020: tables as ffcsv ZIPs, through HttpClient.

As the service works since summer 2025, every call is a form-encoded POST and the credentials
travel in the request headers `username` and `password` (an API token goes in `username` with an
empty password). They come from the environment at request time, go out only as headers and are
scrubbed from anything landed (the service echoes them back as asterisks, but a proxy may not).

A table answer is either the ZIP or a JSON status: 0 ok, 98 too large (queue it as a job),
99 job created, -1 no data cube, 104 no objects; authentication failures come as HTTP 401/403
or a JSON status naming the login. Large tables follow 98 -> job=true -> 99 -> poll
catalogue/results (104 until ready) -> data/resultfile, bounded in time. Tokens are read-only and
cannot start jobs.

Before the table is asked for, `check_dataset` holds the entry against the service's own
description of the table: metadata/table lists its variables and value variables, and
catalogue/values2variable the attribute codes of the size and indicator variables.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import duckdb

from kmu_pipeline.catalogue import Dataset, Source
from kmu_pipeline.chunk_insert import insert_chunks
from kmu_pipeline.conformance import Mismatch, find_mismatches, raise_for_mismatches
from kmu_pipeline.errors import (
    AuthError,
    KmuError,
    MalformedPayloadError,
    NotFoundError,
    TooLargeError,
)
from kmu_pipeline.landing import Landed, Request
from kmu_pipeline.parse import genesis_ffcsv
from kmu_pipeline.sources.adapter import SourceAdapter
from kmu_pipeline.sources.http import HttpClient
from kmu_pipeline.sources.polling import poll

log = logging.getLogger(__name__)

NAME = "genesis"
TOKEN_ENV = "KMU_GENESIS_TOKEN"
USER_ENV, PASSWORD_ENV = "KMU_GENESIS_USERNAME", "KMU_GENESIS_PASSWORD"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_RESULT_NAME = re.compile(r"(\d{5}-[\w-]+_\d+)")
# Status.Content phrases of a refused login (de/en): the service answers them with HTTP 200.
_AUTH_WORDS = ("anmeld", "passwort", "kennung", "login", "password", "not authorized",
               "nicht berechtigt")


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str

    @property
    def is_token(self) -> bool:
        return not self.password

    def headers(self) -> dict[str, str]:
        return {"username": self.username, "password": self.password}

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.username, self.password) if s)

    def __repr__(self) -> str:  # never the values, not even in a traceback
        return f"Credentials({'token' if self.is_token else 'user/password'})"


@dataclass(frozen=True)
class JobPolicy:
    """How long a queued large-table job may take before the dataset fails."""

    poll_seconds: float = 10.0
    max_wait_seconds: float = 900.0


def is_live(base_url: str) -> bool:
    """Anything but a loopback replay server is the real service and needs credentials."""
    return (urlsplit(base_url).hostname or "") not in LOOPBACK


def _header_safe(name: str, value: str) -> str:
    """A credential goes out as an HTTP header: refuse what a header cannot carry, without
    showing the value (requests would raise with its repr, which then reaches logs)."""
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        raise AuthError(f"{name} holds a character an HTTP header cannot carry (outside "
                        f"Latin-1); its value is not shown") from None
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise AuthError(f"{name} holds a control character (e.g. a trailing newline from "
                        f"`echo` or a file); its value is not shown")
    return value


def credentials_from_env(env: dict[str, str] | None = None) -> Credentials | None:
    env = os.environ if env is None else env
    token = _header_safe(TOKEN_ENV, env.get(TOKEN_ENV, "").strip())
    user = _header_safe(USER_ENV, env.get(USER_ENV, "").strip())
    password = _header_safe(PASSWORD_ENV, env.get(PASSWORD_ENV, ""))
    if user and password:  # a job-capable account wins over a read-only token
        return Credentials(user, password)
    if token:
        return Credentials(token, "")
    return None


def require_credentials(base_url: str, env: dict[str, str] | None = None,
                        dataset: str = "") -> Credentials | None:
    """Credentials for `base_url`; missing ones fail before any request goes out."""
    creds = credentials_from_env(env)
    if creds is None and is_live(base_url):
        raise AuthError(
            f"GENESIS needs credentials for {base_url}: set {TOKEN_ENV} (API token, read-only) "
            f"or {USER_ENV} and {PASSWORD_ENV} (account; needed for large tables queued as jobs)",
            dataset=dataset)
    return creds


def table_request(dataset: Dataset, *, job: bool = False) -> Request:
    """data/tablefile as ffcsv: the form pystatis and the web service's own docs send."""
    form = [("name", dataset.code), ("area", "all"), ("compress", "false"),
            ("format", "ffcsv"), ("language", "de"), ("quality", "on"),
            ("startyear", str(dataset.start_period or "")),
            ("endyear", str(dataset.end_period or "")), ("job", "true" if job else "false")]
    return Request(source=NAME, dataset=dataset.name, path="data/tablefile",
                   form=tuple(form), method="POST")


def metadata_request(dataset: Dataset) -> Request:
    return Request(source=NAME, dataset=dataset.name, path="metadata/table", method="POST",
                   form=(("name", dataset.code), ("area", "all"), ("language", "de")))


def results_request(dataset: Dataset, result_name: str) -> Request:
    return Request(source=NAME, dataset=dataset.name, path="catalogue/results",
                   method="POST",
                   form=(("selection", result_name), ("area", "user"), ("pagelength", "1")))


def resultfile_request(dataset: Dataset, result_name: str) -> Request:
    return Request(source=NAME, dataset=dataset.name, path="data/resultfile", method="POST",
                   form=(("name", result_name), ("area", "user"), ("compress", "false"),
                         ("format", "ffcsv"), ("language", "de")))


def read_status(landed: Landed, body: Path) -> tuple[int, str] | None:
    """(Status.Code, Status.Content) of a JSON answer; None when the body is the table itself."""
    with open(body, "rb") as fh:
        head = fh.read(1)
    if head != b"{":
        return None
    try:
        status = json.loads(body.read_text(encoding="utf-8"))["Status"]
        return int(status["Code"]), str(status.get("Content") or "")
    except (ValueError, KeyError, TypeError) as exc:
        raise MalformedPayloadError(f"GENESIS JSON answer without a readable Status ({exc})",
                                    dataset=landed.dataset, url=landed.url) from None


@dataclass
class _Call:
    """One dataset's conversation with the service: same client, credentials and bounds."""

    dataset: Dataset
    client: HttpClient
    base_url: str
    creds: Credentials | None
    jobs: JobPolicy
    sleep: Callable[[float], None] = time.sleep

    def fetch(self, request: Request, conditional: bool = False,
              once: bool = False) -> tuple[Landed, tuple | None]:
        creds = self.creds
        fetch = self.client.fetch_once if once else self.client.fetch
        try:
            landed = fetch(request, self.base_url,
                           secret_headers=creds.headers() if creds else {},
                           secrets=creds.secrets() if creds else (), conditional=conditional)
        except AuthError as exc:  # say which variables GENESIS reads (the error is generic)
            raise AuthError(f"{exc.detail}; GENESIS reads {TOKEN_ENV}, or {USER_ENV} and "
                            f"{PASSWORD_ENV}", dataset=exc.dataset, url=exc.url) from None
        return landed, read_status(landed, landed.body_path(self.client.landing.root))

    def error(self, cls: type[KmuError], code: int, text: str, request: Request) -> KmuError:
        return cls(f"GENESIS table {self.dataset.code} answered Status.Code {code}: "
                   f"{' '.join(text.split())}", dataset=self.dataset.name,
                   url=request.describe(self.base_url))

    def check(self, status: tuple[int, str], request: Request) -> None:
        code, text = status
        if any(w in text.lower() for w in _AUTH_WORDS):
            raise self.error(AuthError, code, text, request)
        if code == -1:
            raise self.error(NotFoundError, code, f"no data cube. {text}", request)
        if code == 104:
            raise self.error(NotFoundError, code, f"no objects. {text}", request)
        raise self.error(KmuError, code, text, request)

    def table(self) -> list[Landed]:
        request = table_request(self.dataset)
        landed, status = self.fetch(request)
        if status is None:
            return [landed]
        if status[0] == 98:
            return self.job(status)
        self.check(status, request)
        raise AssertionError("unreachable")  # check() always raises

    def job(self, too_large: tuple[int, str]) -> list[Landed]:
        request = table_request(self.dataset, job=True)
        if self.creds is None or self.creds.is_token:
            raise self.error(
                TooLargeError, too_large[0],
                f"{too_large[1]} -- the table must be queued as a job, and API tokens are "
                f"read-only and cannot start jobs: set {USER_ENV} and {PASSWORD_ENV}", request)
        queued, status = self.fetch(request)
        if status is None or status[0] != 99 or not _RESULT_NAME.search(status[1]):
            self.check(status or (0, "job request answered with data"), request)
        name = _RESULT_NAME.search(status[1]).group(1)
        return [queued, self.wait_for(name), self.fetch(resultfile_request(self.dataset, name))[0]]

    def wait_for(self, name: str) -> Landed:
        request = results_request(self.dataset, name)

        def result_if_ready() -> Landed | None:
            landed, status = self.fetch(request)
            if status and status[0] == 0:
                return landed
            if status is None or status[0] != 104:
                self.check(status or (0, "results answered with a file"), request)
            return None  # 104: not ready yet

        return poll(result_if_ready, every=self.jobs.poll_seconds,
                    within=min(self.jobs.max_wait_seconds, self.client.remaining()),
                    sleep=self.sleep,
                    waiting_for=f"{self.dataset.name}: GENESIS job {name}",
                    on_timeout=lambda checks: self.error(
                        TooLargeError, 104, f"job {name} not ready after "
                        f"{self.jobs.max_wait_seconds:.0f}s ({checks} checks)", request))


VALUE_VARIABLE = "value_variable_code"  # indicator_variable: each indicator is a value variable
VALUES_PAGE = 500  # attribute codes per variable: size classes and ICT items are far fewer
# values2variable succeeds with 0, or 22 when the service adjusted a parameter (the recorded
# restatis answer); 103/104 mean the variable has no values
VALUES_FOUND, NO_VALUES = (0, 22), (103, 104)


def table_variables(body: Path) -> frozenset[str]:
    """Every variable code of a metadata/table answer: the statistic's head with its value
    variables, the columns, rows, subtitle and subheading, at any depth."""
    try:
        structure = json.loads(body.read_text(encoding="utf-8"))["Object"]["Structure"]
    except (ValueError, KeyError, TypeError):
        return frozenset()
    codes: set[str] = set()
    pending = [structure]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, dict):
            if node.get("Code") and node.get("Type") == "Merkmal":
                codes.add(str(node["Code"]))
            pending.extend(v for v in node.values() if isinstance(v, dict | list))
    return frozenset(codes)


def variable_mismatches(dataset: Dataset, variables: frozenset[str]) -> list[Mismatch]:
    """The entry's variables and value variables that the table's metadata does not list."""
    classifying = [dataset.indicator_variable, dataset.size_variable, dataset.nace_variable]
    requested = {"variables": [v for v in classifying if v and v != VALUE_VARIABLE],
                 "value variables": [*dataset.units]}
    if dataset.indicator_variable == VALUE_VARIABLE:
        requested["value variables"] += [c for c in dataset.indicators if c not in dataset.units]
    return find_mismatches({k: v for k, v in requested.items() if v},
                           {"variables": variables, "value variables": variables})


def values_request(dataset: Dataset, variable: str) -> Request:
    """catalogue/values2variable: the attribute codes of one variable (as restatis asks it)."""
    return Request(source=NAME, dataset=dataset.name, path="catalogue/values2variable",
                   method="POST",
                   form=(("name", variable), ("selection", ""), ("area", "all"),
                         ("searchcriterion", "Code"), ("sortcriterion", "Code"),
                         ("pagelength", str(VALUES_PAGE)), ("language", "de")))


def variable_values(body: Path) -> frozenset[str]:
    """The attribute codes listed by a values2variable answer (none for 'no objects')."""
    try:
        items = json.loads(body.read_text(encoding="utf-8")).get("List") or []
        return frozenset(str(item["Code"]) for item in items)
    except (ValueError, KeyError, TypeError, AttributeError):
        return frozenset()


def attribute_mismatches(call: _Call, dataset: Dataset) -> list[Mismatch]:
    """The entry's size-class and indicator codes that values2variable does not list for
    their variables (a value-variable indicator has no attribute codes)."""
    requested = {}
    if dataset.size_variable:
        requested[dataset.size_variable] = list(dataset.size_classes)
    if dataset.indicator_variable not in (None, VALUE_VARIABLE):
        requested[dataset.indicator_variable] = list(dataset.indicators)
    available = {}
    for variable in requested:
        request = values_request(dataset, variable)
        landed, status = call.fetch(request)
        if status is None or status[0] not in (*VALUES_FOUND, *NO_VALUES):
            call.check(status or (0, "values2variable answered with a file"), request)
        available[variable] = variable_values(landed.body_path(call.client.landing.root))
    return find_mismatches(requested, available)


def conversation(dataset: Dataset, client: HttpClient, base_url: str, *,
                 env: dict[str, str] | None = None, jobs: JobPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> _Call:
    """One refresh's conversation with GENESIS: the credentials read once from `env`."""
    return _Call(dataset, client, base_url, require_credentials(base_url, env, dataset.name),
                 jobs or JobPolicy(), sleep)


def check_dataset(dataset: Dataset, source: Source, client: HttpClient, base_url: str, *,
                  env: dict[str, str] | None = None) -> str:
    """Check the entry against the table's metadata and variable values (checked_metadata);
    say what it checked against."""
    meta = checked_metadata(conversation(dataset, client, base_url, env=env))
    return (f"table {dataset.code}: variables and their values (updated "
            f"{table_updated(meta.body_path(client.landing.root)) or 'not stated'})")


def table_metadata(call: _Call) -> Landed:
    """The table's metadata answer (asked once per refresh): its variables and Updated stamp."""
    request = metadata_request(call.dataset)
    meta, status = call.fetch(request, once=True)
    if status is None or status[0] != 0:
        call.check(status or (0, "metadata answered with a file"), request)
    return meta


def upstream_stamp(dataset: Dataset, source: Source, client: HttpClient, base_url: str, *,
                   env: dict[str, str] | None = None) -> str:
    """The table's `Updated` stamp: GENESIS has no conditional requests, this stands in."""
    meta = table_metadata(conversation(dataset, client, base_url, env=env))
    return table_updated(meta.body_path(client.landing.root))


def checked_metadata(call: _Call) -> Landed:
    """Check the entry's variables against the table's metadata, then the codes of its size
    and indicator variables against values2variable; the metadata answer."""
    meta = table_metadata(call)
    what = f"GENESIS table {call.dataset.code}"
    root = call.client.landing.root
    raise_for_mismatches(call.dataset, variable_mismatches(call.dataset, table_variables(
        meta.body_path(root))), what, meta.url)
    raise_for_mismatches(call.dataset, attribute_mismatches(call, call.dataset), what, meta.url)
    return meta


def fetch_dataset(dataset: Dataset, source: Source, client: HttpClient, base_url: str, *,
                  jobs: JobPolicy | None = None, env: dict[str, str] | None = None,
                  sleep: Callable[[float], None] = time.sleep) -> list[Landed]:
    """Check the entry against the table's metadata, then land the table (via the job route
    when it is too large). Whether to ask at all is the refresh's decision, from
    upstream_stamp: an Updated stamp equal to the one loaded asks for nothing."""
    call = conversation(dataset, client, base_url, env=env, jobs=jobs, sleep=sleep)
    checked_metadata(call)
    return call.table()


def missing_credentials(base_url: str) -> str | None:
    """Why GENESIS cannot be asked at `base_url` (the live service and no credentials in the
    environment), or None. Unusable credentials are not missing: they raise AuthError."""
    if is_live(base_url) and credentials_from_env() is None:
        return (f"no GENESIS credentials in the environment (set {TOKEN_ENV}, or {USER_ENV} and "
                f"{PASSWORD_ENV})")
    return None


def load_landed(con: duckdb.DuckDBPyConnection, target: str, dataset: Dataset, source: Source,
                landed: Landed, body: Path) -> int:
    """Insert one landed ffcsv table's observations into `target`."""
    return insert_chunks(con, target, genesis_ffcsv.parse_landed(landed, body, dataset))


def table_updated(body: Path) -> str:
    """The metadata answer's `Object.Updated` stamp (e.g. '28.12.2022 17:12:43h'), or ''."""
    try:
        return str(json.loads(body.read_text(encoding="utf-8"))["Object"].get("Updated") or "")
    except (ValueError, KeyError, TypeError, AttributeError):
        return ""


ADAPTER = SourceAdapter(NAME, check=check_dataset, fetch=fetch_dataset, load=load_landed,
                        upstream_stamp=upstream_stamp, missing_credentials=missing_credentials)
