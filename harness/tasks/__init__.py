"""The registry of task kinds: every module of this folder that defines `KIND` (a
harness.tasks.base.TaskKind) adds its kind. Adding a kind is adding a file; the engine finds it here.

Rows record their kind in the `task_kind` column; rows of older runs, which do not, are recognised by
their scores (`TaskKind.owns`), in DETECTION order, the first kind that owns them winning.
"""
from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

import pandas as pd

from harness.tasks.base import TaskKind

# Which kind rows without a `task` column are, asked in this order: kinds recognised by a score of their
# own first; classification, which every other kind would also match by its accuracy column, last.
DETECTION = ("language_model", "generation", "control", "anomaly", "semi_supervised", "reconstruction",
             "regression", "classification")


@lru_cache(maxsize=1)
def kinds() -> dict[str, TaskKind]:
    """Every task kind, by name."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        kind = getattr(importlib.import_module(f"{__name__}.{info.name}"), "KIND", None)
        if isinstance(kind, TaskKind):
            found[kind.name] = kind
    return found


def kind(name: str) -> TaskKind:
    """The task kind called `name`; an unknown name is a ValueError listing the known ones."""
    known = kinds()
    if name not in known:
        raise ValueError(f"unknown task kind {name!r}; known: {', '.join(sorted(known))}")
    return known[name]


def default_kinds() -> tuple[str, ...]:
    """The kinds a model config without `task:` runs on."""
    return tuple(name for name, k in kinds().items() if k.default_for_models)


def kind_of_rows(rows: pd.DataFrame) -> TaskKind:
    """The kind of one dataset's rows: their `task_kind` column, else recognised by their scores."""
    if "task_kind" in rows:
        named = rows["task_kind"].dropna().astype(str)
        if len(named) and named.iloc[0] in kinds():
            return kinds()[named.iloc[0]]
    order = [*DETECTION, *(k for k in kinds() if k not in DETECTION)]
    return next((kinds()[k] for k in order if k in kinds() and kinds()[k].owns(rows)), kinds()["classification"])


def table_kind(rows: pd.DataFrame) -> TaskKind:
    """The kind whose tables show these rows: theirs where they hold its scores; rows with none (every
    cell failed) get the plain results table, which lists the failures."""
    found = kind_of_rows(rows)
    return found if found.owns(rows) else kinds()[DETECTION[-1]]


def scores(kind_name: str, y_true, y_pred) -> dict[str, float]:
    """The score columns of a `kind_name` task from real predictions (for a reconstruction, y_true is
    the inputs: `Task.test_targets`)."""
    return kind(kind_name).scores(y_true, y_pred)
