"""Best deep against best classical: D1 (accuracy at full data), T2 (the winner each domain expects)
and T4 (hand-made features against raw input)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.claims.registry import rule
from harness.claims.rows import (acc, at_top_size, best_key, diff_text, md_table, missing_suites, ok, paired, pts,
                                 scope_of, seed_scores)
from harness.claims.verdict import (CONTRADICTS, LARGE_GAP, SUPPORTS, TIE, UNKNOWN, Verdict, combined, outcome,
                                    overall, verdict)
from harness.evaluation.stats import PairedDifference


# ---------------------------------------------------------------- best of each family

@dataclass
class Duel:
    suite: str
    dataset: str
    n_train: int
    deep: str
    classical: str
    deep_accuracy: float     # the dataset's score: accuracy, or R^2 on a regression dataset (`metric`)
    classical_accuracy: float
    diff: PairedDifference  # deep - classical
    winner: str             # 'deep', 'classical', 'tie' or 'unknown'
    metric: str = "accuracy"


def score_column(d: pd.DataFrame) -> str:
    """What ranks models on a dataset: accuracy, or R^2 where the rows are a regression's (no accuracy).
    Both are higher-is-better on a scale of 1, so the one-seed threshold of 2 points serves both."""
    if "accuracy" in d and d["accuracy"].notna().any():
        return "accuracy"
    return "r2" if "r2" in d and pd.to_numeric(d["r2"], errors="coerce").notna().any() else "accuracy"


def score_text(x: float, metric: str) -> str:
    if metric == "accuracy":
        return acc(x)
    return "–" if x is None or not np.isfinite(x) else f"R² {x:.3f}"


def gap_text_of(diff: PairedDifference, metric: str) -> str:
    return pts(diff) if metric == "accuracy" else "R² " + diff_text(diff, log=False)


def family_duels(rows: pd.DataFrame) -> list[Duel]:
    """Best deep vs best classical (by mean accuracy, or R^2 on a regression dataset) per dataset at
    the largest shared size."""
    duels = []
    for (suite, dataset), d in ok(rows).groupby(["suite", "dataset"], sort=False):
        d = at_top_size(d)
        metric = score_column(d)
        deep, classical = best_key(d, "deep", metric), best_key(d, "classical", metric)
        if deep is None or classical is None:
            continue
        a, b = seed_scores(d, deep, metric), seed_scores(d, classical, metric)
        diff = paired(a, b)
        winner = {"a": "deep", "b": "classical"}.get(outcome(diff), outcome(diff))
        duels.append(Duel(suite, dataset, int(d["n_train"].iloc[0]), deep, classical, a.mean(), b.mean(), diff, winner,
                          metric))
    return duels


def duel_table(duels: list[Duel]) -> str:
    return md_table(["suite", "dataset", "n_train", "best deep", "best classical", "deep − classical", "test", "winner"],
                    [[d.suite, d.dataset, d.n_train, f"{d.deep} {score_text(d.deep_accuracy, d.metric)}",
                      f"{d.classical} {score_text(d.classical_accuracy, d.metric)}", gap_text_of(d.diff, d.metric),
                      f"{d.diff.test} p={d.diff.p_value:.3g}" if np.isfinite(d.diff.p_value) else d.diff.test,
                      d.winner] for d in duels])


def duel_line(d: Duel) -> str:
    return (f"{d.dataset}: {d.deep} {score_text(d.deep_accuracy, d.metric)} vs {d.classical} "
            f"{score_text(d.classical_accuracy, d.metric)} ({gap_text_of(d.diff, d.metric)})")


@rule
def best_deep_vs_best_classical(rows: pd.DataFrame, entry: dict) -> Verdict:
    """D1: at full data the best deep model beats the best classical one, dataset by dataset."""
    duels = family_duels(rows)
    if not duels:
        return verdict(entry, "inconclusive", "no dataset has finished cells of both families", scope=scope_of(rows))
    outcomes = [{"deep": SUPPORTS, "classical": CONTRADICTS}.get(d.winner, d.winner) for d in duels]
    missing = missing_suites(rows, entry)
    note = f"Suites not run: {', '.join(missing)}." if missing else ""
    return verdict(entry, overall(outcomes), "; ".join(map(duel_line, duels)),
                   duel_table(duels) + "\n\nA tie inside the noise counts as no difference. Regression datasets "
                   "are scored by test R² (the same 2-point threshold with one seed).",
                   scope_of(ok(rows), note))


@rule
def domain_winners(rows: pd.DataFrame, entry: dict) -> Verdict:
    """T2: the family that wins each suite should be the one the claim expects there."""
    expect = entry["expect"]
    duels = [d for d in family_duels(rows) if d.suite in expect]
    if not duels:
        return verdict(entry, "inconclusive", "no dataset has finished cells of both families", scope=scope_of(rows))
    outcomes = [SUPPORTS if d.winner == expect[d.suite] else d.winner if d.winner in (TIE, UNKNOWN) else CONTRADICTS
                for d in duels]
    value = overall(outcomes)
    missing = missing_suites(rows, entry)
    evidence = "; ".join(f"{d.suite}/{duel_line(d)}" for d in duels)
    if missing:
        if value == "supported":  # only part of a two-sided claim was tested
            value = "mixed"
        evidence = f"{', '.join(sorted({d.suite for d in duels}))} only ({', '.join(missing)} not run): " + evidence
    detail = (duel_table(duels) + "\n\nRegression datasets (tables) are scored by test R². Expected winner per suite: "
              + ", ".join(f"{s} → {f}" for s, f in expect.items())
              + (f". Not run: {', '.join(f'`bench run suite={s}`' for s in missing)}." if missing else "."))
    return verdict(entry, value, evidence, detail, scope_of(ok(rows[rows["suite"].isin(expect)]),
                                                            f"Partial: {', '.join(missing)} not run." if missing else ""))


# ---------------------------------------------------------------- learned against hand-made features

@rule
def features_raw_vs_crafted(rows: pd.DataFrame, entry: dict) -> Verdict:
    """T4: hand-made features lift a classical model above the same kind on raw input, and a deep model on
    raw input matches the hand-made pipeline."""
    outcomes, lines, table, without = [], [], [], []
    for (suite, dataset), d in ok(rows).groupby(["suite", "dataset"], sort=False):
        d = at_top_size(d)
        crafted = best_key(d[(d["family"] == "classical") & (d["features"] == "crafted")], "classical")
        if crafted is None:
            without.append(f"{suite}/{dataset}")
            continue
        raw = best_key(d[(d["family"] == "classical") & (d["features"] != "crafted")], "classical")
        deep = best_key(d, "deep")
        c = seed_scores(d, crafted, "accuracy")
        parts = []
        helps = paired(c, seed_scores(d, raw, "accuracy")) if raw else None
        if helps is not None:
            o = outcome(helps)
            parts.append(SUPPORTS if o == "a" else CONTRADICTS if o == "b" else TIE)
        learns = paired(seed_scores(d, deep, "accuracy"), c) if deep else None
        if learns is not None:  # a deep model within the noise of the hand-made pipeline matches it
            parts.append(CONTRADICTS if outcome(learns) == "b" else SUPPORTS)
        if not parts:
            continue
        result = combined(parts)
        outcomes.append(result)
        lines.append(f"{dataset}: crafted {crafted} {acc(c.mean())}"
                     + (f" vs raw {raw} ({pts(helps)})" if raw else " (no raw classical model)")
                     + (f", deep {deep} ({pts(learns)})" if deep else ""))
        table.append([suite, dataset, f"{crafted} {acc(c.mean())}",
                      f"{raw} {acc(seed_scores(d, raw, 'accuracy').mean())}" if raw else "–",
                      pts(helps) if helps is not None else "–",
                      f"{deep} {acc(seed_scores(d, deep, 'accuracy').mean())}" if deep else "–",
                      pts(learns) if learns is not None else "–", result])
    if not outcomes:
        return verdict(entry, "inconclusive", "no dataset ran a classical model on hand-made features (features: "
                       "crafted) beside other models", scope=scope_of(rows))
    detail = (md_table(["suite", "dataset", "best crafted-feature classical", "best raw-input classical",
                        "crafted − raw", "best deep (raw input)", "deep − crafted", "outcome"], table)
              + "\n\nPer dataset: the features part supports when the crafted pipeline beats the raw-input classical "
              "model beyond the noise; the learning part supports when the deep model is not behind the crafted "
              f"pipeline beyond the noise (with one seed, {100 * LARGE_GAP:.0f} points). A model's `features: crafted` "
              "in its config marks a hand-made representation (TF-IDF n-grams, MiniRocket kernels). Not measured: a "
              "linear model on a deep model's learned features."
              + (f" No crafted-feature model ran on: {', '.join(without)}." if without else ""))
    return verdict(entry, overall(outcomes), "; ".join(lines), detail, scope_of(ok(rows)))
