"""Devices and the provenance of a run: which machine, which versions, which commit."""
from __future__ import annotations

import contextlib
import os
import platform
import re
import subprocess
import warnings
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import torch


class HardwareError(Exception):
    """A requested device that this machine does not have."""


def available_devices() -> list[str]:
    found = ["cpu"]
    if torch.cuda.is_available():
        found.append("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        found.append("mps")
    return found


def resolve_device(requested: str) -> str:
    """`auto` picks the best device present; asking for an absent one is an error."""
    present = available_devices()
    if requested == "auto":
        return "cuda" if "cuda" in present else "mps" if "mps" in present else "cpu"
    if requested not in ("cpu", "cuda", "mps"):
        raise HardwareError(f"unknown device {requested!r}; choose one of cpu, cuda, mps, auto")
    if requested not in present:
        raise HardwareError(f"hardware={requested} asked for, but this machine has only: {', '.join(present)}")
    return requested


def configure_threads(threads: int | None) -> int:
    """Set torch's intra-op threads and the BLAS and OpenMP pools of numpy and scikit-learn (None:
    leave the libraries' defaults) and return torch's count in force. All of them: a cell asked to
    run on one thread whose histogram boosting or BLAS still starts one thread per core competes
    with its neighbours in a parallel sweep, and spinning OpenMP threads on a busy machine cost
    ten times their work (seen: the calibration's BLAS part, 2 ms alone, 124 ms under load)."""
    if threads:
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(int(threads))
        threadpool_limits(limits=int(threads))
    return torch.get_num_threads()


@contextlib.contextmanager
def flush_denormals(on: bool = True):
    """Subnormal floats (below ~1.2e-38 in float32) read and computed as zero on this thread while inside
    (x86's FTZ and DAZ bits; torch.set_flush_denormal), as oneDNN's kernels and TensorFlow already run.
    A deep model's CPU cell trains so: Adam's second moments of weights whose gradient has stopped
    (dead units, unvisited states' embeddings) decay into the subnormal range, where each operation
    costs ~100 cycles; DQN's fused Adam step took 4x as long with them (benchmarks/denormals.py). Values
    that small change nothing a model computes by more than they are worth. Restored on leaving."""
    if not on or not torch.set_flush_denormal(True):  # False: this CPU cannot
        yield
        return
    try:
        with warnings.catch_warnings():  # numpy's float limits, first read under it, warn that subnormals are 0
            warnings.filterwarnings("ignore", message="The value of the smallest subnormal")
            yield
    finally:
        torch.set_flush_denormal(False)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_name(device: str) -> str | None:
    if device == "cuda":
        return torch.cuda.get_device_name(0)
    if device == "mps":
        return "Apple MPS"
    return None


def git_commit(cwd: Path | None = None) -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd or Path(__file__).parent, capture_output=True,
                             text=True, timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=cwd or Path(__file__).parent, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


PROJECT = "bench"


def _name(requirement: str) -> str | None:
    """The distribution a requirement string names; None for one only an extra asks for (tests, slurm)."""
    if re.search(r"""extra\s*==""", requirement):
        return None
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return match.group(1) if match else None


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@lru_cache(maxsize=1)
def runtime_versions() -> dict[str, str]:
    """The version of every installed distribution bench runs on: its declared dependencies and
    theirs, all the way down (aeon's numba, gymnasium's dynamics, scikit-learn's threadpoolctl...).
    Derived from the installed metadata (one scan of it), not kept by hand, so a new dependency is in
    the resume key the day it is added."""
    installed = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            installed.setdefault(_key(name), dist)
    todo = ["torch", "scikit-learn", "numpy"]  # bench's core, should its own metadata be missing (a source checkout)
    if _key(PROJECT) in installed:
        todo += [n for r in installed[_key(PROJECT)].requires or [] if (n := _name(r))]
    found: dict[str, str] = {}
    while todo:
        key = _key(todo.pop())
        if key in found or key not in installed:  # done, or not installed (an optional dependency of a dependency)
            continue
        found[key] = installed[key].version
        todo += [n for r in installed[key].requires or [] if (n := _name(r))]
    return dict(sorted(found.items()))


def package_versions() -> dict[str, str | None]:
    """runtime_versions(): part of each cell's resume key (harness/core/resume.py), so upgrading any
    distribution bench runs on runs the cells again."""
    return dict(runtime_versions())


def machine_info(device: str, threads: int) -> dict:
    return {
        "device": device,
        "cpu_model": cpu_model(),
        "cpu_cores": os.cpu_count(),
        "gpu_name": gpu_name(device),
        "torch_threads": threads,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "hostname": platform.node(),
        # what else the machine was doing when the run started: timings are read against it
        "load_average": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }
