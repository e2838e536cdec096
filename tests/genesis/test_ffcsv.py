"""ffcsv answers: decimal commas, GENESIS signs and quality flags, and hostile ZIPs."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from kmu_pipeline.catalogue import load_catalogue
from kmu_pipeline.errors import MalformedPayloadError, SchemaError
from kmu_pipeline.landing import Landed
from kmu_pipeline.parse.genesis_ffcsv import parse_landed

REGISTER = load_catalogue().dataset("unternehmensregister")
REAL = ("destatis/pystatis-extracted/52111-0001/"
        "01_data_tablefile_de__52111-0001_1773175341165_de_flat.csv")


def _landed(tmp_path: Path, body: bytes) -> tuple[Landed, Path]:
    path = tmp_path / "answer.body"
    path.write_bytes(body)
    landed = Landed(request_id="0123456789abcdef", source="genesis", dataset=REGISTER.name,
                    method="POST", path="data/tablefile", query=(), form=(),
                    url="http://127.0.0.1/genesis/data/tablefile", status=200,
                    headers={"content-type": "application/zip"}, retrieved_at="", sha256="",
                    size=len(body), body_file=path.name)
    return landed, path


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def _real_rows(reference: Path, values: list[tuple[str, str]]) -> bytes:
    """The real 52111-0001 file with the value/value_q cells of its first rows replaced."""
    lines = (reference / REAL).read_text(encoding="utf-8-sig").splitlines()
    header, rows = lines[0], lines[1:len(values) + 1]
    cols = header.split(";")
    out = []
    for row, (value, quality) in zip(rows, values, strict=True):
        cells = row.split(";")
        cells[cols.index("value")], cells[cols.index("value_q")] = value, quality
        out.append(";".join(cells))
    return ("\ufeff" + "\n".join([header, *out]) + "\n").encode()


def test_decimal_comma_signs_and_quality_flags(reference, tmp_path):
    cells = [("28469", "e"), ("1923,5", "p"), ("-", "e"), (".", ""), ("x", ""), ("/", "e"),
             ("...", ""), ("0,25", "r")]
    landed, path = _landed(tmp_path, _zip({"t_flat.csv": _real_rows(reference, cells)}))
    rows = next(parse_landed(landed, path, REGISTER))
    got = [(None if v != v else v, f) for v, f in zip(rows["value"], rows["flag"], strict=True)]
    assert got == [(28469.0, "e"), (1923.5, "p"), (0.0, "-"), (None, "."), (None, "x"),
                   (None, "/"), (None, "..."), (0.25, "r")]
    assert set(rows["source"]) == {"genesis"} and set(rows["geo"]) == {"DE"}


def test_non_numeric_value_names_the_cell(reference, tmp_path):
    landed, path = _landed(tmp_path, _zip({"t.csv": _real_rows(reference, [("12a", "e")])}))
    with pytest.raises(SchemaError, match=r"non-numeric values \['12a'\]"):
        next(parse_landed(landed, path, REGISTER))


def test_unknown_size_class_code_is_schema_drift(reference, tmp_path):
    body = _real_rows(reference, [("5", "e")]).replace(b"BESAB0250UM", b"BESAB9999")
    body = body.replace(b"BESAB0010B0050", b"BESAB9999")
    landed, path = _landed(tmp_path, _zip({"t.csv": body}))
    with pytest.raises(SchemaError, match=r"size class codes \['BESAB9999'\]"):
        next(parse_landed(landed, path, REGISTER))


@pytest.mark.parametrize("members, words", [
    ({"../../etc/evil.csv": b"a;b\n"}, "escapes the archive"),
    ({"/abs/evil.csv": b"a;b\n"}, "escapes the archive"),
    ({"a.csv": b"a\n", "b.csv": b"b\n"}, "2 members"),
    ({"bomb.csv": b"0" * 5_000_000}, "zip bomb"),
])
def test_hostile_zips_are_refused(tmp_path, members, words):
    landed, path = _landed(tmp_path, _zip(members))
    with pytest.raises(MalformedPayloadError, match=words) as err:
        next(parse_landed(landed, path, REGISTER))
    assert "dataset unternehmensregister" in str(err.value)


def test_html_error_page_is_not_an_ffcsv_answer(tmp_path):
    landed, path = _landed(tmp_path, b"<html><body>Wartungsarbeiten</body></html>")
    with pytest.raises(MalformedPayloadError, match="expected an ffcsv ZIP"):
        next(parse_landed(landed, path, REGISTER))
