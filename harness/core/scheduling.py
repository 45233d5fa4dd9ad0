"""Cells at once: how many a run keeps going (`hardware.workers`) and a pool that runs them.

Every cell already runs in its own child process (harness/core/isolation.py), so running several at
once is a matter of waiting on several children: the pool's threads only wait. On a 2-core machine
a deep cell that uses both cores gains little from the second one (small networks, small batches),
while single-threaded classical cells leave a core idle; two one-thread cells side by side keep both
busy. Timings stay honest: every row records `workers` (the run's setting) and `cells_alongside`
(the most other cells that ran while it did), so a time claim can tell a cell that ran alone from
one that shared the machine.
"""
from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path


def available_cores() -> int:
    """The cores this process may run on (a container's or taskset's limit, not the machine's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def resolve_workers(requested, *, threads: int | None, device: str, isolated: bool, suite_cap: int | None) -> int:
    """Cells at once. `auto`: one per core on the CPU (each then on cores // workers threads), one on
    a GPU (cells would share the device); never more than the suite's cap (`workers:` in a suite that
    compares models at equal wall-clock time), and one where cells run in this process
    (isolation=none: torch's threads and the display cannot be shared)."""
    if not isolated:
        return 1
    if requested in (None, "auto"):
        workers = 1 if device != "cpu" else max(1, available_cores() // (threads or 1))
    else:
        workers = int(requested)
    return max(1, min(workers, suite_cap or workers))


def threads_per_cell(threads: int | None, workers: int) -> int | None:
    """Each cell's torch/BLAS threads: what was asked, else (several cells at once) an equal share
    of the cores, so that cells side by side do not oversubscribe them; None keeps the libraries'
    default (one cell at a time)."""
    if threads or workers == 1:
        return threads
    return max(1, available_cores() // workers)


class CellPool:
    """Runs up to `workers` cells at once; `submit` blocks while all are busy (so the caller loads
    the next dataset while cells run, and holds at most one more task in memory)."""

    def __init__(self, workers: int):
        self.workers = workers
        self._slots = threading.BoundedSemaphore(workers)
        self._lock = threading.Lock()
        self._running: dict[int, int] = {}  # cell token -> most other cells seen running beside it
        self._next = 0
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bench-cell") if workers > 1 else None
        self.futures: list[Future] = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=exc[0] is not None)
        return False

    def submit(self, fn: Callable[[Callable[[], int]], dict]) -> Future:
        """Run fn(alongside) in a free slot; `alongside()` gives the most other cells that have run
        beside this one so far (read it when the cell ends)."""
        self._slots.acquire()
        token = self._start()

        def call():
            try:
                return fn(lambda: self._running.get(token, 0))
            finally:
                self._end(token)
                self._slots.release()

        if self._executor is None:  # one at a time: in this thread, as before there was a pool
            future: Future = Future()
            try:
                future.set_result(call())
            except BaseException as e:
                future.set_exception(e)
                if isinstance(e, KeyboardInterrupt):
                    raise
        else:
            future = self._executor.submit(call)
        self.futures.append(future)
        return future

    def _start(self) -> int:
        with self._lock:
            token, self._next = self._next, self._next + 1
            self._running[token] = 0
            others = len(self._running) - 1
            for t in self._running:
                self._running[t] = max(self._running[t], others)
            return token

    def _end(self, token: int) -> None:
        with self._lock:
            self._running.pop(token, None)


def cost_sources(cfg, suite: str) -> list[Path]:
    """Where a suite's measured cell costs are read from, first that has rows first."""
    from harness.results.store import REFERENCE_ROOT

    return [Path(cfg.paths.results) / suite, REFERENCE_ROOT / suite]


def measured_costs(sources) -> dict[tuple[str, str | None], float]:
    """Mean cell seconds per training example, by (model, dataset) and by (model, None) over all its
    datasets, from the first of `sources` (result folders) that has rows: earlier runs of the suite,
    else its committed smoke reference (smaller data and budgets, but the same order of costs: a
    fresh clone's first run is ordered by it too)."""
    from harness.results.store import ResultsError, load_suite_runs

    for source in sources:
        try:
            df = load_suite_runs(source)
            per_example = df["cell_seconds"] / df["n_train"].clip(lower=1)
        except (ResultsError, KeyError, ValueError, OSError):
            continue
        costs = {(m, d): float(v) for (m, d), v in per_example.groupby([df["model"], df["dataset"]]).mean().items()}
        costs |= {(m, None): float(v) for m, v in per_example.groupby(df["model"]).mean().items()}
        return {k: v for k, v in costs.items() if not math.isnan(v)}
    return {}


def expected_seconds(sources) -> Callable[[object, str], float]:
    """Cost per training example of a model (its config) on a dataset, for longest-first order:
    measured (`measured_costs`) on that dataset, else on the model's others, else deep models ten
    times classical ones. Only the order depends on it, never a result."""
    costs = measured_costs(sources)

    def cost(model_cfg, dataset: str) -> float:
        name = str(model_cfg.name)
        known = costs.get((name, dataset), costs.get((name, None)))
        if known is not None:
            return known
        return 1e-2 if str(model_cfg.get("family", "deep")) == "deep" else 1e-3
    return cost
