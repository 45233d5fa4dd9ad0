"""Run a cell in a child process, so that a time limit holds and a crash stays inside the cell.

A deep model stops itself between epochs when it passes its time limit; a scikit-learn fit or a
hung epoch cannot be stopped from inside. So each cell runs in a fresh child process, which the
runner kills when the cell overruns: time_limit plus a grace period of a quarter of it (at least
2 s), for the fit; prediction and interpretation each get the same budget again.

Children fork from a forkserver that imported torch and scikit-learn once, before any thread
pool started, so a child starts in milliseconds, inherits no threads or locks of the runner (whose
display and Parquet writers run threads), and measures its memory from a clean start. A child
whose runner dies (SIGKILL) notices within a second and exits.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
import time
import warnings
from typing import Callable

from harness.core import forkserver
from harness.core.cell import CellSpec, EventSink, execute_cell
from harness.data import Task

_context: mp.context.BaseContext | None = None
MAX_WARNINGS = 20  # distinct warnings a cell sends back (a warning raised per sample would flood the log)


def caches_warm() -> bool:
    """Whether this process holds what harness/core/warm.py fills; the tests ask a cell process. It
    lives here, not there, so that asking does not import (and so run) the warm-up."""
    from narwhals.plugins import _discover_entrypoints

    from harness.tasks import kinds

    return kinds.cache_info().currsize == 1 and _discover_entrypoints.cache_info().currsize == 1


def context() -> mp.context.BaseContext:
    global _context
    if _context is None:
        if forkserver.available():
            _context = mp.get_context("forkserver")
            _context.set_forkserver_preload(forkserver.PRELOAD)
        else:  # Windows
            _context = mp.get_context("spawn")
    return _context


def start_server(modules: list[str] = ()) -> None:
    """Start the forkserver now (unless `bench run` started it early: harness/core/forkserver.py), so
    that its imports overlap the runner's own set-up (calibration, data). `modules` (the plan's model
    and loader modules) are imported there too, so that no cell pays for them (aeon's numba-compiled
    baselines take seconds to import). The server is shared by every run of this process: the first
    run's list is the one it keeps."""
    context()
    forkserver.start(modules)


def _call(conn, fn, threads) -> None:
    from harness.core.hardware import configure_threads

    configure_threads(threads)
    conn.send(fn())
    conn.close()


def call_in_child(fn: Callable[[], object], threads: int | None, timeout: float = 120.0):
    """fn() in a child process like a cell's (same start-up, same threads); its return value."""
    ctx = context()
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_call, args=(send, fn, threads), name="bench-calibration")
    child.start()
    send.close()
    try:
        if not receive.poll(timeout):
            raise TimeoutError(f"{getattr(fn, '__name__', fn)} took over {timeout:g} s in a child process")
        return receive.recv()
    finally:
        stop(child)
        receive.close()


def hard_limit(time_limit: float | None) -> float | None:
    """Seconds after which a phase of a cell is killed (None: never)."""
    if not time_limit:
        return None
    return time_limit + max(2.0, 0.25 * time_limit)


def _watch_parent(pid: int) -> None:
    while True:
        time.sleep(1.0)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(3)
        except PermissionError:
            pass  # alive, owned by someone else (cannot happen for our own parent, but harmless)


def _child(conn, spec: CellSpec, task: Task, parent_pid: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the runner's to handle; it kills us
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    from harness.core.hardware import configure_threads

    configure_threads(spec.threads)
    # The cell's warnings go back with its result, for the runner to show and log (bench.log): this
    # process's stderr reaches the terminal only, and would cut through the progress bar.
    with warnings.catch_warnings(record=True) as caught:
        try:
            result = execute_cell(spec, task, lambda kind, payload: conn.send((kind, payload)))
        except BaseException as e:  # noqa: BLE001 - report, never hang the runner
            result = {"status": "error", "error": f"{type(e).__name__}: {e}"[:500]}
    shown = dict.fromkeys(f"{w.category.__name__}: {w.message} ({os.path.basename(w.filename)}:{w.lineno})"
                          for w in caught)
    result["warnings"] = list(shown)[:MAX_WARNINGS]
    conn.send(("result", result))
    conn.close()


def run_isolated(spec: CellSpec, task: Task, on_event: EventSink | None = None,
                 clock: Callable[[], float] = time.monotonic, cancel: threading.Event | None = None) -> dict:
    """execute_cell(spec, task) in a child process; a timeout or crash becomes the cell's status.
    `cancel` set (Ctrl-C while cells run in the pool's threads) kills the child and raises
    KeyboardInterrupt: an interrupted cell leaves no row, as when it runs in the main thread."""
    ctx = context()
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(send, spec, task, os.getpid()), name=f"bench-cell {spec.label}")
    child.start()
    send.close()
    limit = hard_limit(spec.time_limit)
    deadline = clock() + limit if limit else None
    phase, scored = "training", None
    try:
        while True:
            wait = 0.5 if deadline is None else max(0.0, min(0.5, deadline - clock()))
            if receive.poll(wait):
                try:
                    kind, payload = receive.recv()
                except EOFError:
                    return died(child, scored, phase)
                if kind == "result":
                    return payload
                if kind in ("fitted", "scored"):
                    phase = "prediction" if kind == "fitted" else "interpretation"
                    deadline = clock() + limit if limit else None
                    if kind == "scored":
                        scored = payload
                if on_event and kind != "scored":
                    on_event(kind, payload)
            elif not child.is_alive() and not receive.poll(0):
                return died(child, scored, phase)
            if cancel is not None and cancel.is_set():
                raise KeyboardInterrupt
            if deadline is not None and clock() > deadline:
                stop(child)
                message = (f"killed after {limit:.1f} s of {phase} (time_limit {spec.time_limit:g} s "
                           f"+ {limit - spec.time_limit:.1f} s grace)")
                if scored is not None:  # the fit and scores stand; only the explanation is missing
                    return scored | {"interp_error": message}
                return {"status": "timeout", "error": message}
    finally:
        stop(child)
        receive.close()


def stop(child: mp.process.BaseProcess) -> None:
    if child.is_alive():
        child.kill()
    child.join(timeout=10)


def died(child: mp.process.BaseProcess, scored: dict | None, phase: str) -> dict:
    child.join(timeout=10)
    code = child.exitcode
    how = (f"signal {signal.Signals(-code).name}" if code is not None and code < 0 and -code in signal.valid_signals()
           else f"exit code {code}")
    hint = " (out of memory?)" if code == -signal.SIGKILL else ""
    message = f"the cell's worker process died during {phase} with {how}{hint}"
    if scored is not None:
        return scored | {"interp_error": message}
    return {"status": "error", "error": message}
