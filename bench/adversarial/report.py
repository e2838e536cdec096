"""The measured figures as a table, and in the shape of issue 18's sentence."""

from __future__ import annotations

from tabulate import tabulate

from bench.adversarial.hostile import CHECKS


def _hostile_rows(verdicts) -> list[tuple]:
    held = sum(v.held for v in verdicts)
    rows = [("hostile answers, per dataset", f"{held} of {len(verdicts)} held",
             ", ".join(f"{check} {sum(v.checks.get(check, False) for v in verdicts)}"
                       for check in CHECKS))]
    failed = [f"{v.case} ({', '.join(k for k, ok in v.checks.items() if not ok)})"
              for v in verdicts if not v.held]
    if failed:
        rows.append(("  not held", len(failed), "; ".join(failed)))
    return rows


def figures_table(results: dict) -> str:
    rows = []
    if "hostile" in results:
        rows += _hostile_rows(results["hostile"])
    if "whole" in results:
        w = results["whole"]
        rows.append(("hostile answers, whole CLI runs", f"{w.held} of {w.runs} held",
                     "; ".join(w.problems)))
    if "readers" in results:
        r = results["readers"]
        rows.append((f"{r.readers} readers x {r.refreshes} refreshes",
                     f"{r.reads} reads, {r.errors} errors, {r.torn} torn",
                     f"{r.refreshes_published} refreshes published, {r.runs_seen} runs seen; "
                     + "; ".join(r.error_examples)))
    if "kills" in results:
        k = results["kills"]
        rows.append((f"{k.kills} kills ({', '.join(f'{n} {s}' for s, n in k.by_signal.items())})",
                     f"{k.survived} of {k.kills} survived",
                     f"last good {k.readable_last_good}, next run ok {k.next_run_ok}, debris "
                     f"bounded {k.debris_bounded} (max {k.max_debris_bytes >> 10} KiB), "
                     f"processes left {k.processes_left}, killed after publish "
                     f"{k.killed_after_publish}, runs that ended before their kill "
                     f"{k.attempts_finished}; " + "; ".join(k.problems)))
    if "concurrent" in results:
        c = results["concurrent"]
        rows.append((f"concurrent refreshes ({c.groups} groups, {c.runs} runs)",
                     f"{c.runs_kept} of {c.published} published runs kept in meta.runs",
                     f"{c.refused_cleanly} refused cleanly, {c.other_failures} other failures, "
                     f"{c.tracebacks} tracebacks; " + "; ".join(c.problems)))
    if "cli" in results:
        e = results["cli"]
        rows.append((f"bad CLI input ({e.inputs})", f"{e.no_traceback} without traceback",
                     f"{e.failed_with_message} failed with a message, {e.warehouse_untouched} "
                     f"left the warehouse as it was; " + "; ".join(e.problems)))
    seconds = ", ".join(f"{k} {v} s" for k, v in results.get("seconds", {}).items())
    rows.append(("wall time", seconds, ""))
    return tabulate(rows, headers=["what", "figure", "detail"], maxcolwidths=[None, None, 90])


def sentence(results: dict) -> str:
    parts = []
    if "hostile" in results:
        verdicts = results["hostile"]
        whole = results.get("whole")
        parts.append(f"{len(verdicts)} hostile upstream answers from a local server "
                     f"({sum(v.held for v in verdicts)} held"
                     + (f"; {whole.held} of {whole.runs} whole CLI runs held" if whole else "")
                     + ")")
    if "readers" in results:
        r = results["readers"]
        parts.append(f"{r.readers} readers over {r.refreshes} refreshes: {r.reads:,} read-only "
                     f"reads with {r.errors} errors and {r.torn} torn reads")
    if "kills" in results:
        k = results["kills"]
        parts.append(f"{k.survived} of {k.kills} kills at random times left a readable "
                     f"last-good warehouse and the next run succeeded "
                     f"({k.processes_left} processes left)")
    if "concurrent" in results:
        c = results["concurrent"]
        parts.append(f"{c.groups} groups of concurrent refreshes: {c.runs_kept} of "
                     f"{c.published} published runs kept, {c.refused_cleanly} refused cleanly, "
                     f"{c.other_failures} other failures")
    if "cli" in results:
        e = results["cli"]
        parts.append(f"{e.inputs} bad CLI inputs: {e.no_traceback} without a traceback")
    return "; ".join(parts) + "."
