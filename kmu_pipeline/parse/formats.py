"""What a landed body is, recognised in one place from its first bytes.

Agencies answer a data request with data, or with something that only looks like an answer:
Eurostat a SOAP envelope that queues the request or carries a fault, an SDMX error message, an
empty body; a proxy an HTML page; GENESIS a JSON status. Every reader asks `sniff` which it is
before parsing, and `fault_text` reads a refusal whole (its code and text, with the rejected
codes) so an error can show it. Bodies are untrusted: only the first bytes are read, with
regular expressions, never with an XML parser that could resolve entities.
"""

from __future__ import annotations

import html
import json
import re
from enum import Enum
from pathlib import Path

HEAD_BYTES = 64 << 10


class BodyKind(Enum):
    EMPTY = "empty body"
    SDMX_CSV = "SDMX-CSV"
    SDMX_DATA = "SDMX-ML data message"
    SDMX_STRUCTURE = "SDMX-ML structure message"
    SDMX_ERROR = "SDMX-ML error message"
    SOAP_ASYNC = "SOAP envelope of Eurostat's asynchronous API (queued request or status)"
    SOAP_FAULT = "SOAP fault"
    HTML = "HTML page"
    JSON = "JSON document"
    ZIP = "ZIP archive"
    XML = "XML document of another kind"
    UNKNOWN = "unrecognised bytes"


def head(path: Path, size: int = HEAD_BYTES) -> bytes:
    """The first bytes of a body, without a UTF-8 byte order mark or leading whitespace."""
    with open(path, "rb") as fh:
        data = fh.read(size)
    return data.removeprefix(b"\xef\xbb\xbf").lstrip()


def sniff(path: Path) -> BodyKind:
    data = head(path)
    if not data:
        return BodyKind.EMPTY
    if data.startswith(b"PK\x03\x04"):
        return BodyKind.ZIP
    if data[:1] in (b"{", b"["):
        return BodyKind.JSON
    if data.startswith(b"DATAFLOW,") or data.startswith(b'"DATAFLOW",'):
        return BodyKind.SDMX_CSV
    if not data.startswith(b"<"):
        return BodyKind.UNKNOWN
    return _sniff_xml(data)


_ROOT = re.compile(rb"<(?:[\w.-]+:)?([A-Za-z_][\w.-]*)[\s/>]")  # skips <?xml and <!--
_DATA_ROOTS = {b"GenericData", b"StructureSpecificData", b"GenericTimeSeriesData",
               b"StructureSpecificTimeSeriesData"}


def _sniff_xml(data: bytes) -> BodyKind:
    """By the root element (a data message's header has a <Structure> element of its own)."""
    root = match.group(1) if (match := _ROOT.search(data)) else b""
    lower = data.lower()
    if root.lower() == b"html" or b"<!doctype html" in lower[:512]:
        return BodyKind.HTML
    if root == b"Fault" or (root == b"Envelope" and b"fault>" in lower):
        return BodyKind.SOAP_FAULT
    if root == b"Envelope" and b"syncresponse" in lower:  # also asyncResponse
        return BodyKind.SOAP_ASYNC
    if root == b"Error":
        return BodyKind.SDMX_ERROR
    if root == b"Structure":
        return BodyKind.SDMX_STRUCTURE
    if root in _DATA_ROOTS:
        return BodyKind.SDMX_DATA
    return BodyKind.XML


_TAG = re.compile(r"<[^>]+>")
_FAULT_PARTS = (
    ("code", re.compile(r"<(?:\w+:)?faultcode>(.*?)</(?:\w+:)?faultcode>", re.S)),
    ("text", re.compile(r"<(?:\w+:)?faultstring[^>]*>(.*?)</(?:\w+:)?faultstring>", re.S)),
    ("detail", re.compile(r"<(?:\w+:)?detail>(.*?)</(?:\w+:)?detail>", re.S)),
)
_SDMX_ERROR = re.compile(r'<(?:\w+:)?ErrorMessage[^>]*?code="([^"]*)"[^>]*>(.*?)'
                         r'</(?:\w+:)?ErrorMessage>', re.S)


def _plain(fragment: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", fragment)).split())


def fault_text(path: Path, limit: int = 4000) -> tuple[str, str]:
    """(code, text) of a refusal, whole: a SOAP fault, an SDMX error message, a GENESIS JSON
    status, an HTML page's text, or the plain body; code is '' where the body has none."""
    data = head(path).decode("utf-8", "replace")
    kind = sniff(path)
    if kind is BodyKind.SOAP_FAULT:
        parts = {name: _plain(m.group(1)) for name, rx in _FAULT_PARTS if (m := rx.search(data))}
        text = " ".join(p for p in (parts.get("text"), parts.get("detail")) if p)
        return parts.get("code", ""), text[:limit]
    if kind is BodyKind.SDMX_ERROR and (m := _SDMX_ERROR.search(data)):
        return m.group(1), _plain(m.group(2))[:limit]
    if kind is BodyKind.JSON:
        try:
            status = json.loads(data).get("Status")
            if isinstance(status, dict):
                return str(status.get("Code", "")), str(status.get("Content", ""))[:limit]
        except (ValueError, AttributeError):
            pass
    return "", _plain(data)[:limit]


def preview(path: Path, size: int = 80) -> str:
    """The first characters of a body, for an error message."""
    return head(path, size).decode("utf-8", "replace")
