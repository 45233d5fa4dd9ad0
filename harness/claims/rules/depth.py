"""Depth and separability: A9 (plain networks degrade with depth, residual and highway ones do not)
and A1 (a perceptron cannot learn XOR, an MLP can)."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from harness.claims.registry import rule
from harness.claims.rows import acc, md_table, ok, paired, pts, scope_of
from harness.claims.verdict import CONTRADICTS, LARGE_GAP, MIXED, SUPPORTS, UNKNOWN, Verdict, outcome, overall, verdict


# ---------------------------------------------------------------- depth

LOSS_RISE = 0.1             # nats of training loss: below this a deeper net still trained fine
PLAIN, RESIDUAL, HIGHWAY = "plain_net", "resnet", "highway_net"
ARCH_NAMES = {PLAIN: "plain", RESIDUAL: "residual", HIGHWAY: "highway"}


def depth_of(row) -> float:
    found = re.search(r"depth=(\d+)", f"{row.variant} {row.model}")
    return float(found.group(1)) if found else np.nan


def degradation(d: pd.DataFrame, arch: str, shallow: float, deep: float) -> list[str] | None:
    """Why `arch` got worse from depth `shallow` to `deep`: empty if it did not, None if unknown
    (no finished cells at one of the depths, for another reason than divergence)."""
    m = d[d["arch"] == arch]
    top, base = m[m["depth"] == deep], m[m["depth"] == shallow]
    reasons = []
    if (top["status"] == "diverged").any():
        reasons.append(f"diverged at depth {deep:.0f}")
    top, base = ok(top), ok(base)
    if not reasons and (top.empty or base.empty):
        return None
    accuracy = paired(top.groupby("seed")["accuracy"].mean(), base.groupby("seed")["accuracy"].mean())
    if outcome(accuracy) == "b":
        reasons.append(f"accuracy {pts(accuracy)}")
    loss = paired(top.groupby("seed")["final_train_loss"].mean().dropna(),
                  base.groupby("seed")["final_train_loss"].mean().dropna())
    if loss.n and loss.mean > LOSS_RISE and (loss.single_seed or loss.lo > 0):
        reasons.append(f"training loss {loss.mean:+.2f} nats")
    return reasons


@rule(reads_failed_cells=True)
def depth_degradation(rows: pd.DataFrame, entry: dict) -> Verdict:
    """A9: plain networks degrade with depth under a fixed budget, residual and highway ones do not."""
    rows = rows[rows["arch"].isin([PLAIN, RESIDUAL, HIGHWAY])]  # suite foundations holds other experiments too
    rows = rows.assign(depth=[depth_of(r) for r in rows[["variant", "model"]].itertuples()])
    outcomes, lines, detail = [], [], []
    several = rows["suite"].nunique() > 1
    for (suite, dataset), d in rows.groupby(["suite", "dataset"], sort=False):
        # Highway networks are judged where the suite ran them (suite=foundations; suite=depth has none).
        shortcuts = [RESIDUAL] + ([HIGHWAY] if (d["arch"] == HIGHWAY).any() else [])
        archs = [PLAIN, *shortcuts]
        depths = sorted(set.intersection(*(set(d.loc[d["arch"] == a, "depth"].dropna()) for a in archs)))
        if len(depths) < 2:
            continue
        shallow, deep = depths[0], depths[-1]
        found = {a: degradation(d, a, shallow, deep) for a in archs}
        if any(r is None for r in found.values()):
            outcomes.append(UNKNOWN)
        else:
            sound = all(not found[a] for a in shortcuts)
            outcomes.append(SUPPORTS if found[PLAIN] and sound else CONTRADICTS if not found[PLAIN] and sound
                            else MIXED)
        said = ", ".join(f"{ARCH_NAMES[a]} " + ("no finished cells to compare" if found[a] is None else
                                                 "; ".join(found[a]) or "no degradation") for a in archs)
        lines.append(f"{suite + ' ' if several else ''}{dataset} depth {shallow:.0f}→{deep:.0f}: {said}")
        by_depth = ok(d).groupby(["depth", "arch"]).agg(accuracy=("accuracy", "mean"), loss=("final_train_loss", "mean"))
        failed = d[d["status"] != "ok"].groupby(["depth", "arch"])["status"].agg(lambda s: ", ".join(sorted(set(s))))
        table = []
        for depth in sorted(d["depth"].dropna().unique()):
            cells = []
            for arch in archs:
                r = by_depth.loc[(depth, arch)] if (depth, arch) in by_depth.index else None
                cells += [acc(r.accuracy) if r is not None else "–",
                          f"{r.loss:.3f}" if r is not None and np.isfinite(r.loss) else "–",
                          failed.get((depth, arch), "")]
            table.append([f"{depth:.0f}", *cells])
        header = [h for a in archs for h in (f"{ARCH_NAMES[a]} accuracy", f"{ARCH_NAMES[a]} train loss",
                                             f"{ARCH_NAMES[a]} failed")]
        detail.append(f"{suite} · {dataset}:\n\n" + md_table(["depth", *header], table))
    if not outcomes:
        return verdict(entry, "inconclusive", "no dataset ran both plain_net and resnet (and highway_net, where "
                       "the suite has it) at two or more depths", scope=scope_of(rows))
    if len(set(outcomes)) > 1:
        value = "mixed"
    else:
        value = {SUPPORTS: "supported", CONTRADICTS: "contradicted", UNKNOWN: "inconclusive"}.get(outcomes[0], "mixed")
    detail.append(f"Depth counts blocks of two 3x3 convolutions (d blocks: 2d + 2 weight layers). Degradation: "
                  f"accuracy lower at the deepest depth than at the shallowest (interval, or over "
                  f"{100 * LARGE_GAP:.0f} points with one seed), final training loss higher by over {LOSS_RISE} nats, "
                  "or a diverged cell. Per suite and dataset: supports when the plain network degrades and no network "
                  "with shortcuts does (residual; highway too where the suite ran it), contradicts when none degrades; "
                  "anything else is mixed, among it a highway network that degrades while the residual one does not "
                  "(adding the input back made depth trainable under this budget, a learned gate did not) or the "
                  "reverse.")
    return verdict(entry, value, "; ".join(lines), "\n\n".join(detail), scope_of(rows))


# ---------------------------------------------------------------- XOR

LINEAR_CEILING = 0.75  # A1: the most of XOR a straight line gets right (3 of the 4 points)
XOR_SOLVED = 0.95      # A1: XOR counts as learned from here; on the four points only 100% does


def is_xor(dataset: str) -> bool:
    return str(dataset).split("[", 1)[0].startswith("xor")


def xor_seeds(g: pd.DataFrame, key: str) -> pd.Series:
    """Accuracy per seed of one configuration; a failed cell (error, timeout, diverged) scores 0."""
    mine = g[g["key"] == key]
    return mine["accuracy"].where(mine["status"] == "ok", 0.0).fillna(0.0).groupby(mine["seed"]).mean()


@rule
def xor_separability(rows: pd.DataFrame, entry: dict) -> Verdict:
    """A1: every perceptron stays at the linear ceiling on XOR; an MLP with a hidden layer learns it on
    every seed."""
    outcomes, lines, tables = [], [], []
    xor = rows[rows["dataset"].map(is_xor)]
    for dataset, g in xor.groupby("dataset", sort=False):
        perceptrons = sorted(k for k in g.loc[g["arch"].str.startswith("perceptron"), "key"].unique()
                             if ok(g[g["key"] == k]).size)
        mlps = sorted(g.loc[g["arch"] == "mlp", "key"].unique())
        if not perceptrons or not mlps:
            continue
        ceiling = LINEAR_CEILING + LARGE_GAP
        best = {k: ok(g[g["key"] == k]).groupby("seed")["accuracy"].mean().max() for k in perceptrons}
        solved = {k: xor_seeds(g, k) >= XOR_SOLVED for k in mlps}
        top = max(mlps, key=lambda k: (solved[k].mean(), -len(solved[k])))
        linear = SUPPORTS if all(b <= ceiling for b in best.values()) else CONTRADICTS
        learned = (SUPPORTS if solved[top].all() else MIXED if any(s.any() for s in solved.values()) else CONTRADICTS)
        outcomes.append(linear if linear == learned else MIXED)
        lines.append(f"{dataset}: " + ", ".join(f"{k} best {acc(b)}" for k, b in best.items()) + "; "
                     + ", ".join(f"{k} learned it on {int(solved[k].sum())}/{len(solved[k])} seeds" for k in mlps))
        table = []
        for k in [*perceptrons, *mlps]:
            scores = xor_seeds(g, k) if k in mlps else ok(g[g["key"] == k]).groupby("seed")["accuracy"].mean()
            table.append([k, len(scores), " ".join(f"{100 * a:.3g}" for a in scores), acc(scores.max()),
                          acc(scores.min()), f"{int((scores >= XOR_SOLVED).sum())}/{len(scores)}"])
        n_test = g["n_test"].max()
        tables.append(f"{dataset}{f' (test size {n_test:.0f})' if np.isfinite(n_test) else ''}:\n\n"
                      + md_table(["model", "seeds", "accuracy per seed (%)", "best", "worst", "seeds learned"], table))
    if not outcomes:
        return verdict(entry, "inconclusive", "no XOR dataset ran a perceptron and an MLP", scope=scope_of(xor))
    detail = "\n\n".join(tables) + (
        f"\n\nA seed learned XOR when its test accuracy is at least {100 * XOR_SOLVED:.0f}% (on the four points: "
        f"all four right); a failed cell counts as not learned. Per dataset: the linear half supports when every "
        f"perceptron's best seed stays at most {100 * LINEAR_CEILING:.0f}% ({100 * LARGE_GAP:.0f} points of sampling "
        "slack on a noisy test set; on the four points that is 3 of 4), the MLP half when its most reliable width "
        "learns XOR on every seed (mixed when only some seeds of the MLPs learn it). Supported when both halves "
        "support everywhere; contradicted when both contradict; mixed otherwise.")
    return verdict(entry, overall(outcomes), "; ".join(lines), detail, scope_of(xor))
