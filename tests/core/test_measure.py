"""`measure` sees the peak memory of the work it encloses, with the kernel's counter or a sampler."""
from __future__ import annotations

import time

import numpy as np
import pytest

from harness.core import measure as measure_module
from harness.core.measure import measure


def allocate(mb: int, hold: float) -> float:
    block = np.ones(mb * 2**20 // 8)  # touched: resident, not only reserved
    time.sleep(hold)
    return float(block[-1])


@pytest.mark.parametrize("kernel", [True, False], ids=["kernel-peak", "sampling-thread"])
def test_the_peak_of_a_freed_allocation_is_seen_and_nested_measures_keep_their_own(kernel, monkeypatch):
    if not kernel:  # where /proc/self/clear_refs cannot be written: the sampling thread
        monkeypatch.setattr(measure_module, "_KernelPeak", _refuse)
    # The kernel's high-water mark sees any allocation; a sampler only one that lives past a few of its periods.
    hold = 0.0 if kernel else 0.1
    with measure() as outer:
        allocate(200, hold)  # freed before the inner measure starts: only the outer one saw it
        with measure() as inner:
            allocate(50, hold)
    assert 150 < outer.peak_memory_mb < 400, outer
    assert 30 < inner.peak_memory_mb < 120, inner
    assert outer.wall_seconds >= inner.wall_seconds > 0


def _refuse():
    raise OSError("clear_refs not writable here")


def test_a_cell_process_starts_with_the_first_call_caches_filled():
    """A cell's timed fit must not pay for filling process-wide caches (the task kinds' registry,
    scikit-learn's lookup of narwhals' plugins: 70 ms of a 10 ms fit): the forkserver fills them."""
    from harness.core.isolation import caches_warm, call_in_child, start_server

    start_server()
    assert call_in_child(caches_warm, threads=1)
