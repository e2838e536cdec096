"""A local HTTP server that answers requests from a directory of landed responses.

The directory has the landing layout (landing.py), so a live run's data/raw replays as it is,
and the shipped demo snapshot is just such a directory. Each source is mounted under
/<source>/, e.g. http://127.0.0.1:PORT/eurostat/data/isoc_cicce_use/... ; the real HTTP client
talks to it exactly as to the agency.

A request that was answered several times in a row upstream (GENESIS job polling: 104 "not
ready", then 0) is replayed as that sequence, repeating the last answer; ETag and
If-None-Match give 304 answers like a conditional GET upstream.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import shutil
import sys
import threading
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from kmu_pipeline.landing import Landed, LandingStore, request_id

log = logging.getLogger(__name__)
DEMO_SNAPSHOT = Path(__file__).with_name("demo_snapshot")


class RecordingIndex:
    """request key -> ordered list of (Landed, body path) answers."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.answers: dict[tuple[str, str], list[tuple[Landed, Path]]] = defaultdict(list)
        self.calls: dict[tuple[str, str], int] = defaultdict(int)
        self.lock = threading.Lock()
        base = overlaid_base(self.root)
        for meta in sorted(base.glob("*/*/*/response.json")) if base else ():
            self._index_folder(meta.parent)
        for meta in sorted(self.root.glob("*/*/*/response.json")):
            self._index_folder(meta.parent, replace=base is not None)

    def _index_folder(self, folder: Path, replace: bool = False) -> None:
        history = folder / "history.jsonl"
        lines = history.read_text(encoding="utf-8").splitlines() if history.exists() else []
        records = [json.loads(line) for line in lines if line.strip()]
        records = [r for r in records if not r.get("not_modified")]
        if not records:
            records = [json.loads((folder / "response.json").read_text(encoding="utf-8"))]
        for n, record in enumerate(records):
            landed = Landed(**{k: v for k, v in record.items() if k in Landed.__dataclass_fields__})
            key = (landed.source, landed.request_id)
            if replace and n == 0:  # an overlay's answers stand in for the base's
                self.answers[key] = []
            self.answers[key].append((landed, folder / landed.body_file))

    def answer(self, source: str, rid: str) -> tuple[Landed, Path] | None:
        with self.lock:
            answers = self.answers.get((source, rid))
            if not answers:
                return None
            n = self.calls[(source, rid)]
            self.calls[(source, rid)] = n + 1
            return answers[min(n, len(answers) - 1)]


OVERLAY_FILE = "OVERLAYS"


def overlaid_base(root: Path) -> Path | None:
    """The recordings a directory overlays: a later release that holds only the answers that
    changed (demo_snapshot/releases/*) names its base, relative to itself, in OVERLAYS; every
    other request is answered from the base."""
    marker = Path(root) / OVERLAY_FILE
    if not marker.is_file():
        return None
    base = (Path(root) / marker.read_text(encoding="utf-8").strip()).resolve()
    if not base.is_dir():
        raise FileNotFoundError(f"{marker} names {base}, which is not a directory")
    return base


class _ReplayHTTPServer(ThreadingHTTPServer):
    """A client that hangs up mid-answer (it gave up, or failed on its side) is the client's
    business: one debug line, not a traceback on the terminal of the command that served it."""

    def handle_error(self, request, client_address) -> None:
        log.debug("replay: %r from %s", sys.exc_info()[1], client_address)


class ReplayHandler(BaseHTTPRequestHandler):
    """Answers GET and form POST requests from the recording index."""

    protocol_version = "HTTP/1.1"
    index: RecordingIndex

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        self._serve(form=[])

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8") if length else ""
        self._serve(form=parse_qsl(body, keep_blank_values=True))

    def _serve(self, form: list) -> None:
        parts = urlsplit(self.path)
        source, _, path = parts.path.lstrip("/").partition("/")
        query = parse_qsl(parts.query, keep_blank_values=True)
        found = self.index.answer(source, request_id(self.command, path, query, form))
        if found is None:
            self._send(404, b"No recorded response for this request", "text/plain", {})
            return
        landed, body_path = found
        # From the bytes served, not the recorded metadata: an edited recording is new data.
        etag = f'"{_file_digest(body_path)[:32]}"'
        if self.headers.get("If-None-Match") == etag:
            self._send(304, b"", None, {"ETag": etag})
            return
        self._send(landed.status, body_path, _content_type(landed),
                   _replayed_headers(landed, etag))

    def _send(self, status: int, body: bytes | Path, ctype: str | None, headers: dict) -> None:
        """Send `body` (bytes, or a file streamed in blocks: bodies can be gigabytes)."""
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for key, value in headers.items():
            self.send_header(key, value)
        size = body.stat().st_size if isinstance(body, Path) else len(body)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        if isinstance(body, Path):
            with open(body, "rb") as fh:
                shutil.copyfileobj(fh, self.wfile, 1 << 20)
        elif body:
            self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        log.debug("replay: " + format, *args)


@functools.lru_cache(maxsize=1024)
def _digest_of(path: Path, size: int, mtime_ns: int) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _file_digest(path: Path) -> str:
    """sha256 of a body, remembered while the file is unchanged (a no-op refresh would
    otherwise re-hash every recording for its ETag)."""
    stat = path.stat()
    return _digest_of(path, stat.st_size, stat.st_mtime_ns)


def _make_handler(index: RecordingIndex) -> type[BaseHTTPRequestHandler]:
    return type("BoundReplayHandler", (ReplayHandler,), {"index": index})


def _content_type(landed: Landed) -> str | None:
    return landed.headers.get("content-type") or landed.headers.get("Content-Type")


def _replayed_headers(landed: Landed, etag: str) -> dict[str, str]:
    kept = ("last-modified", "content-disposition", "retry-after")
    headers = {k: v for k, v in landed.headers.items() if k.lower() in kept}
    headers["ETag"] = etag
    return headers


class ReplayServer:
    """Serve a recordings directory on 127.0.0.1 (context manager; port 0 = any free port)."""

    def __init__(self, root: Path | str = DEMO_SNAPSHOT, port: int = 0) -> None:
        self.index = RecordingIndex(Path(root))
        self.httpd = _ReplayHTTPServer(("127.0.0.1", port), self._handler())
        self.httpd.daemon_threads = True
        # a short poll interval: shutdown waits for it (0.5 s by default, in every test)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                       daemon=True)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        return _make_handler(self.index)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def base_url(self, source: str) -> str:
        return f"{self.url}/{source}"

    def base_urls(self, sources) -> dict[str, str]:
        """Source name -> this server's mount of it, for each of `sources`."""
        return {name: self.base_url(name) for name in sources}

    def __enter__(self) -> ReplayServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def add_recording(root: Path, *, source: str, dataset: str, path: str, body: bytes,
                  content_type: str, query: list | None = None, form: list | None = None,
                  method: str = "GET", status: int = 200, headers: dict | None = None) -> Landed:
    """Store one response in landing layout (how the demo snapshot's files were made)."""
    from kmu_pipeline.landing import Request

    request = Request(source=source, dataset=dataset, path=path,
                      query=tuple(map(tuple, query or [])), form=tuple(map(tuple, form or [])),
                      method=method)
    store = LandingStore(root)
    tmp = store.temp_body(request)
    with tmp:
        tmp.write(body)
    return store.commit(request, Path(tmp.name), url=request.url(_upstream_base(source)),
                        status=status, headers={"content-type": content_type, **(headers or {})})


def _upstream_base(source: str) -> str:
    from kmu_pipeline.catalogue import load_catalogue

    return load_catalogue().sources[source].base_url
