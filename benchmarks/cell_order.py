"""How much the order cells are handed to the workers costs: a run's own cell times, replayed.

    python -m benchmarks.cell_order RUN_FOLDER [--workers N]

Nothing is run. The cells of a finished run (their measured `cell_seconds`, reused cells left out)
are handed to N workers, each taking the next cell when it frees, in two orders:

- per dataset and seed: longest first inside each (dataset, seed), one after another (bench's
  order before the runner's single queue);
- one queue: every cell of the run longest first (the runner's order with several workers).

It prints each order's span (the replayed wall time of the cells) beside the two bounds no order
can beat: the sum of cell seconds over N, and the longest cell. "Longest" is what the runner
expects before it runs (its cost per training example times the size): here, the measured seconds,
so the replay shows the best either order can do. Cell times measured beside other cells are taken
as they are: a replay, not a new measurement.
"""
from __future__ import annotations

import argparse
import heapq
import sys
from pathlib import Path

import pandas as pd

from harness.results.store import read_run_rows


def span(durations: list[float], workers: int) -> float:
    """Wall time of handing `durations`, in this order, to `workers` that each take the next when free."""
    free = [0.0] * workers
    for d in durations:
        heapq.heappush(free, heapq.heappop(free) + d)
    return max(free)


def orders(rows: pd.DataFrame) -> dict[str, list[float]]:
    longest_first = rows.sort_values("cell_seconds", ascending=False, kind="stable")
    units = dict.fromkeys(zip(rows["dataset"], rows["seed"]))  # in the run's order of first appearance
    per_unit = [s for d, seed in units
                for s in longest_first[(longest_first["dataset"] == d) & (longest_first["seed"] == seed)]["cell_seconds"]]
    return {"per dataset and seed": per_unit, "one queue": list(longest_first["cell_seconds"])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="a run folder (results/<suite>/<stamp>)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    rows = read_run_rows(args.run)
    if "reused_from" in rows:
        rows = rows[rows["reused_from"].fillna("").astype(str) == ""]
    rows = rows[pd.to_numeric(rows["cell_seconds"], errors="coerce").notna()]
    if rows.empty:
        print(f"{args.run}: no cells with a measured cell_seconds", file=sys.stderr)
        return 1
    total = float(rows["cell_seconds"].sum())
    print(f"{args.run}: {len(rows)} cells, {total:,.1f} cell-seconds, {args.workers} workers")
    print(f"  bound: sum / workers {total / args.workers:,.1f} s; longest cell {rows['cell_seconds'].max():,.1f} s")
    for name, durations in orders(rows).items():
        print(f"  {name:<22} {span(durations, args.workers):,.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
