"""Learning curves, deep against classical over training sizes: T1 (a crossover n*), D3 (the gap at
the smallest size) and D2 (the gain per doubling of data at the top). They need `scaling=on`: with one
size per dataset they are not-run."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.claims.registry import rule
from harness.claims.rows import acc, common_sizes, md_table, ok, paired, pts, scope_of, seed_scores, sizes_text
from harness.claims.rules.selection import SELECTION_NOTE, family_curves, loso_pick
from harness.claims.verdict import CONTRADICTS, SUPPORTS, TIE, UNKNOWN, Verdict, outcome, overall, verdict
from harness.evaluation.stats import PairedDifference, crossover, fit_power_law


@dataclass
class CurveReading:
    suite: str
    dataset: str
    sizes: list[int]
    small: PairedDifference   # best classical - best deep at the smallest size
    small_keys: tuple[str, str]
    large: PairedDifference   # best deep - best classical at the largest size
    large_keys: tuple[str, str]
    cross: object             # harness.evaluation.stats.Crossover
    rows: pd.DataFrame
    small_classical: float = np.nan  # the best classical model's mean accuracy at the smallest size


def curve_readings(rows: pd.DataFrame) -> list[CurveReading]:
    """Every dataset with at least two training sizes that both families ran. At each end each family's
    best configuration is chosen leave one seed out (rules/selection.py)."""
    readings = []
    for (suite, dataset), d in ok(rows).groupby(["suite", "dataset"], sort=False):
        sizes = common_sizes(d)
        if len(sizes) < 2:
            continue
        d = d[d["n_train"].isin(sizes)]
        ends, means = [], []
        for n, first, second in ((sizes[0], "classical", "deep"), (sizes[-1], "deep", "classical")):
            at_n = d[d["n_train"] == n]
            pa, pb = loso_pick(at_n, first), loso_pick(at_n, second)
            a, b = pa.scores(at_n, "accuracy"), pb.scores(at_n, "accuracy")
            ends.append((paired(a, b), (pa.name, pb.name)))
            means.append(a.mean())
        cross = crossover(d[["n_train", "seed", "family", "accuracy", "key"]].rename(columns={"key": "model"}))
        readings.append(CurveReading(suite, dataset, sizes, *ends[0], *ends[1], cross, d, means[0]))
    return readings


def n_star_text(cross) -> str:
    if cross.n_star is None:
        return f"no crossover within sizes run ({cross.leader} ahead throughout)" if cross.leader in (
            "deep", "classical") else "no crossover within sizes run (deep ahead first, then behind)"
    if not np.isfinite(cross.lo):
        return f"n* ≈ {cross.n_star:.0f} (1 seed: no interval)"
    hi = "beyond largest size" if np.isinf(cross.hi) else f"{cross.hi:.0f}"
    return f"n* ≈ {cross.n_star:.0f} [{cross.lo:.0f}, {hi}]"


def curve_table(readings: list[CurveReading]) -> str:
    return md_table(["dataset", "sizes", "classical − deep at smallest", "deep − classical at largest", "crossover",
                     "curves (deep / classical)"],
                    [[r.dataset, sizes_text(r.sizes), f"{pts(r.small)} ({r.small_keys[0]} vs {r.small_keys[1]})",
                      f"{pts(r.large)} ({r.large_keys[0]} vs {r.large_keys[1]})", n_star_text(r.cross),
                      f"{r.cross.models.get('deep')} / {r.cross.models.get('classical')}"] for r in readings])


def gap_table(r: CurveReading) -> str:
    return md_table(["n_train", "mean deep − classical"],
                    [[n, f"{100 * g:+.1f} pts"] for n, g in zip(r.cross.sizes, r.cross.gap)])


def accuracy_curves(readings: list[CurveReading]) -> list:
    """Accuracy over training size per family (mean over seeds of the best configuration at each size)."""
    return family_curves(pd.concat([r.rows for r in readings]), "accuracy",
                         "accuracy over training size, best configuration per family at each size")


def linked_note(entry: dict) -> str:
    """'same comparison as X; counted once: ' for a claim resting on another's comparison, else ''."""
    return f"same comparison as {entry['linked']}; counted once: " if entry.get("linked") else ""


def no_curves(entry: dict, rows: pd.DataFrame) -> Verdict:
    sizes = ", ".join(f"{ds} n={int(g['n_train'].max())}" for ds, g in ok(rows).groupby("dataset"))
    return verdict(entry, "not-run", f"one training size per dataset ({sizes}); learning curves need "
                   f"`{entry['produce']}`", scope=scope_of(ok(rows)))


@rule
def learning_curve_crossover(rows: pd.DataFrame, entry: dict) -> Verdict:
    """T1: classical wins or ties at the smallest size, deep wins at the largest, with n* between."""
    readings = curve_readings(rows)
    if not readings:
        return no_curves(entry, rows)
    outcomes = []
    for r in readings:
        small, large = outcome(r.small), outcome(r.large)
        if small == "b":
            outcomes.append(CONTRADICTS)   # deep already ahead at the smallest size
        elif UNKNOWN in (small, large):
            outcomes.append(UNKNOWN)
        else:
            outcomes.append(SUPPORTS if large == "a" else TIE)
    evidence = linked_note(entry) + "; ".join(f"{r.dataset}: classical−deep {pts(r.small)} at n={r.sizes[0]}, "
                                              f"deep−classical {pts(r.large)} at n={r.sizes[-1]}, {n_star_text(r.cross)}"
                                              for r in readings)
    detail = curve_table(readings) + "\n\n" + "\n\n".join(f"{r.dataset}:\n\n{gap_table(r)}" for r in readings) + (
        "\n\nCrossover curves follow each family's best model at the largest size down to the small sizes; "
        "the end comparisons use the best model of each family at that size. " + SELECTION_NOTE)
    return verdict(entry, overall(outcomes), evidence, detail, scope_of(pd.concat([r.rows for r in readings])),
                   curves=accuracy_curves(readings))


def size_to_reach(sizes: list[int], means: np.ndarray, target: float) -> float:
    """Smallest n (interpolated in log n) where a mean curve reaches `target`; inf if it never does."""
    if means[0] >= target:
        return float(sizes[0])
    for i in range(1, len(sizes)):
        if means[i] >= target:
            t = (target - means[i - 1]) / (means[i] - means[i - 1])
            return float(np.exp(np.log(sizes[i - 1]) + t * (np.log(sizes[i]) - np.log(sizes[i - 1]))))
    return np.inf


@rule
def small_data_gap(rows: pd.DataFrame, entry: dict) -> Verdict:
    """D3: at the smallest size run, the best classical model is ahead of the best deep one."""
    readings = curve_readings(rows)
    if not readings:
        return no_curves(entry, rows)
    outcomes, table = [], []
    for r in readings:
        small = outcome(r.small)
        outcomes.append({"a": SUPPORTS, "b": CONTRADICTS}.get(small, small))
        deep_curve = r.rows[r.rows["key"] == r.cross.models.get("deep")].groupby("n_train")["accuracy"].mean()
        target = r.small_classical
        need = size_to_reach(list(deep_curve.index), deep_curve.to_numpy(), target)
        need_text = (f"> {r.sizes[-1]} (not reached)" if np.isinf(need) else
                     f"{need:.0f} ({need / r.sizes[0]:.1f}x n)")
        table.append([r.dataset, r.sizes[0], f"{r.small_keys[0]} {acc(target)}", r.small_keys[1], pts(r.small),
                      f"{r.cross.models.get('deep')}: {need_text}", n_star_text(r.cross)])
    evidence = linked_note(entry) + "; ".join(f"{r.dataset}: classical−deep {pts(r.small)} at n={r.sizes[0]}"
                                              for r in readings)
    detail = md_table(["dataset", "smallest n", "best classical", "best deep", "classical − deep",
                       "n deep needs to match classical at smallest n", "crossover"], table) + "\n\n" + SELECTION_NOTE
    return verdict(entry, overall(outcomes), evidence, detail, scope_of(pd.concat([r.rows for r in readings])),
                   curves=accuracy_curves(readings))


@rule
def curve_slope_at_top(rows: pd.DataFrame, entry: dict) -> Verdict:
    """D2: accuracy gained per doubling of n between the two largest sizes, deep vs classical."""
    readings = curve_readings(rows)
    if not readings:
        return no_curves(entry, rows)
    outcomes, table, fits, lines = [], [], [], []
    for r in readings:
        n_prev, n_top = r.sizes[-2], r.sizes[-1]
        doublings = np.log2(n_top / n_prev)
        gains = {}
        for family in ("deep", "classical"):
            key = r.cross.models[family]
            top, prev = (seed_scores(r.rows[r.rows["n_train"] == n], key, "accuracy") for n in (n_top, n_prev))
            gains[family] = ((top - prev) / doublings).dropna()
            curve = r.rows[r.rows["key"] == key]
            fit = fit_power_law(curve["n_train"], 1 - curve["accuracy"])
            fits.append([r.dataset, f"{family}: {key}", f"{fit.b:.2f} ± {fit.b_se:.2f}" if fit.success else fit.message,
                         f"{100 * fit.c:.1f}% ± {100 * fit.c_se:.1f} pts" if fit.success else "–"])
        own = paired(gains["deep"], pd.Series(0.0, index=gains["deep"].index))
        versus = paired(gains["deep"], gains["classical"])
        if outcome(versus) == "b":
            outcomes.append(CONTRADICTS)
        elif outcome(own) == "a":
            outcomes.append(SUPPORTS)
        else:
            outcomes.append(outcome(own) if outcome(own) == UNKNOWN else TIE)
        classical_own = paired(gains["classical"], pd.Series(0.0, index=gains["classical"].index))
        table.append([r.dataset, f"{n_prev} → {n_top}", pts(own, " /doubling"), pts(classical_own, " /doubling"),
                      pts(versus, " /doubling")])
        lines.append(f"{r.dataset} {n_prev}→{n_top}: deep {pts(own, '/2x')}, classical {pts(classical_own, '/2x')}")
    detail = (md_table(["dataset", "sizes", "deep gain", "classical gain", "deep − classical"], table)
              + "\n\nPower law error = a·n^-b + c per family "
              "(b: how fast error falls; c: the error it levels off at):\n\n"
              + md_table(["dataset", "model", "b", "c (asymptotic error)"], fits)
              + "\n\nThe sizes run are small to medium; \"massive\" data lies beyond them.")
    return verdict(entry, overall(outcomes), "; ".join(lines), detail, scope_of(pd.concat([r.rows for r in readings])),
                   curves=accuracy_curves(readings))
