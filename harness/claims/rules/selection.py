"""Choosing a family's best configuration without reading the score it is then judged by.

Picking "the best deep model" by its mean test accuracy and then reporting that same test accuracy
flatters the family with the most configurations: the maximum of several noisy means is biased
upwards. Rows carry no validation score (only tuned models have `val_score`, for their own search),
so the choice is made across seeds instead, leave one seed out: for each seed s, the configuration
with the best mean over the *other* seeds is chosen, and its score at seed s is the family's score at
s. The score reported for a seed is therefore never one that was used to choose the model behind it;
different seeds may end up with different configurations (all named in `Pick.name`).

With a single seed there is nothing to hold out: the choice falls back to that seed's own score and
`Pick.on_test` says so (such comparisons are only indicative anyway: fewer than 3 paired seeds).
"""
from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field

import pandas as pd

from harness.claims.rows import cells_of
from harness.claims.verdict import RECORDER


@dataclass
class Pick:
    """Per seed, the configuration chosen on the other seeds."""
    keys: dict = field(default_factory=dict)   # seed -> key
    datasets: tuple = ()
    on_test: bool = False                      # one seed: chosen on the score it reports

    @property
    def name(self) -> str:
        """The configuration chosen, or 'a (2 seeds) / b (1 seed)' when seeds disagree."""
        counts = Counter(self.keys.values()).most_common()
        if len(counts) == 1:
            return counts[0][0]
        return " / ".join(f"{k} ({n} seed{'s' * (n != 1)})" for k, n in counts)

    @property
    def main(self) -> str:
        """The configuration chosen for most seeds (ties: by name)."""
        counts = Counter(self.keys.values())
        return min(counts, key=lambda k: (-counts[k], k))

    def scores(self, d: pd.DataFrame, column: str) -> pd.Series:
        """`column` per seed of the configuration chosen for that seed (duplicates averaged), labelled
        with its cells like rows.seed_scores, so a comparison knows whose budget bound."""
        values = {}
        for seed, key in self.keys.items():
            v = pd.to_numeric(d.loc[(d["key"] == key) & (d["seed"] == seed), column], errors="coerce").mean()
            if pd.notna(v):
                values[seed] = float(v)
        out = pd.Series(values, dtype=float).sort_index()
        out.index.name = "seed"
        out.attrs["cells"] = cells_of(d[d["dataset"].isin(self.datasets)], set(self.keys.values()))
        return out


def loso_pick(d: pd.DataFrame, family: str | None = None, metric: str = "accuracy",
              higher_is_better: bool = True) -> Pick | None:
    """Leave-one-seed-out choice among the configurations of `family` (all rows when None): for each
    seed, the key with the best mean `metric` over the other seeds, among keys scored at that seed."""
    m = d if family is None else d[d["family"] == family]
    table = m.assign(_v=pd.to_numeric(m[metric], errors="coerce")).groupby(["key", "seed"])["_v"].mean().dropna()
    if table.empty:
        return None
    table = table.unstack("seed")  # key x seed
    seeds = list(table.columns)
    keys, on_test = {}, len(seeds) == 1
    for s in seeds:
        here = table[s].dropna()
        if here.empty:
            continue
        others = table.loc[here.index, [t for t in seeds if t != s]] if not on_test else table.loc[here.index, [s]]
        means = others.mean(axis=1).dropna()
        if means.empty:  # no other seed scored these keys: fall back to the keys scored elsewhere at all
            continue
        best = means.max() if higher_is_better else means.min()
        keys[s] = min(means.index[means == best])
    if not keys:
        return None
    return Pick(keys, tuple(sorted(set(m["dataset"]))), on_test)


def loso_scores(d: pd.DataFrame, family: str | None = None, metric: str = "accuracy",
                higher_is_better: bool = True) -> tuple[Pick | None, pd.Series]:
    """loso_pick and the chosen configurations' `metric` per seed (empty when none)."""
    pick = loso_pick(d, family, metric, higher_is_better)
    return pick, (pick.scores(d, metric) if pick else pd.Series(dtype=float))


SELECTION_NOTE = ("Each family's best configuration is chosen leave one seed out: for each seed, the configuration "
                  "with the best mean over the other seeds, scored at that seed (harness/claims/rules/selection.py), "
                  "so no reported score chose its own model; with one seed the choice reads that seed's score.")


@contextmanager
def unrecorded():
    """Comparisons made inside are shown but not judged: they enter neither Holm's correction nor the
    budget check of the claim (judge reads both from the recorder, harness.claims.verdict.RECORDER)."""
    token = RECORDER.set(None)
    try:
        yield
    finally:
        RECORDER.reset(token)


def family_curves(d: pd.DataFrame, y: str, title: str, log_x: bool = True,
                  families: tuple = ("deep", "classical")) -> list:
    """One Curve of `y` against training size: per dataset and family, at each size the mean over seeds
    of `y` for the family's most accurate configuration there (chosen leave one seed out); rows of
    several rigs (rules that compare machines) give a line per rig. Plain floats."""
    from harness.claims.rows import rig_labels
    from harness.claims.verdict import Curve

    series = {}
    several = d["dataset"].nunique() > 1
    labels = rig_labels(d) if "rig" in d and d["rig"].nunique() > 1 else None
    for (dataset, *rig), g in d.groupby(["dataset", "rig"] if labels else ["dataset"], sort=False):
        for family in families:
            points = []
            for n, at_n in g.groupby("n_train"):
                pick = loso_pick(at_n, family)
                if pick is None:
                    continue
                v = pick.scores(at_n, y).mean()
                if pd.notna(v):
                    points.append((float(n), float(v)))
            if points:
                name = f"{dataset} · {family}" if several else family
                series[f"{name} · {labels[rig[0]]}" if labels else name] = points
    return [Curve("n_train", y, series, log_x=log_x, title=title)] if series else []
