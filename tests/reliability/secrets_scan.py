"""Find credentials wherever the pipeline writes: files (data dir, landing), captured logs,
Dagster events and their metadata, and every table (rows, comments) of a DuckDB warehouse.

Each secret is looked for as given, URL-encoded, repr- and JSON-escaped (a trailing newline as
`\\n`), and base64-encoded alone and as the `user:secret` pair of HTTP basic auth, so an echoed
Authorization header is caught too.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

import duckdb


def variants(secrets: Iterable[str], users: Iterable[str] = ()) -> set[str]:
    forms = set()
    for secret in secrets:
        forms |= {secret, quote(secret, safe=""), base64.b64encode(secret.encode()).decode(),
                  repr(secret)[1:-1], json.dumps(secret)[1:-1], secret.strip()}
        for user in users:
            forms.add(base64.b64encode(f"{user}:{secret}".encode()).decode())
    return {form for form in forms if form}


def scan_files(roots: Iterable[Path], forms: set[str]) -> list[str]:
    hits = []
    for root in roots:
        for path in sorted(Path(root).rglob("*")):
            if path.is_file():
                data = path.read_bytes()
                hits += [f"file {path}: {form!r}" for form in forms if form.encode() in data]
    return hits


def scan_text(label: str, text: str, forms: set[str]) -> list[str]:
    return [f"{label}: {form!r}" for form in forms if form in text]


def scan_events(events, forms: set[str]) -> list[str]:
    """Dagster events as recorded: message, step, metadata of materialisations and checks."""
    hits = []
    for event in events:
        hits += scan_text(f"dagster event {event.event_type_value} {event.step_key}",
                          repr(event), forms)
    return hits


def scan_warehouse(db: Path, forms: set[str]) -> list[str]:
    hits = []
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = con.execute("select schema_name, table_name, comment from duckdb_tables()"
                             ).fetchall()
        comments = con.execute("select comment from duckdb_columns()").fetchall()
        hits += scan_text("column comments", repr(comments), forms)
        for schema, table, comment in tables:
            rows = con.execute(f'select * from "{schema}"."{table}"').fetchall()
            hits += scan_text(f"table {schema}.{table}", repr(rows) + repr(comment), forms)
    finally:
        con.close()
    return hits


def find_secrets(secrets: Iterable[str], *, users: Iterable[str] = (), files=(), logs="",
                 events=(), warehouses=()) -> list[str]:
    """Every place one of `secrets` shows up; [] when none does."""
    forms = variants(list(secrets), list(users))
    hits = scan_files(files, forms) + scan_text("logs", logs, forms)
    hits += scan_events(events, forms)
    for db in warehouses:
        hits += scan_warehouse(Path(db), forms)
    return hits
