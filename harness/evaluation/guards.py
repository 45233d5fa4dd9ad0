"""Second implementations as guards: a model and an independent implementation of it (suites/guards.yaml)
run side by side, and whether the two agree.

`pair_scores` lines up, per suite and dataset, the seeds both of a pair finished; `compare_pairs` reads
each pair's paired difference (guarded model - second implementation) against the seeds' noise and the
pair's stated margin: `disagree` when the paired t-interval excludes 0 and the mean gap is beyond the
margin (at least 2 paired seeds), `agree` when the gap is inside the margin, else `undecided` (one seed
beyond the margin: no noise to read it against, or a wide interval). The report shows the table; the
claims (harness/claims/judge.py) take a disagreement as a fault in the evidence for the guarded model.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from harness.evaluation.stats import PairedDifference, paired_difference
from suites import CONFIG_DIR

AGREE, DISAGREE, UNDECIDED = "agree", "disagree", "undecided"


@dataclass(frozen=True)
class Guard:
    model: str          # the guarded model (bench's own)
    second: str         # its second implementation
    score: tuple        # the columns compared, the first a row has
    margin: float
    relative_to: str = ""  # a row column the margin is a fraction of (its absolute value), else absolute


@lru_cache(maxsize=1)
def load_guards() -> tuple[Guard, ...]:
    """The pairs of suites/guards.yaml."""
    node = OmegaConf.to_container(OmegaConf.load(CONFIG_DIR / "guards.yaml"))["guards"]
    return tuple(Guard(model, g["second"], tuple(g["score"]), float(g["margin"]), g.get("relative_to") or "")
                 for model, g in node.items())


def second_implementations(guards=None) -> set[str]:
    """The models that only guard another: their rows are never a claim's evidence."""
    return {g.second for g in (load_guards() if guards is None else guards)}


@dataclass
class PairResult:
    suite: str
    dataset: str
    guard: Guard
    score: str
    model_mean: float
    second_mean: float
    diff: PairedDifference
    margin: float
    decision: str

    def text(self) -> str:
        g = self.guard
        seeds = f"{self.diff.n} paired seed{'s' * (self.diff.n != 1)}"
        gap = (f"{self.diff.mean:+.3g}" + ("" if self.diff.single_seed else f" [{self.diff.lo:+.3g}, {self.diff.hi:+.3g}]"))
        return (f"{g.model} {self.model_mean:.4g} vs {g.second} {self.second_mean:.4g} on {self.dataset} "
                f"({self.score}; gap {gap}, {seeds}, margin {self.margin:.3g}): {self.decision}")


def score_column(rows: pd.DataFrame, guard: Guard) -> str | None:
    """The first of the guard's score columns with a value in these rows."""
    for col in guard.score:
        if col in rows and pd.to_numeric(rows[col], errors="coerce").notna().any():
            return col
    return None


def decision_of(diff: PairedDifference, margin: float) -> str:
    if diff.n == 0:
        return UNDECIDED
    if abs(diff.mean) <= margin:
        return AGREE
    if diff.n >= 2 and (diff.lo > 0 or diff.hi < 0):
        return DISAGREE
    return UNDECIDED


def compare_pairs(rows: pd.DataFrame, guards=None) -> list[PairResult]:
    """Every pair with finished rows of both models on a dataset, per suite and dataset (the model
    column without variants; cells of one seed in two runs are averaged)."""
    if rows.empty:
        return []
    done = rows[rows["status"] == "ok"]
    arch = done["model"].astype(str).str.replace(r"\[.*\]$", "", regex=True)
    out = []
    for g in load_guards() if guards is None else guards:
        both = done[arch.isin([g.model, g.second])]
        for (suite, dataset), d in both.groupby(["suite", "dataset"], sort=True):
            col = score_column(d, g)
            model_arch = arch[d.index]
            if col is None or model_arch.nunique() < 2:
                continue
            values = pd.to_numeric(d[col], errors="coerce")
            a = values[model_arch == g.model].groupby(d["seed"]).mean().dropna()
            b = values[model_arch == g.second].groupby(d["seed"]).mean().dropna()
            a, b = a.align(b, join="inner")
            if not len(a):
                continue
            scale = 1.0
            if g.relative_to and g.relative_to in d:
                scale = float(np.nanmax(np.abs(pd.to_numeric(d[g.relative_to], errors="coerce")))) or 1.0
            diff = paired_difference(a.to_numpy(), b.to_numpy())
            margin = g.margin * scale
            out.append(PairResult(str(suite), str(dataset), g, col, float(a.mean()), float(b.mean()), diff, margin,
                                  decision_of(diff, margin)))
    return out
