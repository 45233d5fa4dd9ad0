"""The same models and hyperparameters, run by a plain script and by `bench run`: wall-time ratio.

The plain script does what a careful user would write by hand: load each dataset with the seed,
build each estimator from its config, fit, predict, score. `bench run` does the same cells plus
everything the harness adds: config validation, provenance, per-cell Parquet writes, memory
sampling, progress display, summary tables and the report. Both run in this process; the order
alternates over repeats. Besides the end-to-end ratio, the time inside cells (load, fit, predict,
score) is compared, which separates per-cell overhead from the fixed cost of start-up and report,
and, per cell, the fit alone (bench's `train_seconds` against the plain fit), which separates a
slower fit (threads, the memory sampler) from what a cell adds around it (its process, the data's
trip to it, metrics); last, what a cell's process costs by itself. The report is timed apart too
("of which report"; "end to end, no report").

`bench run` runs a cell per core at once by default (hardware.workers), the plain script one after
another: `hardware.workers=1` gives the like-for-like comparison (the harness's cost); the default
gives what a user waits for either way.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from hydra.utils import instantiate

from harness.app import render_run_report, run
from harness.core.config import compose_config, resolve_plan
from harness.results.store import load_results, run_folders
from harness.core.cell import build_estimator, set_seed
from harness.core.isolation import call_in_child, start_server


def plain_script(overrides: list[str]) -> tuple[float, float, dict]:
    """(total wall seconds, seconds spent fitting and predicting, fit seconds per (dataset, model))."""
    t0 = time.perf_counter()
    plan = resolve_plan(compose_config(overrides))
    in_cells, fits = 0.0, {}
    for ds_name, ds_cfg in plan.datasets.items():
        for seed in plan.seeds:
            task = instantiate(ds_cfg.load, seed=seed, _convert_="all")
            for model_cfg in plan.models.values():
                c0 = time.perf_counter()
                set_seed(seed)
                est = build_estimator(model_cfg, seed, "cpu", None)
                est.fit(task.X_train, task.y_train)
                f1 = time.perf_counter()
                (est.predict(task.X_test) == task.y_test).mean()
                in_cells += time.perf_counter() - c0
                key = (str(ds_name), str(model_cfg.name), len(task.y_train))
                fits[key] = fits.get(key, 0.0) + f1 - c0
    return time.perf_counter() - t0, in_cells, fits


def bench_run(overrides: list[str]) -> tuple[float, float, dict, float]:
    """(total wall seconds of `bench run`, seconds inside its cells from the rows it wrote, fit
    seconds per (dataset, model), seconds of its report). The report is what `bench run` does last
    (harness/app.py), timed on its own here so that the harness's cost can be read with and without it."""
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        code = run(overrides + [f"paths.results={tmp}"], report=False)
        cells_done = time.perf_counter()
        assert code == 0, f"bench run failed with exit code {code}"
        folder, = run_folders(Path(tmp))
        render_run_report(folder)
        end = time.perf_counter()
        rows = load_results([Path(tmp)])
    fits = rows.groupby(["dataset", "model", "n_train"])["train_seconds"].sum().to_dict()
    return end - t0, float(rows["cell_seconds"].sum()), fits, end - cells_done


def print_fits(plain: dict, bench: dict) -> None:
    """Per cell, the fit alone in each, largest difference first, and the fits' total ratio."""
    keys = sorted(set(plain) & set(bench), key=lambda k: -(bench[k] - plain[k]))
    if not keys:  # a profile that subsamples the training split: the plain script fits the whole split
        print("\nno cell trained on the same data in both (does the profile subsample?): fits not compared")
        return
    print(f"\n{'fit alone (s)':<40}{'plain':>9}{'bench':>9}{'ratio':>8}")
    for k in keys:
        print(f"{k[0] + ' ' + k[1]:<40}{plain[k]:>9.2f}{bench[k]:>9.2f}{bench[k] / max(plain[k], 1e-9):>8.2f}")
    p, b = sum(plain[k] for k in keys), sum(bench[k] for k in keys)
    print(f"{'all fits':<40}{p:>9.1f}{b:>9.1f}{b / p:>8.3f}")


class _Nothing:
    """A cell's work that does nothing, carrying `data` to the process as a cell carries its task."""

    def __init__(self, data=None):
        self.data = data

    def __call__(self):
        return None


def print_process_cost(repeats: int = 7) -> None:
    """Milliseconds of a cell's process that does nothing, from start to reaped (the forkserver already
    up), without data and with a training split of mnist5k's size (4,000 x 784 float32) to carry."""
    start_server([])
    call_in_child(_Nothing(), 1)  # the server's boot is not the cost of a cell
    print(f"\n{'a cell process doing nothing (ms)':<40}{'median':>9}{'min':>9}")
    for label, data in (("no data", None), ("mnist5k's training split", np.zeros((4000, 784), np.float32))):
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            call_in_child(_Nothing(data), 1)
            times.append(1000 * (time.perf_counter() - t0))
        print(f"{label:<40}{statistics.median(times):>9.1f}{min(times):>9.1f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("overrides", nargs="*", default=["suite=vision"])
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args()
    results = {"plain": [], "bench": []}
    for r in range(args.repeats):
        for kind in (("plain", "bench") if r % 2 == 0 else ("bench", "plain")):
            results[kind].append(plain_script(args.overrides) if kind == "plain" else bench_run(args.overrides))
    (p_total, p_cells), (b_total, b_cells) = (
        tuple(statistics.median(x[i] for x in results[k]) for i in (0, 1)) for k in ("plain", "bench"))
    p_fits, b_fits = ({key: statistics.median(x[2][key] for x in results[k]) for key in results[k][0][2]}
                      for k in ("plain", "bench"))
    print(f"overrides: {' '.join(args.overrides)}   repeats: {args.repeats} (medians)")
    print(f"{'':<22}{'plain':>10}{'bench':>10}{'ratio':>8}")
    print(f"{'end to end (s)':<22}{p_total:>10.1f}{b_total:>10.1f}{b_total / p_total:>8.3f}")
    print(f"{'inside cells (s)':<22}{p_cells:>10.1f}{b_cells:>10.1f}{b_cells / p_cells:>8.3f}")
    report = statistics.median(x[3] for x in results["bench"])
    print(f"{'outside cells (s)':<22}{p_total - p_cells:>10.1f}{b_total - b_cells:>10.1f}")
    print(f"{'  of which report (s)':<22}{'':>10}{report:>10.1f}")
    print(f"{'end to end, no report':<22}{p_total:>10.1f}{b_total - report:>10.1f}{(b_total - report) / p_total:>8.3f}")
    print_fits(p_fits, b_fits)
    print_process_cost()


if __name__ == "__main__":
    main()
