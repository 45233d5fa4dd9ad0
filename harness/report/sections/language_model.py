"""A language-modelling dataset: bits per character against a uniform guess, and each model's sample."""
from __future__ import annotations

import json

import pandas as pd

from harness.core.display import fmt_count, fmt_seconds
from harness.evaluation.stats import mean_ci
from harness.report.blocks import Cell, Para, Pre, Table
from harness.report.rows import fmt_ci, largest_size


def dataset_blocks(d: pd.DataFrame, suite: str, dataset: str) -> list:
    """The section of a language-modelling dataset, read at its largest training size."""
    return language_model_blocks(largest_size(d))


def language_model_blocks(ok: pd.DataFrame) -> list:
    """A language-modelling dataset's finished cells: bits per character (lower is better) against a
    uniform guess over the alphabet, then each model's sample (its first seed's)."""
    num = lambda g, col: pd.to_numeric(g[col], errors="coerce") if col in g else pd.Series(dtype=float)  # noqa: E731
    rows = []
    for (label, family), g in ok.groupby(["label", "family"], sort=False):
        rows.append({"label": label, "family": family, "bpc": mean_ci(num(g, "bpc")),
                     "uniform": num(g, "uniform_bpc").mean(), "train": mean_ci(num(g, "train_seconds")),
                     "params": num(g, "n_parameters").mean(), "steps": num(g, "steps").mean(),
                     "first": g.sort_values("seed").iloc[0]})
    rows.sort(key=lambda r: r["bpc"][0])
    best = {}
    for i, r in enumerate(rows):
        best.setdefault(r["family"], i)  # rows are sorted by bpc: the first of a family is its best
    table = [[("★ " if best[r["family"]] == i else "") + r["label"], Cell(r["family"], cls=f"fam fam-{r['family']}"),
              fmt_ci(r["bpc"], lambda x: f"{x:.3f}"), str(r["bpc"][3]), f"{r['uniform']:.3f}",
              fmt_ci(r["train"], fmt_seconds), fmt_count(r["params"]), fmt_count(r["steps"])]
             for i, r in enumerate(rows)]
    classes = [f"{r['family']}{' best' if best[r['family']] == i else ''}" for i, r in enumerate(rows)]
    blocks = [Para(f"Training texts {int(ok['n_train'].max())}, held-out texts {int(ok['n_test'].max())} "
                   f"({int(num(ok, 'n_test_chars').max()):,} characters). Bits per character on the held-out texts, "
                   "lower is better: mean over seeds ± half of its 95% interval; uniform bpc is log2 of the alphabet "
                   "size, a uniform guess; steps: the optimiser steps a neural model took within its time or step "
                   "budget; ★ the lowest of its family."),
              Table(["model", "family", "bpc", "seeds", "uniform bpc", "train time", "parameters", "steps"], table,
                    right=set(range(2, 8)), row_cls=classes)]
    samples = [r for r in rows if isinstance(r["first"].get("sample"), str)]
    if samples:
        blocks.append(Para("Samples: what each model generated after the end of an entry, seeded (control "
                           "characters written as \\xNN)."))
        for r in samples:
            temperature = json.loads(r["first"].get("params") or "{}").get("temperature", "?")
            blocks += [Para(f"{r['label']} (seed {int(r['first']['seed'])}, temperature {temperature}):"),
                       Pre(r["first"]["sample"])]
    return blocks
