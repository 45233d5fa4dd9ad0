"""`bench`: run suites, list what exists, render reports, score the claims.

    bench run suite=vision [hydra overrides...] [-m] [--force] [--split=model|dataset]
    bench list
    bench report RESULTS_FOLDER...
    bench claims [RESULTS_FOLDER...] [--explain ID]
    bench compare BASE NEW [--markdown FILE] [thresholds]
    bench reference update|check [SUITE...]
    bench scorecard [--check] [--evidence FOLDER] [--out FILE]

Exit codes: 0 all went well; 1 some cell failed (its row says why); 2 bad input; 130 interrupted.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness import app
from harness.core.display import console
from harness.results.compare import Thresholds

# Argument parsing only (`bench run -h` prints the docstring above): each command is an operation of
# harness/app.py, `bench reference` one of harness/results/reference.py.


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="bench", description="When does deep learning beat classical ML?")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run a suite: bench run suite=vision [overrides] [-m]", add_help=False)
    sub.add_parser("list", help="suites, datasets, models, hardware and profiles")
    rep = sub.add_parser("report", help="render the report of finished runs")
    rep.add_argument("paths", nargs="+", help="run folders, suite folders or the results root")
    rep.add_argument("--out", help="folder for report.md/report.html (default: the first path)")
    clm = sub.add_parser("claims", help="verdicts of the document's claims from results on disk")
    clm.add_argument("paths", nargs="*", default=["results"], help="result folders (default: results)")
    clm.add_argument("--explain", metavar="ID", help="one claim in full: its rule, verdict, tally, comparisons, "
                     "conditions and what would change the verdict")
    cmp = sub.add_parser("compare", help="changes from BASE to NEW beyond noise; exit 1 on a regression")
    cmp.add_argument("base", help="run folder, suite folder (its newest run) or reference (results/reference/SUITE)")
    cmp.add_argument("new", help="run folder or suite folder (its newest run)")
    ref = sub.add_parser("reference", help="refresh (update) or compare with (check) the committed smoke references")
    ref.add_argument("action", choices=["update", "check"])
    ref.add_argument("suites", nargs="*", help="suites (default: all)")
    ref.add_argument("--results", default="results", help="where `check` writes its run (default: results)")
    sc = sub.add_parser("scorecard", help="write SCORECARD.md from the committed evidence (results/evidence)")
    sc.add_argument("--evidence", help="evidence folder (default: results/evidence of the project)")
    sc.add_argument("--out", help="file to write (default: SCORECARD.md of the project)")
    sc.add_argument("--check", action="store_true", help="write nothing; exit 1 when the file differs from "
                    "what the evidence produces")
    for p in (cmp, ref):
        p.add_argument("--markdown", help="also write a Markdown summary (for a pull-request comment) to this file")
        d = Thresholds()
        p.add_argument("--accuracy-drop", type=float, default=d.accuracy_drop,
                       help=f"smallest accuracy change that counts (default {d.accuracy_drop})")
        p.add_argument("--time-ratio", type=float, default=d.time_ratio,
                       help=f"smallest normalised slowdown that counts (default {d.time_ratio})")
        p.add_argument("--z", type=float, default=d.z, help=f"standard errors of seed noise to exceed (default {d.z})")
        p.add_argument("--min-seconds", type=float, default=d.min_seconds,
                       help=f"smallest absolute slowdown in seconds that counts (default {d.min_seconds})")
        p.add_argument("--bpc-rise", type=float, default=d.bpc_rise,
                       help=f"smallest rise in bits per character that counts (default {d.bpc_rise})")

    if argv and argv[0] == "run":
        if any(a in ("-h", "--help") for a in argv[1:]):
            console.print(__doc__)
            console.print("Overrides use Hydra's grammar: key=value, group=option, a,b,c sweeps with -m. "
                          "See `bench list` for the names.")
            return app.EXIT_OK
        return run_command(argv[1:])
    args = parser.parse_args(argv)
    if args.command == "list":
        return app.list_items()
    if args.command == "report":
        return app.report(args.paths, args.out)
    if args.command == "claims":
        return app.claims(args.paths, args.explain)
    if args.command == "scorecard":
        return app.scorecard(args.evidence, args.out, check=args.check)
    if args.command in ("compare", "reference"):
        th = Thresholds(args.accuracy_drop, args.time_ratio, args.z, args.min_seconds, args.bpc_rise)
        if min(th.accuracy_drop, th.z, th.min_seconds, th.bpc_rise) < 0 or th.time_ratio < 1:
            console.print("[red]error:[/] thresholds must be non-negative and --time-ratio at least 1", soft_wrap=True)
            return app.EXIT_BAD_INPUT
        if args.command == "compare":
            return app.compare(args.base, args.new, th, args.markdown)
        from harness.results import reference

        return reference.cmd_reference(args.action, args.suites, Path(args.results), th, args.markdown)
    return app.EXIT_BAD_INPUT


def run_command(args: list[str]) -> int:
    """`bench run`'s own flags (--force, --split=...); the rest, Hydra's overrides and flags, in order."""
    split = [a for a in args if a.startswith("--split")]
    value = split[-1].split("=", 1)[1] if split and "=" in split[-1] else ("" if split else None)
    rest = [a for a in args if a != "--force" and not a.startswith("--split")]
    return app.run(rest, force="--force" in args, split=value)


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
