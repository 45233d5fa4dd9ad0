"""The same models and hyperparameters, run by a plain script and by `bench run`: wall-time ratio.

The plain script does what a careful user would write by hand: load each dataset with the seed,
build each estimator from its config, fit, predict, score. `bench run` does the same cells plus
everything the harness adds: config validation, provenance, per-cell Parquet writes, memory
sampling, progress display, summary tables and the report. Both run in this process; the order
alternates over repeats. Besides the end-to-end ratio, the time inside cells (load, fit, predict,
score) is compared, which separates per-cell overhead from the fixed cost of start-up and report.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from hydra.utils import instantiate

from harness.cli import main as bench_main
from harness.core.config import compose_config, resolve_plan
from harness.results.store import load_results
from harness.core.cell import build_estimator, set_seed


def plain_script(overrides: list[str]) -> tuple[float, float]:
    """(total wall seconds, seconds spent fitting and predicting)."""
    t0 = time.perf_counter()
    plan = resolve_plan(compose_config(overrides))
    in_cells = 0.0
    for ds_cfg in plan.datasets.values():
        for seed in plan.seeds:
            task = instantiate(ds_cfg.load, seed=seed, _convert_="all")
            for model_cfg in plan.models.values():
                c0 = time.perf_counter()
                set_seed(seed)
                est = build_estimator(model_cfg, seed, "cpu", None)
                est.fit(task.X_train, task.y_train)
                (est.predict(task.X_test) == task.y_test).mean()
                in_cells += time.perf_counter() - c0
    return time.perf_counter() - t0, in_cells


def bench_run(overrides: list[str]) -> tuple[float, float]:
    """(total wall seconds of `bench run`, seconds inside its cells from the rows it wrote)."""
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        code = bench_main(["run", *overrides, f"paths.results={tmp}"])
        elapsed = time.perf_counter() - t0
        assert code == 0, f"bench run failed with exit code {code}"
        rows = load_results([Path(tmp)])
    return elapsed, float(rows["cell_seconds"].sum())


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
    print(f"overrides: {' '.join(args.overrides)}   repeats: {args.repeats} (medians)")
    print(f"{'':<22}{'plain':>10}{'bench':>10}{'ratio':>8}")
    print(f"{'end to end (s)':<22}{p_total:>10.1f}{b_total:>10.1f}{b_total / p_total:>8.3f}")
    print(f"{'inside cells (s)':<22}{p_cells:>10.1f}{b_cells:>10.1f}{b_cells / p_cells:>8.3f}")
    print(f"{'outside cells (s)':<22}{p_total - p_cells:>10.1f}{b_total - b_cells:>10.1f}")


if __name__ == "__main__":
    main()
