"""The adversarial harness (bench/adversarial) judges what it counts: a hostile answer the
pipeline refuses is held, a valid answer written oddly is loaded, and a judge that expected a
refusal of a good answer says "not held", so the figures it prints can fail."""

from __future__ import annotations

from dataclasses import replace

from bench.adversarial.cases import DATA, Case
from bench.adversarial.hostile import HostileRun
from tests.reliability import faults as f


def test_the_harness_counts_held_and_not_held(tmp_path):
    with HostileRun(tmp_path) as harness:
        cases = {case.name: case for case in harness.cases()}
        assert len(cases) >= 78  # the 78, each distinct
        xxe = harness.run(cases["xxe-after-70k-prolog"], 1)
        quoted = harness.run(cases["bom-and-quoted-header"], 2)
        # the recorded answer unchanged is no attack: a judge expecting a refusal must fail it
        control = harness.run(Case("control-recorded", "isoc_cicce_use",
                                   ((DATA, f.recorded()),)), 3)
        echo = harness.run(replace(cases["echo-credentials-headers"]), 4)
    assert xxe.held and xxe.status == "stale", xxe
    assert "XXE guard" in xxe.error and "dataset isoc_cicce_use, request http://" in xxe.error
    assert quoted.held and quoted.status == "ok", quoted
    assert echo.held and echo.checks["no_secret"], echo
    assert not control.held and control.status == "ok"
    assert control.checks == {"published": True, "outcome": False, "named": True,
                              "no_secret": True, "contained": True}
