"""A12: whether deep Q-learning reaches each control task's reward threshold; tabular and linear agents
beside it for context (return, environment steps to the threshold)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from harness.claims.registry import rule
from harness.claims.rows import best_key, diff_text, md_table, paired, scope_of, scored, seed_scores
from harness.claims.rules.kinds import task_of
from harness.claims.rules.selection import unrecorded
from harness.claims.verdict import (CONTRADICTS, LEANS_CONTRADICT, LEANS_SUPPORT, MIXED, SUPPORTS, UNKNOWN, Verdict,
                                    overall, verdict)
from harness.core.display import fmt_count

NEVER_FACTOR = 2   # A12: a seed that never reached the threshold counts as taking twice the budget (shown)
MIN_SEEDS = 3      # A12: with fewer seeds an environment only leans, never decides


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


CONTROL_TASK = "control"   # real-valued states (cart-pole, acrobot); `tabular_control`: grid games


def dqn_reached(g: pd.DataFrame, key: str) -> pd.Series:
    """Per seed: did the agent's greedy evaluation reach the reward threshold (during training, `solved`,
    or at the end, mean return at least the threshold)?"""
    m = g[g["key"] == key]
    steps = pd.to_numeric(m["steps_to_threshold"], errors="coerce")
    ret = pd.to_numeric(m["mean_return"], errors="coerce")
    threshold = pd.to_numeric(m["reward_threshold"], errors="coerce")
    solved = m["solved"].fillna(False).astype(bool) if "solved" in m else pd.Series(False, m.index)
    hit = solved | np.isfinite(steps) | (ret >= threshold)
    return hit.groupby(m["seed"]).any()


def reach_outcome(hit: pd.Series) -> str:
    """An environment in A12's terms: supports when DQN reached the threshold on at least half its seeds,
    contradicts when on none, mixed in between; with fewer than 3 seeds only a lean."""
    share = hit.mean() if len(hit) else np.nan
    if not len(hit):
        return UNKNOWN
    if len(hit) < MIN_SEEDS:
        return LEANS_SUPPORT if share >= 0.5 else LEANS_CONTRADICT
    return SUPPORTS if share >= 0.5 else CONTRADICTS if share == 0 else MIXED


@rule
def deep_q_vs_tabular(rows: pd.DataFrame, entry: dict) -> Verdict:
    """A12: read as the article states it (deep networks *let* agents learn to control systems): per control
    task (real-valued states, `task: control` in the dataset config), whether DQN reaches the task's reward
    threshold, over seeds. The grid games (`tabular_control`: a finite set of states, where a table is the
    optimal representation) are reported, not judged; the classical agents beside DQN give context (return,
    steps to the threshold, wall time) and never decide."""
    d = control_rows(rows)
    outcomes, lines, table, grid = [], [], [], []
    for dataset, g in d.groupby("dataset", sort=False):
        deep = best_key(g[g["arch"] == "dqn"], "deep", "mean_return")
        if deep is None:
            continue
        control = task_of(dataset, g) == CONTROL_TASK
        threshold = pd.to_numeric(g["reward_threshold"], errors="coerce").max()
        budget = float(pd.to_numeric(g["env_steps"], errors="coerce").fillna(g["n_train"]).max())
        hit = dqn_reached(g, deep)
        steps = censored_steps(g, deep)
        ret = seed_scores(g, deep, "mean_return")
        classical = best_key(g, "classical", "mean_return")
        context = "–"
        if classical is not None:
            with unrecorded():  # context, not judged
                diff = paired(ret, seed_scores(g, classical, "mean_return"))
            context = (f"{classical} {seed_scores(g, classical, 'mean_return').mean():.3g} (reached "
                       f"{reached(g, classical)}); DQN − it {diff_text(diff, False, 2)}")
        result = reach_outcome(hit) if control else "not judged"
        if control:
            outcomes.append(result)
        text = (f"{dataset}: dqn reached {threshold:g} on {int(hit.sum())}/{len(hit)} seeds (mean return "
                f"{ret.mean():.3g}, steps {steps_text(steps, budget)} of {fmt_count(budget)})")
        (lines if control else grid).append(text)
        table.append([dataset, "control" if control else "grid game (not judged)", f"{threshold:g}", fmt_count(budget),
                      f"{deep} {ret.mean():.3g}", f"{int(hit.sum())}/{len(hit)}", steps_text(steps, budget), context,
                      result if not control else {SUPPORTS: "reaches it", CONTRADICTS: "never reaches it",
                                                  MIXED: "on some seeds", LEANS_SUPPORT: "leans: reaches it",
                                                  LEANS_CONTRADICT: "leans: does not"}.get(result, "unknown")])
    if not outcomes:
        return verdict(entry, "inconclusive", "no control task (real-valued states) has finished DQN cells"
                       + (f"; grid games, not judged: {'; '.join(grid)}" if grid else ""), scope=scope_of(rows))
    evidence = "; ".join(lines) + (f"; grid games (a table is optimal), not judged: {'; '.join(grid)}" if grid else "")
    detail = (md_table(["environment", "task", "threshold", "budget (env steps)", "DQN mean return",
                        "seeds that reached the threshold", "DQN steps to threshold (median)",
                        "best classical agent (context)", "reading"], table)
              + "\n\nAn existence claim: per control task (real-valued states), DQN reaches the environment's reward "
              "threshold when a greedy evaluation during training got there (`solved`, `steps_to_threshold`) or its "
              f"final mean return is at least the threshold. A task supports when DQN reaches it on at least half its "
              f"seeds, contradicts when on none, is mixed in between; with fewer than {MIN_SEEDS} seeds it only leans. "
              "The grid games (frozenlake, cliffwalking, taxi: a finite set of states, where a table is the optimal "
              "representation) are reported, not judged. The classical agents (tabular Q-learning, SARSA, tile-coded "
              "linear Q-learning) run beside DQN at the same budget for context: return, steps, wall time; they do not "
              "decide. Budgets and DQN settings: suites/dataset/*.yaml and suites/model/dqn.yaml "
              "(rl-baselines3-zoo's for cart-pole and acrobot).")
    return verdict(entry, overall(outcomes), evidence, detail, scope_of(d))
