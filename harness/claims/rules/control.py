"""A12: deep Q-learning against tabular and linear agents on the rl suite's environments: return
and environment steps to the reward threshold."""
from __future__ import annotations

import numpy as np
import pandas as pd

from harness.claims.registry import rule
from harness.claims.rows import best_key, diff_text, md_table, paired, scope_of, scored, seed_scores, times
from harness.claims.verdict import (CONTRADICTS, LARGE_LOG_RATIO, MIXED, SUPPORTS, TIE, Verdict, comparison,
                                    conjunction, overall, verdict)
from harness.core.display import fmt_count

RETURN_GAP = 0.1   # A12 with one seed: a return difference counts beyond a tenth of |reward threshold|
NEVER_FACTOR = 2   # A12: a seed that never reached the threshold counts as taking twice the budget


def control_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Finished agent cells (a mean return over evaluation episodes)."""
    return scored(rows, "mean_return")


def censored_steps(d: pd.DataFrame, key: str) -> pd.Series:
    """Steps to the reward threshold per seed, a seed that never reached it counted as NEVER_FACTOR x its
    budget (a lower bound of what it would have taken)."""
    g = d[d["key"] == key]
    steps = pd.to_numeric(g["steps_to_threshold"], errors="coerce")
    budget = pd.to_numeric(g["env_steps"], errors="coerce").fillna(pd.to_numeric(g["n_train"], errors="coerce"))
    return steps.where(np.isfinite(steps), NEVER_FACTOR * budget).groupby(g["seed"]).mean().dropna()


def reached(d: pd.DataFrame, key: str) -> str:
    g = d[d["key"] == key].drop_duplicates("seed")
    return f"{int(np.isfinite(pd.to_numeric(g['steps_to_threshold'], errors='coerce')).sum())}/{len(g)}"


def steps_text(v: pd.Series, budget: float) -> str:
    """Median steps to the threshold over seeds, or 'never' when no seed reached it."""
    if not len(v):
        return "–"
    m = v.median()
    return "never" if m >= NEVER_FACTOR * budget else fmt_count(m)


@rule
def deep_q_vs_tabular(rows: pd.DataFrame, entry: dict) -> Verdict:
    """A12: per environment, DQN against the best classical agent (tabular Q-learning, SARSA, tile-coded
    linear Q-learning): higher mean return of the evaluation episodes, and fewer environment steps to the
    reward threshold, each paired over seeds."""
    d = control_rows(rows)
    outcomes, lines, table = [], [], []
    for dataset, g in d.groupby("dataset", sort=False):
        deep = best_key(g[g["arch"] == "dqn"], "deep", "mean_return")
        classical = best_key(g, "classical", "mean_return")
        if deep is None or classical is None:
            continue
        threshold = pd.to_numeric(g["reward_threshold"], errors="coerce").max()
        gap = RETURN_GAP * abs(threshold) if np.isfinite(threshold) and threshold != 0 else RETURN_GAP
        ret = paired(seed_scores(g, deep, "mean_return"), seed_scores(g, classical, "mean_return"))
        parts = [comparison(ret, gap)]
        # Steps: against the classical agent that reached the threshold soonest (median over seeds,
        # never = NEVER_FACTOR x budget); judged only where some seed of either side reached it.
        budget = float(pd.to_numeric(g["env_steps"], errors="coerce").fillna(g["n_train"]).max())
        keys = [k for k in g.loc[g["family"] == "classical", "key"].unique()]
        fastest = min(keys, key=lambda k: (censored_steps(g, k).median(), -seed_scores(g, k, "mean_return").mean()))
        a, b = censored_steps(g, deep), censored_steps(g, fastest)
        steps = paired(a, b, log=True)
        any_reached = (a < NEVER_FACTOR * budget).any() or (b < NEVER_FACTOR * budget).any()
        if any_reached and steps.n:
            parts.append(comparison(steps, LARGE_LOG_RATIO, higher_is_better=False))
        result = conjunction(parts)
        outcomes.append(result)
        secs = paired(seed_scores(g, deep, "train_seconds"), seed_scores(g, classical, "train_seconds"), log=True)
        steps_cell = (f"{steps_text(a, budget)} vs {steps_text(b, budget)} ({times(steps)})" if any_reached
                      else "neither reached it")
        table.append([dataset, f"{threshold:g}", f"{deep} {seed_scores(g, deep, 'mean_return').mean():.3g} "
                      f"(solved {reached(g, deep)})", f"{classical} {seed_scores(g, classical, 'mean_return').mean():.3g} "
                      f"(solved {reached(g, classical)})", diff_text(ret, False, 2), f"{fastest}: {steps_cell}",
                      times(secs), {SUPPORTS: "supports", CONTRADICTS: "contradicts", MIXED: "mixed",
                                    TIE: "tie"}.get(result, "unknown")])
        lines.append(f"{dataset}: return dqn − {classical} {diff_text(ret, False, 2)}; steps to {threshold:g} "
                     + (f"dqn {steps_text(a, budget)} vs {fastest} {steps_text(b, budget)}" if any_reached
                        else "never reached by either"))
    if not outcomes:
        return verdict(entry, "inconclusive", "no environment has finished cells of dqn and of a classical agent",
                       scope=scope_of(rows))
    detail = (md_table(["environment", "threshold", "DQN return", "best classical return", "DQN − classical return",
                        "steps to threshold: DQN vs fastest classical (DQN / classical)", "train time DQN / classical",
                        "reading"], table)
              + "\n\nPer environment, paired over seeds, at the same budget of environment steps for every agent: "
              "DQN's mean return over the evaluation episodes against the classical agent with the highest one "
              f"(ahead beyond the noise; with one seed, by more than {RETURN_GAP:g} x |threshold|), and its "
              "environment steps to the reward threshold against the classical agent that reached it soonest (fewer "
              f"beyond the noise, as a log ratio; with one seed by more than 2x; a seed that never reached it counts "
              f"as {NEVER_FACTOR}x the budget; not judged where no seed of either reached it). An environment "
              "supports the claim when DQN is ahead on both (or on return where steps are not judged), contradicts "
              "it when it is behind on one and ahead on none, and is mixed when it is ahead on one and behind on "
              "or tied with the other. Training time is shown, not judged: A12 is about what an agent learns from "
              "its experience; T3 and D4 judge cost. The budgets and DQN settings are suites/dataset/*.yaml and "
              "suites/model/dqn.yaml (rl-baselines3-zoo's for cart-pole and acrobot).")
    return verdict(entry, overall(outcomes), "; ".join(lines), detail, scope_of(d))
