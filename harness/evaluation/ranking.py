"""Many models over many datasets: the Friedman test first, then Nemenyi's critical difference, then
the diagram (Demsar 2006, "Statistical comparisons of classifiers over multiple data sets", JMLR 7).

Tables are datasets (rows) x models (columns) of one score per cell, e.g. the mean over seeds.
Datasets missing any model's score are dropped: the ranks need every model on every dataset.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from harness.evaluation.stats import average_ranks, nemenyi_cd


def friedman(table: pd.DataFrame, *, iman_davenport: bool = False) -> tuple[float, float]:
    """Friedman's test that all models rank alike over the datasets: (statistic, p).

    The chi-square statistic with ties corrected is scipy.stats.friedmanchisquare's. With
    `iman_davenport` it becomes Iman & Davenport's F = (N - 1) chi2 / (N (k - 1) - chi2) on (k - 1) and
    (k - 1)(N - 1) degrees of freedom, which Demsar recommends as less conservative. (nan, nan) with
    fewer than 3 models or 2 complete datasets: for two models compare them paired over datasets.
    The direction of the scores does not matter here, only in the ranks.
    """
    complete = table.dropna()
    n, k = complete.shape
    if k < 3 or n < 2:
        return np.nan, np.nan
    scores = complete.to_numpy(dtype=float)
    if (scores == scores[:, :1]).all():  # every dataset ties every model: no evidence of any difference
        return 0.0, 1.0
    chi2, p = stats.friedmanchisquare(*scores.T)
    return iman_davenport_f(chi2, n, k) if iman_davenport else (float(chi2), float(p))


def iman_davenport_f(chi2: float, n_datasets: int, k_models: int) -> tuple[float, float]:
    """Iman & Davenport's F from Friedman's chi-square: (F, p). Demsar's example: chi2 = 9.28 over 14
    datasets and 4 models gives F = 3.69."""
    denominator = n_datasets * (k_models - 1) - chi2
    if denominator <= 0:  # every dataset ranks the models the same way
        return np.inf, 0.0
    f = (n_datasets - 1) * chi2 / denominator
    return float(f), float(stats.f.sf(f, k_models - 1, (k_models - 1) * (n_datasets - 1)))


@dataclass(frozen=True)
class CriticalDifference:
    """Average ranks (1 = best, sorted) and Nemenyi's critical difference, which is None unless the
    Friedman test rejected: then `note` says no difference among the models can be claimed."""
    ranks: pd.Series
    cd: float | None
    statistic: float
    p_value: float
    test: str
    n_datasets: int
    alpha: float
    note: str

    @property
    def rejected(self) -> bool:
        return self.cd is not None


def critical_difference(table: pd.DataFrame, alpha: float = 0.05, *, higher_is_better: bool = True,
                        iman_davenport: bool = False) -> CriticalDifference:
    """Friedman's test, and Nemenyi's critical difference of average ranks only when it rejects at alpha.

    Two models whose average ranks differ by at least the CD differ (Demsar 2006, section 3.2.2); the
    CD is not computed after a Friedman test that did not reject, since Nemenyi's comparisons are
    post-hoc: run without it they name differences the omnibus test found no evidence of.
    """
    complete = table.dropna()
    ranks = average_ranks(complete if higher_is_better else -complete)
    statistic, p = friedman(complete, iman_davenport=iman_davenport)
    test = "friedman (iman-davenport F)" if iman_davenport else "friedman (chi-square)"
    n, k = complete.shape
    if not np.isfinite(p):
        note = f"{k} models over {n} complete datasets: the Friedman test needs 3 models and 2 datasets"
        return CriticalDifference(ranks, None, statistic, p, test, n, alpha, note)
    if p > alpha:
        note = f"Friedman p = {p:.3g} > {alpha}: no difference among the {k} models can be claimed"
        return CriticalDifference(ranks, None, statistic, p, test, n, alpha, note)
    cd = nemenyi_cd(k, n, alpha)
    note = f"Friedman p = {p:.3g} <= {alpha}: models whose average ranks differ by {cd:.2f} or more differ"
    return CriticalDifference(ranks, cd, statistic, p, test, n, alpha, note)


def cliques(ranks: pd.Series, cd: float | None) -> list[list[str]]:
    """The maximal runs of models (in rank order) whose average ranks differ by less than `cd`: the
    groups a CD diagram joins with a bar. Runs of one model are left out. No cd, no groups."""
    if cd is None:
        return []
    ranks = ranks.sort_values()
    names, values = list(ranks.index), ranks.to_numpy(dtype=float)
    groups, reach = [], 0
    for i in range(len(values)):
        j = i
        while j + 1 < len(values) and values[j + 1] - values[i] < cd:
            j += 1
        if j > i and j > reach:
            groups.append(names[i:j + 1])
            reach = j
    return groups


def cd_diagram(ranks: pd.Series, cd: float | None, path, *, title: str | None = None) -> Path:
    """Draw a Demsar-style critical-difference diagram to `path` (.png, .svg, .pdf by its suffix).

    An axis of average rank with 1 (best) on the left; each model hangs from its rank by an elbow
    line to its name, the better half on the left, the rest on the right; a bar of length CD above the
    axis, and a thick bar under the axis joining each group of models that do not differ. With cd None
    (the Friedman test did not reject) there is no CD bar and no groups, and the diagram says so.
    """
    from matplotlib.figure import Figure  # no pyplot: no global state, no display needed

    ranks = ranks.dropna().sort_values()
    if ranks.empty:
        raise ValueError("no ranks to draw")
    names, values = list(ranks.index), ranks.to_numpy(dtype=float)
    k = len(names)
    low, high = 1, max(k, int(np.ceil(values.max())))
    groups = cliques(ranks, cd)
    half = (k + 1) // 2
    rows = max(half, k - half, 1)
    line = 0.3  # vertical space per name, in axis units
    below = 0.12 + 0.08 * len(groups)  # the group bars sit between the axis and the first name
    fig = Figure(figsize=(max(6.0, 1.1 * (high - low) + 4), 1.6 + 0.3 * (rows + len(groups))))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    bottom = -below - (rows + 1) * line
    ax.set_xlim(low - 2.2, high + 2.2)
    ax.set_ylim(bottom, 1.0)
    ax.hlines(0, low, high, color="black", lw=1)
    for r in range(low, high + 1):
        ax.vlines(r, 0, 0.08, color="black", lw=1)
        ax.text(r, 0.12, str(r), ha="center", va="bottom", fontsize=9)
    for i, (name, value) in enumerate(zip(names, values)):
        left = i < half
        row = i if left else k - 1 - i
        y = -below - row * line - 0.15
        x_end = low - 0.3 if left else high + 0.3
        ax.plot([value, value, x_end], [0, y, y], color="black", lw=0.8)
        ax.text(x_end + (-0.05 if left else 0.05), y, f"{name} ({value:.2f})", ha="right" if left else "left",
                va="center", fontsize=9)
    for g, group in enumerate(groups):
        y = -0.12 - g * 0.08
        ax.hlines(y, ranks[group[0]] - 0.03, ranks[group[-1]] + 0.03, color="black", lw=3)
    if cd is not None:
        ax.hlines(0.6, low, low + cd, color="black", lw=1)
        ax.vlines([low, low + cd], 0.55, 0.65, color="black", lw=1)
        ax.text(low + cd / 2, 0.68, f"CD = {cd:.2f}", ha="center", va="bottom", fontsize=9)
    else:
        ax.text((low + high) / 2, 0.6, "Friedman test did not reject: no differences claimed", ha="center",
                va="bottom", fontsize=9)
    if title:
        ax.text(low - 2.1, 0.9, title, ha="left", va="top", fontsize=10)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches="tight")
    return path
