"""A fault-injecting HTTP server: the replay server, with rules that replace chosen answers.

Requests go through the pipeline's real HTTP client exactly as to the agency. A rule matches a
substring of the request path and answers with a sequence of faults (the last one repeats):
an HTTP status, a raw body, a body cut off mid-transfer, a dropped connection, a stall, or the
recorded body transformed. Unmatched requests get the recorded answer, as from ReplayServer.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from kmu_pipeline.landing import request_id
from kmu_pipeline.replay import ReplayHandler, ReplayServer, _content_type

Fault = Callable[["FaultHandler", bytes, str], None]


class FaultHandler(ReplayHandler):
    server_state: FaultServer

    def _serve(self, form: list) -> None:
        state = self.server_state
        with state.lock:
            state.log.append((self.command, self.path, dict(self.headers)))
            rule = next(((m, f) for m, f in state.rules if m in self.path), None)
            fault = None
            if rule is not None:
                match, faults = rule
                n = state.hits.get(match, 0)
                state.hits[match] = n + 1
                fault = faults[min(n, len(faults) - 1)]
        if fault is None:
            super()._serve(form)
            return
        body, ctype = self._recorded()
        fault(self, body, ctype)

    def _recorded(self) -> tuple[bytes, str]:
        """The recorded body for this request, if any (rules may transform it)."""
        parts = urlsplit(self.path)
        source, _, path = parts.path.lstrip("/").partition("/")
        query = parse_qsl(parts.query, keep_blank_values=True)
        found = self.index.answers.get((source, request_id(self.command, path, query, [])))
        if not found:
            return b"", "text/plain"
        landed, body_path = found[-1]
        return body_path.read_bytes(), _content_type(landed) or "application/octet-stream"

    def raw(self, status: int, body: bytes, ctype: str = "text/plain",
            headers: dict | None = None, declared: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body) if declared is None else declared))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()


class FaultServer(ReplayServer):
    """Serve `root` (landing layout) on 127.0.0.1 with fault rules; a context manager."""

    def __init__(self, root: Path) -> None:
        self.rules: list[tuple[str, list[Fault]]] = []
        self.hits: dict[str, int] = {}
        self.log: list[tuple[str, str, dict]] = []
        self.lock = threading.Lock()
        super().__init__(root)

    def _handler(self) -> type[FaultHandler]:
        return type("BoundFaultHandler", (FaultHandler,),
                    {"index": self.index, "server_state": self})

    def add(self, match: str, *faults: Fault) -> FaultServer:
        """Answer requests whose path contains `match` with `faults` in turn (last repeats)."""
        with self.lock:
            self.rules.insert(0, (match, list(faults)))
            self.hits.pop(match, None)
        return self

    def requests_to(self, match: str) -> list[tuple[str, str, dict]]:
        return [entry for entry in self.log if match in entry[1]]


# --- faults -------------------------------------------------------------------------------------

def status(code: int, body: bytes = b"", ctype: str = "text/plain",
           headers: dict | None = None) -> Fault:
    return lambda h, _body, _ctype: h.raw(code, body, ctype, headers)


def body(content: bytes, ctype: str, code: int = 200) -> Fault:
    return lambda h, _body, _ctype: h.raw(code, content, ctype)


def transformed(edit: Callable[[bytes], bytes], ctype: str | None = None) -> Fault:
    """The recorded body passed through `edit` (schema drift, bad values, ...)."""
    return lambda h, rec, rec_ctype: h.raw(200, edit(rec), ctype or rec_ctype)


def recorded() -> Fault:
    return lambda h, rec, ctype: h.raw(200, rec, ctype)


def truncated(fraction: float = 0.5) -> Fault:
    """Promise the whole recorded body (Content-Length), send part of it, hang up."""
    def fault(h: FaultHandler, rec: bytes, ctype: str) -> None:
        h.raw(200, rec[: int(len(rec) * fraction)], ctype, declared=len(rec))
        _hang_up(h)
    return fault


def dropped() -> Fault:
    """Close the connection without any answer (a reset upstream)."""
    return lambda h, _body, _ctype: _hang_up(h)


def stalled(seconds: float, then: Fault | None = None) -> Fault:
    """Wait (longer than the client's read timeout), then answer with `then` if still heard."""
    def fault(h: FaultHandler, rec: bytes, ctype: str) -> None:
        time.sleep(seconds)
        try:
            (then or recorded())(h, rec, ctype)
        except OSError:
            pass
    return fault


def _hang_up(h: FaultHandler) -> None:
    h.close_connection = True
    try:
        h.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
