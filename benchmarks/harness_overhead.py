"""The same models and hyperparameters, run by a plain script and by `bench run`: wall-time ratio.

The plain script does what a careful user would write by hand: load each dataset with the seed,
build each estimator from its config, fit, predict, score. `bench run` does the same cells plus
everything the harness adds: config validation, provenance, per-cell Parquet writes, memory
sampling, progress display, summary tables and the report. Both run in this process, alternately.
"""
from __future__ import annotations

import argparse
import tempfile
import time

from harness.cli import main as bench_main
from harness.config import compose_config, resolve_plan
from harness.runner import build_estimator, set_seed


def plain_script(overrides: list[str]) -> float:
    plan = resolve_plan(compose_config(overrides))
    from hydra.utils import instantiate

    t0 = time.perf_counter()
    for ds_cfg in plan.datasets.values():
        for seed in plan.seeds:
            task = instantiate(ds_cfg.load, seed=seed, _convert_="all")
            for model_cfg in plan.models.values():
                set_seed(seed)
                est = build_estimator(model_cfg, seed, "cpu", None)
                est.fit(task.X_train, task.y_train)
                (est.predict(task.X_test) == task.y_test).mean()
    return time.perf_counter() - t0


def bench_run(overrides: list[str]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        code = bench_main(["run", *overrides, f"paths.results={tmp}"])
        elapsed = time.perf_counter() - t0
    assert code == 0, f"bench run failed with exit code {code}"
    return elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("overrides", nargs="*", default=["suite=vision"])
    args = ap.parse_args()
    plain = plain_script(args.overrides)
    bench = bench_run(args.overrides)
    print(f"overrides: {' '.join(args.overrides)}")
    print(f"plain script: {plain:.1f} s   bench run: {bench:.1f} s   ratio: {bench / plain:.3f}")


if __name__ == "__main__":
    main()
