"""The vision suite sequentially vs as a 2-worker joblib sweep (issue 5), end to end wall time.

    python benchmarks/sweep_speedup.py [--suite vision] [--workers 2] [extra overrides...]

Runs, into a throw-away results folder, with every cell run afresh (--force):
  1. sequential, one torch thread       `bench run suite=S hardware.threads=1`
  2. sequential, torch's default threads `bench run suite=S`
  3. joblib sweep, one job per model     `bench run suite=S hardware.threads=1 --split=model hydra/launcher=local`
and prints wall times and the speedup of 3 over 1 (models independent and single-threaded: the
case the goal of 1.6x on two cores is about) and over 2. Run it on an otherwise idle machine.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--suite", default="vision")
    ap.add_argument("--workers", type=int, default=2)
    args, extra = ap.parse_known_args()
    with tempfile.TemporaryDirectory() as results:
        bench = [sys.executable, "-m", "harness.cli", "run", f"suite={args.suite}", f"paths.results={results}",
                 "--force", *extra]
        runs = {
            "sequential, 1 thread": bench + ["hardware.threads=1"],
            "sequential, default threads": bench,
            f"joblib sweep, {args.workers} workers x 1 thread": bench + [
                "hardware.threads=1", "--split=model", "hydra/launcher=local", f"hydra.launcher.n_jobs={args.workers}"],
        }
        walls = {}
        for name, cmd in runs.items():
            walls[name] = timed(cmd)
            print(f"{name:<36} {walls[name]:7.1f} s", flush=True)
    seq1, seqd, sweep = walls.values()
    print(f"speedup over sequential 1 thread:       {seq1 / sweep:.2f}x")
    print(f"speedup over sequential default threads: {seqd / sweep:.2f}x")


if __name__ == "__main__":
    main()
