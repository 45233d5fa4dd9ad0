"""The two registries of the claims: `registry.yaml` (the claims, each naming its rule) and `RULES`
(the rule functions, each registered by `@rule` in a module of harness/claims/rules/).

The folder is the list of rules: `discover_rules` imports every module in it, so a new rule is one
decorated function in a topic file, with nothing to add elsewhere.
"""
from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Callable

from harness.core.yamlfile import read_yaml

REGISTRY = Path(__file__).with_name("registry.yaml")

# rule name -> function(rows, entry) -> Verdict
RULES: dict[str, Callable] = {}


def load_registry(path: Path = REGISTRY) -> list[dict]:
    return read_yaml(path)


def rule(fn: Callable | None = None, *, reads_failed_cells: bool = False, compares_machines: bool = False):
    """Register a rule under its function's name, the name a registry entry's `rule:` gives.

    A rule is judged only once some cell of its suites finished, unless `reads_failed_cells`: for it a
    failed cell is evidence (a network that diverged when made deeper). A rule reads the rows of one
    rig per suite (rows.main_rig), unless `compares_machines`: it then reads every rig's rows and must
    compare within each (the time and hardware claims)."""
    def register(fn: Callable) -> Callable:
        known = RULES.get(fn.__name__)
        if known is not None and known.__module__ != fn.__module__:
            raise ValueError(f"two rules named {fn.__name__!r}: in {known.__module__} and {fn.__module__}")
        fn.reads_failed_cells = reads_failed_cells
        fn.compares_machines = compares_machines
        RULES[fn.__name__] = fn
        return fn
    return register(fn) if fn is not None else register


def discover_rules() -> dict[str, Callable]:
    """Import every module of harness/claims/rules/ so that each registers its rules."""
    from harness.claims import rules

    for module in pkgutil.iter_modules(rules.__path__):
        importlib.import_module(f"{rules.__name__}.{module.name}")
    return RULES
