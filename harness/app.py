"""bench's operations: run suites, list what exists, render reports, score the claims, compare runs,
show their history.

What the command line (harness/cli.py, which only parses arguments), `bench reference`
(harness/results/reference.py) and tests call. Each operation prints for the user and returns an
exit code: 0 all went well; 1 some cell failed (its row says why) or a regression; 2 bad input;
130 interrupted.
"""
from __future__ import annotations

import errno
import logging
import sys
from datetime import datetime
from pathlib import Path

from omegaconf import OmegaConf
from rich.markup import escape

from harness.core.config import ConfigError, compose_config, validate_overrides
from harness.core.display import console, run_log
from harness.core.memo import composed_once
from harness.results import tracking
from harness.results.store import REFERENCE_ROOT

EXIT_OK, EXIT_FAILED_CELLS, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
SPLITTABLE = ("model", "dataset")
ALL = "all"  # `suite=all`: every suite of suites/all.yaml
_job_exit_codes: list[int] = []
# What a results folder that cannot take a file raises: full disk, quota, read-only file system, permissions.
UNWRITABLE = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


def run(overrides: list[str], *, force: bool = False, split: str | None = None, stamp: str | None = None,
        dry_run: bool = False, report: bool = True) -> int:
    """`bench run`: Hydra overrides (and Hydra's flags, `-m` for a sweep, anywhere among them, as on the
    command line) in one run folder per suite, then its report. `force` runs every cell again instead
    of reusing finished ones; `split` ("model", "dataset" or both, comma-separated) makes one job per
    model or dataset of the suite (harness/app.py split_overrides); `stamp` names the run folders (a
    new one by default); `dry_run` prints the plan and its expected time (harness/dry_run.py) and runs
    nothing; `report=False` leaves the report to the caller (suite=all writes its members' side by side at the
    end). `suite=all` runs every suite (harness/all_suites.py)."""
    from harness.core import forkserver
    from suites import CONFIG_DIR

    if not dry_run:  # its boot overlaps the imports below (harness/core/forkserver.py)
        forkserver.start_early([o for o in overrides if "=" in o], CONFIG_DIR)
    import hydra

    from harness.core.hardware import HardwareError
    from harness.results.store import ResultsError, RunStore, load_results

    if any(a.split("=", 1)[0] == "suite" and ALL in a.split("=", 1)[1].split(",") for a in overrides if "=" in a):
        from harness.all_suites import run_all

        return run_all(list(overrides), force=force, split=split, dry_run=dry_run)
    flags, overrides = hydra_flags_and_overrides(list(overrides) + (["resume=false"] if force else []))  # --force: last
    try:
        swept = [o for o in overrides if "=" in o and is_sweep(o)]
        if swept and not ({"-m", "--multirun"} & set(flags)) and split is None:
            raise ConfigError(f"{swept[0]} lists several values: add -m to run one job per value (a sweep)")
        with composed_once():  # the checks and the plan compose the same overrides
            cfg, suites = preflight(overrides)
            if split is not None:
                sweep = split_overrides(cfg, split, overrides)
                flags = flags if "-m" in flags or "--multirun" in flags else ["-m", *flags]
                overrides = overrides + sweep
                cfg, suites = preflight(overrides)
            if dry_run:
                return dry_run_plan([overrides], flags)
    except (ConfigError, HardwareError) as e:
        console.print(f"[red]error:[/] {escape(str(e))}", soft_wrap=True)
        return EXIT_BAD_INPUT
    results = Path(cfg.paths.results)
    try:
        stamp = stamp or new_run_stamp(results, suites)
    except OSError as e:  # a read-only or full results folder
        console.print(f"[red]error:[/] {escape(unwritable(e, results))}", soft_wrap=True)
        return EXIT_BAD_INPUT
    folder = "${paths.results}/${suite.name}/" + stamp
    fixed = [f"hydra.run.dir={folder}", f"hydra.sweep.dir={folder}"]
    user_set = {a.split("=", 1)[0] for a in overrides}
    hydra_args = [a for a in fixed if a.split("=", 1)[0] not in user_set]

    _job_exit_codes.clear()
    main = hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")(_hydra_job)
    argv = sys.argv
    sys.argv = ["bench", *flags, *overrides, *hydra_args]  # Hydra's parser takes no override after a flag
    try:
        main()
    except KeyboardInterrupt:
        _job_exit_codes.append(EXIT_INTERRUPTED)
    finally:
        sys.argv = argv

    folders = [results / s / stamp for s in suites if (results / s / stamp / "cells").is_dir()]
    for f in folders:
        with run_log(f / "bench.log"):
            console.print(f"results: [bold]{f}[/]")
            if not _job_exit_codes:  # jobs ran elsewhere and consolidated concurrently: once more, with all cells
                RunStore(f).consolidate()
            if report:
                render_run_report(f)
                if tracking.enabled(cfg):
                    tracking.log_report(cfg, f)
    if EXIT_INTERRUPTED in _job_exit_codes:
        return EXIT_INTERRUPTED
    if _job_exit_codes:  # jobs ran in this process
        return max(_job_exit_codes)
    try:  # jobs ran in other processes (joblib, SLURM): read their rows
        df = load_results(folders)
    except ResultsError:
        return EXIT_FAILED_CELLS
    return EXIT_OK if (df["status"] == "ok").all() else EXIT_FAILED_CELLS


def hydra_flags_and_overrides(args: list[str]) -> tuple[list[str], list[str]]:
    """Hydra's flags (each with its value: `--cfg job`, `-cn NAME`) apart from the overrides, in their
    order: Hydra's parser takes no override after a flag, so bench passes the flags first."""
    from hydra._internal.utils import get_args_parser

    actions = {o: a for a in get_args_parser()._actions for o in a.option_strings}
    flags, rest, i = [], [], 0
    while i < len(args):
        arg = args[i]
        action = actions.get(arg) if arg.startswith("-") else None
        if not arg.startswith("-"):
            rest.append(arg)
        else:
            flags.append(arg)
            takes_next = action is not None and i + 1 < len(args) and (
                action.nargs is None or (action.nargs == "?" and args[i + 1] in (action.choices or ())))
            if takes_next:
                flags.append(args[i + 1])
                i += 1
        i += 1
    return flags, rest


def dry_run_plan(jobs: list[list[str]], flags: list[str]) -> int:
    """`--dry-run`: every job's plan and its expected time (harness/dry_run.py); nothing runs."""
    from harness.dry_run import check_sweep_flag, expand_jobs, show_plan

    expanded = [job for overrides in jobs for job in expand_jobs(overrides)]
    for overrides in jobs:
        check_sweep_flag(flags, expand_jobs(overrides))
    show_plan(expanded, REFERENCE_ROOT)
    return EXIT_OK


def unwritable(e: OSError, where: Path) -> str:
    return f"cannot write results to {e.filename or where}: {e.strerror or e}"


def is_sweep(override: str) -> bool:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        return OverridesParser.create().parse_override(override).is_sweep_override()
    except Exception:  # noqa: BLE001 - a malformed override: preflight names it
        return False


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
        with run_log(run_dir / "bench.log"):  # what the terminal shows, and warnings
            code = Runner(cfg, run_dir, job).run()
    except OSError as e:
        if e.errno not in UNWRITABLE:
            raise
        # The disk filled up or the folder turned read-only mid-run: every cell written before stays in cells/.
        console.print(f"[red]error:[/] {escape(unwritable(e, run_dir))}; the cells finished before it are kept in "
                      f"{escape(str(run_dir / 'cells'))}", soft_wrap=True)
        code = EXIT_BAD_INPUT
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
    """A timestamp whose run folder this call has created for every one of these suites: create-or-fail
    (mkdir), so two runs started in the same second, in two terminals, a CI matrix or a SLURM array,
    never share a folder; on a clash, the next free name (`-2`, `-3`, ...). Runs are never overwritten."""
    base = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    for n in range(1, 10_000):
        stamp = base if n == 1 else f"{base}-{n}"
        made = []
        try:
            for s in dict.fromkeys(suites):
                (results / s).mkdir(parents=True, exist_ok=True)
                (results / s / stamp).mkdir()
                made.append(results / s / stamp)
            return stamp
        except FileExistsError:
            for folder in made:  # another run has this name for some suite: release ours, try the next
                folder.rmdir()
    raise ConfigError(f"no free run folder name for {base} under {results}")


def check_precisions(cfg, parsed) -> None:
    """`precision` (and every value of a sweep over it) is one harness/deep/precision.py knows."""
    from harness.deep.precision import PRECISIONS

    values = [cfg.precision] if cfg.get("precision") is not None else []  # unset: each model's own
    values += [v for o in parsed if o.key_or_group == "precision" and o.is_sweep_override()
               for v in o.sweep_string_iterator()]
    for value in values:
        if str(value) not in PRECISIONS:
            raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, got {value!r}")


def preflight(overrides: list[str]):
    """Validate everything that can be checked before a job starts; return the composed config and
    the names of the suites the run writes to."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from harness.core.hardware import resolve_device

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
                suites = [OmegaConf.load(group_dir("suite") / f"{v}.yaml").name for v in values]
            else:
                devices = [OmegaConf.load(group_dir("hardware") / f"{v}.yaml").device for v in values]
    for d in devices:
        resolve_device(d)
    check_precisions(cfg, parsed)
    if not isinstance(cfg.paths.results, str) or not cfg.paths.results.strip():
        raise ConfigError(f"paths.results must name a folder, got {cfg.paths.results!r}")
    tracking.check_available(cfg)
    results = Path(cfg.paths.results).expanduser()
    try:
        results.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"paths.results={results} cannot hold results: {e.strerror or e}") from e
    return cfg, suites


def split_overrides(cfg, split: str, overrides: list[str]) -> list[str]:
    """`--split=model[,dataset]`: one Hydra job per model (and/or dataset) of the suite, as a sweep
    that any launcher can run in parallel. Models go longest first (by earlier runs' cell times,
    else deep before classical), so a parallel launcher does not start the longest job last."""
    from harness.core.config import resolve_plan

    keys = split.split(",") if split else []
    if not keys or any(k not in SPLITTABLE for k in keys):
        flag = f"--split={split}" if split else "--split"
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
    """Sort key: the model's measured cost (harness/core/scheduling.py `measured_costs`: earlier runs
    of the suite, else its committed smoke reference), most first; unmeasured ones deep first."""
    from harness.core.scheduling import cost_sources, measured_costs

    costs = measured_costs(cost_sources(cfg, suite))
    family = {str(m.name): str(m.get("family", "deep")) for m in models.values()}
    return lambda name: (-costs.get((name, None), 0.0), family.get(name) != "deep")


def group_dir(group: str) -> Path:
    from suites import CONFIG_DIR

    return CONFIG_DIR / group


def render_run_report(folder: Path) -> None:
    """A run folder's own report.md and report.html; a folder without readable rows (interrupted before
    any cell finished) gets a note instead."""
    from harness.results.store import ResultsError

    try:
        render_report([folder], folder)
    except ResultsError as e:
        console.print(f"[yellow]report not written[/]: {escape(str(e))}")


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


def list_items(what: str | None = None, suite: str | None = None) -> int:
    """`bench list [SUITE | GROUP] [--suite SUITE]` (harness/listing.py); 2 for an unknown name."""
    from harness.listing import list_items as show

    try:
        show(what, suite)
    except ConfigError as e:
        console.print(f"[red]error:[/] {escape(str(e))}", soft_wrap=True)
        return EXIT_BAD_INPUT
    return EXIT_OK


def report(paths: list[str], out: str | None = None) -> int:
    """`bench report`: the report of these results (run, suite or results folders), written to `out`
    (default: the first path)."""
    from harness.results.store import ResultsError

    target = Path(out) if out else Path(paths[0])
    try:  # an unreadable folder is bad input, not a half-written report
        render_report([Path(p) for p in paths], target)
    except ResultsError as e:
        console.print(f"[red]error:[/] {escape(str(e))}", soft_wrap=True)
        return EXIT_BAD_INPUT
    return EXIT_OK


def claims(paths: list[str], explain: str | None = None) -> int:
    """`bench claims`: the verdicts of the document's claims from the results in these folders;
    `explain` (a claim id): that claim alone, in full (2 for an unknown id)."""
    if explain is not None:
        from harness.claims.explain import explain_claim

        return explain_claim(explain, paths)
    from harness.claims import cmd_claims

    return cmd_claims(paths)


def scorecard(evidence: str | None = None, out: str | None = None, *, check: bool = False) -> int:
    """`bench scorecard`: SCORECARD.md from the committed evidence (harness/report/scorecard.py);
    with `check`, 1 when the file on disk is not what the evidence produces (CI holds them together)."""
    from harness.report.scorecard import EVIDENCE, SCORECARD, render
    from harness.results.store import atomic_write_bytes
    from suites import CONFIG_DIR

    root = CONFIG_DIR.parent
    source = Path(evidence) if evidence else root / EVIDENCE
    target = Path(out) if out else root / SCORECARD
    text = render(source, root)
    if check:
        current = target.read_text() if target.is_file() else None
        if current == text:
            console.print(f"{target.name} matches the evidence in {source.name}/")
            return EXIT_OK
        console.print(f"[red]{target.name} is not what `bench scorecard` produces from the evidence[/]"
                      + (" (it is missing)" if current is None else "") + "; run `bench scorecard` and commit it")
        return 1
    atomic_write_bytes(target, text.encode())
    console.print(f"wrote {target}")
    return EXIT_OK


def compare(base: str, new: str, thresholds, markdown: str | None = None) -> int:
    """`bench compare`: changes from `base` to `new` beyond noise (harness.results.compare.Thresholds);
    1 on a regression; `markdown` also writes a summary there."""
    from harness.results.compare import cmd_compare

    return cmd_compare(base, new, thresholds, markdown)


def history(suite: str, results: str, thresholds, *, markdown: str | None = None, plot: str | None = None,
            last: int = 6, references: bool = True) -> int:
    """`bench history`: each model's score and calibrated time over the suite's runs under `results` and
    its committed references (unless `references` is False), steps beyond noise marked; `markdown` and
    `plot` also write them there. 2 for an unknown suite or nothing to read."""
    from harness.core.config import check_choice
    from harness.results.history import cmd_history

    try:
        check_choice("suite", suite)
    except ConfigError as e:
        console.print(f"[red]error:[/] {escape(str(e))}", soft_wrap=True)
        return EXIT_BAD_INPUT
    return cmd_history(suite, Path(results), REFERENCE_ROOT if references else None, thresholds,
                       markdown=markdown, plot=plot, last=last)
