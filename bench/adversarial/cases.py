"""The hostile upstream answers, one Case each: which dataset is attacked, what the fault server
answers, and what the pipeline must do: refuse it (last good table kept, stale, error naming
dataset and request), accept it (a valid answer written oddly: loaded), or either (both are
safe; what matters is that nothing leaks, escapes or lingers)."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.adversarial import bodies as b
from tests.reliability import faults as f

DATA = "/data/isoc_cicce_use/"
FLOW = "/dataflow/ESTAT/isoc_cicce_use"
GEO = "/codelist/ESTAT/GEO"
TABLEFILE = "/genesis/data/tablefile"
METADATA = "/genesis/metadata/table"
DESI = "/desi/download/DESI.csv"
ESCAPE = "/tmp/kmu-adversarial-escape"  # a ZIP member or footer trying to write here must fail
SOAP_FAULT = (b'<?xml version="1.0"?><S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/'
              b'envelope/"><S:Body><S:Fault><faultcode>S:Server</faultcode><faultstring>'
              b'INVALID_QUERY: nope</faultstring></S:Fault></S:Body></S:Envelope>')
SDMX_ERROR = (b'<?xml version="1.0"?><mes:Error xmlns:mes="http://www.sdmx.org/resources/sdmxml/'
              b'schemas/v2_1/message"><mes:ErrorMessage code="150"><com:Text xmlns:com="x">'
              b'Semantic error</com:Text></mes:ErrorMessage></mes:Error>')
HTML = b"<!DOCTYPE html><html><head><title>Wartung</title></head><body>bald wieder da"
MARK = ("DE,2020,30.62,", "DE,2020,31.25,")  # an accepted answer must bring this value in
MARKED = b.replace_cell(*MARK)
CLOUD_MARKED = ("select value = 31.25 from raw.eurostat__isoc_cicce_use where geo = 'DE' and "
                "year = 2020 and size_class = '10-49'")


@dataclass(frozen=True)
class Case:
    name: str
    target: str  # catalogue dataset attacked
    rules: tuple[tuple, ...]  # (path substring, fault, fault, ...) for the fault server
    expect: str = "refused"  # refused | accepted | either
    verify: str = ""  # accepted: SQL on the warehouse that must return true
    source_kwargs: dict = field(default_factory=dict)


def _csv(name: str, body: b.Body, expect: str = "refused", ctype: str = b.CSV) -> Case:
    verify = CLOUD_MARKED if expect == "accepted" else ""
    return Case(name, "isoc_cicce_use", ((DATA, b.served(body, ctype)),), expect, verify)


def _ml(name: str, body: b.Body, expect: str = "refused") -> Case:
    return Case(name, "isoc_cicce_use", ((DATA, b.served(body, b.SS_XML)),), expect)


def _fault(name: str, target: str, match: str, *faults: Callable, expect: str = "refused",
           verify: str = "", **source_kwargs) -> Case:
    return Case(name, target, ((match, *faults),), expect, verify, source_kwargs)


def _row(edit: Callable[[str], str]) -> bytes:
    """The marked body with the DE 2020 10-49 row edited."""
    return b.csv_lines(lambda lines: [edit(x) if x.count(MARK[1]) and ",10-49," in x else x
                                      for x in lines], MARKED)


def _cell(old: str, new: str) -> bytes:
    return MARKED.replace(old.encode(), new.encode(), 1)


def _xxe(path: str, padding: int = 0) -> bytes:
    return b.sdmx_ml(flag="&xxe;", prolog=b"<!-- " + b"x" * padding + b" -->"
                     + f'<!DOCTYPE m [<!ENTITY xxe SYSTEM "{path}">]>'.encode())


def encoding_cases() -> list[Case]:
    utf16 = b.sdmx_ml(encoding="UTF-16").decode().encode("utf-16")
    utf16_xxe = _xxe("file:///etc/passwd").decode().replace('encoding="UTF-8"',
                                                             'encoding="UTF-16"').encode("utf-16")
    return [
        _ml("xml-encoding-unknown", b.sdmx_ml(encoding="x-klingon")),
        _ml("xml-encoding-utf7", b.sdmx_ml(encoding="UTF-7")),
        _ml("xml-encoding-ebcdic-declared", b.sdmx_ml(encoding="cp037"), "either"),
        _ml("xml-utf16-body", utf16, "either"),
        _ml("xml-utf16-hides-doctype", utf16_xxe),
        _ml("xml-latin1-declared-utf8-sent", b.sdmx_ml(encoding="ISO-8859-1", flag="Ä"),
            "either"),
    ]


def huge_cases() -> list[Case]:
    return [
        _csv("csv-huge-flag-16mb",
             lambda: _cell("DE,2020,31.25,", "DE,2020,31.25," + "F" * (16 * b.MB))),
        _csv("csv-huge-line-64mb", lambda: b"DATAFLOW," + b"A" * (64 * b.MB) + b"\n"),
        _csv("csv-20k-columns", lambda: b",".join(b"c%d" % n for n in range(20_000)) + b"\n"
             + MARKED.split(b"\n", 1)[1]),
        _ml("xml-huge-attribute-16mb", lambda: b.sdmx_ml(flag="x" * (16 * b.MB))),
        _ml("xml-nested-200k",
            lambda: b.sdmx_ml().replace(b"<Series", b"<a>" * 200_000 + b"<Series")),
    ]


def empty_cases() -> list[Case]:
    header = b.CLOUD_CSV.split(b"\n", 1)[0] + b"\n"
    lines = b.CLOUD_CSV.decode().splitlines()
    return [
        _csv("empty-200", b""),
        _csv("header-only-200", header),
        _csv("header-only-crlf-200", header.replace(b"\n", b"\r\n")),
        _csv("shortened-one-row", "\n".join(lines[:2]).encode() + b"\n"),
        _csv("shortened-third", "\n".join(lines[: len(lines) // 3]).encode() + b"\n"),
        _csv("whitespace-only", b"\n\n \n"),
        _csv("bom-only", b"\xef\xbb\xbf"),
    ]


def number_cases() -> list[Case]:
    value = "DE,2020,31.25,"
    absurd = [("1e400", "1e400"), ("minus-1e400", "-1e400"), ("nan", "NaN"), ("inf", "inf"),
              ("minus-inf", "-inf"), ("1e20", "1e20"), ("150-percent", "150"),
              ("negative", "-5"), ("text", "abc"), ("hex", "0x1F"),
              ("decimal-comma", '"31,25"')]
    return [_csv(f"number-{label}", _cell(value, f"DE,2020,{text},")) for label, text in absurd] + [
        _csv("year-99999", _cell(value, "DE,99999,31.25,"), "either"),
        _csv("year-text", _cell(value, "DE,20x0,31.25,")),
    ]


def field_cases() -> list[Case]:
    return [
        _csv("row-extra-field", _row(lambda x: x + ",extra")),
        _csv("row-missing-field", _row(lambda x: x.rsplit(",", 1)[0])),
        _csv("row-only-commas", b.csv_lines(lambda ls: [*ls, "," * 11], MARKED), "either"),
        _csv("row-unterminated-quote", _row(lambda x: x.replace(",DE,", ',"DE,'))),
        _csv("row-nul-byte", _row(lambda x: x.replace(",DE,", ",D\0E,"))),
        _csv("column-added", b.csv_lines(lambda ls: [ls[0] + ",c_size"] + [x + ",TOTAL"
                                                                          for x in ls[1:]])),
        _csv("column-dropped", b.csv_lines(  # the unit dimension (CONF_STATUS may be absent)
            lambda ls: [",".join(x.split(",")[:6] + x.split(",")[7:]) for x in ls])),
        _csv("column-renamed", MARKED.replace(b"OBS_VALUE", b"VALUE", 1)),
        _csv("rows-duplicated", b.csv_lines(lambda ls: ls + ls[1:])),
        _csv("size-class-missing", b.csv_lines(lambda ls: [x for x in ls if ",A,10-49," not in x])),
    ]


def utf8_cases() -> list[Case]:
    cases = [("invalid-utf8-geo", ",DE,", ",D\xff\xfe,"),
             ("invalid-utf8-flag", ",31.25,", ",31.25,\xc3\x28"),
             ("overlong-utf8", ",DE,", ",\xc0\xafDE,"),
             ("surrogate-utf8", ",DE,", ",\xed\xa0\x80,")]
    return [_csv(name, MARKED.replace(old.encode(), new.encode("latin-1"), 1))
            for name, old, new in cases] + [
        _csv("latin1-byte-in-flag", MARKED.replace(b",31.25,,", b",31.25,\xe4,", 1), "either")]


def flag_and_sql_cases() -> list[Case]:
    flagged = "DE,2020,31.25,"
    return [
        _csv("flag-mathtext-dollars", _cell(flagged + ",", flagged + "$$,"), "accepted"),
        _csv("flag-mathtext-formula", _cell(flagged + ",", flagged + "$x^2$,"), "accepted"),
        _csv("flag-sql-quote", _cell(flagged + ",", flagged + "b');--,"), "accepted"),
        _csv("flag-too-long", _cell(flagged + ",", flagged + "ABCDEFGHIJ,")),
        _csv("nace-sql-drop-table", MARKED.replace(
            b",C10-S951_X_K,", b",C10'); drop table meta.runs; --,", 1), "either"),
        _csv("indic-sql-delete", MARKED.replace(
            b",E_CC,", b",E_CC'; delete from meta.requests; --,", 1)),
        _csv("geo-sql-comment", _row(lambda x: x.replace(",DE,", ",DE'--,")), "either"),
        _csv("size-sql-union", _row(lambda x: x.replace(",10-49,", ",10-49' union select 1--,"))),
        _csv("unit-double-quote", MARKED.replace(b",PC_ENT,", b',"PC_ENT"";--",', 1), "either"),
    ]


def format_cases() -> list[Case]:
    header, rest = MARKED.split(b"\n", 1)
    quoted = b",".join(b'"%s"' % c for c in header.split(b",")) + b"\n" + rest
    return [
        _csv("utf8-bom", b"\xef\xbb\xbf" + MARKED, "accepted"),
        _csv("quoted-header", quoted, "accepted"),
        _csv("bom-and-quoted-header", b"\xef\xbb\xbf" + quoted, "accepted"),
        _csv("crlf-lines", MARKED.replace(b"\n", b"\r\n"), "accepted"),
        _csv("csv-sent-as-text-html", MARKED, "either", "text/html"),
        _csv("xml-sent-as-csv", b.sdmx_ml(), "refused"),
        _csv("html-200", HTML, ctype="text/html"),
        _csv("json-200", b'{"error": {"status": 500}}', ctype="application/json"),
        _csv("pdf-200", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", ctype="application/pdf"),
        _csv("png-200", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, ctype="image/png"),
        _csv("soap-fault-200", SOAP_FAULT, ctype="text/xml"),
        _csv("sdmx-error-200", SDMX_ERROR, ctype="application/xml"),
        _csv("zip-instead-of-csv", b.zipped({"data.csv": MARKED}), "either", b.ZIP),
        _csv("raw-gzip-without-header", b.compressed_zeros("gzip", 1 << 20), "refused",
             "application/gzip"),
    ]


def xml_attack_cases(server_url: Callable[[], str]) -> list[Case]:
    quadratic = (b'<!DOCTYPE m [<!ENTITY a "' + b"x" * 50_000 + b'">]>')
    return [
        _ml("xxe-file", _xxe("file:///etc/passwd")),
        _ml("xxe-after-70k-prolog", _xxe("file:///etc/passwd", padding=70_000)),
        _ml("xxe-http-callback", _xxe("http://127.0.0.1:9/evil")),
        _ml("billion-laughs", b.sdmx_ml(flag="&x;", prolog=b"<!DOCTYPE m [" + b.laughs()
                                        + b'<!ENTITY x "&lol9;">]>')),
        _ml("quadratic-blowup", b.sdmx_ml(flag="&a;" * 10_000, prolog=quadratic)),
        _ml("external-dtd", b.sdmx_ml(prolog=b'<!DOCTYPE m SYSTEM "http://127.0.0.1:9/x.dtd">')),
        _ml("parameter-entity", b.sdmx_ml(
            prolog=b'<!DOCTYPE m [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>')),
        _ml("xinclude", b.sdmx_ml().replace(
            b"<message:DataSet>", b'<message:DataSet><xi:include xmlns:xi="http://www.w3.org/'
                                  b'2001/XInclude" href="file:///etc/passwd" parse="text"/>'),
            "either"),
        _ml("xml-truncated", b.sdmx_ml()[:300]),
    ]


def compression_cases() -> list[Case]:
    def bomb(encoding: str) -> b.Body:
        return lambda: b.compressed_zeros(encoding, 1 << 30)

    return [
        Case("gzip-bomb-1gib", "isoc_cicce_use", ((DATA, b.encoded(bomb("gzip"), b.CSV, "gzip")),)),
        Case("deflate-bomb-1gib", "isoc_cicce_use",
             ((DATA, b.encoded(bomb("deflate"), b.CSV, "deflate")),)),
        Case("gzip-corrupt", "isoc_cicce_use",
             ((DATA, b.encoded(b"\x1f\x8b\x08\0garbage" * 100, b.CSV, "gzip")),)),
        Case("gzip-valid-csv", "isoc_cicce_use",
             ((DATA, b.encoded(gzip.compress(MARKED), b.CSV, "gzip")),), "accepted",
             CLOUD_MARKED),
        Case("encoding-unknown-br", "isoc_cicce_use",
             ((DATA, b.encoded(b"\x0b\x02\x80" * 50, b.CSV, "br")),)),
    ]


def http_cases(elsewhere: Callable[[], str]) -> list[Case]:
    eu = "isoc_cicce_use"
    return [
        _fault("http-500-storm", eu, DATA, f.status(500, b"oops")),
        _fault("http-503-storm-retry-after-1", eu, DATA,
               f.status(503, headers={"Retry-After": "1"})),
        _fault("http-429-storm-retry-after-3600", eu, DATA,
               f.status(429, headers={"Retry-After": "3600"})),
        _fault("http-502-html", eu, DATA, f.status(502, HTML, "text/html")),
        _fault("http-500-then-ok", eu, DATA, f.status(500), f.body(MARKED, b.CSV),
               expect="accepted", verify=CLOUD_MARKED),
        _fault("http-429-then-ok", eu, DATA, f.status(429, headers={"Retry-After": "1"}),
               f.body(MARKED, b.CSV), expect="accepted", verify=CLOUD_MARKED),
        _fault("connection-dropped-storm", eu, DATA, f.dropped()),
        _fault("truncated-storm", eu, DATA, f.truncated(0.5)),
        _fault("slow-drip", eu, DATA, b.drip(0.2), request_deadline_seconds=3.0),
        # the deadline counts from the answer's headers; before them the 120 s read timeout
        # bounds each attempt, so a stall shorter than that and then a good answer is loaded
        _fault("stall-8s-then-answer", eu, DATA, f.stalled(8, f.body(MARKED, b.CSV)),
               expect="accepted", verify=CLOUD_MARKED, request_deadline_seconds=3.0),
        _fault("http-404-sdmx-error", eu, DATA, f.status(404, SDMX_ERROR, "application/xml")),
        _fault("http-400-html", eu, DATA, f.status(400, HTML, "text/html")),
        _fault("http-401", eu, DATA, f.status(401, b"unauthorised")),
        _fault("http-204-no-content", eu, DATA, f.status(204)),
        _fault("http-304-unasked", eu, DATA, f.status(304), expect="either"),
        _fault("redirect-off-origin-301", eu, DATA, b.redirect_to(elsewhere, 301)),
        _fault("redirect-off-origin-308", eu, DATA, b.redirect_to(elsewhere, 308)),
        _fault("redirect-loop", eu, DATA, b.redirect_to(lambda: DATA_LOOP, 302)),
        _fault("redirect-to-file-scheme", eu, DATA,
               b.redirect_to(lambda: "file:///etc/passwd", 302)),
    ]


DATA_LOOP = ("/eurostat/data/isoc_cicce_use/A.0-9+10-49+50-249+GE250+10-249+GE10.C10-S951_X_K."
             "E_CC.PC_ENT.?loop=1")


def structure_cases() -> list[Case]:
    xxe_flow = b.CLOUD_FLOW.replace(b"?>", b'?><!DOCTYPE m [<!ENTITY xxe SYSTEM '
                                           b'"file:///etc/passwd">]>', 1)
    laughs_geo = b.GEO_CODELIST.replace(b"?>", b"?><!DOCTYPE m [" + b.laughs()
                                        + b"]>", 1)
    return [
        _fault("flow-xxe", "isoc_cicce_use", FLOW, f.body(xxe_flow, b.STRUCTURE_XML)),
        _fault("flow-html", "isoc_cicce_use", FLOW, f.body(HTML, "text/html")),
        _fault("flow-500-storm", "isoc_cicce_use", FLOW, f.status(500)),
        _fault("flow-truncated", "isoc_cicce_use", FLOW, f.truncated(0.4)),
        _fault("flow-garbage-xml", "isoc_cicce_use", FLOW, f.body(b"<a><b></a>", b.STRUCTURE_XML)),
        _fault("codelist-billion-laughs", "codelists", GEO, f.body(laughs_geo, b.STRUCTURE_XML)),
        _fault("codelist-html", "codelists", GEO, f.body(HTML, "text/html")),
        _fault("codelist-empty", "codelists", GEO, f.body(b"", b.STRUCTURE_XML)),
        _fault("codelist-500-storm", "codelists", GEO, f.status(500)),
        _fault("codelist-truncated", "codelists", GEO, f.truncated(0.5)),
    ]


def genesis_cases(elsewhere: Callable[[], str]) -> list[Case]:
    name, text = b.ffcsv()
    header = text.split(b"\n", 1)[0] + b"\n"
    ge = "ikt_by_size"

    def table(body: bytes) -> Callable:
        return f.body(body, b.ZIP)

    def member(edit: Callable[[bytes], bytes]) -> bytes:
        return b.zipped({name: edit(text)})

    lines = text.split(b"\n")
    return [
        _fault("zip-traversal-member", ge, TABLEFILE, table(b.zipped({
            f"../../../../../..{ESCAPE}.csv": text}))),
        _fault("zip-absolute-member", ge, TABLEFILE, table(b.zipped({f"{ESCAPE}-abs.csv": text}))),
        _fault("zip-ratio-bomb", ge, TABLEFILE,
               b.served(lambda: b.zipped({name: b"\0" * (64 * b.MB)}), b.ZIP)),
        _fault("zip-two-members", ge, TABLEFILE, table(b.zipped({name: text, "b.csv": text}))),
        _fault("zip-empty-ffcsv-member", ge, TABLEFILE, table(b.zipped({name: b""}))),
        _fault("zip-header-only-ffcsv", ge, TABLEFILE, table(b.zipped({name: header}))),
        _fault("zip-not-a-zip", ge, TABLEFILE, table(b"PK\x03\x04 this is not a zip")),
        _fault("zip-truncated", ge, TABLEFILE, table(b.GENESIS_ZIP[: len(b.GENESIS_ZIP) // 2])),
        _fault("ffcsv-wrong-field-count", ge, TABLEFILE, table(member(
            lambda t: b"\n".join([*lines[:2], lines[2] + b";extra;fields", *lines[3:]])))),
        _fault("ffcsv-invalid-utf8", ge, TABLEFILE, table(member(
            lambda t: t.replace(b"Deutschland", b"Deutschl\xff\xfend", 1)))),
        _fault("ffcsv-absurd-number", ge, TABLEFILE, table(member(
            lambda t: b"\n".join([*lines[:2], lines[2].replace(b";", b";9e999;", 1)
                                  if len(lines) > 2 else b"", *lines[3:]])))),
        _fault("ffcsv-shortened", ge, TABLEFILE, table(member(lambda t: b"\n".join(lines[:3])))),
        _fault("genesis-status-minus-1", ge, TABLEFILE, f.body(
            b'{"Status": {"Code": -1, "Content": "kein Datenquader gefunden"}}', b.JSON)),
        _fault("genesis-status-104", ge, TABLEFILE, f.body(
            b'{"Status": {"Code": 104, "Content": "Es gibt keine Objekte"}}', b.JSON)),
        _fault("genesis-json-no-status", ge, TABLEFILE, f.body(b'{"Object": null}', b.JSON)),
        _fault("genesis-html-200", ge, TABLEFILE, f.body(HTML, "text/html")),
        _fault("genesis-500-storm", ge, TABLEFILE, f.status(500)),
        _fault("genesis-metadata-garbage", ge, METADATA, f.body(b'{"Status": [1, 2', b.JSON)),
        _fault("genesis-metadata-huge-json", ge, METADATA, b.served(
            lambda: b'{"Status": {"Code": 0, "Content": "' + b"x" * (32 * b.MB) + b'"}}',
            b.JSON)),
        _fault("redirect-off-origin-302-credentials", ge, TABLEFILE, b.redirect_to(elsewhere, 302)),
        _fault("redirect-off-origin-307-credentials", ge, TABLEFILE, b.redirect_to(elsewhere, 307)),
        _fault("echo-credentials-metadata-json", ge, METADATA, b.echo_credentials("metadata-json"),
               expect="accepted"),
        _fault("echo-credentials-headers", ge, TABLEFILE, b.echo_credentials("headers"),
               expect="accepted"),
        _fault("echo-credentials-stored-zip-member", ge, TABLEFILE,
               b.echo_credentials("zip-member"), expect="either"),
        _fault("echo-credentials-status-json", ge, TABLEFILE, b.echo_credentials("status-json")),
        _fault("echo-credentials-error-page", ge, TABLEFILE, b.echo_credentials("error-page")),
    ]


def desi_cases() -> list[Case]:
    header = b.DESI_CSV.split(b"\n", 1)[0] + b"\n"
    lines = b.DESI_CSV.split(b"\n")
    return [
        _fault("desi-header-only", "desi", DESI, f.body(header, "text/csv")),
        _fault("desi-html", "desi", DESI, f.body(HTML, "text/html")),
        _fault("desi-shortened", "desi", DESI, f.body(b"\n".join(lines[:5]) + b"\n", "text/csv")),
        *[_fault(f"desi-number-{label}", "desi", DESI, f.body(
            b.DESI_CSV.replace(b",8.34223,", f",{text},".encode(), 1), "text/csv"))
          for label, text in [("1e400", "1e400"), ("nan", "NaN"), ("minus-inf", "-inf")]],
        _fault("desi-500-storm", "desi", DESI, f.status(500)),
        _fault("desi-utf8-bom", "desi", DESI, f.body(b"\xef\xbb\xbf" + b.DESI_CSV, "text/csv"),
               expect="accepted"),
    ]


def all_cases(elsewhere: Callable[[], str]) -> list[Case]:
    cases = [*encoding_cases(), *huge_cases(), *empty_cases(), *number_cases(), *field_cases(),
             *utf8_cases(), *flag_and_sql_cases(), *format_cases(),
             *xml_attack_cases(elsewhere), *compression_cases(), *http_cases(elsewhere),
             *structure_cases(), *genesis_cases(elsewhere), *desi_cases()]
    names = [case.name for case in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    return cases

