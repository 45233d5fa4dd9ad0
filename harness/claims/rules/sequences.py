"""Sequence models: A3 (gated cells remember longer than a plain RNN), A5 (transformers rank near the
top and cost most as sequences grow) and A6 (Mamba matches them at a cost linear in length). Costs
against length come from the memory suite, which trains every model on every length."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.claims.registry import rule
from harness.claims.rules.descriptive import described
from harness.claims.rows import acc, at_top_size, md_table, ok, paired, pts, scope_of, seed_scores
from harness.claims.verdict import (CONTRADICTS, LARGE_GAP, MIXED, SUPPORTS, TIE, UNKNOWN, Verdict, combined, outcome,
                                    overall, verdict)
from harness.evaluation.readings import role, solved_share, with_lengths
from harness.evaluation.stats import average_ranks, nemenyi_cd


# ---------------------------------------------------------------- recurrent memory

RECURRENT, GATED = "rnn", ("lstm", "gru")
GRADIENT_GAP = 10.0  # A3: the RNN's early-step gradient counts as vanishing faster only 10x below a gated cell's
EXPONENT_GAP = 0.2   # A5, A6: one cost exponent is steeper than another only by more than this
LINEAR_EXPONENT = 1.2  # A6: a cost exponent up to this reads as linear in sequence length


def longest_solved(d: pd.DataFrame, arch: str) -> int:
    """Longest length solved on at least half the seeds; 0 when none was."""
    share = solved_share(d, arch)
    return int(share[share >= 0.5].index.max()) if (share >= 0.5).any() else 0


def gradient_ratios(d: pd.DataFrame, arch: str) -> pd.Series:
    """Geometric mean over seeds, per length, of the initial gradient ratio (first / last steps). A ratio
    of 0 is a gradient that underflowed float32 on its way back: it counts as float32's smallest normal."""
    mine = ok(d[d["arch"] == arch])
    mine = mine[mine["grad_ratio_init"] >= 0]
    ratio = mine["grad_ratio_init"].clip(lower=float(np.finfo(np.float32).tiny))
    return np.exp(np.log(ratio).groupby(mine["length"]).mean())


@rule
def recurrent_memory(rows: pd.DataFrame, entry: dict) -> Verdict:
    """A3: LSTM and GRU solve longer sequences than the plain RNN, whose early-step gradient vanishes faster."""
    rows = with_lengths(rows)
    outcomes, lines, detail = [], [], []
    for task, d in rows.groupby("task", sort=False):
        archs = set(d["arch"])
        gated = [g for g in GATED if g in archs]
        if RECURRENT not in archs or not gated:
            continue
        longest = {a: longest_solved(d, a) for a in sorted(archs, key=lambda a: (a != RECURRENT, a not in GATED, a))}
        versus = ["longer" if longest[g] > longest[RECURRENT] else "same" if longest[g] == longest[RECURRENT]
                  else "shorter" for g in gated]
        if not any(longest[a] for a in (RECURRENT, *gated)):
            solve = UNKNOWN  # nothing solved even the shortest length: the budget shows, not the cell
        elif all(longest[a] == d["length"].max() for a in (RECURRENT, *gated)):
            solve = UNKNOWN  # all solve the longest length run: the lengths never reached the RNN's limit
        elif all(v == "longer" for v in versus):
            solve = SUPPORTS
        elif all(v == "same" for v in versus):
            solve = TIE  # all fail from the same length on
        elif "longer" not in versus:
            solve = CONTRADICTS
        else:
            solve = MIXED
        ratios = {a: gradient_ratios(d, a) for a in longest}
        shared = set.intersection(*(set(ratios[a].index) for a in (RECURRENT, *gated)))
        grad, grad_text = UNKNOWN, "no initial gradient ratios"
        if shared:
            top = max(shared)
            r = {a: ratios[a][top] for a in (RECURRENT, *gated)}
            grad = (SUPPORTS if all(r[RECURRENT] * GRADIENT_GAP < r[g] for g in gated) else
                    CONTRADICTS if all(r[RECURRENT] >= r[g] for g in gated) else TIE)
            grad_text = f"initial gradient first/last at T={top}: " + ", ".join(f"{a} {v:.1e}" for a, v in r.items())
        # The gradient is the mechanism, solving the outcome: when they point opposite ways the task is mixed.
        result = MIXED if {solve, grad} == {SUPPORTS, CONTRADICTS} else solve
        outcomes.append(result)
        lengths = sorted(d["length"].unique())
        lines.append(f"{task}: longest solved " + ", ".join(f"{a} {L or 'none'}" for a, L in longest.items())
                     + f" (of T={', '.join(map(str, lengths))}); {grad_text}")
        score = "r2" if "r2" in d and d["r2"].notna().any() else "accuracy"
        table = []
        for L in lengths:
            cells = []
            for a in longest:
                at = ok(d[(d["arch"] == a) & (d["length"] == L)])
                share = solved_share(d, a).get(L)
                mark = "–" if share is None else "✓" if share >= 0.5 else "✗"
                value = at[score].mean() if len(at) else np.nan
                ratio = ratios[a].get(L, np.nan)
                cells.append(f"{mark} {score} {value:.3f}, g₀ {ratio:.1e}" if np.isfinite(value) else f"{mark} failed")
            table.append([L, *cells])
        detail.append(f"{task} (solved ✓ on at least half the seeds; g₀ = gradient norm reaching the first 10% of "
                      "the steps over that reaching the last 10%, at initialisation):\n\n"
                      + md_table(["T", *longest], table) + f"\n\nSolving: {solve}; gradient: {grad}.")
    if not outcomes:
        return verdict(entry, "inconclusive", "no task ran the plain RNN and a gated cell over lengths",
                       scope=scope_of(rows))
    detail.append(f"Per task: supports when LSTM and GRU both solve a longer length than the RNN; contradicts when "
                  "neither does and one solves less; a tie when all fail from the same length on; unknown when none of "
                  f"the three solves any or all solve the longest length run. The initial gradient ratio at the longest length supports when the RNN's is "
                  f"{GRADIENT_GAP:g}x below both gated cells'; a gradient reading opposite to the solving one makes "
                  "the task mixed.")
    return verdict(entry, overall(outcomes), "; ".join(lines), "\n\n".join(detail), scope_of(rows))


# ---------------------------------------------------------------- attention and state spaces

@dataclass
class CostExponent:
    arch: str
    time: float    # d log(seconds per training step) / d log(length)
    memory: float  # d log(peak memory) / d log(length)
    lengths: list[int]


def cost_exponents(rows: pd.DataFrame) -> dict[str, CostExponent]:
    """Log-log slopes of training time per step and of peak memory against sequence length per model, over
    the three longest lengths of its finished cells (the short ones measure per-step overhead, not the model)."""
    d = ok(with_lengths(rows))
    if "train_steps" not in d:  # no memory-suite rows (e.g. the text suite's alone): nothing measured per step
        return {}
    d = d[(d["train_steps"] > 0) & d["train_seconds"].notna()]
    out = {}
    for arch, g in d.groupby("arch"):
        per = g.assign(step_seconds=g["train_seconds"] / g["train_steps"]).groupby("length")[
            ["step_seconds", "peak_memory_mb"]].median()
        per = per[per.index.isin(sorted(per.index)[-3:])]
        if len(per) < 2:
            continue
        x = np.log(per.index.to_numpy(dtype=float))

        def slope(col):
            y = per[col].to_numpy(dtype=float)
            keep = np.isfinite(y) & (y > 0)
            return float(np.polyfit(x[keep], np.log(y[keep]), 1)[0]) if keep.sum() >= 2 else np.nan
        out[arch] = CostExponent(arch, slope("step_seconds"), slope("peak_memory_mb"), [int(L) for L in per.index])
    return out


def exponent_table(exps: dict[str, CostExponent]) -> str:
    return md_table(["model", "time per step ∝ T^", "peak memory ∝ T^", "lengths fitted"],
                    [[e.arch, f"{e.time:.2f}", f"{e.memory:.2f}", ", ".join(map(str, e.lengths))]
                     for e in sorted(exps.values(), key=lambda e: -e.time)])


def steepest(exps: dict[str, CostExponent], arch: str, attr: str) -> str:
    """SUPPORTS when `arch`'s exponent exceeds every other's by EXPONENT_GAP, CONTRADICTS when another's
    exceeds it by that much, else TIE."""
    mine = getattr(exps[arch], attr)
    others = [getattr(e, attr) for a, e in exps.items() if a != arch and np.isfinite(getattr(e, attr))]
    if not np.isfinite(mine) or not others:
        return UNKNOWN
    return SUPPORTS if mine > max(others) + EXPONENT_GAP else CONTRADICTS if max(others) > mine + EXPONENT_GAP else TIE


def accuracy_table(d: pd.DataFrame) -> pd.DataFrame:
    """Mean accuracy, datasets x configurations, at each dataset's largest training size."""
    d = pd.concat([at_top_size(g) for _, g in ok(d).groupby("dataset", sort=False)]) if len(ok(d)) else ok(d)
    return d.groupby(["dataset", "key"])["accuracy"].mean().unstack()


@rule
def transformer_rank_and_cost(rows: pd.DataFrame, entry: dict) -> Verdict:
    """A5: transformers rank near the top on sequence and text tasks without winning everywhere, and their
    cost grows fastest with sequence length."""
    outcomes, lines, detail = [], [], []
    for suite, d in rows[rows["suite"].isin(["sequence", "text"]) & rows["accuracy"].notna()].groupby("suite"):
        scores = accuracy_table(d)
        mine = [k for k in scores.columns if role(k) == "transformer"]
        if not mine or len(scores.columns) < 3:
            continue
        t = mine[0]
        scores = scores[scores[t].notna()]  # the datasets it ran on (a suite may run only baselines on some)
        if scores.empty:
            continue
        ranks = scores.rank(axis=1, ascending=False, method="average")
        mean_ranks = average_ranks(scores)
        complete = scores.dropna()
        cd = nemenyi_cd(len(scores.columns), len(complete))
        beaten = []  # datasets where the best model is ahead of the transformer beyond the noise
        for dataset, row in scores.iterrows():
            best = row.drop(t).idxmax()
            top = at_top_size(ok(d[d["dataset"] == dataset]))
            diff = paired(seed_scores(top, best, "accuracy"), seed_scores(top, t, "accuracy"))
            if outcome(diff) == "a":
                beaten.append(f"{dataset} ({best} {pts(diff)})")
        k = len(scores.columns)
        if cd is not None and t in mean_ranks:
            near_top = mean_ranks[t] - mean_ranks.iloc[0] <= cd
            rank_text = (f"mean rank {mean_ranks[t]:.1f} of {k} over {len(complete)} datasets (best "
                         f"{mean_ranks.index[0]} {mean_ranks.iloc[0]:.1f}, Nemenyi CD {cd:.1f})")
        else:  # one dataset: near the top means the top third of the models there
            near_top = bool((ranks[t] <= 1 + (k - 1) / 3).all())
            rank_text = f"rank {', '.join(f'{r:.0f}' for r in ranks[t])} of {k}"
        part = (CONTRADICTS if not near_top else SUPPORTS if beaten else MIXED)
        outcomes.append(part)
        lines.append(f"{suite}: {t} {rank_text}; beaten beyond the noise on {len(beaten)}/{len(scores)} datasets")
        detail.append(f"{suite}: accuracy by dataset (mean over seeds) and the transformer's rank among {k} models:\n\n"
                      + md_table(["dataset", f"{t} accuracy", "rank", "best model", "best accuracy"],
                                 [[ds, acc(scores.loc[ds, t]), f"{ranks.loc[ds, t]:.1f}", scores.loc[ds].idxmax(),
                                   acc(scores.loc[ds].max())] for ds in scores.index])
                      + f"\n\nNear the top: {'yes' if near_top else 'no'}; beaten on: {', '.join(beaten) or 'none'}.")
    exps = cost_exponents(rows[rows["suite"] == "memory"])
    transformers = [a for a in exps if role(a) == "transformer"]
    if transformers and len(exps) >= 2:
        t = transformers[0]
        cost = combined([steepest(exps, t, "time"), steepest(exps, t, "memory")])
        outcomes.append(cost)
        lines.append(f"cost: {t} time ∝ T^{exps[t].time:.2f}, memory ∝ T^{exps[t].memory:.2f} vs others' steepest "
                     f"T^{max(e.time for a, e in exps.items() if a != t):.2f} / "
                     f"T^{max(e.memory for a, e in exps.items() if a != t):.2f} ({cost})")
        detail.append("Cost against sequence length (memory suite, training on every length):\n\n" + exponent_table(exps))
    if not outcomes:
        return verdict(entry, "inconclusive", "no sequence or text dataset ran a transformer among 3 or more models, "
                       "and no memory-suite cost curve", scope=scope_of(rows))
    detail.append("Rank part, per suite: supports when the transformer is near the top (mean rank within the Nemenyi "
                  "critical difference of the best; with one dataset, in the top third) and another model is ahead "
                  "of it beyond the noise somewhere; mixed when it is never beaten; contradicts when it is not near "
                  f"the top. Cost part: supports when its time and memory exponents exceed every other model's by "
                  f"{EXPONENT_GAP}, contradicts when another's exceed its own by that much.")
    return verdict(entry, overall(outcomes), "; ".join(lines), "\n\n".join(detail), scope_of(ok(rows)))


def mamba_reproduction(data: pd.DataFrame, entry: dict) -> Verdict:
    """A6: Mamba matches transformer and LSTM accuracy while its cost grows linearly in length."""
    rows = data  # not named `rows`: a helper, not a registered rule
    outcomes, lines, table = [], [], []
    classified = rows[rows["suite"].isin(["sequence", "text"]) & rows["accuracy"].notna()]
    for (suite, dataset), d in ok(classified).groupby(["suite", "dataset"], sort=False):
        d = at_top_size(d)
        by_role = {}
        for key in d["key"].unique():
            r = role(key)
            if r and r not in by_role:
                by_role[r] = key
        if "mamba" not in by_role or len(by_role) < 2:
            continue
        m = seed_scores(d, by_role["mamba"], "accuracy")
        verdicts = []
        for other in ("transformer", "lstm"):
            if other in by_role:
                diff = paired(m, seed_scores(d, by_role[other], "accuracy"))
                behind = outcome(diff) == "b"  # one seed and a gap under 2 points counts as a match
                verdicts.append(CONTRADICTS if behind else SUPPORTS)
                table.append([suite, dataset, f"{by_role['mamba']} {acc(m.mean())}",
                              f"{by_role[other]} {acc(seed_scores(d, by_role[other], 'accuracy').mean())}",
                              pts(diff), "behind" if behind else "matches or ahead"])
        outcomes.append(combined(verdicts))
    matched = outcomes.count(SUPPORTS)
    if outcomes:
        lines.append(f"accuracy: mamba matches or beats both transformer and LSTM on {matched}/{len(outcomes)} datasets")
    exps = cost_exponents(rows[rows["suite"] == "memory"])
    mamba = next((a for a in exps if role(a) == "mamba"), None)
    transformer = next((a for a in exps if role(a) == "transformer"), None)
    if mamba:
        linear = [getattr(exps[mamba], k) <= LINEAR_EXPONENT for k in ("time", "memory")]
        below = ([getattr(exps[transformer], k) > getattr(exps[mamba], k) + EXPONENT_GAP for k in ("time", "memory")]
                 if transformer else [])
        scaling = SUPPORTS if all(linear) and below and all(below) else CONTRADICTS if not any(linear) else MIXED
        outcomes.append(scaling)
        lines.append(f"cost: mamba time ∝ T^{exps[mamba].time:.2f}, memory ∝ T^{exps[mamba].memory:.2f}"
                     + (f"; transformer T^{exps[transformer].time:.2f}, T^{exps[transformer].memory:.2f}"
                        if transformer else "") + f" ({scaling})")
    if not outcomes:
        return verdict(entry, "inconclusive", "no dataset ran Mamba beside a transformer or LSTM, and no memory-suite "
                       "cost curve for Mamba", scope=scope_of(rows))
    detail = ""
    if table:
        detail += md_table(["suite", "dataset", "mamba", "other", "mamba − other", "reading"], table) + "\n\n"
    if exps:
        detail += "Cost against sequence length (memory suite):\n\n" + exponent_table(exps) + "\n\n"
    detail += (f"Accuracy part, per dataset: supports when Mamba is not behind the transformer nor the LSTM beyond the "
               f"noise (with one seed, by more than {100 * LARGE_GAP:.0f} points). Cost part: supports when Mamba's "
               f"time and memory exponents are at most {LINEAR_EXPONENT} (linear) and the transformer's exceed them "
               f"by {EXPONENT_GAP}; contradicts when neither is linear.")
    return verdict(entry, overall(outcomes), "; ".join(lines), detail, scope_of(ok(rows)))


@rule
def mamba_scaling(rows: pd.DataFrame, entry: dict) -> Verdict:
    """A6: the article describes; a definitional verdict whose reproduction is mamba_reproduction's."""
    return described(entry, mamba_reproduction(rows, entry))
