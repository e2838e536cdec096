"""python -m bench.adversarial --quick|--full [--kills N] [--kill-minutes M] [--json FILE]

--quick: a dozen hostile answers, 2 readers over 2 refreshes, 2 kills, one pair, all CLI input
(a few minutes); --full: every hostile answer, 8 readers over 10 refreshes, up to 64 kills
within the kill budget, 3 pairs and 2 triples. Prints the figures as a table."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from bench.adversarial.cli_input import run_cli_input
from bench.adversarial.concurrent import run_concurrent
from bench.adversarial.hostile import CHECKS, run_hostile
from bench.adversarial.kills import run_kills
from bench.adversarial.readers import run_readers
from bench.adversarial.report import figures_table, sentence
from bench.adversarial.whole_runs import run_whole

QUICK_CASES = {"xxe-file", "billion-laughs", "gzip-bomb-1gib", "zip-traversal-member",
               "header-only-200", "quoted-header", "flag-mathtext-dollars", "http-500-storm",
               "redirect-off-origin-302-credentials", "echo-credentials-headers",
               "number-nan", "indic-sql-delete"}
SIZES = {"quick": {"readers": 2, "refreshes": 2, "kills": 2, "kill_minutes": 3.0, "pairs": 1,
                   "triples": 0},
         "full": {"readers": 8, "refreshes": 10, "kills": 64, "kill_minutes": 30.0, "pairs": 3,
                  "triples": 2}}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.adversarial", description=__doc__)
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--quick", action="store_const", dest="size", const="quick")
    size.add_argument("--full", action="store_const", dest="size", const="full")
    parser.add_argument("--kills", type=int, help="most kills (default: 2 quick, 64 full)")
    parser.add_argument("--kill-minutes", type=float, help="stop killing after this long")
    parser.add_argument("--only", choices=["hostile", "whole", "readers", "kills", "concurrent",
                                           "cli"], action="append", help="run only these parts")
    parser.add_argument("--json", type=Path, help="also write every figure and problem here")
    parser.add_argument("--scratch", type=Path, help="work directory (default: a temp dir)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # progress lines show while it runs
    sizes = {**SIZES[args.size]}
    if args.kills is not None:
        sizes["kills"] = args.kills
    if args.kill_minutes is not None:
        sizes["kill_minutes"] = args.kill_minutes
    parts = set(args.only or ["hostile", "whole", "readers", "kills", "concurrent", "cli"])
    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="kmu-adversarial-"))
    scratch.mkdir(parents=True, exist_ok=True)
    results: dict = {"sizes": sizes, "seconds": {}}
    only = QUICK_CASES if args.size == "quick" else None
    steps = {
        "hostile": lambda: run_hostile(scratch / "hostile", only),
        "whole": lambda: run_whole(scratch / "whole"),
        "readers": lambda: run_readers(scratch / "readers", sizes["readers"],
                                       sizes["refreshes"]),
        "kills": lambda: run_kills(scratch / "kills", sizes["kills"],
                                   sizes["kill_minutes"] * 60),
        "concurrent": lambda: run_concurrent(scratch / "concurrent", sizes["pairs"],
                                             sizes["triples"]),
        "cli": lambda: run_cli_input(scratch / "cli", scratch / "concurrent" / "data"),
    }
    for name, step in steps.items():
        if name not in parts:
            continue
        if name == "cli" and "concurrent" not in parts:  # needs a published warehouse
            run_concurrent(scratch / "concurrent", 0, 0)
        print(f"{name} ...", flush=True)
        clock = time.monotonic()
        results[name] = step()
        results["seconds"][name] = round(time.monotonic() - clock)
    print(figures_table(results))
    print()
    print(sentence(results))
    if args.json:
        args.json.write_text(json.dumps(_plain(results), indent=1, default=str))
    return 0


def _plain(results: dict) -> dict:
    plain = {}
    for key, value in results.items():
        if isinstance(value, list):
            plain[key] = [{**asdict(v), "held": v.held} for v in value]
        elif hasattr(value, "__dataclass_fields__"):
            plain[key] = asdict(value)
        else:
            plain[key] = value
    plain["checks"] = CHECKS
    return plain


if __name__ == "__main__":
    raise SystemExit(main())
