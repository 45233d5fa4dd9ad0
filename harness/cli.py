"""`bench`: run suites, list what exists, render reports, score the claims.

    bench run suite=vision [hydra overrides...] [-m] [--force] [--split=model|dataset] [--dry-run]
    bench list [SUITE | suites|models|datasets|profiles|hardware] [--suite SUITE]
    bench report RESULTS_FOLDER...
    bench claims [RESULTS_FOLDER...] [--explain ID]
    bench compare BASE NEW [--markdown FILE] [thresholds]
    bench reference update|check [SUITE...]
    bench scorecard [--check] [--evidence FOLDER] [--out FILE]
    bench history SUITE [--markdown FILE] [--plot FILE] [thresholds]

Exit codes: 0 all went well; 1 some cell failed (its row says why); 2 bad input; 130 interrupted.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from harness import app
from harness.core.display import console
from harness.results.compare import Thresholds

# Argument parsing only (`bench run -h` prints the docstring above): each command is an operation of
# harness/app.py, `bench reference` one of harness/results/reference.py.
RUN_HELP = ("Overrides use Hydra's grammar: key=value, group=option, a,b,c sweeps with -m (anywhere on the line). "
            "--dry-run prints the plan and its expected time and runs nothing. See `bench list` for the names.")


def installed_version() -> str:
    try:
        return version("bench")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def threshold_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per field of Thresholds (--accuracy-drop, --fd-rise, ...), so none is left unexposed."""
    for f in fields(Thresholds):
        parser.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, type=float, default=f.default, metavar="X",
                            help=f"{f.metadata['help']} (default {f.default:g})".replace("%", "%%"))


def build_parser() -> argparse.ArgumentParser:
    """Every command but `run` (whose arguments are Hydra's: run_command)."""
    parser = argparse.ArgumentParser(prog="bench", description="When does deep learning beat classical ML?")
    parser.add_argument("--version", action="version", version=f"bench {installed_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run a suite: bench run suite=vision [overrides] [-m] [--dry-run]", add_help=False)
    lst = sub.add_parser("list", help="suites, datasets, models, hardware and profiles (or one suite's)")
    lst.add_argument("what", nargs="?", help="a suite (its datasets, models and profiles) or a group: "
                     "suites, models, datasets, profiles, hardware, scaling, interpret (default: everything)")
    lst.add_argument("--suite", help="only this suite's models or datasets")
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
    hist = sub.add_parser("history", help="each model's score and calibrated time over runs and reference commits, "
                          "with the steps beyond noise")
    hist.add_argument("suite", help="the suite (its runs under --results and its reference in results/reference)")
    hist.add_argument("--results", default="results", help="results folder to read runs from (default: results)")
    hist.add_argument("--no-references", action="store_true", help="runs only, not the committed references")
    hist.add_argument("--plot", help="also draw the history as a PNG to this file")
    hist.add_argument("--last", type=int, default=6, help="points shown in the terminal, newest (default 6)")
    for p in (cmp, ref, hist):
        p.add_argument("--markdown", help="also write a Markdown summary (for a pull-request comment) to this file")
        threshold_flags(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if argv and argv[0] == "run":
        if any(a in ("-h", "--help") for a in argv[1:]):
            print(__doc__.strip() + "\n\n" + RUN_HELP)  # as written: rich markup would eat `[hydra overrides...]`
            return app.EXIT_OK
        return run_command(argv[1:])
    args = parser.parse_args(argv)
    if args.command == "list":
        return app.list_items(args.what, args.suite)
    if args.command == "report":
        return app.report(args.paths, args.out)
    if args.command == "claims":
        return app.claims(args.paths, args.explain)
    if args.command == "scorecard":
        return app.scorecard(args.evidence, args.out, check=args.check)
    if args.command in ("compare", "reference", "history"):
        th = Thresholds(**{f.name: getattr(args, f.name) for f in fields(Thresholds)})
        if th.problems():
            console.print(f"error: {'; '.join(th.problems())}", markup=False, soft_wrap=True)
            return app.EXIT_BAD_INPUT
        if args.command == "compare":
            return app.compare(args.base, args.new, th, args.markdown)
        if args.command == "history":
            return app.history(args.suite, args.results, th, markdown=args.markdown, plot=args.plot, last=args.last,
                               references=not args.no_references)
        from harness.results import reference

        return reference.cmd_reference(args.action, args.suites, Path(args.results), th, args.markdown)
    return app.EXIT_BAD_INPUT


def run_command(args: list[str]) -> int:
    """`bench run`'s own flags (--force, --split=..., --dry-run); the rest, Hydra's overrides and flags,
    in any order (app.run gives them to Hydra in the order its parser takes)."""
    rest, options = run_options(args)
    return app.run(rest, **options)


def run_options(args: list[str]) -> tuple[list[str], dict]:
    """Hydra's part of `bench run`'s arguments, and bench's own flags as app.run's keywords."""
    split = [a for a in args if a.startswith("--split")]
    value = split[-1].split("=", 1)[1] if split and "=" in split[-1] else ("" if split else None)
    rest = [a for a in args if a not in ("--force", "--dry-run") and not a.startswith("--split")]
    return rest, {"force": "--force" in args, "split": value, "dry_run": "--dry-run" in args}


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
