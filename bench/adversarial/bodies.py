"""Hostile answers: bodies built from the demo snapshot's real recordings, and faults (in the
shape of tests/reliability/faults.py) that need more than a body: compressed bombs, a drip,
redirects, echoed credentials."""

from __future__ import annotations

import functools
import io
import json
import time
import zipfile
import zlib
from collections.abc import Callable

from kmu_pipeline.replay import DEMO_SNAPSHOT
from tests.reliability.faults import FaultHandler

CSV = "application/vnd.sdmx.data+csv;version=1.0.0"
SS_XML = "application/vnd.sdmx.structurespecificdata+xml;version=2.1"
STRUCTURE_XML = "application/vnd.sdmx.structure+xml;version=2.1"
JSON = "application/json;charset=UTF-8"
ZIP = "application/zip"
MB = 1 << 20


def recording(pattern: str) -> bytes:
    """The body of one demo recording (`source/dataset/request-glob`)."""
    return next(DEMO_SNAPSHOT.glob(f"{pattern}/*.body")).read_bytes()


CLOUD_CSV = recording("eurostat/isoc_cicce_use/data_*")
GENESIS_ZIP = recording("genesis/ikt_by_size/data_tablefile-*")
DESI_CSV = recording("desi/desi/download_DESI.csv-*")
GEO_CODELIST = recording("eurostat/codelists/codelist_ESTAT_GEO_*")
CLOUD_FLOW = recording("eurostat/isoc_cicce_use/dataflow_*")
GENESIS_METADATA = recording("genesis/ikt_by_size/metadata_table-*")


def ffcsv() -> tuple[str, bytes]:
    """The member name and text of the demo's GENESIS ffcsv ZIP."""
    with zipfile.ZipFile(io.BytesIO(GENESIS_ZIP)) as archive:
        name = archive.namelist()[0]
        return name, archive.read(name)


def zipped(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def csv_lines(edit: Callable[[list[str]], list[str]], body: bytes = CLOUD_CSV) -> bytes:
    return "\n".join(edit(body.decode().splitlines())).encode() + b"\n"


def replace_cell(old: str, new: str, body: bytes = CLOUD_CSV) -> bytes:
    assert old.encode() in body, old
    return body.replace(old.encode(), new.encode(), 1)


def sdmx_ml(obs_value: str = "30.62", flag: str = "", prolog: bytes = b"",
            encoding: str = "UTF-8") -> bytes:
    """A one-observation StructureSpecific data message of isoc_cicce_use."""
    flag_attr = f' OBS_FLAG="{flag}"' if flag else ""
    return (f'<?xml version="1.0" encoding="{encoding}"?>\n'.encode() + prolog
            + b'<message:StructureSpecificData xmlns:message="http://www.sdmx.org/resources/'
              b'sdmxml/schemas/v2_1/message"><message:DataSet><Series freq="A" '
              b'size_emp="10-49" nace_r2="C10-S951_X_K" indic_is="E_CC" unit="PC_ENT" '
              b'geo="DE">' + f'<Obs TIME_PERIOD="2020" OBS_VALUE="{obs_value}"{flag_attr}/>'
            .encode() + b"</Series></message:DataSet></message:StructureSpecificData>")


def laughs(depth: int = 10) -> bytes:
    entities = [b'<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">'.encode() for n in range(1, depth)]
    return b"".join(entities)


@functools.cache
def compressed_zeros(encoding: str, size: int) -> bytes:
    """`size` zero bytes, gzip- or deflate-compressed a MiB at a time: a ratio bomb of about
    1000x that never sits in memory inflated."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31 if encoding == "gzip" else 15)
    chunk = bytes(MB)
    parts = [packer.compress(chunk) for _ in range(size // MB)]
    return b"".join([*parts, packer.flush()])


Body = bytes | Callable[[], bytes]


def built(body: Body) -> bytes:
    """Large hostile bodies are built when first served, so listing the cases stays cheap."""
    return body() if callable(body) else body


def served(body: Body, ctype: str) -> Callable:
    return lambda h, _b, _c: h.raw(200, built(body), ctype)


# --- faults beyond tests/reliability/faults.py ---------------------------------------------------

def encoded(content: Body, ctype: str, encoding: str) -> Callable:
    """A body sent with a Content-Encoding header (the client inflates it while it arrives)."""
    return lambda h, _b, _c: h.raw(200, built(content), ctype,
                                   headers={"Content-Encoding": encoding})


def drip(seconds_per_byte: float, give_up_after: float = 40.0) -> Callable:
    """Promise the recorded body, send it one byte at a time: the request deadline must cut it."""
    def fault(h: FaultHandler, rec: bytes, ctype: str) -> None:
        h.send_response(200)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(rec)))
        h.end_headers()
        started = time.monotonic()
        try:
            for n in range(len(rec)):
                if time.monotonic() - started > give_up_after:
                    return
                h.wfile.write(rec[n:n + 1])
                h.wfile.flush()
                time.sleep(seconds_per_byte)
        except OSError:  # the client hung up: what the deadline should make it do
            pass
    return fault


def redirect_to(target: Callable[[], str], code: int = 302) -> Callable:
    """Redirect to a URL computed when the request comes (the other server's port)."""
    return lambda h, _b, _c: h.raw(code, b"", headers={"Location": target()})


def echo_credentials(where: str) -> Callable:
    """Echo the request's credentials back (POST answers are built here: the fault server finds
    no recording for a POST's form): in the GENESIS metadata JSON (escaped), in response
    headers, or stored uncompressed inside the ffcsv ZIP, as careless gateways and proxies do."""
    def fault(h: FaultHandler, rec: bytes, ctype: str) -> None:
        user = h.headers.get("username", "")
        password = h.headers.get("password", "")
        if where == "metadata-json":
            doc = json.loads(GENESIS_METADATA)
            doc["Parameter"]["password"] = password
            doc["Parameter"]["username"] = user
            h.raw(200, json.dumps(doc).encode(), JSON)
        elif where == "headers":
            h.raw(200, GENESIS_ZIP, ZIP, headers={"ETag": f'"{password}"', "X-Echo-User": user,
                                            "Content-Disposition": f"attachment; "
                                                                   f"filename={password}.zip"})
        elif where == "zip-member":
            name, text = ffcsv()
            text = text.replace(b"Deutschland insgesamt", password.encode("latin-1"), 1)
            h.raw(200, zipped({name: text}, zipfile.ZIP_STORED), ZIP)
        elif where == "status-json":
            doc = {"Ident": {"Service": "data", "Method": "tablefile"},
                   "Status": {"Code": 15, "Content": f"Login {user}/{password} failed",
                              "Type": "ERROR"}, "Parameter": {"password": password}}
            h.raw(200, json.dumps(doc).encode(), JSON)
        elif where == "error-page":
            h.raw(500, f"<html>Internal error for password={password}</html>".encode(),
                  "text/html")
    return fault
