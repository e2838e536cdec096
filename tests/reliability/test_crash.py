"""Point 5: a run killed with SIGKILL while it downloads, copies its build, loads, runs the models
or draws the charts leaves the published warehouse intact, and the next run completes normally
(tests/reliability/crashing.py; the publishing points are in test_crash_late.py)."""

from __future__ import annotations

import pytest

from tests.reliability.crashing import EARLY, kill_at_each


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_sigkill_at_any_point_leaves_the_warehouse_intact_and_the_next_run_completes(tmp_path,
                                                                                   readme_run):
    kill_at_each(EARLY, tmp_path / "run", readme_run[0])
