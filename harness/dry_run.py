"""`bench run ... --dry-run`: what a command would run, and for about how long, without running it.

The plan is the runner's own (harness/core/config.py resolve_plan, per job of a sweep, as Hydra's
basic sweeper expands it: the product of the swept values): cells per dataset and model, seeds,
training sizes, profile, hardware and cells at once. The time comes from measurements only: the
cells of earlier runs of the suite under the results folder, else its committed reference
(results/reference/SUITE, smoke profile). A cell measured at the same profile counts as measured;
one measured at another profile is scaled by training size and, for a deep model, by its epoch
budget, and is marked rough; a cell never measured is counted as unknown, never guessed.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf
from rich.markup import escape
from rich.table import Table

from harness.core.config import ConfigError, compose_config, resolve_plan
from harness.core.display import console, fmt_seconds
from suites import CONFIG_DIR


def expand_jobs(overrides: list[str]) -> list[list[str]]:
    """The overrides of each job of a sweep (one job when nothing is swept); Hydra's own keys left out."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    slots = []
    for o in OverridesParser.create().parse_overrides(overrides):
        if o.key_or_group.startswith("hydra"):
            continue
        key = o.input_line.split("=", 1)[0]
        slots.append([f"{key}={v}" for v in o.sweep_string_iterator()] if o.is_sweep_override() else [o.input_line])
    return [list(job) for job in itertools.product(*slots)]


@dataclass
class Estimate:
    """Expected cell seconds with how each was had: measured at this profile, scaled from another, unknown."""

    seconds: float = 0.0
    measured: int = 0
    scaled: int = 0
    unknown: int = 0
    sources: set[str] = field(default_factory=set)

    def add(self, other: Estimate) -> None:
        self.seconds += other.seconds
        self.measured, self.scaled, self.unknown = (self.measured + other.measured, self.scaled + other.scaled,
                                                    self.unknown + other.unknown)
        self.sources |= other.sources

    def text(self) -> str:
        if not self.measured + self.scaled:
            return "unknown"
        return f"{fmt_seconds(self.seconds)}{' (rough)' if self.scaled else ''}{' + ?' if self.unknown else ''}"


def earlier_cells(results: Path, suite: str, reference_root: Path) -> list[tuple[str, pd.DataFrame]]:
    """Finished cells of the suite: earlier runs under the results folder, then its committed reference."""
    from harness.results.store import ResultsError, load_suite_runs

    found = []
    for source in (results / suite, reference_root / suite):
        try:
            df = load_suite_runs(source)
        except (ResultsError, OSError):
            continue
        if "cell_seconds" in df:
            found.append((str(source), df[df["cell_seconds"].notna()]))
    return found


def curve_sizes(sources, cfg: DictConfig, dataset: str, n_sizes: int) -> list[int] | None:
    """The learning curve's training sizes on this dataset, as an earlier run at this profile measured
    them (they depend on the data's size, which a dry run does not load); None if none ran them all."""
    for _, df in sources:
        rows = df[(df["dataset"] == dataset) & (df["profile"] == str(cfg.profile.name))]
        sizes = sorted({int(n) for n in pd.to_numeric(rows["n_train"], errors="coerce").dropna()})
        if len(sizes) == n_sizes:
            return sizes
    return None


def cell_estimate(sources, cfg: DictConfig, dataset: str, model: DictConfig, n_cells: int) -> Estimate:
    """Expected seconds of `n_cells` cells of this model on this dataset, from the first source that
    measured it: at this profile as measured, else scaled from another profile (rough), else unknown."""
    variant, profile = model.get("variant"), str(cfg.profile.name)
    for same_profile in (True, False):
        for where, df in sources:
            rows = df[(df["dataset"] == dataset) & (df["model"] == str(model.name))]
            if variant and "variant" in rows:
                rows = rows[rows["variant"] == variant]
            for measured_profile, group in rows.groupby("profile"):
                if (measured_profile == profile) != same_profile:
                    continue
                seconds = float(group["cell_seconds"].mean())
                if same_profile and same_conditions(cfg, group):
                    return Estimate(seconds * n_cells, measured=n_cells, sources={where})
                if same_profile:  # measured at one size or without interpretation: a rough figure
                    return Estimate(seconds * n_cells, scaled=n_cells, sources={where})
                factor = size_factor(cfg.profile.max_train, str(measured_profile), group)
                if factor is None:
                    continue  # how large the planned split is was never measured, so neither is its time
                epochs = OmegaConf.select(model, "estimator.max_epochs", default=None)
                if isinstance(epochs, int) and group["epochs"].notna().any():  # an upper bound: early stopping
                    factor *= epochs / max(float(group["epochs"].mean()), 1.0)
                return Estimate(seconds * factor * n_cells, scaled=n_cells, sources={where})
    return Estimate(unknown=n_cells)


def same_conditions(cfg: DictConfig, rows: pd.DataFrame) -> bool:
    """Whether the rows were measured as planned: over several training sizes where the plan has a
    learning curve, with interpretation where the plan interprets."""
    curve = not cfg.scaling.enabled or rows["n_train"].nunique() > 1
    interpreted = "interpret_seconds" in rows and bool(rows["interpret_seconds"].notna().any())
    return curve and interpreted == bool(cfg.interpret.get("enabled", False))


def size_factor(planned_cap: int | None, measured_profile: str, rows: pd.DataFrame) -> float | None:
    """Planned over measured training size, where both are known: the measured rows saw the whole split
    (their profile has no cap), or at least as many examples as the planned cap. None otherwise."""
    measured = float(rows["n_train"].mean())
    file = CONFIG_DIR / "profile" / f"{measured_profile}.yaml"
    if not file.is_file():
        return None
    whole_split = OmegaConf.load(file).get("max_train") is None
    if planned_cap is None:
        return 1.0 if whole_split else None
    if whole_split or measured >= planned_cap:
        return min(planned_cap, measured) / measured
    return None


def training_sizes(cfg: DictConfig) -> str:
    scaling, cap = cfg.scaling, cfg.profile.max_train
    split = f"split ≤{cap}" if cap else "whole split"
    if not scaling.enabled:
        return split
    if scaling.get("sizes"):
        return f"{', '.join(str(s) for s in scaling.sizes)} (each ≤ the {split})"
    return f"{scaling.points} sizes, {scaling.min_per_class}/class up to the {split}"


def job_table(job: int, overrides: list[str], cfg: DictConfig, sources, total: Estimate) -> tuple[Table, int, int]:
    """One job's plan as a table (dataset, models, seeds, sizes, cells, expected time); its cells and workers."""
    from harness.core import hardware
    from harness.core.runner import serves
    from harness.core.scheduling import resolve_workers, threads_per_cell

    plan = resolve_plan(cfg)
    device = hardware.resolve_device(cfg.hardware.device)
    asked = cfg.hardware.threads or cfg.suite.get("threads")
    isolated = str(cfg.get("isolation", "process")) == "process"
    workers = resolve_workers(cfg.hardware.get("workers", 1), threads=asked, device=device, isolated=isolated,
                              suite_cap=cfg.suite.get("workers"))
    threads = threads_per_cell(asked, workers)
    n_sizes = len(cfg.scaling.get("sizes") or [None] * cfg.scaling.get("points", 1))
    title = (f"job {job}: suite={plan.suite} profile={cfg.profile.name} device={device} "
             f"workers={workers} threads/cell={threads or 'torch default'}  ({' '.join(overrides) or 'no overrides'})")
    t = Table(title=escape(title), title_justify="left")
    for col, justify in (("dataset", "left"), ("models", "left"), ("seeds", "left"), ("training size", "left"),
                         ("cells", "right"), ("expected", "right")):
        t.add_column(col, justify=justify)
    cells = 0
    for name, ds in plan.datasets.items():
        models = [m for m in plan.models_for(name) if serves(m, ds.get("task"))]
        seeds = plan.seeds_for(name)
        sizes = curve_sizes(sources, cfg, name, n_sizes) if plan.size_caps and n_sizes > 1 else None
        capped = {str(m.name) for m in models if n_sizes > 1 and str(m.name) in plan.size_caps}
        estimate, here = Estimate(), 0
        for m in models:
            # the curve's sizes depend on the data, which a dry run does not load: where no earlier run
            # measured them, a capped model counts every size ("at most")
            runs = n_sizes if sizes is None else sum(plan.runs_at(m, s, sizes) for s in sizes)
            estimate.add(cell_estimate(sources, cfg, name, m, len(seeds) * runs))
            here += len(seeds) * runs
        total.add(estimate)
        cells += here
        names = ", ".join(str(m.name) + (f"[{m.variant}]" if m.get("variant") else "")
                          + (f" (≤{plan.size_caps[str(m.name)]:,})" if str(m.name) in capped else "") for m in models)
        unsure = bool(capped) and sizes is None
        t.add_row(escape(name), escape(f"{len(models)}: {names}"), str(seeds), escape(training_sizes(cfg)),
                  ("at most " if unsure else "") + str(here), estimate.text())
    return t, cells, workers


def show_plan(jobs: list[list[str]], reference_root: Path) -> int:
    """Print every job's plan and the expected time; run nothing. Raises ConfigError for a bad job."""
    total, cells, wall = Estimate(), 0, 0.0
    for i, overrides in enumerate(jobs):
        cfg = compose_config(overrides)
        sources = earlier_cells(Path(cfg.paths.results).expanduser(), str(cfg.suite.name), reference_root)
        before = total.seconds
        table, n, workers = job_table(i, overrides, cfg, sources, total)
        cells += n
        wall += (total.seconds - before) / workers  # cells side by side share the job's time
        console.print(table)
    known = total.measured + total.scaled
    if not known:
        console.print(f"plan: {len(jobs)} job(s), {cells} cells; expected time unknown: no earlier run or reference "
                      "measured these cells. Nothing was run.", soft_wrap=True)
        return cells
    how = [f"{total.measured} measured at this profile"] if total.measured else []
    how += [f"{total.scaled} scaled from another profile (rough; deep models at their full epoch budget)"] if total.scaled else []
    how += [f"{total.unknown} never measured, not counted"] if total.unknown else []
    console.print(f"plan: {len(jobs)} job(s), {cells} cells; expected about {fmt_seconds(wall)} "
                  f"({fmt_seconds(total.seconds)} of cell time; {', '.join(how)}; from "
                  f"{', '.join(sorted(total.sources))}). Nothing was run.", markup=False, soft_wrap=True)
    return cells


def check_sweep_flag(args: list[str], jobs: list[list[str]]) -> None:
    """Hydra runs a sweep only with -m: say so before the run, as Hydra would after its start."""
    if len(jobs) > 1 and not {"-m", "--multirun"} & set(args):
        raise ConfigError("the overrides sweep over several values (a,b,c): add -m (or --multirun) to run each")
