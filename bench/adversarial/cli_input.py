"""(e) Bad CLI input, each in a data directory holding a published warehouse: the command must
fail (non-zero exit) with a message on stderr, never a traceback, and leave the published
published data as it was (a run whose every dataset failed still publishes its run, all
stale: one bad dataset never costs the others)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from bench.adversarial.processes import fingerprint, run_cli

# not loopback (loopback is a replay server, which needs no credentials), and never resolves: a
# live command must stop before its first request
NOWHERE = "http://kmu-adversarial.invalid"
NO_CREDENTIALS = {"KMU_GENESIS_USERNAME": "", "KMU_GENESIS_PASSWORD": "", "KMU_GENESIS_TOKEN": "",
                  "KMU_EUROSTAT_BASE_URL": NOWHERE, "KMU_GENESIS_BASE_URL": NOWHERE,
                  "KMU_DESI_BASE_URL": NOWHERE, "PYTHONWARNINGS": "ignore"}


def _inputs(workdir: Path) -> list[tuple[str, list[str], dict[str, str]]]:
    """(what, arguments, environment) of each bad input."""
    (workdir / "empty").mkdir(exist_ok=True)
    (workdir / "a-file").write_text("not a directory")
    (workdir / "notes.duckdb").write_text("a text file named like a warehouse")
    half = workdir / "half.duckdb"
    db = workdir / "data" / "kmu.duckdb"
    half.write_bytes(db.read_bytes()[: db.stat().st_size // 2])
    (workdir / "garbage.toml").write_text("[[dataset]\nname = ")
    (workdir / "unknown-key.toml").write_text(
        (Path(__file__).resolve().parents[2] / "kmu_pipeline" / "catalogue.toml").read_text()
        .replace('source = "eurostat"', 'sauce = "eurostat"', 1))
    cat = {"KMU_CATALOGUE": str(workdir / "garbage.toml")}
    return [
        ("no command", [], {}),
        ("unknown command", ["frobnicate"], {}),
        ("catalogue without subcommand", ["catalogue"], {}),
        ("--parallel 0", ["run", "--replay", "--parallel", "0"], {}),
        ("--parallel -1", ["run", "--replay", "--parallel", "-1"], {}),
        ("--parallel 1000", ["run", "--replay", "--parallel", "1000"], {}),
        ("--parallel abc", ["run", "--replay", "--parallel", "abc"], {}),
        ("--parallel 1.5", ["run", "--replay", "--parallel", "1.5"], {}),
        ("--replay missing dir", ["run", "--replay", "no/such/dir"], {}),
        ("--replay empty dir", ["run", "--replay", "empty"], {}),
        ("--replay a file", ["run", "--replay", "a-file"], {}),
        ("--landing a file", ["run", "--replay", "--landing", "a-file"], {}),
        ("--landing unwritable", ["run", "--replay", "--landing", "/proc/kmu-landing"], {}),
        ("query unknown table", ["query", "select * from nowhere"], {}),
        ("query write", ["query", "drop table meta.runs"], {}),
        ("query empty", ["query", ""], {}),
        ("query syntax error", ["query", "selec 1 frm"], {}),
        ("query attach a text file", ["query", "attach 'a-file' as x"], {}),
        ("query invalid UTF-8 argument", ["query", "select '\udcff'"], {}),
        ("--warehouse a directory", ["--warehouse", ".", "tables"], {}),
        ("--warehouse missing", ["--warehouse", "no/such/kmu.duckdb", "tables"], {}),
        ("--warehouse a text file", ["--warehouse", "notes.duckdb", "tables"], {}),
        ("--warehouse half a file", ["--warehouse", "half.duckdb", "query",
                                     "select count(*) from marts.indicators"], {}),
        ("docs --output unwritable", ["docs", "--output", "/proc/kmu-dictionary.md"], {}),
        ("docs --output a directory", ["docs", "--output", "empty"], {}),
        ("replay-server --port 99999", ["replay-server", "--port", "99999"], {}),
        ("replay-server --port -5", ["replay-server", "--port", "-5"], {}),
        ("replay-server --port abc", ["replay-server", "--port", "abc"], {}),
        ("replay-server missing dir", ["replay-server", "no/such/dir"], {}),
        ("catalogue check --replay empty", ["catalogue", "check", "--replay", "empty"], {}),
        ("KMU_CATALOGUE missing", ["datasets"], {"KMU_CATALOGUE": "no/such.toml"}),
        ("KMU_CATALOGUE garbage", ["datasets"], cat),
        ("KMU_CATALOGUE unknown key", ["datasets"],
         {"KMU_CATALOGUE": str(workdir / "unknown-key.toml")}),
        ("live run without credentials", ["run"], NO_CREDENTIALS),
        ("live run, password with newline", ["run"], {
            **NO_CREDENTIALS, "KMU_GENESIS_USERNAME": "u", "KMU_GENESIS_PASSWORD": "pw\n"}),
        ("KMU_DUCKDB_MEMORY_LIMIT garbage", ["run", "--replay"],
         {"KMU_DUCKDB_MEMORY_LIMIT": "lots"}),
    ]


@dataclass
class CliResult:
    inputs: int = 0
    no_traceback: int = 0
    failed_with_message: int = 0
    warehouse_untouched: int = 0
    problems: list[str] = field(default_factory=list)


def run_cli_input(workdir: Path, published: Path, progress=print) -> CliResult:
    """`published`: a data directory holding a published warehouse (copied into `workdir`)."""
    shutil.copytree(published, workdir / "data")
    db = workdir / "data" / "kmu.duckdb"
    result = CliResult()
    for what, args, env in _inputs(workdir):
        before = fingerprint(db)
        done = run_cli(*args, cwd=workdir, env=env, timeout=300)
        output = done.stdout + done.stderr
        result.inputs += 1
        clean = "Traceback" not in output
        message = done.returncode != 0 and bool(done.stderr.strip())
        untouched = fingerprint(db)["tables"] == before["tables"]  # a run may still publish
        result.no_traceback += clean
        result.failed_with_message += message
        result.warehouse_untouched += untouched
        if not (clean and message and untouched):
            result.problems.append(f"{what}: rc {done.returncode}, "
                                   f"{done.stderr.strip()[-300:]!r}")
        progress(f"  cli {what}: rc {done.returncode}"
                 f"{'' if clean else ' TRACEBACK'}{'' if untouched else ' WAREHOUSE CHANGED'}")
    return result
