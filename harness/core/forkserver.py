"""The forkserver that every cell process forks from (harness/core/isolation.py), and its early start.

Its boot, a fresh interpreter importing torch, torch._dynamo and scikit-learn, takes about 5 s on two
cores, and the first cell (and the run's calibration before it) waits for it. `start_early` begins it
at the top of `bench run`, before the runner imports those same libraries for itself, so that the two
overlap on the two cores instead of following each other. The plan is not composed yet, so the models'
modules to preload are read from the files of the suite the command names: every model it lists in any
profile, and a `model=NAME` (a module missed is imported by each cell; one too many costs the boot
a little). This module imports nothing heavy: it runs before the rest of bench is loaded.
"""
from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import yaml

from harness.core.safety import imported_values
from harness.core.yamlfile import read_yaml

# Imported once by the forkserver, so that a cell's process starts with them loaded. torch._dynamo
# is what torch imports lazily on a module's first forward call: 2 s per cell process without it.
# A child re-runs the program's main module; under `bench` that imports harness.cli, a thin parser
# over harness.app: preloading harness.app spares each cell 44 ms of imports (harness.cli adds 12).
# harness.core.warm fills the caches a cell's first fit would otherwise fill inside its timing.
PRELOAD = ["harness.core.isolation", "harness.app", "torch._dynamo", "harness.core.warm"]


def available() -> bool:
    return "forkserver" in mp.get_all_start_methods()  # not on Windows: cells are spawned there


def start(modules: list[str] = ()) -> None:
    """Start the forkserver with PRELOAD and `modules` unless it runs already: it is shared by every
    run of this process, and the first start's list is the one it keeps."""
    if not available():
        return
    from multiprocessing import forkserver

    ctx = mp.get_context("forkserver")
    if not forkserver._forkserver._forkserver_pid:  # not yet started: this list still counts
        ctx.set_forkserver_preload(list(dict.fromkeys([*PRELOAD, *modules])))
    forkserver.ensure_running()


def start_early(overrides: list[str], config_dir: Path) -> None:
    """Start the forkserver for the run these overrides describe, before the run is composed: not for
    a run whose cells do not fork from it (`isolation=none`, another Hydra launcher's processes)."""
    values = {}
    for o in overrides:
        key, _, value = o.lstrip("+").partition("=")
        values[key] = value
    if values.get("isolation", "process") != "process" or any(k.startswith("hydra/launcher") for k in values):
        return
    if "all" in values.get("suite", "").split(","):  # its first member's run starts it, with that plan's modules
        return
    suite = values.get("suite") or default_suite(config_dir)
    start(guessed_modules(suite.split(",")[0], values.get("model", ""), config_dir))


def default_suite(config_dir: Path) -> str:
    """The suite config.yaml's defaults choose where the command names none."""
    try:
        defaults = read_yaml(config_dir / "config.yaml").get("defaults") or []
    except (OSError, yaml.YAMLError, AttributeError):
        return ""
    return next((str(d["suite"]) for d in defaults if isinstance(d, dict) and "suite" in d), "")


def guessed_modules(suite: str, model: str, config_dir: Path) -> list[str]:
    """The modules the suite's models and datasets name (`_target_`, `module`), read from their files
    and the suite's own settings for them."""
    def read(group: str, name: str) -> dict:
        try:
            node = read_yaml(config_dir / group / f"{name}.yaml")
        except (OSError, yaml.YAMLError):
            return {}
        return node if isinstance(node, dict) else {}

    node = read("suite", suite)
    names = {"model": list(node.get("models") or []), "dataset": list(node.get("datasets") or [])}
    for tweaks in (node.get("profiles") or {}).values():
        for group in names:
            names[group] += list((tweaks or {}).get(f"{group}s") or [])
    names["model"] += [m for m in model.split(",") if m]
    # the suite's own settings may replace a model's class (the memory suite's sequence trainer)
    found = [path.rpartition(".")[0] for _, path in imported_values(
        [node.get(key) for key in ("overrides", "dataset_overrides")]
        + [(tweaks or {}).get(key) for tweaks in (node.get("profiles") or {}).values()
           for key in ("overrides", "dataset_overrides")])]
    for group, listed in names.items():
        for name in dict.fromkeys(map(str, listed)):
            found += [path.rpartition(".")[0] for _, path in imported_values(read(group, name))]
    return [m for m in dict.fromkeys(found) if m]
