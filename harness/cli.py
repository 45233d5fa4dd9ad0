"""`bench`: run suites, list what exists, render reports, score the claims.

    bench run suite=vision [hydra overrides...] [-m] [--force] [--split=model|dataset]
    bench list
    bench report RESULTS_FOLDER...
    bench claims [RESULTS_FOLDER...]
    bench compare BASE NEW [--markdown FILE] [thresholds]
    bench reference update|check [SUITE...]

Exit codes: 0 all went well; 1 some cell failed (its row says why); 2 bad input; 130 interrupted.
"""
from __future__ import annotations

import argparse
import logging
import sys
from datetime import datetime
from pathlib import Path

from omegaconf import OmegaConf
from rich.markup import escape

from harness.results.compare import Thresholds
from harness.core.config import ConfigError, GROUPS, check_choice, compose_config, group_options, validate_overrides
from harness.core.display import console

EXIT_OK, EXIT_FAILED_CELLS, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
_job_exit_codes: list[int] = []


def _hydra_job(cfg) -> int:
    """One Hydra job (the whole run, or one point of a -m sweep): run its plan into the run folder."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from harness.core.runner import Runner

    hc = HydraConfig.get()
    multirun = hc.mode == RunMode.MULTIRUN
    run_dir = Path(hc.sweep.dir if multirun else hc.runtime.output_dir)
    job = str(hc.job.num) if multirun else "0"
    handler = attach_log_file(run_dir / "bench.log")
    try:
        code = Runner(cfg, run_dir, job).run()
    finally:  # a later job (another suite of a sweep, another run in this process) logs elsewhere
        if handler is not None:
            logging.getLogger("bench").removeHandler(handler)
            handler.close()
    _job_exit_codes.append(code)
    return code


def attach_log_file(path: Path) -> logging.Handler | None:
    """Send the bench logger to this file; returns the new handler (None if one already writes there)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger("bench")
    logger.setLevel(logging.DEBUG)
    if any(getattr(h, "baseFilename", None) == str(path.resolve()) for h in logger.handlers):
        return None
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    return handler


def new_run_stamp(results: Path, suites: list[str]) -> str:
    """A timestamp no existing run folder of these suites uses (runs are never overwritten)."""
    stamp = base = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    n = 1
    while any((results / s / stamp).exists() for s in suites):
        n += 1
        stamp = f"{base}-{n}"
    return stamp


def preflight(overrides: list[str]):
    """Validate everything that can be checked before a job starts; return the composed config."""
    from harness.core.hardware import resolve_device
    from hydra.core.override_parser.overrides_parser import OverridesParser

    validate_overrides(overrides)
    parsed = OverridesParser.create().parse_overrides(overrides)
    # The config of the sweep's first job stands for all (validate_overrides checked every value).
    cfg = compose_config([o.input_line if not o.is_sweep_override() else
                          f"{o.input_line.split('=', 1)[0]}={next(iter(o.sweep_string_iterator()))}"
                          for o in parsed if not o.key_or_group.startswith("hydra")])
    suites, devices = [cfg.suite.name], [cfg.hardware.device]
    for o in parsed:
        if o.is_sweep_override() and o.key_or_group in ("suite", "hardware"):
            values = list(o.sweep_string_iterator())
            if o.key_or_group == "suite":
                suites = [OmegaConf.load(Path(group_dir("suite")) / f"{v}.yaml").name for v in values]
            else:
                devices = [OmegaConf.load(Path(group_dir("hardware")) / f"{v}.yaml").device for v in values]
    for d in devices:
        resolve_device(d)
    results = Path(cfg.paths.results).expanduser()
    try:
        results.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"paths.results={results} cannot hold results: {e.strerror or e}") from e
    return cfg, suites


SPLITTABLE = ("model", "dataset")


def split_overrides(cfg, flag: str, overrides: list[str]) -> list[str]:
    """`--split=model[,dataset]`: one Hydra job per model (and/or dataset) of the suite, as a sweep
    that any launcher can run in parallel. Models go longest first (by earlier runs' cell times,
    else deep before classical), so a parallel launcher does not start the longest job last."""
    from harness.core.config import resolve_plan

    keys = flag.split("=", 1)[1].split(",") if "=" in flag else []
    if not keys or any(k not in SPLITTABLE for k in keys):
        raise ConfigError(f"--split takes one or both of {', '.join(SPLITTABLE)} (e.g. --split=model), got {flag!r}")
    taken = {o.split("=", 1)[0] for o in overrides}
    plan = resolve_plan(cfg)
    sweeps = []
    for key in keys:
        if key in taken:
            raise ConfigError(f"--split={key} makes one job per {key}; do not also set {key}=")
        if key == "model":
            names = list(dict.fromkeys(str(m.name) for m in plan.models.values()))
            names = sorted(names, key=expected_cost(cfg, plan.suite, plan.models))
        else:
            names = list(plan.datasets)
        sweeps.append(f"{key}={','.join(names)}")
    return sweeps


def expected_cost(cfg, suite: str, models: dict):
    """Sort key: minus the mean cell time of the model in earlier runs of the suite, or else in its
    committed smoke reference (smaller data, but the same order of costs), or else deep first."""
    from harness.results.reference import REFERENCE_ROOT
    from harness.results.store import ResultsError, load_results

    seconds = {}
    for source in (Path(cfg.paths.results) / suite, REFERENCE_ROOT / suite):
        try:
            seconds = load_results([source]).groupby("model")["cell_seconds"].mean().to_dict()
            break
        except (ResultsError, KeyError):
            continue
    family = {str(m.name): str(m.get("family", "deep")) for m in models.values()}
    return lambda name: (-seconds.get(name, 0.0), family.get(name) != "deep")


def group_dir(group: str) -> Path:
    from suites import CONFIG_DIR

    return CONFIG_DIR / group


def cmd_run(args: list[str]) -> int:
    import hydra

    from harness.core.hardware import HardwareError
    from harness.results.store import ResultsError, RunStore, load_results
    from suites import CONFIG_DIR

    if "--force" in args:  # run every cell again, finished or not
        args = [a for a in args if a != "--force"] + ["resume=false"]
    split = [a for a in args if a.startswith("--split")]
    args = [a for a in args if not a.startswith("--split")]
    overrides = [a for a in args if not a.startswith("-")]
    try:
        cfg, suites = preflight(overrides)
        if split:
            sweep = split_overrides(cfg, split[-1], overrides)
            multirun = [] if "-m" in args or "--multirun" in args else ["-m"]
            args, overrides = multirun + args + sweep, overrides + sweep
            cfg, suites = preflight(overrides)
    except (ConfigError, HardwareError) as e:
        console.print(f"[red]error:[/] {escape(str(e))}")
        return EXIT_BAD_INPUT
    results = Path(cfg.paths.results)
    stamp = new_run_stamp(results, suites)
    folder = "${paths.results}/${suite.name}/" + stamp
    fixed = [f"hydra.run.dir={folder}", f"hydra.sweep.dir={folder}"]
    user_set = {a.split("=", 1)[0] for a in overrides}
    hydra_args = [a for a in fixed if a.split("=", 1)[0] not in user_set]

    _job_exit_codes.clear()
    main = hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")(_hydra_job)
    argv = sys.argv
    sys.argv = ["bench", *args, *hydra_args]
    try:
        main()
    except KeyboardInterrupt:
        _job_exit_codes.append(EXIT_INTERRUPTED)
    finally:
        sys.argv = argv

    folders = [results / s / stamp for s in suites if (results / s / stamp / "cells").is_dir()]
    for f in folders:
        console.print(f"results: [bold]{f}[/]")
        if not _job_exit_codes:  # jobs ran elsewhere and consolidated concurrently: once more, with all cells
            RunStore(f).consolidate()
        try:
            render_report([f], f)
        except ResultsError as e:  # e.g. interrupted before any cell finished
            console.print(f"[yellow]report not written[/]: {escape(str(e))}")
    if EXIT_INTERRUPTED in _job_exit_codes:
        return EXIT_INTERRUPTED
    if _job_exit_codes:  # jobs ran in this process
        return max(_job_exit_codes)
    try:  # jobs ran in other processes (joblib, SLURM): read their rows
        df = load_results(folders)
    except ResultsError:
        return EXIT_FAILED_CELLS
    return EXIT_OK if (df["status"] == "ok").all() else EXIT_FAILED_CELLS


def render_report(inputs: list[Path], out: Path) -> None:
    """Write report.md and report.html. Unreadable results raise ResultsError (the caller decides
    whether that is bad input); any other failure is logged, never fatal to the results."""
    from harness.report import write_report
    from harness.results.store import ResultsError

    try:
        paths = write_report(inputs, out)
    except ResultsError:
        raise
    except Exception as e:  # noqa: BLE001 - a broken report must not lose or hide results
        console.print(f"[yellow]report not written[/]: {type(e).__name__}: {e}")
        return
    for p in paths:
        console.print(f"report:  {p}")


def cmd_list() -> int:
    from rich.table import Table

    for group in GROUPS:
        t = Table(title=group if group in ("hardware", "scaling", "interpret") else f"{group}s", title_justify="left", show_header=False, box=None, padding=(0, 2))
        for name in group_options(group):
            node = OmegaConf.load(group_dir(group) / f"{name}.yaml")
            note = node.get("description") or ""
            if group == "model":
                note = f"[{'cyan' if node.family == 'classical' else 'magenta'}]{node.family:<9}[/] {note}"
            if group == "hardware":
                note = f"device={node.device}"
            if group == "profile":
                note = (f"seeds={list(node.seeds)} max_epochs={node.max_epochs} "
                        f"max_train={node.max_train} max_test={node.max_test}")
            t.add_row(f"[bold]{name}[/]", note)
        console.print(t)
        console.print()
    return EXIT_OK


def cmd_report(paths: list[str], out: str | None) -> int:
    from harness.results.store import ResultsError

    target = Path(out) if out else Path(paths[0])
    try:  # an unreadable folder is bad input, not a half-written report
        render_report([Path(p) for p in paths], target)
    except ResultsError as e:
        console.print(f"[red]error:[/] {escape(str(e))}")
        return EXIT_BAD_INPUT
    return EXIT_OK


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
    cmp = sub.add_parser("compare", help="changes from BASE to NEW beyond noise; exit 1 on a regression")
    cmp.add_argument("base", help="run folder, suite folder (its newest run) or reference (results/reference/SUITE)")
    cmp.add_argument("new", help="run folder or suite folder (its newest run)")
    ref = sub.add_parser("reference", help="refresh (update) or compare with (check) the committed smoke references")
    ref.add_argument("action", choices=["update", "check"])
    ref.add_argument("suites", nargs="*", help="suites (default: all)")
    ref.add_argument("--results", default="results", help="where `check` writes its run (default: results)")
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
            return EXIT_OK
        return cmd_run(argv[1:])
    args = parser.parse_args(argv)
    if args.command == "list":
        return cmd_list()
    if args.command == "report":
        return cmd_report(args.paths, args.out)
    if args.command == "claims":
        from harness.claims import cmd_claims

        return cmd_claims(args.paths)
    if args.command in ("compare", "reference"):
        th = Thresholds(args.accuracy_drop, args.time_ratio, args.z, args.min_seconds, args.bpc_rise)
        if min(th.accuracy_drop, th.z, th.min_seconds, th.bpc_rise) < 0 or th.time_ratio < 1:
            console.print("[red]error:[/] thresholds must be non-negative and --time-ratio at least 1")
            return EXIT_BAD_INPUT
        if args.command == "compare":
            from harness.results.compare import cmd_compare

            return cmd_compare(args.base, args.new, th, args.markdown)
        from harness.results import reference

        suites = args.suites or reference.reference_suites()
        for s in suites:
            try:
                check_choice("suite", s)
            except ConfigError as e:
                console.print(f"[red]error:[/] {escape(str(e))}")
                return EXIT_BAD_INPUT
        if args.action == "update":
            return reference.update(suites)
        return reference.check(suites, Path(args.results), th, args.markdown)
    return EXIT_BAD_INPUT


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
