"""Issue 18.15: careless CLI input gets one line that says what is wrong, never a traceback,
and impossible values are refused before anything starts."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "kmu_pipeline.cli", *args], cwd=cwd,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"}, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("args, code, says", [
    (["run", "--replay", "--parallel", "0"], 2, "--parallel must be between 1 and 16, not 0"),
    (["run", "--replay", "--parallel", "-1"], 2, "--parallel must be between 1 and 16, not -1"),
    (["run", "--replay", "--parallel", "1000"], 2, "between 1 and 16, not 1000"),
    (["run", "--replay", "no/such/dir"], 2, "no/such/dir is not a directory"),
    (["replay-server", "--port", "99999"], 2, "--port must be between 0 and 65535"),
    (["tables"], 1, "no warehouse at data/kmu.duckdb"),
    (["query", "select 1"], 1, "no warehouse at data/kmu.duckdb"),
    (["--warehouse", ".", "tables"], 1, ". is a directory, not a DuckDB warehouse file"),
])
def test_bad_input_is_one_line_and_no_traceback(tmp_path, args, code, says):
    done = _cli(*args, cwd=tmp_path)
    assert done.returncode == code, done.stderr
    assert says in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "data" / "kmu.duckdb").exists()  # nothing was started


def test_a_directory_without_recordings_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    done = _cli("run", "--replay", "empty", cwd=tmp_path)
    assert done.returncode == 2 and "empty holds no recorded responses" in done.stderr


def test_an_unwritable_landing_directory_is_one_line(tmp_path):
    (tmp_path / "landing").write_text("a file where the landing directory should be")
    done = _cli("catalogue", "check", "--replay", "--landing", "landing", cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "error:" in done.stderr and "landing" in done.stderr
