"""Best deep against best classical: D1 (accuracy at full data), T2 (the winner each domain expects)
and T4 (hand-made features against raw input)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.claims.registry import rule
from harness.claims.rows import acc, at_top_size, diff_text, md_table, missing_suites, ok, paired, pts, scope_of
from harness.claims.rules.selection import SELECTION_NOTE, loso_scores, unrecorded
from harness.claims.verdict import (CONTRADICTS, LEANS_CONTRADICT, LEANS_SUPPORT, SUPPORTS, UNKNOWN, Curve, Verdict,
                                    as_outcome, combined, outcome, overall, verdict)
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
    winner: str             # 'deep', 'classical', 'tie', 'unknown' or a lean ('leans-a': deep, 'leans-b')
    metric: str = "accuracy"
    side: str = ""          # outcome(diff): 'a', 'b', 'tie', 'unknown', 'leans-a', 'leans-b'


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
    """Best deep vs best classical (by accuracy, or R^2 on a regression dataset) per dataset at the
    largest shared size, each family's best chosen leave one seed out (rules/selection.py)."""
    duels = []
    for (suite, dataset), d in ok(rows).groupby(["suite", "dataset"], sort=False):
        d = at_top_size(d)
        metric = score_column(d)
        (deep, a), (classical, b) = loso_scores(d, "deep", metric), loso_scores(d, "classical", metric)
        if deep is None or classical is None or a.empty or b.empty:
            continue
        diff = paired(a, b)
        side = outcome(diff)
        winner = {"a": "deep", "b": "classical"}.get(side, side)
        duels.append(Duel(suite, dataset, int(d["n_train"].iloc[0]), deep.name, classical.name, a.mean(), b.mean(),
                          diff, winner, metric, side))
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


# D1 is about the domains the article names: image recognition and language.
NAMED_DOMAINS = {"vision": "image recognition", "text": "language"}


def reaches_best(d: Duel) -> str:
    """D1, an existence claim: deep reaches the best figure when it wins or ties inside the noise."""
    return {"a": SUPPORTS, "tie": SUPPORTS, "b": CONTRADICTS, "leans-a": LEANS_SUPPORT,
            "leans-b": LEANS_CONTRADICT}.get(d.side, UNKNOWN)


def duel_curves(duels: list[Duel], title: str) -> list[Curve]:
    """Best deep and best classical score per dataset (x: the dataset's position, in the order shown)."""
    if not duels:
        return []
    return [Curve("dataset", duels[0].metric, {"best deep": [(float(i), float(d.deep_accuracy)) for i, d in enumerate(duels)],
                                               "best classical": [(float(i), float(d.classical_accuracy))
                                                                  for i, d in enumerate(duels)]},
                  title=title + ": " + ", ".join(f"{i}={d.dataset}" for i, d in enumerate(duels)))]


@rule
def best_deep_vs_best_classical(rows: pd.DataFrame, entry: dict) -> Verdict:
    """D1: read as the article states it: deep learning *can* reach the best accuracy in image recognition
    and language. Per image and text dataset whose training set reaches the claim's scale (the regime's
    `min_train`: benchmark state of the art is a claim about plentiful data): the best deep model reaches
    the best figure when it wins or ties the best classical one inside the noise (paired over seeds, each
    family's best chosen leave one seed out). Smaller image and text datasets, and the other suites, are
    reported, not judged; when no image or text dataset reaches the scale, the verdict is out-of-regime,
    saying what the smaller ones would read."""
    floor = int((entry.get("regime") or {}).get("min_train") or 0)
    named = rows["suite"].isin(NAMED_DOMAINS)
    largest = pd.to_numeric(rows["n_train"], errors="coerce").where(rows["status"] == "ok").groupby(
        [rows["suite"], rows["dataset"]]).transform("max")
    at_scale = named & (largest >= floor)
    small = named & ~at_scale
    judged = family_duels(rows[at_scale])
    with unrecorded():  # reported beside, never counted
        below = family_duels(rows[small])
        other = family_duels(rows[~named])
    duels = judged + below + other
    if not judged and below:  # what the small ones say, stated as below the claim's scale
        value = overall([reaches_best(d) for d in below])
        top = max(d.n_train for d in below)
        v = verdict(entry, "out-of-regime",
                    f"would read {value} inside the data run, but below the claim's scale: largest image/text "
                    f"training set {top:,} < {floor:,}; " + "; ".join(f"{d.suite}/{duel_line(d)}" for d in below),
                    f"Below the claim's scale (training sets under {floor:,}), not judged:\n\n" + duel_table(below)
                    + ("\n\nOther domains, not judged:\n\n" + duel_table(other) if other else ""),
                    scope_of(ok(rows[named])), curves=duel_curves(duels, "best score per family"))
        v.rule_verdict = value
        return v
    if not judged:
        shown = ("; other domains (not judged): " + "; ".join(f"{d.suite}/{duel_line(d)}" for d in other)) if other else ""
        return verdict(entry, "inconclusive", "no image or text dataset has finished cells of both families" + shown,
                       duel_table(other) if other else "", scope=scope_of(ok(rows)))
    outcomes = [reaches_best(d) for d in judged]
    reached = sum(o == SUPPORTS for o in outcomes)
    leans = sum(o == LEANS_SUPPORT for o in outcomes)
    evidence = (f"best deep reaches the best figure on {reached}/{len(judged)} image/text datasets"
                + (f" (ahead on {leans} more, with too few seeds to decide)" if leans else "") + ": "
                + "; ".join(f"{d.suite}/{duel_line(d)}" for d in judged))
    if below:
        evidence += (f"; below the claim's scale (n < {floor:,}), not judged: "
                     + "; ".join(f"{d.suite}/{d.dataset} {d.winner}" for d in below))
    if other:
        evidence += "; not judged (other domains): " + "; ".join(f"{d.suite}/{d.dataset} {d.winner}" for d in other)
    missing = [s for s in missing_suites(rows, entry) if s in NAMED_DOMAINS]
    note = f"Suites not run: {', '.join(missing)}." if missing else ""
    detail = ("Judged (image recognition, language):\n\n" + duel_table(judged)
              + (f"\n\nBelow the claim's scale (training sets under {floor:,}), not judged:\n\n" + duel_table(below)
                 if below else "")
              + ("\n\nReported, not judged (the article names image recognition and language):\n\n" + duel_table(other)
                 if other else "")
              + "\n\nAn existence claim: a dataset supports when the best deep model wins or ties the best classical "
              "one inside the noise (a tie reaches the best figure), contradicts when the classical one is ahead "
              "beyond it. Regression datasets are scored by test R². " + SELECTION_NOTE)
    return verdict(entry, overall(outcomes), evidence, detail,
                   scope_of(ok(rows[at_scale]), note),
                   curves=duel_curves(duels, "best score per family"))


@rule
def domain_winners(rows: pd.DataFrame, entry: dict) -> Verdict:
    """T2: the family that wins each suite should be the one the claim expects there."""
    expect = entry["expect"]
    duels = [d for d in family_duels(rows) if d.suite in expect]
    if not duels:
        return verdict(entry, "inconclusive", "no dataset has finished cells of both families", scope=scope_of(rows))
    outcomes = [winner_outcome(d, expect[d.suite]) for d in duels]
    value = overall(outcomes)
    missing = missing_suites(rows, entry)
    evidence = "; ".join(f"{d.suite}/{duel_line(d)}" for d in duels)
    if missing:
        if value == "supported":  # only part of a two-sided claim was tested
            value = "mixed"
        evidence = f"{', '.join(sorted({d.suite for d in duels}))} only ({', '.join(missing)} not run): " + evidence
    detail = (duel_table(duels) + "\n\nRegression datasets (tables) are scored by test R². Expected winner per suite: "
              + ", ".join(f"{s} → {f}" for s, f in expect.items())
              + (f". Not run: {', '.join(f'`bench run suite={s}`' for s in missing)}." if missing else ".")
              + " " + SELECTION_NOTE)
    return verdict(entry, value, evidence, detail, scope_of(ok(rows[rows["suite"].isin(expect)]),
                                                            f"Partial: {', '.join(missing)} not run." if missing else ""),
                   curves=duel_curves(duels, "best score per family"))


def winner_outcome(d: Duel, expected: str) -> str:
    """A duel in T2's terms: the expected family ahead supports, the other contradicts (leans likewise)."""
    better = "a" if expected == "deep" else "b"
    return as_outcome(d.side, better) if d.side else UNKNOWN


# T9: the use cases the article names, and the suite standing for each (None: no suite measures it).
USE_CASES = {"image recognition": ("vision", "deep"), "language (NLP)": ("text", "deep"),
             "speech recognition": (None, "deep"), "spam filtering": (None, "classical"),
             "recommendation": (None, "classical")}


@rule
def use_case_winners(rows: pd.DataFrame, entry: dict) -> Verdict:
    """T9: per use case the article names, whether the family it assigns wins the suite standing for it
    (image recognition: vision, language: text; both deep). The winners of the other suites run are
    reported, not judged (the article names no use case for them); spam filtering, recommendation and
    speech recognition have no suite: reported as not-run inside the evidence."""
    judged_suites = {suite: family for suite, family in USE_CASES.values() if suite}
    named = rows["suite"].isin(judged_suites)
    judged = family_duels(rows[named])
    with unrecorded():  # reported beside, never counted
        other = family_duels(rows[~named])
    outcomes = [winner_outcome(d, judged_suites[d.suite]) for d in judged]
    per_case, not_run_cases = [], []
    for case, (suite, family) in USE_CASES.items():
        mine = [d for d in judged if d.suite == suite] if suite else []
        if not suite or not mine:
            not_run_cases.append(f"{case} ({'no suite measures it' if not suite else f'suite {suite} not run'}; "
                                 f"the article gives it to {family} learning)")
            continue
        wins = ", ".join(f"{d.dataset} {d.winner}" for d in mine)
        per_case.append(f"{case} → {family} expected ({suite}: {wins})")
    evidence = "; ".join(per_case) or "no suite standing for a named use case ran"
    if not_run_cases:
        evidence += "; not-run: " + "; ".join(not_run_cases)
    if other:
        by_suite = {}
        for d in other:
            by_suite.setdefault(d.suite, []).append(f"{d.dataset} {d.winner}")
        evidence += "; other suites (no use case named, not judged): " + "; ".join(
            f"{s}: {', '.join(w)}" for s, w in by_suite.items())
    if not judged:
        return verdict(entry, "not-run" if not ok(rows[named]).size else "inconclusive", evidence,
                       duel_table(other) if other else "", scope=scope_of(ok(rows)))
    detail = ("Judged (the article's use cases with a suite):\n\n" + duel_table(judged)
              + ("\n\nOther suites, winners reported, not judged:\n\n" + duel_table(other) if other else "")
              + "\n\nUse cases and the family the article gives them: "
              + "; ".join(f"{c}: {f} ({'suite ' + s if s else 'no suite: not run'})" for c, (s, f) in USE_CASES.items())
              + ". A dataset supports when the named family wins beyond the noise, contradicts when the other does. "
              + SELECTION_NOTE)
    return verdict(entry, overall(outcomes), evidence, detail, scope_of(ok(rows[named])),
                   curves=duel_curves(judged + other, "best score per family"))


# ---------------------------------------------------------------- learned against hand-made features

@rule
def features_raw_vs_crafted(rows: pd.DataFrame, entry: dict) -> Verdict:
    """T4: hand-made features lift a classical model above the same kind on raw input (the features
    part), and a deep model on raw input matches the hand-made pipeline (the learning part).

    The features part needs a classical model on raw input beside the crafted one; where a dataset has
    none (text: every classical model there reads TF-IDF), that part is untestable: said so, never
    counted. Datasets with all three sides are judged on both parts; the others on the learning part
    alone. When no dataset has all three sides the verdict is out-of-regime: the data run lacks the
    setting the claim contrasts (its regime), which is not the same as a comparison that was run and
    could not be decided (inconclusive)."""
    outcomes, lines, table, without, untestable = [], [], [], [], []
    for (suite, dataset), d in ok(rows).groupby(["suite", "dataset"], sort=False):
        d = at_top_size(d)
        classical = d[d["family"] == "classical"]
        crafted, c = loso_scores(classical[classical["features"] == "crafted"], "classical")
        if crafted is None or c.empty:
            without.append(f"{suite}/{dataset}")
            continue
        raw, r = loso_scores(classical[classical["features"] != "crafted"], "classical")
        deep, dd = loso_scores(d, "deep")
        parts = []
        helps = paired(c, r) if raw is not None and not r.empty else None
        if helps is not None:
            parts.append(as_outcome(outcome(helps), "a"))
        else:
            untestable.append(f"{suite}/{dataset}")
        learns = paired(dd, c) if deep is not None and not dd.empty else None
        if learns is not None:  # a deep model within the noise of the hand-made pipeline (or ahead) matches it
            side = outcome(learns)
            parts.append({"b": CONTRADICTS, "leans-b": LEANS_CONTRADICT, UNKNOWN: UNKNOWN,
                          "leans-a": LEANS_SUPPORT}.get(side, SUPPORTS))
        if not parts:
            continue
        result = combined(parts) if len(parts) > 1 else parts[0]
        outcomes.append((helps is not None and learns is not None, result))
        lines.append(f"{dataset}: crafted {crafted.name} {acc(c.mean())}"
                     + (f" vs raw {raw.name} ({pts(helps)})" if helps is not None
                        else " (features part untestable: no raw-input classical model)")
                     + (f", deep {deep.name} ({pts(learns)})" if learns is not None else ""))
        table.append([suite, dataset, f"{crafted.name} {acc(c.mean())}",
                      f"{raw.name} {acc(r.mean())}" if helps is not None else "– (untestable)",
                      pts(helps) if helps is not None else "–",
                      f"{deep.name} {acc(dd.mean())}" if learns is not None else "–",
                      pts(learns) if learns is not None else "–", result])
    if not outcomes:
        return verdict(entry, "inconclusive", "no dataset ran a classical model on hand-made features (features: "
                       "crafted) beside other models", scope=scope_of(rows))
    detail = (md_table(["suite", "dataset", "best crafted-feature classical", "best raw-input classical",
                        "crafted − raw", "best deep (raw input)", "deep − crafted", "outcome"], table)
              + "\n\nPer dataset: the features part supports when the crafted pipeline beats the raw-input classical "
              "model beyond the noise; the learning part supports when the deep model is not behind the crafted "
              "pipeline beyond the noise. Where no classical model ran on raw input the features part is untestable "
              "and not counted. A model's `features: crafted` in its config marks a hand-made representation (TF-IDF "
              "n-grams, MiniRocket kernels). Not measured: a linear model on a deep model's learned features. "
              + SELECTION_NOTE
              + (f" No crafted-feature model ran on: {', '.join(without)}." if without else "")
              + (f" Features part untestable (no raw-input classical model) on: {', '.join(untestable)}."
                 if untestable else ""))
    evidence = "; ".join(lines)
    if not any(full for full, _ in outcomes):
        partial = overall([o for _, o in outcomes])
        return verdict(entry, "out-of-regime", "no dataset has all three sides (classical on raw input, classical on "
                       f"hand-made features, deep on raw input), so the features part is untestable; the learning part "
                       f"alone reads {partial}: {evidence}", detail, scope_of(ok(rows)))
    return verdict(entry, overall([o for _, o in outcomes]), evidence, detail, scope_of(ok(rows)))
