"""The one HTTP code path for live and replay: timeouts, bounded retries, Retry-After, landing.

Replay differs from live only by base URL. Transient failures (connection errors, timeouts,
429, 500/502/503/504) are retried by tenacity with exponential backoff and jitter, bounded in
attempts and total time; a Retry-After header is honoured up to that bound. Permanent failures
(400, 401/403, 404) are raised at once as the matching KmuError.

Redirects are followed only within the request's origin (scheme, host and port), at most
MAX_REDIRECTS times: requests would carry custom credential headers (GENESIS's `username` and
`password`) and a POST body to any host a redirect names, so a redirect elsewhere fails the
dataset instead, naming the target. Credentials are scrubbed in every form a server may echo
them (as sent, repr- and JSON-escaped, URL-encoded) from landed bodies, kept headers and
messages.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import math
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote, quote_plus, unquote, urljoin, urlsplit, urlunsplit

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential_jitter,
)
from urllib3.exceptions import NameResolutionError

from kmu_pipeline.errors import (
    AuthError,
    MalformedPayloadError,
    NoDataError,
    NotFoundError,
    RefusedError,
    TooLargeError,
    UpstreamError,
)
from kmu_pipeline.landing import Landed, LandingStore, Request
from kmu_pipeline.parse.formats import fault_text
from kmu_pipeline.parse.safe_zip import MAX_RATIO

log = logging.getLogger(__name__)
TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
PROGRESS_EVERY = 8 << 20  # log progress every 8 MiB of a long download
MAX_REDIRECTS = 5
BOMB_FLOOR = 16 << 20  # a compressed body is judged by its ratio once it passes 16 MiB inflated
REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
# A refusal's body is landed for the record (its fault names the rejected codes); more than this
# is not a fault message, and is cut.
REFUSAL_BYTES = 1 << 20
# SDMX web services' error code for "No Results Found": the agency says the key has no data.
NO_RESULTS_FAULT = "100"


class TransientHTTPError(Exception):
    """A retryable answer; carries the server's Retry-After in seconds, if any."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    max_seconds: float = 120.0
    initial_wait: float = 1.0
    max_wait: float = 30.0


@dataclass
class HttpClient:
    """Fetches Requests against a base URL and lands every body before anyone parses it."""

    landing: LandingStore
    timeout: tuple[float, float] = (10.0, 120.0)
    retry: RetryPolicy = RetryPolicy()
    max_body_bytes: int = 4 << 30
    user_agent: str = "kmu-pipeline (+https://github.com/kmu-pipeline)"
    progress: Callable[[str], None] | None = None
    # One answer must arrive whole within request_deadline seconds: a server sending a byte
    # every 100 s never trips the 120 s read timeout. The run's budget (run_deadline, epoch
    # seconds) bounds everything a run waits for: retries, footers, queued answers, jobs.
    request_deadline: float = 1800.0
    run_deadline: float | None = None
    # every wait between attempts and polls goes through here (tests record the waits instead
    # of timing them on a loaded machine)
    sleep: Callable[[float], None] = time.sleep
    # False: no conditional requests and no trust in release stamps (a forced refresh)
    conditional: bool = True

    def __post_init__(self) -> None:
        self.session = requests.Session()
        self.session.headers["User-Agent"] = self.user_agent
        self._answered: dict[tuple[str, str], Landed] = {}
        self._read: dict[tuple[str, str], object] = {}
        # the request whose answer is being read: named by errors that arise while reading it
        self.last_url = ""

    def fetch_once(self, request: Request, base_url: str, **kwargs) -> Landed:
        """`fetch`, unless this client already has the answer: the structure a dataset's entry
        is checked against is also its release signal, and is asked once per refresh."""
        key = (request.request_id, base_url)
        self.last_url = request.describe(base_url)
        if key not in self._answered:
            self._answered[key] = self.fetch(request, base_url, **kwargs)
        return self._answered[key]

    def read_once(self, landed: Landed, reader: Callable[[Landed], T]) -> T:
        """`reader(landed)`, unless this client already read the same bytes with it: what the
        structure says is read once per refresh however many steps ask."""
        key = (landed.sha256, f"{reader.__module__}.{reader.__qualname__}")
        if key not in self._read:
            self._read[key] = reader(landed)
        return self._read[key]  # type: ignore[return-value]

    def remaining(self) -> float:
        """Seconds left of the run's budget (infinite without one)."""
        return math.inf if self.run_deadline is None else self.run_deadline - time.time()

    def fetch(self, request: Request, base_url: str, *, secret_headers: Mapping[str, str] = {},
              secrets: Iterable[str] = (), conditional: bool = True) -> Landed:
        """Send `request`, land the body, return its record; 304 returns the previous one.

        Credentials in the base URL (https://user:password@host/...) are sent as HTTP basic
        auth and never appear in URLs that are logged, landed or raised.
        """
        base_url, auth = split_credentials(base_url)
        secrets = tuple(s for s in (*secrets, *_auth_secrets(auth)) if s and len(s) >= 4)
        if self.remaining() <= 0:
            raise UpstreamError("the run's time budget is spent; not asked",
                                dataset=request.dataset, url=request.describe(base_url))
        url = request.url(base_url)
        self.last_url = request.describe(base_url)
        self.landing.sweep_partials(request)
        previous = self.landing.latest(request) if conditional and self.conditional else None
        retrying = Retrying(
            retry=retry_if_exception(is_transient),
            # never start an attempt (or a Retry-After sleep) that would end past the bound
            stop=(stop_after_attempt(self.retry.max_attempts)
                  | stop_before_delay(min(self.retry.max_seconds, self.remaining()))),
            wait=self._wait,
            sleep=self.sleep,
            before_sleep=lambda rs: log.warning(
                "retrying %s after %s (attempt %d)", url,
                _scrub(str(rs.outcome.exception()), secrets), rs.attempt_number
            ),
            reraise=True,
        )
        try:
            return retrying(self._fetch_once, request, base_url, previous, secret_headers,
                            secrets, auth)
        except (TransientHTTPError, requests.RequestException) as exc:
            stats = retrying.statistics
            if unresolved_host(exc):
                raise UpstreamError(
                    f"cannot resolve the host of {url.split('/')[2]!r} (no network, or a wrong "
                    f"base URL); not retried", dataset=request.dataset,
                    url=request.describe(base_url)) from None
            raise UpstreamError(
                f"gave up after {stats.get('attempt_number', 1)} attempts in "
                f"{stats.get('delay_since_first_attempt', 0):.1f}s (bounds: "
                f"{self.retry.max_attempts} attempts, {self.retry.max_seconds:.0f}s): "
                f"{_scrub(str(exc), secrets)}",
                dataset=request.dataset, url=request.describe(base_url),
            ) from None

    def _wait(self, state: RetryCallState) -> float:
        backoff = wait_exponential_jitter(multiplier=self.retry.initial_wait,
                                          jitter=self.retry.initial_wait, max=self.retry.max_wait)
        exc = state.outcome.exception() if state.outcome else None
        hinted = getattr(exc, "retry_after", None)
        return min(max(backoff(state), hinted or 0.0), self.retry.max_seconds)

    def _fetch_once(self, request: Request, base_url: str, previous: Landed | None,
                    secret_headers: Mapping[str, str], secrets: tuple[str, ...],
                    auth: tuple[str, str] | None = None) -> Landed:
        url = request.url(base_url)
        headers = dict(secret_headers)
        if request.accept:
            headers["Accept"] = request.accept
        if previous is not None:
            headers.update(_conditional_headers(previous))
        response = self._send(request, url, headers, auth, secrets)
        with response:
            if response.status_code == 304 and previous is not None:
                log.info("%s not modified since %s", url, previous.retrieved_at)
                return self.landing.record_not_modified(previous)
            if response.status_code >= 400:
                self._refuse(request, base_url, response, secrets)
            return self._land(request, url, response, secrets)

    def _send(self, request: Request, url: str, headers: dict[str, str],
              auth: tuple[str, str] | None, secrets: tuple[str, ...]) -> requests.Response:
        """The answer to `request`, following redirects only within its origin."""
        method, data = request.method, dict(request.form) if request.form else None
        for _ in range(MAX_REDIRECTS + 1):
            response = self.session.request(method, url, data=data, headers=headers,
                                            timeout=self.timeout, stream=True, auth=auth,
                                            allow_redirects=False)
            location = response.headers.get("Location")
            if response.status_code not in REDIRECT_STATUS or not location:
                return response
            response.close()
            target = urljoin(url, location)
            if _origin(target) != _origin(url):
                raise RefusedError(
                    f"HTTP {response.status_code} redirect to another origin "
                    f"({_scrub(_origin(target), secrets)}) not followed: the request's "
                    f"credentials and body would go along", dataset=request.dataset,
                    url=_scrub(url, secrets))
            if response.status_code in (301, 302, 303) and method != "GET":
                method, data = "GET", None  # as browsers and requests do; 307/308 keep both
            url = target
        raise RefusedError(f"more than {MAX_REDIRECTS} redirects", dataset=request.dataset,
                           url=_scrub(url, secrets))

    def _refuse(self, request: Request, base_url: str, response: requests.Response,
                secrets: tuple[str, ...]) -> None:
        """Raise the error an HTTP error answer means. A transient one is retried; a permanent
        one is landed (under `refused/` + the request path) and raised with its fault whole."""
        status = response.status_code
        where = {"dataset": request.dataset, "url": request.describe(base_url)}
        if status in TRANSIENT_STATUS:
            raise TransientHTTPError(_transient_reason(response, secrets),
                                     _retry_after_seconds(response.headers.get("Retry-After")))
        refused = Request(source=request.source, dataset=request.dataset,
                          path=f"refused/{request.path}", query=request.query, form=request.form,
                          method=request.method)
        landed = self._land(refused, request.url(base_url), response, secrets,
                            cut_at=REFUSAL_BYTES)
        body = landed.body_path(self.landing.root)
        code, text = fault_text(body)
        text = _scrub(text, secrets)
        reason = (f"HTTP {status} {response.reason}: "
                  f"{f'fault {code}: ' if code else ''}{text or '(empty body)'} "
                  f"[answer kept at {body}]")
        if status in (401, 403):
            raise AuthError(reason, **where)
        if status == 404 and code == NO_RESULTS_FAULT:
            raise NoDataError(reason, **where)
        if status == 404:
            raise NotFoundError(reason, **where)
        if status == 413:  # Eurostat: EXTRACTION_TOO_BIG, more than it extracts even queued
            raise TooLargeError(reason, **where)
        raise RefusedError(reason, **where)

    def _land(self, request: Request, url: str, response: requests.Response,
              secrets: tuple[str, ...], cut_at: int | None = None) -> Landed:
        """Land the body; `cut_at` keeps only that many bytes (a refusal's record) instead of
        refusing a body over the bound."""
        tmp = self.landing.temp_body(request)
        received, next_report = 0, PROGRESS_EVERY
        room = self.landing.room()  # the whole store's bound, shared by every body
        limit = min(self.request_deadline, self.remaining())
        # a read blocks until a whole block or the read timeout: a byte at a time keeps it
        # blocked for ever, so a watchdog closes the connection when the deadline passes
        expired = threading.Event()

        def expire() -> None:
            expired.set()  # before the shutdown wakes the blocked read
            sock = getattr(getattr(response.raw, "connection", None), "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)  # a close alone leaves recv() blocked
            response.close()

        watchdog = threading.Timer(max(limit, 0.0), expire)
        watchdog.daemon = True
        watchdog.start()
        try:
            with tmp:
                for chunk in _chunks(response, url):
                    if cut_at is not None and received + len(chunk) >= cut_at:
                        tmp.write(chunk[:cut_at - received])
                        break
                    received += len(chunk)
                    self._refuse_oversized(response, received, room, request, url)
                    tmp.write(chunk)
                    if received >= next_report:
                        self._report(f"{request.dataset}: {received / 2**20:.1f} MiB from {url}")
                        next_report += PROGRESS_EVERY
            if cut_at is None:
                _check_complete(response, received, request, url)
            redacted = _redact_file(Path(tmp.name), secrets)
            headers = {k: _scrub(v, secrets) for k, v in response.headers.items()}
            redacted = redacted or headers != dict(response.headers)
            return self.landing.commit(
                request, Path(tmp.name), url=url, status=response.status_code,
                headers=headers, redacted=redacted,
            )
        except BaseException as exc:
            Path(tmp.name).unlink(missing_ok=True)
            if expired.is_set() and not isinstance(exc, MalformedPayloadError):
                raise UpstreamError(
                    f"no complete answer within {limit:.0f}s ({received} bytes so far; the "
                    f"request deadline, or what was left of the run's budget)",
                    dataset=request.dataset, url=url) from None
            raise
        finally:
            watchdog.cancel()

    def _refuse_oversized(self, response: requests.Response, received: int, room: int,
                          request: Request, url: str) -> None:
        """Refused while it arrives: a body over its own bound, over what is left of the
        landing store's, or inflating like a decompression bomb."""
        if received > self.max_body_bytes:
            raise MalformedPayloadError(f"body exceeds the {self.max_body_bytes} byte bound",
                                        dataset=request.dataset, url=url)
        if received > room:
            raise self.landing.full_error(request, url, received)
        _refuse_bomb(response, received, request, url)

    def _report(self, message: str) -> None:
        (self.progress or log.info)(message)


def unresolved_host(exc: BaseException) -> bool:
    """A DNS failure: the name does not resolve now and will not in a few seconds either, so
    a machine without network fails at once instead of retrying every dataset for minutes."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (NameResolutionError, socket.gaierror)):
            return True
        reason = getattr(seen, "reason", None)  # urllib3's MaxRetryError carries the cause
        seen = seen.__cause__ or seen.__context__ or (
            reason if isinstance(reason, BaseException) else None)
    return False


def is_transient(exc: BaseException) -> bool:
    """Worth another attempt: a retryable answer, a timeout, a refused or reset connection."""
    if isinstance(exc, TransientHTTPError | requests.Timeout):
        return True
    return isinstance(exc, requests.ConnectionError) and not unresolved_host(exc)


def _chunks(response: requests.Response, url: str) -> Iterator[bytes]:
    """The body in blocks; a connection that breaks mid-body is a transient failure (requests
    raises ChunkedEncodingError for a short Content-Length body too), retried like a 503."""
    received = 0
    try:
        for chunk in response.iter_content(chunk_size=1 << 16):
            received += len(chunk)
            yield chunk
    except requests.exceptions.ChunkedEncodingError:
        raise TransientHTTPError(
            f"truncated body: connection broken after {received} bytes from {url}") from None


def split_credentials(base_url: str) -> tuple[str, tuple[str, str] | None]:
    """`https://user:pw@host/p` -> (`https://host/p`, (user, pw)); other URLs unchanged."""
    parts = urlsplit(base_url)
    if parts.username is None and parts.password is None:
        return base_url, None
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return clean, (unquote(parts.username or ""), unquote(parts.password or ""))


def _auth_secrets(auth: tuple[str, str] | None) -> tuple[str, ...]:
    """The password and the Basic header value a server might echo back."""
    if not auth or not auth[1]:
        return ()
    token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    return (auth[1], token)


def _conditional_headers(previous: Landed) -> dict[str, str]:
    headers = {}
    if etag := previous.headers.get("etag") or previous.headers.get("ETag"):
        headers["If-None-Match"] = etag
    if modified := previous.headers.get("last-modified") or previous.headers.get("Last-Modified"):
        headers["If-Modified-Since"] = modified
    return headers


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def _transient_reason(response: requests.Response, secrets: tuple[str, ...] = ()) -> str:
    """A short reason for a retryable answer (servers echo credentials in error pages: read
    enough to scrub one crossing the cut)."""
    longest = max(map(len, secrets), default=0)
    snippet = response.raw.read(300 + longest, decode_content=True).decode("utf-8", "replace")
    snippet = _scrub(snippet, secrets).strip()
    return f"HTTP {response.status_code} {response.reason}: {snippet[:200]}"


def _refuse_bomb(response: requests.Response, received: int, request: Request,
                 url: str) -> None:
    """A body sent compressed (Content-Encoding) that inflates past MAX_RATIO times what came
    over the wire is refused while it arrives, so it is never kept at full size."""
    if received < BOMB_FLOOR or not response.headers.get("Content-Encoding"):
        return
    wire = response.raw.tell()  # bytes read from the connection, before decoding
    if received > MAX_RATIO * max(wire, 1):
        raise MalformedPayloadError(
            f"the {response.headers['Content-Encoding']} body inflates {received // max(wire, 1)}x "
            f"(more than {MAX_RATIO}x what was sent: a decompression bomb?)",
            dataset=request.dataset, url=url)


def _check_complete(response: requests.Response, received: int, request: Request, url: str) -> None:
    """A body shorter than its Content-Length was cut off in transit: never land it."""
    expected = response.headers.get("Content-Length")
    if expected and not response.headers.get("Content-Encoding") and received < int(expected):
        raise TransientHTTPError(f"truncated body: {received} of {expected} bytes from {url}")


def secret_forms(secret: str) -> list[str]:
    """The ways a credential shows up when a server, a library or a log echoes it: as sent,
    repr- and JSON-escaped (a trailing newline becomes \\n), URL-encoded; longest first."""
    forms = {secret, repr(secret)[1:-1], json.dumps(secret)[1:-1], quote(secret, safe=""),
             quote_plus(secret)}
    return sorted((f for f in forms if len(f) >= 4), key=len, reverse=True)


def _redact_file(path: Path, secrets: tuple[str, ...]) -> bool:
    """Credentials never reach disk, even if a server echoes them back."""
    if not secrets:
        return False
    data = path.read_bytes()
    clean = data
    for secret in secrets:
        for form in secret_forms(secret):
            clean = clean.replace(form.encode("utf-8", "replace"), b"********")
    if clean == data:
        return False
    path.write_bytes(clean)
    return True


def _scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            for form in secret_forms(secret):
                text = text.replace(form, "********")
    return text


def _origin(url: str) -> str:
    """scheme://host:port, the port made explicit (http://x and http://x:80 are one origin)."""
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"

