"""Depth and separability: A9 (plain networks degrade with depth, residual and highway ones do not)
and A1 (a perceptron cannot learn XOR, an MLP can)."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from harness.claims.registry import rule
from harness.claims.rows import acc, md_table, ok, paired, pts, scope_of
from harness.claims.verdict import (CONTRADICTS, LARGE_GAP, MIXED, SUPPORTS, TIE, UNKNOWN, Verdict, outcome, overall,
                                    verdict)


# ---------------------------------------------------------------- depth

LOSS_RISE = 0.1             # nats of training loss: below this a deeper net still trained fine
PLAIN, RESIDUAL, HIGHWAY = "plain_net", "resnet", "highway_net"
ARCH_NAMES = {PLAIN: "plain", RESIDUAL: "residual", HIGHWAY: "highway"}


def depth_of(row) -> float:
    found = re.search(r"depth=(\d+)", f"{row.variant} {row.model}")
    return float(found.group(1)) if found else np.nan


DEGRADED, FINE, UNDECIDED = "degraded", "fine", "undecided"


def reference_depths(m: pd.DataFrame, deep: float) -> dict:
    """Per seed, the shallower depth the network trained best at on the other seeds (lowest mean final
    training loss, leave one seed out: no seed's comparison chose its own reference; with one seed, its
    own). The degradation problem (He et al., 2016) is a deeper plain network training worse than a
    shallower one: not only the shallowest, which may simply be too small (one block underfits)."""
    done = ok(m[m["depth"] < deep])
    table = done.groupby(["depth", "seed"])["final_train_loss"].mean().unstack("seed")
    shallowest = done["depth"].min()
    refs = {}
    for s in sorted(done["seed"].unique()):
        here = table[s].dropna() if s in table else pd.Series(dtype=float)
        others = table.loc[here.index, [t for t in table.columns if t != s]].mean(axis=1).dropna()
        means = others if len(others) else here
        refs[s] = float(means.idxmin()) if len(means) else float(shallowest)
    return refs


def degradation(d: pd.DataFrame, arch: str, deep: float) -> tuple[str, list[str], str] | None:
    """Whether `arch` got worse from the shallower depth it trains best at (`reference_depths`) to `deep`:
    (DEGRADED with why, FINE, or UNDECIDED with the intervals, and the reference depths as text); None
    when unknown (no finished cells at one of the depths, for another reason than divergence). FINE needs
    accuracy level or better inside the noise and a training-loss rise decidedly under LOSS_RISE."""
    m = d[d["arch"] == arch]
    top = m[m["depth"] == deep]
    refs = reference_depths(m, deep)
    ref_text = "/".join(f"{r:.0f}" for r in sorted(set(refs.values())))
    if (top["status"] == "diverged").any():
        return DEGRADED, [f"diverged at depth {deep:.0f}"], ref_text
    top = ok(top)
    if top.empty or not refs:
        return None

    def at_reference(column: str) -> pd.Series:
        return pd.Series({s: ok(m[(m["depth"] == r) & (m["seed"] == s)])[column].mean() for s, r in refs.items()},
                         dtype=float).dropna()

    accuracy = paired(top.groupby("seed")["accuracy"].mean(), at_reference("accuracy"))
    loss = paired(top.groupby("seed")["final_train_loss"].mean().dropna(), at_reference("final_train_loss"))
    if accuracy.n == 0 and loss.n == 0:
        return None
    side = outcome(accuracy) if accuracy.n else UNKNOWN
    reasons = [f"accuracy {pts(accuracy)}"] if side == "b" else []
    if loss.n and loss.mean > LOSS_RISE and (loss.single_seed or loss.lo > 0):
        reasons.append(f"training loss {loss.mean:+.2f} nats")
    if reasons:
        return DEGRADED, reasons, ref_text
    loss_fine = loss.n == 0 or (loss.mean <= LOSS_RISE if loss.single_seed else loss.hi < LOSS_RISE)
    accuracy_fine = side in ("a", TIE, "leans-a") or (accuracy.single_seed and side == UNKNOWN)
    if loss_fine and accuracy_fine:
        return FINE, [], ref_text
    loss_text = (f"training loss {loss.mean:+.2f} nats" + ("" if loss.single_seed else f" [{loss.lo:+.2f}, {loss.hi:+.2f}]")
                 if loss.n else "")
    return UNDECIDED, [t for t in (loss_text, f"accuracy {pts(accuracy)}" if accuracy.n else "") if t], ref_text


def depth_outcome(found: dict) -> str:
    """A dataset's outcome from each network's state: a network with shortcuts that degraded makes it mixed
    (whatever the plain one did); else anything undecided leaves it unknown; else the plain network
    degrading supports the claim and training fine contradicts it (shortcuts were not needed)."""
    if any(r is None for r in found.values()):
        return UNKNOWN
    states = {a: r[0] for a, r in found.items()}
    if any(st == DEGRADED for a, st in states.items() if a != PLAIN):
        return MIXED
    if UNDECIDED in states.values():
        return UNKNOWN
    return SUPPORTS if states[PLAIN] == DEGRADED else CONTRADICTS


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
        d = d[d["depth"].isin(depths)]
        deep = depths[-1]
        found = {a: degradation(d, a, deep) for a in archs}
        outcomes.append(depth_outcome(found))

        def said(a: str) -> str:
            if found[a] is None:
                return f"{ARCH_NAMES[a]} no finished cells to compare"
            state, why, ref = found[a]
            text = {DEGRADED: "; ".join(why), FINE: "no degradation",
                    UNDECIDED: "undecided (" + ", ".join(why) + ")"}[state]
            return f"{ARCH_NAMES[a]} {ref}→{deep:.0f} {text}"
        lines.append(f"{suite + ' ' if several else ''}{dataset}: {', '.join(said(a) for a in archs)}")
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
    detail.append(f"Depth counts blocks of two 3x3 convolutions (d blocks: 2d + 2 weight layers). Each network at the "
                  "deepest depth is compared, paired over seeds, with the shallower depth it trains best at (the lowest "
                  "final training loss on the other seeds: the degradation problem is a deeper network training worse "
                  "than a shallower one, and the shallowest may just be too small). It degrades when test accuracy "
                  f"drops (interval below 0, or over {100 * LARGE_GAP:.0f} points with one seed), when the final "
                  f"training loss rises by over {LOSS_RISE} nats (interval above 0), or when a deepest cell diverged; "
                  f"it trains fine when accuracy is level or better inside the noise and the loss rise stays under "
                  f"{LOSS_RISE} nats (interval); anything else is undecided. Per suite and dataset: supports when the "
                  "plain network degrades and every network with shortcuts (residual; highway too where the suite ran "
                  "it) trains fine, contradicts when all train fine; a network with shortcuts that degrades makes it "
                  "mixed (adding the input back made depth trainable under this budget, a learned gate did not, or the "
                  "reverse); anything undecided leaves it undecided.")
    return verdict(entry, overall(outcomes), "; ".join(lines), "\n\n".join(detail), scope_of(rows))


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
