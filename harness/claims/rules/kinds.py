"""What kind of model an architecture is, and what kind of task a dataset is, read from the configs.

The article defines deep learning by several hidden layers, so "deep" in the claims is not the
two-valued `family` of a row (which says how a model is trained: by gradient descent in torch, or by a
scikit-learn-style fit). A model config may say `kind: shallow` (a single-layer perceptron, the
fastText-style bag of embeddings with one linear layer): such a model trains like a deep one but has
no hidden layer, and the claims about deep models (T6, T7, T8) leave it off the deep side. Configs
without `kind` are of their family's usual kind: `deep` for family deep, `classical` otherwise.

Rows do not carry the kind (adding a column would be an engine change): the rules map `arch` to the
model config of that name (harness.core.config.load_item), so a row of a model whose config is gone
counts by its family.
"""
from __future__ import annotations

from functools import cache

import pandas as pd

SHALLOW = "shallow"


@cache
def config_value(group: str, name: str, key: str) -> str | None:
    """`key` of the config `group/name.yaml`, or None when there is no such file or key."""
    from harness.core.config import ConfigError, load_item

    try:
        value = load_item(group, name).get(key)
    except (ConfigError, OSError, ValueError):
        return None
    return None if value is None else str(value)


def kind_of(arch: str, family: str = "deep") -> str:
    """`shallow`, `deep` or `classical`: the model config's `kind`, else its family."""
    return config_value("model", str(arch), "kind") or ("deep" if family == "deep" else "classical")


def shallow_mask(rows: pd.DataFrame) -> pd.Series:
    """Rows of deep-family models whose config says `kind: shallow`."""
    if rows.empty:
        return pd.Series(False, index=rows.index)
    return (rows["family"] == "deep") & rows["arch"].map(lambda a: kind_of(a) == SHALLOW)


def without_shallow(rows: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The rows with shallow deep-family models dropped, and the models dropped (sorted)."""
    mask = shallow_mask(rows)
    kept = rows[~mask]
    kept.attrs = rows.attrs
    return kept, sorted(set(rows.loc[mask, "arch"]))


def shallow_note(dropped: list[str]) -> str:
    """The sentence that says which models were left off the deep side, or ''."""
    if not dropped:
        return ""
    return (f"Not counted as deep: {', '.join(dropped)} (kind: shallow in the model config: no hidden layer; "
            "the article defines deep learning by several hidden layers).")


def task_of(dataset: str, rows: pd.DataFrame | None = None) -> str:
    """A dataset's task (`control`, `tabular_control`, `classification`, ...): the rows' `task_kind`
    when they carry it, else the dataset config's `task`, else ''."""
    if rows is not None and "task_kind" in rows:
        known = rows.loc[rows["dataset"] == dataset, "task_kind"].dropna()
        if len(known):
            return str(known.iloc[0])
    return (config_value("dataset", str(dataset), "task") or "").strip()
