"""Raw responses on disk, addressed by request; replay serves the very same files.

Layout under the landing root (default data/raw):

    <source>/<dataset>/<slug>-<request_id>/
        response.json      the latest response's metadata (URL, status, headers, time, sha256)
        <sha256[:16]>.body the bytes exactly as received (one file per distinct content)
        history.jsonl      every retrieval, including 304 "not modified" answers

A request's identity (`request_id`) depends on method, path, query and form body but never on
the base URL or credentials, so a live run's landing directory can be replayed as it is.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from kmu_pipeline.errors import TooLargeError

PARTIAL_PREFIX = ".partial-"
# Every distinct body is kept (history is rebuilt from them), so the store grows with releases;
# this bounds it, and a body that would cross the bound is refused while it arrives.
MAX_GB_ENV = "KMU_LANDING_MAX_GB"
DEFAULT_MAX_GB = 50.0
# A body still being written is touched at every block; one untouched for an hour is dead.
STALE_PARTIAL_SECONDS = 3600
_UNSAFE = re.compile(r"[^A-Za-z0-9_.+=-]+")
# Response headers worth keeping; request headers are never stored (they carry credentials).
KEPT_HEADERS = (
    "content-type", "content-length", "content-encoding", "content-disposition",
    "last-modified", "etag", "date", "retry-after", "location",
)


@dataclass(frozen=True)
class Request:
    """An HTTP request relative to a source's base URL."""

    source: str
    dataset: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    form: tuple[tuple[str, str], ...] = ()
    method: str = "GET"
    accept: str = ""

    @property
    def request_id(self) -> str:
        return request_id(self.method, self.path, self.query, self.form)

    def url(self, base_url: str) -> str:
        query = f"?{urlencode(self.query)}" if self.query else ""
        return f"{base_url.rstrip('/')}/{self.path.lstrip('/')}{query}"

    def describe(self, base_url: str) -> str:
        """URL plus form body (GENESIS sends everything by POST), for error messages."""
        url = self.url(base_url)
        return f"{self.method} {url} [{urlencode(self.form)}]" if self.form else url


def request_id(method: str, path: str, query: Iterable, form: Iterable) -> str:
    """Stable id of a request: same method, path, query and form -> same id, on any host."""
    canonical = json.dumps(
        [method.upper(), path.strip("/"), sorted(map(list, query)), sorted(map(list, form))],
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Landed:
    """A response stored on disk."""

    request_id: str
    source: str
    dataset: str
    method: str
    path: str
    query: list
    form: list
    url: str
    status: int
    headers: dict
    retrieved_at: str
    sha256: str
    size: int
    body_file: str
    not_modified: bool = False
    redacted: bool = False
    extra: dict = field(default_factory=dict)

    def body_path(self, root: Path) -> Path:
        return Path(root) / self.source / self.dataset / self.folder / self.body_file

    @property
    def folder(self) -> str:
        return folder_name(self.path, self.request_id)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


def folder_name(path: str, rid: str) -> str:
    """A readable, safe folder name: cannot contain '/' or start with '.', so never escapes."""
    slug = _UNSAFE.sub("_", path.strip("/"))[:80].lstrip("._-") or "request"
    return f"{slug}-{rid}"


def _safe_part(part: str) -> str:
    clean = _UNSAFE.sub("_", part).lstrip("._-")
    if not clean:
        raise ValueError(f"unusable landing path component {part!r}")
    return clean


class LandingStore:
    """Writes and reads landed responses under one root directory, within `max_bytes` in all
    (default KMU_LANDING_MAX_GB, 50 GB)."""

    def __init__(self, root: Path | str, max_bytes: int | None = None) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes if max_bytes is not None else _max_bytes_from_env()
        self._used: int | None = None  # counted once per store object, then kept up to date

    def used_bytes(self) -> int:
        if self._used is None:
            self._used = sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file())
        return self._used

    def room(self) -> int:
        """Bytes a new body may still take."""
        return self.max_bytes - self.used_bytes()

    def full_error(self, request: Request, url: str, received: int) -> TooLargeError:
        return TooLargeError(
            f"the landing store {self.root} would exceed its bound of {self.max_bytes / 1e9:g} "
            f"GB with this answer ({self.used_bytes() / 1e9:.3g} GB used, {received} bytes "
            f"received so far); the answer was not kept. Raise {MAX_GB_ENV} or move old "
            f"bodies away", dataset=request.dataset, url=url)

    def folder(self, request: Request) -> Path:
        folder = (
            self.root / _safe_part(request.source) / _safe_part(request.dataset)
            / folder_name(request.path, request.request_id)
        )
        # Belt and braces: the parts above are sanitised, but check the resolved path too.
        if not folder.resolve().is_relative_to(self.root.resolve()):
            raise ValueError(f"landing path {folder} escapes {self.root}")
        return folder

    def latest(self, request: Request) -> Landed | None:
        meta = self.folder(request) / "response.json"
        return _read_meta(meta) if meta.exists() else None

    def temp_body(self, request: Request) -> tempfile._TemporaryFileWrapper:
        folder = self.folder(request)
        folder.mkdir(parents=True, exist_ok=True)
        return tempfile.NamedTemporaryFile(dir=folder, prefix=PARTIAL_PREFIX, delete=False)

    def sweep_partials(self, request: Request, older_than: float = STALE_PARTIAL_SECONDS) -> int:
        """Remove bodies that a killed process left half written (never read by anyone)."""
        folder = self.folder(request)
        removed = 0
        if folder.is_dir():
            cutoff = time.time() - older_than
            for path in folder.glob(f"{PARTIAL_PREFIX}*"):
                if path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
                    removed += 1
        return removed

    def commit(self, request: Request, temp_path: Path, *, url: str, status: int,
               headers: dict, redacted: bool = False, extra: dict | None = None) -> Landed:
        """Move a fully received body into place and record it; atomic per file."""
        folder = self.folder(request)
        digest = _sha256(temp_path)
        body_file = f"{digest[:16]}.body"
        existed = (folder / body_file).exists()
        os.replace(temp_path, folder / body_file)
        landed = Landed(
            request_id=request.request_id, source=request.source, dataset=request.dataset,
            method=request.method, path=request.path, query=[list(q) for q in request.query],
            form=[list(f) for f in request.form], url=url, status=status,
            # lower-cased: requests keeps the server's spelling (Content-Type)
            headers={k.lower(): v for k, v in headers.items() if k.lower() in KEPT_HEADERS},
            retrieved_at=_now(), sha256=digest, size=(folder / body_file).stat().st_size,
            body_file=body_file, redacted=redacted, extra=extra or {},
        )
        self._write_meta(folder, landed)
        if self._used is not None and not existed:
            self._used += landed.size
        return landed

    def record_not_modified(self, previous: Landed) -> Landed:
        """A 304 answer: the previous body stays current; history notes the check."""
        landed = Landed(**{**asdict(previous), "retrieved_at": _now(), "not_modified": True})
        folder = self.root / previous.source / previous.dataset / previous.folder
        with open(folder / "history.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(asdict(landed)) + "\n")
        return landed

    def _write_meta(self, folder: Path, landed: Landed) -> None:
        record = json.dumps(asdict(landed), indent=1)
        with open(folder / "history.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(asdict(landed)) + "\n")
        tmp = folder / ".response.json.partial"
        tmp.write_text(record, encoding="utf-8")
        os.replace(tmp, folder / "response.json")

    def iter_landed(self) -> Iterator[Landed]:
        """Every request's latest response (the replay server's index)."""
        for meta in sorted(self.root.glob("*/*/*/response.json")):
            yield _read_meta(meta)


def _max_bytes_from_env() -> int:
    text = os.environ.get(MAX_GB_ENV, "").strip()
    try:
        gigabytes = float(text) if text else DEFAULT_MAX_GB
    except ValueError:
        raise ValueError(f"{MAX_GB_ENV}={text!r} is not a number of gigabytes") from None
    if not gigabytes > 0:
        raise ValueError(f"{MAX_GB_ENV}={text!r} must be positive")
    return int(gigabytes * 1e9)


def _read_meta(path: Path) -> Landed:
    data = json.loads(path.read_text(encoding="utf-8"))
    return Landed(**{k: v for k, v in data.items() if k in Landed.__dataclass_fields__})


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
