"""Point 5: a run killed with SIGKILL while it publishes or right after it published leaves one
whole published warehouse (the old one, or the new one complete), and the next run completes
normally (tests/reliability/crashing.py)."""

from __future__ import annotations

import pytest

from tests.reliability.crashing import LATE, kill_at_each


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_sigkill_while_publishing_leaves_one_whole_warehouse_and_the_next_run_completes(
        tmp_path, readme_run):
    kill_at_each(LATE, tmp_path / "run", readme_run[0])
