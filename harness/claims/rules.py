"""Verdicts on the seed document's claims, read from result rows.

`registry.yaml` lists the claims; each names a rule, a plain function `rule(rows, entry) -> Verdict`
found in `RULES`. A rule sees only the rows of its claim's suites and judges each task (a dataset,
or a dataset on one device) on its own: the task supports the claim, contradicts it, shows no
difference inside the noise (`tie`), or cannot tell (`unknown`: one seed and a small gap).
`overall` turns those outcomes into the verdict. Nothing is guessed: a claim whose suites have no
rows is not-run and names the command that produces them; one whose rule is not written yet is
inconclusive.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from harness.core.display import fmt_count, fmt_seconds
from harness.evaluation.readings import role, solved_share, with_lengths
from harness.evaluation.stats import (PairedDifference, average_ranks, crossover, fit_power_law, nemenyi_cd,
                           paired_difference)

REGISTRY = Path(__file__).with_name("registry.yaml")
VERDICTS = ("supported", "contradicted", "mixed", "inconclusive", "not-run", "definitional")
SUPPORTS, CONTRADICTS, TIE, UNKNOWN, MIXED = "supports", "contradicts", "tie", "unknown", "mixed"

# With one seed there is no noise estimate: only gaps beyond these count (the registry states them).
LARGE_GAP = 0.02            # accuracy, as a fraction: 2 points
LARGE_LOG_RATIO = np.log(2)  # times and sizes: 2x
LOSS_RISE = 0.1             # nats of training loss: below this a deeper net still trained fine
CPU_BUDGET_SECONDS = 600    # T8: a deep model "runs on a CPU" when it trains within 10 minutes there


@dataclass
class Verdict:
    id: str
    claim: str
    verdict: str      # one of VERDICTS
    evidence: str     # one line with the key numbers
    detail: str = ""  # markdown: the numbers behind the evidence
    scope: str = ""   # datasets, sizes, seeds, hardware the verdict rests on


def load_registry(path: Path = REGISTRY) -> list[dict]:
    return yaml.safe_load(Path(path).read_text())


# ---------------------------------------------------------------- rows

# Columns older results lack, with the value that means "not recorded".
OPTIONAL_COLUMNS = {"variant": "", "features": "raw", "final_train_loss": np.nan, "n_parameters": np.nan, "peak_memory_mb": np.nan,
                    "train_cpu_seconds": np.nan, "device": "cpu", "tuned": False, "params_id": "", "run": "",
                    "cpu_model": "", "gpu_name": None, "cell_seconds": np.nan, "n_test": np.nan}

USED_COLUMNS = ["suite", "dataset", "model", "family", "variant", "seed", "n_train", "status", "accuracy",
                "train_seconds", "train_cpu_seconds", "peak_memory_mb", "n_parameters", "final_train_loss",
                "cell_seconds", "interpretable_by_construction", "interpret_seconds", "features",
                # the memory suite's own diagnostics (harness/deep/sequence.py)
                "solved", "grad_ratio_init", "grad_ratio", "train_steps", "budget_hit", "r2",
                # the tabular suite's GMDH depth (harness/models/gmdh.py)
                "n_layers",
                # the generative suite's sample quality (harness/evaluation/generative_metrics.py)
                "frechet_distance", "precision", "recall", "cas_accuracy",
                # the unsupervised suite's scores and probes (harness/core/measure.py, harness/deep/autoencoder.py)
                "reconstruction_mse", "knn_accuracy", "code_size", "roc_auc", "pr_auc", "anomaly_rate",
                # the rl suite's agents (harness/deep/rl.py)
                "mean_return", "steps_to_threshold", "seconds_to_threshold", "reward_threshold", "env_steps",
                *OPTIONAL_COLUMNS]


def prepare(df: pd.DataFrame, run_infos: dict | None = None) -> pd.DataFrame:
    """Fill missing columns and add `arch` (model without variant), `key` (one configuration, whose
    seeds may be pooled), `hardware` (the device the run's deep models used) and `machine`."""
    df = df.copy()
    for col, default in OPTIONAL_COLUMNS.items():
        if col not in df:
            df[col] = default
    # Only the columns rules read: every filter below copies whole rows.
    used = [*USED_COLUMNS, *(c for c in df if str(c).startswith("interp_"))]
    df = df[list(dict.fromkeys(c for c in used if c in df))].reset_index(drop=True)
    df["variant"] = df["variant"].fillna("").astype(str)
    df["features"] = df["features"].fillna("raw").astype(str)
    df["run"] = df["run"].fillna("").astype(str)
    df["arch"] = df["model"].astype(str).str.replace(r"\[.*\]$", "", regex=True)
    key = df["arch"] + df["variant"].map(lambda v: f"[{v}]" if v else "")
    # Other hyperparameters under one name are another configuration: keep their seeds apart.
    qualifiers = {"tuned": pd.Series(np.where(df["tuned"].fillna(False).astype(bool), "tuned", "not tuned"), df.index),
                  "params_id": "params " + df["params_id"].astype(str)}
    df["key"] = key
    for col, text in qualifiers.items():
        varies = df.groupby([df["suite"], df["dataset"], key])[col].transform("nunique") > 1
        df.loc[varies, "key"] += " · " + text[varies]
    deep_device = df[df["family"] == "deep"].groupby("run")["device"].agg(
        lambda s: next((d for d in s if d != "cpu"), "cpu"))
    df["hardware"] = df["run"].map(deep_device).fillna("cpu")
    df["machine"] = [machine_text(r, run_infos) for r in df[["run", "device", "cpu_model", "gpu_name"]].itertuples()]
    return df


def machine_text(row, run_infos: dict | None) -> str:
    if row.device != "cpu" and isinstance(row.gpu_name, str) and row.gpu_name:
        return f"{row.device} ({row.gpu_name})"
    cores = ((run_infos or {}).get(row.run) or {}).get("machine", {}).get("cpu_cores")
    cpu = row.cpu_model if isinstance(row.cpu_model, str) and row.cpu_model else "unknown CPU"
    return f"cpu ({cpu}{f', {cores} cores' if cores else ''})"


def ok(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[rows["status"] == "ok"]


def at_top_size(d: pd.DataFrame) -> pd.DataFrame:
    """Rows at the largest training size where both families have finished cells (else the largest)."""
    both = d.groupby("n_train")["family"].nunique()
    sizes = both[both >= 2].index if (both >= 2).any() else both.index
    return d[d["n_train"] == sizes.max()]


def common_sizes(d: pd.DataFrame) -> list[int]:
    per_family = [set(g["n_train"]) for _, g in d.groupby("family")]
    return sorted(set.intersection(*per_family)) if len(per_family) == 2 else []


def seed_scores(d: pd.DataFrame, key: str, metric: str) -> pd.Series:
    """One score per seed (duplicated cells, e.g. the same seed in two runs, are averaged)."""
    return d[d["key"] == key].groupby("seed")[metric].mean().dropna()


def best_key(d: pd.DataFrame, family: str, metric: str = "accuracy") -> str | None:
    """The configuration of `family` with the highest mean `metric` over seeds."""
    scores = d[d["family"] == family].groupby("key")[metric].mean().dropna()
    return scores.idxmax() if len(scores) else None


def paired(a: pd.Series, b: pd.Series, log: bool = False) -> PairedDifference:
    """a - b over the seeds both have (on log values when `log`: the difference is a log ratio)."""
    a, b = a.align(b, join="inner")
    if log:
        a, b = np.log(a.clip(lower=1e-9)), np.log(b.clip(lower=1e-9))
    return paired_difference(a.to_numpy(), b.to_numpy())


def outcome(diff: PairedDifference, large_gap: float = LARGE_GAP) -> str:
    """'a' or 'b' (who is ahead), 'tie' inside the noise, 'unknown': one seed and a gap under `large_gap`."""
    if diff.n == 0:
        return UNKNOWN
    if diff.single_seed:
        return diff.winner if abs(diff.mean) > large_gap else UNKNOWN
    return diff.winner


def overall(outcomes: list[str]) -> str:
    """Supported when every task supports; contradicted when none does and some contradict; mixed
    when some support and the others do not; inconclusive when no task shows a difference."""
    if not outcomes:
        return "inconclusive"
    supports, contradicts = outcomes.count(SUPPORTS), outcomes.count(CONTRADICTS)
    if MIXED in outcomes or (supports and supports < len(outcomes)):
        return "mixed"
    if supports:
        return "supported"
    return "contradicted" if contradicts else "inconclusive"


# ---------------------------------------------------------------- text

def pts(diff: PairedDifference, per: str = "") -> str:
    """An accuracy difference in points, with its interval or the note that there is none."""
    if diff.n == 0:
        return "–"
    text = f"{100 * diff.mean:+.1f} pts{per}"
    return text + (" (1 seed)" if diff.single_seed else f" [{100 * diff.lo:+.1f}, {100 * diff.hi:+.1f}]")


def times(diff: PairedDifference) -> str:
    """A log ratio as a factor, with its interval."""
    if diff.n == 0:
        return "–"
    text = f"{np.exp(diff.mean):.3g}x"
    return text + (" (1 seed)" if diff.single_seed else f" [{np.exp(diff.lo):.3g}x, {np.exp(diff.hi):.3g}x]")


def acc(x: float) -> str:
    return "–" if x is None or not np.isfinite(x) else f"{100 * x:.1f}%"


def md_table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def sizes_text(sizes) -> str:
    sizes = sorted({int(s) for s in sizes})
    if not sizes:
        return "no sizes"
    if len(sizes) <= 6:
        return "n_train " + ", ".join(map(str, sizes))
    return f"n_train {sizes[0]}–{sizes[-1]} ({len(sizes)} sizes)"


def scope_of(d: pd.DataFrame, note: str = "") -> str:
    """Datasets, sizes, seeds and hardware of the rows a verdict rests on."""
    if d.empty:
        return note or "no rows"
    seeds = sorted(int(s) for s in d["seed"].unique())
    seed_text = (f"1 seed ({seeds[0]}): no noise estimate; one-seed gaps count only above "
                 f"{100 * LARGE_GAP:.0f} points or 2x" if len(seeds) == 1 else
                 f"{len(seeds)} seeds ({', '.join(map(str, seeds))})")
    parts = [f"suite {', '.join(sorted(d['suite'].unique()))}", f"datasets {', '.join(sorted(d['dataset'].unique()))}",
             sizes_text(d["n_train"]), seed_text, "hardware " + ", ".join(sorted(d["machine"].unique()))]
    return "; ".join(parts) + (f". {note}" if note else "")


def verdict(entry: dict, value: str, evidence: str, detail: str = "", scope: str = "") -> Verdict:
    assert value in VERDICTS, value
    return Verdict(entry["id"], entry["claim"], value, evidence, detail, scope)


def not_run(entry: dict, why: str) -> Verdict:
    return verdict(entry, "not-run", f"{why}; run `{entry['produce']}`", scope="no rows")


def missing_suites(rows: pd.DataFrame, entry: dict) -> list[str]:
    return [s for s in entry["evidence"]["suites"] if s not in set(rows["suite"])]


# ---------------------------------------------------------------- full data: deep vs classical

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


def best_deep_vs_best_classical(rows: pd.DataFrame, entry: dict) -> Verdict:
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


# ---------------------------------------------------------------- learning curves

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


def curve_readings(rows: pd.DataFrame) -> list[CurveReading]:
    """Every dataset with at least two training sizes that both families ran."""
    readings = []
    for (suite, dataset), d in ok(rows).groupby(["suite", "dataset"], sort=False):
        sizes = common_sizes(d)
        if len(sizes) < 2:
            continue
        d = d[d["n_train"].isin(sizes)]
        ends = []
        for n, first, second in ((sizes[0], "classical", "deep"), (sizes[-1], "deep", "classical")):
            at_n = d[d["n_train"] == n]
            ka, kb = best_key(at_n, first), best_key(at_n, second)
            ends.append((paired(seed_scores(at_n, ka, "accuracy"), seed_scores(at_n, kb, "accuracy")), (ka, kb)))
        cross = crossover(d[["n_train", "seed", "family", "accuracy", "key"]].rename(columns={"key": "model"}))
        readings.append(CurveReading(suite, dataset, sizes, *ends[0], *ends[1], cross, d))
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


def no_curves(entry: dict, rows: pd.DataFrame) -> Verdict:
    sizes = ", ".join(f"{ds} n={int(g['n_train'].max())}" for ds, g in ok(rows).groupby("dataset"))
    return verdict(entry, "not-run", f"one training size per dataset ({sizes}); learning curves need "
                   f"`{entry['produce']}`", scope=scope_of(ok(rows)))


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
    evidence = "; ".join(f"{r.dataset}: classical−deep {pts(r.small)} at n={r.sizes[0]}, "
                         f"deep−classical {pts(r.large)} at n={r.sizes[-1]}, {n_star_text(r.cross)}" for r in readings)
    detail = curve_table(readings) + "\n\n" + "\n\n".join(f"{r.dataset}:\n\n{gap_table(r)}" for r in readings) + (
        "\n\nCrossover curves follow each family's best model at the largest size down to the small sizes; "
        "the end comparisons use the best model of each family at that size.")
    return verdict(entry, overall(outcomes), evidence, detail, scope_of(pd.concat([r.rows for r in readings])))


def size_to_reach(sizes: list[int], means: np.ndarray, target: float) -> float:
    """Smallest n (interpolated in log n) where a mean curve reaches `target`; inf if it never does."""
    if means[0] >= target:
        return float(sizes[0])
    for i in range(1, len(sizes)):
        if means[i] >= target:
            t = (target - means[i - 1]) / (means[i] - means[i - 1])
            return float(np.exp(np.log(sizes[i - 1]) + t * (np.log(sizes[i]) - np.log(sizes[i - 1]))))
    return np.inf


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
        target = seed_scores(r.rows[r.rows["n_train"] == r.sizes[0]], r.small_keys[0], "accuracy").mean()
        need = size_to_reach(list(deep_curve.index), deep_curve.to_numpy(), target)
        need_text = (f"> {r.sizes[-1]} (not reached)" if np.isinf(need) else
                     f"{need:.0f} ({need / r.sizes[0]:.1f}x n)")
        table.append([r.dataset, r.sizes[0], f"{r.small_keys[0]} {acc(target)}", r.small_keys[1], pts(r.small),
                      f"{r.cross.models.get('deep')}: {need_text}", n_star_text(r.cross)])
    evidence = "; ".join(f"{r.dataset}: classical−deep {pts(r.small)} at n={r.sizes[0]}" for r in readings)
    detail = md_table(["dataset", "smallest n", "best classical", "best deep", "classical − deep",
                       "n deep needs to match classical at smallest n", "crossover"], table)
    return verdict(entry, overall(outcomes), evidence, detail, scope_of(pd.concat([r.rows for r in readings])))


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
    return verdict(entry, overall(outcomes), "; ".join(lines), detail, scope_of(pd.concat([r.rows for r in readings])))


# ---------------------------------------------------------------- time, hardware, cost

def time_to_reach(d: pd.DataFrame, family: str, target: float) -> str:
    """Least mean training time over (model, size) whose mean accuracy reaches `target`."""
    m = d[d["family"] == family].groupby(["key", "n_train"]).agg(accuracy=("accuracy", "mean"),
                                                                  seconds=("train_seconds", "mean"))
    hit = m[m["accuracy"] >= target - 1e-12].dropna()
    if hit.empty:
        return "not reached"
    key, n = hit["seconds"].idxmin()
    return f"{fmt_seconds(hit['seconds'].min())} ({key}, n={n})"


def best_pair_ratio(d: pd.DataFrame, column: str):
    """Most accurate deep and classical configurations and the paired log-ratio of their `column`
    (deep over classical) with its outcome; None when a family is missing."""
    deep, classical = best_key(d, "deep"), best_key(d, "classical")
    if deep is None or classical is None:
        return None
    ratio = paired(seed_scores(d, deep, column), seed_scores(d, classical, column), log=True)
    result = outcome(ratio, LARGE_LOG_RATIO)
    return deep, classical, ratio, {"a": SUPPORTS, "b": CONTRADICTS}.get(result, result)


def training_time(rows: pd.DataFrame, entry: dict) -> Verdict:
    """T3: wall training time of the most accurate deep vs most accurate classical model."""
    outcomes, table, lines = [], [], []
    for (dataset, hardware), d_all in ok(rows).groupby(["dataset", "hardware"], sort=False):
        d = at_top_size(d_all)
        pair = best_pair_ratio(d, "train_seconds")
        if pair is None:
            continue
        deep, classical, ratio, result = pair
        outcomes.append(result)
        target = min(seed_scores(d, deep, "accuracy").mean(), seed_scores(d, classical, "accuracy").mean())
        table.append([dataset, hardware, f"{classical} {fmt_seconds(seed_scores(d, classical, 'train_seconds').mean())}",
                      f"{deep} {fmt_seconds(seed_scores(d, deep, 'train_seconds').mean())}", times(ratio),
                      acc(target), time_to_reach(d_all, "classical", target), time_to_reach(d_all, "deep", target)])
        lines.append(f"{dataset} on {hardware}: {deep} takes {times(ratio)} the time of {classical}")
    if not outcomes:
        return verdict(entry, "inconclusive", "no dataset has finished cells of both families", scope=scope_of(rows))
    detail = (md_table(["dataset", "hardware", "best classical: train", "best deep: train", "deep / classical",
                        "accuracy both reach", "classical time to reach it", "deep time to reach it"], table)
              + "\n\nTime to reach an accuracy is read across the models and training sizes run; bench does not "
              "record accuracy during training, so time-to-accuracy inside one training run is not derivable.")
    return verdict(entry, overall(outcomes), "; ".join(lines), detail, scope_of(ok(rows)))


@dataclass
class BudgetReading:
    dataset: str
    model: str
    n_train: int
    seconds: float
    accuracy: float
    statuses: str
    outcome: str   # supports "needs a GPU", contradicts it, or unknown


def cpu_budget_readings(rows: pd.DataFrame) -> list[BudgetReading]:
    """Every deep configuration trained on a CPU, at its dataset's largest CPU size: within budget or not."""
    deep_cpu = rows[(rows["family"] == "deep") & (rows["device"] == "cpu")]
    readings = []
    for dataset, d in deep_cpu.groupby("dataset", sort=False):
        d = d[d["n_train"] == d["n_train"].max()]
        for key, m in d.groupby("key", sort=False):
            done = m[m["status"] == "ok"]
            seconds = done["train_seconds"].mean()
            timed_out = m[m["status"] == "timeout"]
            if len(timed_out) and (timed_out["cell_seconds"] >= CPU_BUDGET_SECONDS).any():
                result = SUPPORTS
            elif len(done) and seconds > CPU_BUDGET_SECONDS:
                result = SUPPORTS
            elif len(done) and len(timed_out) == 0:
                result = CONTRADICTS
            else:  # failed for other reasons, or timed out at a limit under the budget
                result = UNKNOWN
            statuses = ", ".join(f"{n} {s}" for s, n in m["status"].value_counts().items())
            readings.append(BudgetReading(dataset, key, int(m["n_train"].iloc[0]), seconds,
                                          done["accuracy"].mean(), statuses, result))
    return readings


def gpu_speedups(rows: pd.DataFrame) -> list[list]:
    """CPU over GPU training time per deep configuration and size run on both, on the same host (a GPU
    row is paired with CPU rows whose CPU model is its host's: a laptop's CPU against a server's GPU
    would measure the machines, not the devices)."""
    deep = ok(rows[rows["family"] == "deep"])
    table = []
    for (dataset, key, n, host), d in deep.groupby(["dataset", "key", "n_train", "cpu_model"], sort=False):
        cpu, gpu = d[d["device"] == "cpu"], d[d["device"] != "cpu"]
        if cpu.empty or gpu.empty:
            continue
        table.append([dataset, key, n, fmt_seconds(cpu["train_seconds"].mean()), fmt_seconds(gpu["train_seconds"].mean()),
                      f"{cpu['train_seconds'].mean() / gpu['train_seconds'].mean():.1f}x",
                      f"{100 * (gpu['accuracy'].mean() - cpu['accuracy'].mean()):+.1f} pts",
                      ", ".join(sorted(gpu["machine"].unique())) + f" vs its host CPU ({host})"])
    return table


def cpu_budget(rows: pd.DataFrame, entry: dict) -> Verdict:
    """T8: a deep model that trains on a CPU within budget contradicts 'needs a GPU' for that task."""
    readings = cpu_budget_readings(rows)
    if not readings:
        return not_run(entry, "no deep model was trained on a CPU")
    within = [r for r in readings if r.outcome == CONTRADICTS]
    over = [r for r in readings if r.outcome == SUPPORTS]
    classical = ok(rows[rows["family"] == "classical"])
    evidence = (f"{len(within)}/{len(readings)} deep model-dataset pairs train on CPU within "
                f"{CPU_BUDGET_SECONDS // 60} min" + (f" (slowest {max(within, key=lambda r: r.seconds).model} "
                                                     f"{fmt_seconds(max(r.seconds for r in within))})" if within else "")
                + (f"; over budget: {', '.join(f'{r.dataset}/{r.model}' for r in over)}" if over else "")
                + (f"; classical: all on CPU, longest {fmt_seconds(classical['train_seconds'].max())}"
                   if len(classical) else ""))
    speedups = gpu_speedups(rows)
    if speedups:
        evidence += f"; GPU speedup {', '.join(f'{s[1]} {s[5]}' for s in speedups[:4])}"
    detail = md_table(["dataset", "deep model", "n_train", "CPU train time", "accuracy", "cells", "within budget"],
                      [[r.dataset, r.model, r.n_train, fmt_seconds(r.seconds), acc(r.accuracy), r.statuses,
                        {CONTRADICTS: "yes", SUPPORTS: "no"}.get(r.outcome, "unknown")] for r in readings])
    detail += (f"\n\nBudget: mean training time at most {CPU_BUDGET_SECONDS} s with every seed finished. A model within "
               "budget contradicts \"needs a GPU\" for that task at this size.")
    if speedups:
        detail += "\n\nGPU speedup (does not change the verdict: faster is not needed):\n\n" + md_table(
            ["dataset", "model", "n_train", "CPU", "GPU", "speedup", "GPU − CPU accuracy", "GPU"], speedups)
    deep_cpu = rows[(rows["family"] == "deep") & (rows["device"] == "cpu")]
    return verdict(entry, overall([r.outcome for r in readings]), evidence, detail, scope_of(deep_cpu))


def compute_cost(rows: pd.DataFrame, entry: dict) -> Verdict:
    """D4: deep costs more CPU-seconds than classical (cost), and needs a GPU (T8's budget rule)."""
    cpu_runs = ok(rows[rows["hardware"] == "cpu"])
    cost_outcomes, table = [], []
    for dataset, d in cpu_runs.groupby("dataset", sort=False):
        d = at_top_size(d)
        pair = best_pair_ratio(d, "train_cpu_seconds")
        if pair is None:
            continue
        deep, classical, ratio, result = pair
        cost_outcomes.append(result)
        memory = seed_scores(d, deep, "peak_memory_mb").mean() / seed_scores(d, classical, "peak_memory_mb").mean()
        table.append([dataset, f"{classical} / {deep}", times(ratio),
                      f"{memory:.2g}x" if np.isfinite(memory) else "–"])
    budget = cpu_budget_readings(rows)
    if not cost_outcomes and not budget:
        return not_run(entry, "no run trained on a CPU")
    cost = overall(cost_outcomes) if cost_outcomes else "inconclusive"
    need = overall([r.outcome for r in budget]) if budget else "inconclusive"
    value = cost if cost == need else "mixed" if {cost, need} & {"supported", "contradicted", "mixed"} else "inconclusive"
    within = sum(r.outcome == CONTRADICTS for r in budget)
    evidence = (f"cost {cost}: deep/classical CPU-seconds " + ", ".join(f"{t[0]} {t[2]}" for t in table)
                + f"; GPU need {need}: {within}/{len(budget)} deep models train on CPU within "
                f"{CPU_BUDGET_SECONDS // 60} min")
    detail = (md_table(["dataset", "best classical / best deep", "CPU-seconds deep / classical",
                        "peak memory deep / classical"], table)
              + f"\n\nCost part: {cost}. GPU-need part (T8's rule, budget {CPU_BUDGET_SECONDS} s on CPU): {need}."
              " Peak memory is the process's resident memory above its start, sampled every 5 ms: a guide, not a decision.")
    return verdict(entry, value, evidence, detail, scope_of(cpu_runs))


# ---------------------------------------------------------------- model size and architecture

def parameter_counts(rows: pd.DataFrame, entry: dict) -> Verdict:
    """T6: median stored numbers of deep models vs classical models per dataset."""
    outcomes, lines, detail = [], [], []
    for dataset, d in ok(rows).groupby("dataset", sort=False):
        d = at_top_size(d)
        per_model = d.groupby(["family", "key"]).agg(params=("n_parameters", "mean"),
                                                     accuracy=("accuracy", "mean")).dropna()
        medians = per_model.groupby("family")["params"].median()
        if not {"deep", "classical"} <= set(medians.index):
            continue
        ratio = medians["deep"] / medians["classical"]
        outcomes.append(SUPPORTS if ratio > 2 else CONTRADICTS if ratio < 0.5 else TIE)
        best = per_model.groupby("family")["accuracy"].idxmax()
        best_ratio = per_model.loc[best["deep"], "params"] / per_model.loc[best["classical"], "params"]
        lines.append(f"{dataset}: median deep {fmt_count(medians['deep'])} vs classical {fmt_count(medians['classical'])} "
                     f"({ratio:.2g}x); best-accuracy models {best_ratio:.2g}x")
        rows_md = [[fam, key, fmt_count(r.params), acc(r.accuracy), f"{r.accuracy / r.params * 1e6:.3g}"]
                   for (fam, key), r in per_model.sort_values("params").iterrows()]
        detail.append(f"{dataset} (n_train={int(d['n_train'].iloc[0])}):\n\n"
                      + md_table(["family", "model", "stored numbers", "accuracy", "accuracy per M numbers"], rows_md))
    if not outcomes:
        return verdict(entry, "inconclusive", "no dataset has parameter counts for both families", scope=scope_of(rows))
    detail.append("Stored numbers: trainable weights for deep models; coefficients, support vectors, stored "
                  "training points (k-NN) and tree nodes for classical ones, so memory-based models count their data. "
                  "Fitted model size in bytes is not recorded.")
    return verdict(entry, overall(outcomes), "; ".join(lines), "\n\n".join(detail), scope_of(ok(rows)))


def cnn_vs_mlp(rows: pd.DataFrame, entry: dict) -> Verdict:
    """A2: the CNN has under half the MLP's parameters and a higher accuracy."""
    outcomes, lines, table = [], [], []
    for dataset, d in ok(rows).groupby("dataset", sort=False):
        pair = d[d["arch"].isin(["cnn", "mlp"])]
        sizes = sorted(set(pair.loc[pair["arch"] == "cnn", "n_train"]) & set(pair.loc[pair["arch"] == "mlp", "n_train"]))
        if not sizes:
            continue
        pair = pair[pair["n_train"] == sizes[-1]]
        cnn, mlp = (best_key(pair[pair["arch"] == a], "deep") for a in ("cnn", "mlp"))
        ratio = seed_scores(pair, cnn, "n_parameters").mean() / seed_scores(pair, mlp, "n_parameters").mean()
        diff = paired(seed_scores(pair, cnn, "accuracy"), seed_scores(pair, mlp, "accuracy"))
        better = outcome(diff)
        if better == "b" or ratio > 1:
            outcomes.append(CONTRADICTS)
        elif better == "a" and ratio < 0.5:
            outcomes.append(SUPPORTS)
        else:
            outcomes.append(better if better == UNKNOWN else TIE)
        lines.append(f"{dataset}: CNN/MLP params {ratio:.2g}x, accuracy {pts(diff)}")
        table.append([dataset, sizes[-1], fmt_count(seed_scores(pair, cnn, "n_parameters").mean()),
                      fmt_count(seed_scores(pair, mlp, "n_parameters").mean()), f"{ratio:.2g}x",
                      acc(seed_scores(pair, cnn, "accuracy").mean()), acc(seed_scores(pair, mlp, "accuracy").mean()),
                      pts(diff)])
    if not outcomes:
        return verdict(entry, "inconclusive", "no dataset has finished cells of both cnn and mlp", scope=scope_of(rows))
    detail = md_table(["dataset", "n_train", "CNN params", "MLP params", "ratio", "CNN accuracy", "MLP accuracy",
                       "CNN − MLP"], table) + "\n\n\"Far fewer\" is read as under half."
    return verdict(entry, overall(outcomes), "; ".join(lines), detail,
                   scope_of(ok(rows[rows["arch"].isin(["cnn", "mlp"])])))


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


# ---------------------------------------------------------------- interpretability

# Measured interpretability (interpret=on): column -> (aspect, True when higher is more interpretable).
INTERP_METRICS = {
    "interp_fidelity_tree3": ("surrogate fidelity", True),
    "interp_fidelity_tree5": ("surrogate fidelity", True),
    "interp_fidelity_linear": ("surrogate fidelity", True),
    "interp_deletion_auc": ("faithfulness", False),
    "interp_insertion_auc": ("faithfulness", True),
    "interp_stability_noise": ("stability", True),
    "interp_mass90_share": ("explanation size", False),
}
INTERP_ASPECTS = ("surrogate fidelity", "faithfulness", "stability", "explanation size")
# With one seed, or for between-seed stability (one figure per model), only family gaps above this count.
INTERP_GAP = 0.05
CLASSICAL_BETTER, DEEP_BETTER = "classical", "deep"


def interp_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Finished cells whose interpretation ran, with the 90%-mass count as a share of the groups."""
    if "interp_points" not in rows:
        return rows.iloc[:0]
    d = ok(rows)
    if "interp_error" in d:
        d = d[d["interp_error"].isna()]
    d = d[d["interp_points"].notna()]
    return d.assign(interp_mass90_share=pd.to_numeric(d["interp_mass90_features"], errors="coerce")
                    / pd.to_numeric(d["interp_groups"], errors="coerce"))


def family_per_seed(d: pd.DataFrame, metric: str, family: str) -> pd.Series:
    """Per seed, the mean of `metric` over the family's models (each model's seed duplicates averaged first)."""
    per_model = d[d["family"] == family].groupby(["key", "seed"])[metric].mean()
    return per_model.groupby(level="seed").mean().dropna()


def aspect_outcome(results: list[str]) -> str:
    """One aspect from its metrics' outcomes: one family better on some metric and worse on none."""
    better = set(results) & {CLASSICAL_BETTER, DEEP_BETTER}
    if len(better) == 2:
        return MIXED
    if better:
        return better.pop()
    return TIE if TIE in results else UNKNOWN


def interpretability_by_family(rows: pd.DataFrame, entry: dict) -> Verdict:
    """T7: per dataset, classical vs deep family means of each measured interpretability figure."""
    from harness.evaluation.interpret import between_seed_stability

    measured = interp_rows(rows)
    if measured.empty:
        return not_run(entry, "no finished cell has interpretability columns (`interpret=on`)")
    outcomes, lines, details = [], [], []
    for dataset, d in measured.groupby("dataset", sort=False):
        d = at_top_size(d)
        if set(d["family"]) != {"classical", "deep"}:
            continue
        table, per_aspect = [], {a: [] for a in INTERP_ASPECTS}
        for metric, (aspect, higher) in INTERP_METRICS.items():
            c, dp = family_per_seed(d, metric, "classical"), family_per_seed(d, metric, "deep")
            diff = paired(c, dp) if higher else paired(-c, -dp)  # positive: classical more interpretable
            result = {"a": CLASSICAL_BETTER, "b": DEEP_BETTER}.get(outcome(diff, INTERP_GAP), outcome(diff, INTERP_GAP))
            per_aspect[aspect].append(result)
            interval = "" if diff.n == 0 or diff.single_seed else f" [{diff.lo:+.3f}, {diff.hi:+.3f}]"
            table.append([metric.removeprefix("interp_"), aspect, "higher" if higher else "lower", f"{c.mean():.3f}",
                          f"{dp.mean():.3f}", f"{diff.mean:+.3f}{interval}" if diff.n else "–", result])
        between = {fam: [s for _, g in d[d["family"] == fam].groupby("key") if g["seed"].nunique() >= 2
                         for s in [between_seed_stability(g.sort_values("seed")["interp_importance"])] if np.isfinite(s)]
                   for fam in ("classical", "deep")}
        if all(between.values()):
            c, dp = np.mean(between["classical"]), np.mean(between["deep"])
            result = CLASSICAL_BETTER if c - dp > INTERP_GAP else DEEP_BETTER if dp - c > INTERP_GAP else TIE
            per_aspect["stability"].append(result)
            table.append(["stability between seeds", "stability", "higher", f"{c:.3f}", f"{dp:.3f}",
                          f"{c - dp:+.3f} (one figure per model)", result])
        aspects = {a: aspect_outcome(r) for a, r in per_aspect.items() if r}
        found = set(aspects.values())
        if {CLASSICAL_BETTER, DEEP_BETTER} <= found or MIXED in found:
            result = MIXED
        elif aspects.get("surrogate fidelity") == aspects.get("faithfulness") == CLASSICAL_BETTER:
            result = SUPPORTS
        elif CLASSICAL_BETTER not in found and found & {DEEP_BETTER, TIE}:
            result = CONTRADICTS  # deep models measure as interpretable as classical ones, or more
        elif found <= {UNKNOWN}:
            result = UNKNOWN
        else:
            result = MIXED
        outcomes.append(result)
        said = ", ".join(f"{a} {o}" for a, o in aspects.items())
        lines.append(f"{dataset}: {said}")
        models = d.groupby(["family", "key"]).size().reset_index()
        members = "; ".join(f"{fam}: {', '.join(g['key'])}" for fam, g in models.groupby("family"))
        details.append(f"{dataset} (n_train={int(d['n_train'].iloc[0])}, models {members}):\n\n"
                       + md_table(["figure", "aspect", "more interpretable", "classical mean", "deep mean",
                                   "classical − deep (oriented)", "more interpretable family"], table)
                       + "\n\nAspects: " + said + ".")
    if not outcomes:
        return verdict(entry, "inconclusive", "no dataset has interpretability figures for both families",
                       scope=scope_of(measured))
    flags = measured.drop_duplicates("key")
    by_construction = sorted(flags.loc[flags.get("interpretable_by_construction", pd.Series(False, flags.index))
                                       .fillna(False).astype(bool), "key"])
    details.append(
        "Family figures are means over the family's models, paired over seeds (oriented so that a positive "
        f"difference means classical is more interpretable); with one seed only gaps above {INTERP_GAP} count. "
        "Per dataset: supports when classical is more interpretable on both surrogate fidelity and faithfulness "
        "and deep on no aspect; contradicts when classical is ahead on no aspect and deep is ahead or level on "
        "some; mixed otherwise.\n\n"
        "Readable by construction (a property of the model class, not a measurement, and not part of the "
        f"verdict): {', '.join(by_construction) or 'none of the models run'}.")
    return verdict(entry, overall(outcomes), "; ".join(lines), "\n\n".join(details), scope_of(measured))


# ---------------------------------------------------------------- sequences: memory, attention, state spaces

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
        elif all(v == "longer" for v in versus):
            solve = SUPPORTS
        elif all(v == "same" for v in versus):
            solve = TIE  # the lengths run did not reach where the RNN fails
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
                  "neither does and one solves less; a tie when all solve the same lengths; unknown when none of the "
                  f"three solves any. The initial gradient ratio at the longest length supports when the RNN's is "
                  f"{GRADIENT_GAP:g}x below both gated cells'; a gradient reading opposite to the solving one makes "
                  "the task mixed.")
    return verdict(entry, overall(outcomes), "; ".join(lines), "\n\n".join(detail), scope_of(rows))


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


def combined(outcomes: list[str]) -> str:
    """overall() as a task outcome."""
    return {"supported": SUPPORTS, "contradicted": CONTRADICTS, "mixed": MIXED}.get(overall(outcomes), TIE
                                                                                 if TIE in outcomes else UNKNOWN)


def accuracy_table(d: pd.DataFrame) -> pd.DataFrame:
    """Mean accuracy, datasets x configurations, at each dataset's largest training size."""
    d = pd.concat([at_top_size(g) for _, g in ok(d).groupby("dataset", sort=False)]) if len(ok(d)) else ok(d)
    return d.groupby(["dataset", "key"])["accuracy"].mean().unstack()


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


def mamba_scaling(rows: pd.DataFrame, entry: dict) -> Verdict:
    """A6: Mamba matches transformer and LSTM accuracy while its cost grows linearly in length."""
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


# ---------------------------------------------------------------- generative models

FD_LOG_GAP = np.log(1.25)  # A7, A8 with one seed: a Fréchet distance counts as lower only beyond 1.25x
PR_GAP = 0.05              # A7 with one seed: precision and recall differences count beyond 5 points
MIN_SPREAD_SEEDS = 3       # A8: a spread over seeds needs at least three of them per model


def generation_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Finished cells with a Fréchet distance (generated images), each dataset at its largest training size."""
    d = ok(rows)
    d = d[pd.to_numeric(d["frechet_distance"], errors="coerce").notna()] if "frechet_distance" in d else d.iloc[:0]
    return d[d["n_train"] == d.groupby("dataset")["n_train"].transform("max")]


def lowest_fd_key(d: pd.DataFrame, arch: str) -> str | None:
    """The configuration of `arch` with the lowest mean Fréchet distance over seeds."""
    scores = d[d["arch"] == arch].groupby("key")["frechet_distance"].mean().dropna()
    return scores.idxmin() if len(scores) else None


def fd_ratio(diff: PairedDifference) -> str:
    """A log ratio of Fréchet distances (a over b) as a factor, with its interval."""
    return times(diff).replace("x", "×")


def gap_text(diff: PairedDifference) -> str:
    if diff.n == 0:
        return "–"
    text = f"{diff.mean:+.3f}"
    return text + (" (1 seed)" if diff.single_seed else f" [{diff.lo:+.3f}, {diff.hi:+.3f}]")


def as_outcome(side: str, better: str) -> str:
    """'a'/'b'/'tie'/'unknown' of a paired difference as SUPPORTS when `better` is ahead, else CONTRADICTS."""
    return {better: SUPPORTS, "tie": TIE, UNKNOWN: UNKNOWN}.get(side, CONTRADICTS)


def conjunction(parts: list[str]) -> str:
    """Every part must hold: supports when all do; mixed when one holds and another fails or only ties
    (or a part is mixed itself); contradicts when one fails and none holds; a tie when all tie; else
    unknown (a part could not be told)."""
    if all(p == SUPPORTS for p in parts):
        return SUPPORTS
    if MIXED in parts or (SUPPORTS in parts and (CONTRADICTS in parts or TIE in parts)):
        return MIXED
    if CONTRADICTS in parts:
        return CONTRADICTS
    return TIE if all(p == TIE for p in parts) else UNKNOWN


def gan_quality(rows: pd.DataFrame, entry: dict) -> Verdict:
    """A7: GAN samples have a lower Fréchet distance and better precision/recall than GMM and KDE samples."""
    d = generation_rows(rows)
    outcomes, lines, table = [], [], []
    for dataset, g in d.groupby("dataset", sort=False):
        gan = lowest_fd_key(g, "gan")
        rivals = [k for k in (lowest_fd_key(g, "gmm"), lowest_fd_key(g, "kde")) if k]
        if gan is None or not rivals:
            continue
        pairs = []
        for rival in rivals:
            fd = paired(seed_scores(g, rival, "frechet_distance"), seed_scores(g, gan, "frechet_distance"), log=True)
            fd_side = outcome(fd, FD_LOG_GAP)  # 'a': the rival's distance is the larger one
            pr = [paired(seed_scores(g, gan, m), seed_scores(g, rival, m)) for m in ("precision", "recall")]
            pr_sides = [outcome(x, PR_GAP) for x in pr]
            fd_says = as_outcome(fd_side, "a")
            pr_says = (CONTRADICTS if "b" in pr_sides else SUPPORTS if "a" in pr_sides else
                       TIE if all(x == "tie" for x in pr_sides) else UNKNOWN)
            pair = conjunction([fd_says, pr_says])
            pairs.append(pair)
            table.append([dataset, f"{gan} vs {rival}", fd_ratio(fd), gap_text(pr[0]), gap_text(pr[1]),
                          {SUPPORTS: "GAN better", CONTRADICTS: "GAN not better", MIXED: "mixed", TIE: "tie"}.get(pair,
                                                                                                               "unknown")])
            lines.append(f"{dataset}: {rival} FD / GAN FD {fd_ratio(fd)}, precision {gap_text(pr[0])}, "
                         f"recall {gap_text(pr[1])}")
        outcomes.append(conjunction(pairs))  # better than every classical rival that ran
    if not outcomes:
        return verdict(entry, "inconclusive", "no dataset has finished generation cells of the GAN and of GMM or KDE",
                       scope=scope_of(rows))
    detail = (md_table(["dataset", "pair", "rival FD / GAN FD", "GAN − rival precision", "GAN − rival recall",
                        "reading"], table)
              + f"\n\nPer dataset and classical rival (GMM, KDE), paired over seeds: the GAN is better when its "
              f"Fréchet distance is lower beyond the noise (with one seed, by more than {np.exp(FD_LOG_GAP):.2g}x) "
              f"and precision and recall together are better (one of them ahead beyond the noise, with one seed by "
              f"{100 * PR_GAP:.0f} points, neither behind). Supported when the GAN is better than both rivals on "
              "every dataset. The features are a LeNet-5's trained on the real training split "
              "(harness/evaluation/generative_metrics.py), and the deep models' budgets are the suite's fixed step counts: "
              "read the verdict for these budgets, not for converged models.")
    return verdict(entry, overall(outcomes), "; ".join(lines), detail, scope_of(d))


def spread_part(g: pd.DataFrame, diffusion: str, vae: str) -> tuple[str, str, list]:
    """Whether diffusion's spread of log Fréchet distance over seeds is at most the VAE's: an F-test on
    the ratio of the two variances (95% interval). Returns (outcome, text, table cells)."""
    from scipy import stats

    a, b = (np.log(seed_scores(g, k, "frechet_distance").clip(lower=1e-9)) for k in (diffusion, vae))
    cells = [f"{seed_scores(g, k, 'frechet_distance').std(ddof=1):.3g}" if len(x) > 1 else "–" for k, x in
             ((diffusion, a), (vae, b))]
    if min(len(a), len(b)) < MIN_SPREAD_SEEDS:
        return UNKNOWN, f"spread not measured ({len(a)} and {len(b)} seeds; needs {MIN_SPREAD_SEEDS})", [*cells, "–"]
    va, vb = a.var(ddof=1), b.var(ddof=1)
    if vb == 0:
        side = TIE if va == 0 else CONTRADICTS
        return side, "the VAE's distance does not vary over seeds", [*cells, "–"]
    ratio, dfa, dfb = va / vb, len(a) - 1, len(b) - 1
    lo, hi = ratio / stats.f.ppf(0.975, dfa, dfb), ratio / stats.f.ppf(0.025, dfa, dfb)
    side = CONTRADICTS if lo > 1 else SUPPORTS  # not larger beyond the noise: at most the VAE's
    text = f"variance ratio of log FD diffusion/VAE {ratio:.2g} [{lo:.2g}, {hi:.2g}]"
    return side, text, [*cells, f"{ratio:.2g} [{lo:.2g}, {hi:.2g}]"]


def diffusion_quality_stability(rows: pd.DataFrame, entry: dict) -> Verdict:
    """A8: diffusion sample quality is at least the GAN's, and its spread over seeds at most the VAE's."""
    d = generation_rows(rows)
    outcomes, lines, table = [], [], []
    for dataset, g in d.groupby("dataset", sort=False):
        diffusion, gan, vae = (lowest_fd_key(g, a) for a in ("ddpm", "gan", "vae"))
        if diffusion is None or (gan is None and vae is None):
            continue
        parts, texts, quality_cell, spread_cells = [], [], "–", ["–", "–", "–"]
        if gan is not None:
            fd = paired(seed_scores(g, gan, "frechet_distance"), seed_scores(g, diffusion, "frechet_distance"), log=True)
            behind = outcome(fd, FD_LOG_GAP) == "b"  # the GAN's distance lower beyond the noise
            parts.append(CONTRADICTS if behind else SUPPORTS if fd.n else UNKNOWN)
            quality_cell = fd_ratio(fd)
            texts.append(f"GAN FD / diffusion FD {quality_cell}")
        else:
            parts.append(UNKNOWN)
        if vae is not None:
            side, text, spread_cells = spread_part(g, diffusion, vae)
            parts.append(side)
            texts.append(text)
        else:
            parts.append(UNKNOWN)
        result = conjunction(parts)
        outcomes.append(result)
        lines.append(f"{dataset}: " + "; ".join(texts))
        table.append([dataset, diffusion, acc_fd(g, diffusion), gan or "–", acc_fd(g, gan), quality_cell,
                      vae or "–", *spread_cells, {SUPPORTS: "supports", CONTRADICTS: "contradicts", MIXED: "mixed",
                                                  TIE: "tie"}.get(result, "unknown")])
    if not outcomes:
        return verdict(entry, "inconclusive", "no dataset has finished generation cells of the diffusion model beside "
                       "the GAN or the VAE", scope=scope_of(rows))
    detail = (md_table(["dataset", "diffusion", "its FD", "GAN", "its FD", "GAN FD / diffusion FD", "VAE",
                        "diffusion FD sd", "VAE FD sd", "variance ratio of log FD [95%]", "reading"], table)
              + "\n\nQuality, per dataset, paired over seeds: holds unless the GAN's Fréchet distance is lower beyond "
              f"the noise (with one seed, by more than {np.exp(FD_LOG_GAP):.2g}x). Stability: the spread over seeds "
              "is the variance of the log Fréchet distance (scale-free: about the squared coefficient of variation); "
              "it holds unless the diffusion model's variance exceeds the VAE's beyond an F-test's 95% interval, and "
              f"needs {MIN_SPREAD_SEEDS} seeds or more of each (profile=full runs five). Both parts must hold; a "
              "part that could not be measured leaves the dataset inconclusive. Budgets are the suite's fixed step "
              "counts, the diffusion model sampled with fewer steps than it was trained on (DDIM, "
              "suites/model/ddpm.yaml).")
    return verdict(entry, overall(outcomes), "; ".join(lines), detail, scope_of(d))


def acc_fd(g: pd.DataFrame, key: str | None) -> str:
    """Mean Fréchet distance of a configuration over its seeds, as text."""
    if key is None:
        return "–"
    v = seed_scores(g, key, "frechet_distance")
    return f"{v.mean():.3g}" if len(v) else "–"


# ---------------------------------------------------------------- unsupervised suite (A4, A10)

MSE_LOG_GAP = np.log(1.1)  # A4 with one seed: a reconstruction error counts as lower only beyond 1.1x
RECONSTRUCTION_RIVALS = ("pca", "kernel_pca")
DETECTOR_RIVALS = ("isolation_forest", "one_class_svm", "lof")


def scored(rows: pd.DataFrame, column: str) -> pd.DataFrame:
    """Finished cells with a value in `column`."""
    d = ok(rows)
    return d[pd.to_numeric(d[column], errors="coerce").notna()] if column in d else d.iloc[:0]


def comparison(diff: PairedDifference, large_gap: float, higher_is_better: bool = True) -> str:
    """SUPPORTS when the first side (the autoencoder, the pretrained network) is ahead beyond the noise,
    CONTRADICTS when behind, TIE inside the noise, UNKNOWN with one seed and a gap under `large_gap`."""
    o = outcome(diff, large_gap)
    if o in ("a", "b"):
        ahead = (o == "a") == higher_is_better
        return SUPPORTS if ahead else CONTRADICTS
    return o


def wins_or_ties(outcomes: list[str]) -> str:
    """A4's reading: supported when the autoencoder is never behind (it wins or ties every comparison,
    at least one of them decided), contradicted when it is behind and never ahead, mixed when both."""
    wins, losses = outcomes.count(SUPPORTS), outcomes.count(CONTRADICTS)
    if losses:
        return "mixed" if wins else "contradicted"
    return "supported" if wins or TIE in outcomes else "inconclusive"


def diff_text(diff: PairedDifference, log: bool, digits: int = 3) -> str:
    if diff.n == 0:
        return "–"
    if log:
        return times(diff)
    text = f"{diff.mean:+.{digits}f}"
    return text + (" (1 seed)" if diff.single_seed else f" [{diff.lo:+.{digits}f}, {diff.hi:+.{digits}f}]")


def reconstruction_comparisons(rows: pd.DataFrame) -> tuple[list[str], list[list]]:
    """The autoencoder against PCA and kernel PCA at each code size of each reconstruction dataset:
    reconstruction MSE (as a log ratio, lower is better) and k-NN accuracy on the codes, paired over seeds."""
    outcomes, table = [], []
    d = scored(rows, "reconstruction_mse")
    d = d.assign(code_size=pd.to_numeric(d["code_size"], errors="coerce")) if "code_size" in d else d.iloc[:0]
    for (dataset, code), g in d.groupby(["dataset", "code_size"], sort=False):
        ae = g[g["arch"] == "autoencoder"]
        if ae.empty:
            continue
        for rival in RECONSTRUCTION_RIVALS:
            other = g[g["arch"] == rival]
            if other.empty:
                continue
            for metric, log, gap, better in (("reconstruction_mse", True, MSE_LOG_GAP, False),
                                             ("knn_accuracy", False, LARGE_GAP, True)):
                if metric not in g:
                    continue
                a = pd.to_numeric(ae[metric], errors="coerce").groupby(ae["seed"]).mean().dropna()
                b = pd.to_numeric(other[metric], errors="coerce").groupby(other["seed"]).mean().dropna()
                diff = paired(a, b, log=log)
                if diff.n == 0:
                    continue
                result = comparison(diff, gap, better)
                outcomes.append(result)
                table.append(["reconstruction" if log else "k-NN on codes", dataset, f"d={code:.0f}",
                              f"{a.mean():.4g}", f"{rival} {b.mean():.4g}", diff_text(diff, log), result])
    return outcomes, table


def anomaly_comparisons(rows: pd.DataFrame) -> tuple[list[str], list[list]]:
    """The autoencoder detector against isolation forest, one-class SVM and LOF per anomaly dataset
    (its variants, the held-out classes, pooled): ROC-AUC paired over (held-out class, seed)."""
    outcomes, table = [], []
    d = scored(rows, "roc_auc")
    d = d.assign(base=d["dataset"].astype(str).str.split("[", n=1).str[0])
    for base, g in d.groupby("base", sort=False):
        ae = g[g["arch"].str.contains("autoencoder")]
        if ae.empty:
            continue
        per_unit = lambda m: m.groupby(["dataset", "seed"])["roc_auc"].mean()  # noqa: E731
        a = per_unit(ae)
        for rival in DETECTOR_RIVALS:
            other = g[g["arch"] == rival]
            if other.empty:
                continue
            b = per_unit(other)
            diff = paired(a, b)
            if diff.n == 0:
                continue
            result = comparison(diff, LARGE_GAP)
            outcomes.append(result)
            units = f"{g['dataset'].nunique()} task(s) x {g['seed'].nunique()} seed(s)"
            table.append(["anomaly ROC-AUC", base, units, f"{a.mean():.3f}", f"{rival} {b.mean():.3f}",
                          diff_text(diff, False), result])
    return outcomes, table


def autoencoder_vs_classical(rows: pd.DataFrame, entry: dict) -> Verdict:
    """A4: at equal code size the autoencoder reconstructs better than PCA and kernel PCA and its codes
    feed a better k-NN, and its reconstruction error detects anomalies at least as well as isolation
    forest, one-class SVM and LOF."""
    parts = {"reconstruction": reconstruction_comparisons(rows), "anomaly": anomaly_comparisons(rows)}
    outcomes = [o for found, _ in parts.values() for o in found]
    if not outcomes:
        return verdict(entry, "inconclusive", "no dataset ran the autoencoder beside PCA / kernel PCA at one code size, "
                       "or beside isolation forest / one-class SVM / LOF", scope=scope_of(rows))
    table = [r for _, found in parts.values() for r in found]
    lines = []
    for what, metric in (("reconstruction error", "reconstruction"), ("k-NN on codes", "k-NN on codes"),
                         ("anomaly ROC-AUC", "anomaly ROC-AUC")):
        mine = [r[-1] for r in table if r[0] == metric]
        if mine:
            lines.append(f"{what}: autoencoder ahead in {mine.count(SUPPORTS)}, tied in {mine.count(TIE)}, behind "
                         f"in {mine.count(CONTRADICTS)}, undecided in {mine.count(UNKNOWN)} of {len(mine)}")
    detail = (md_table(["comparison", "dataset", "at", "autoencoder", "rival", "autoencoder − rival", "outcome"], table)
              + "\n\nReconstruction: test MSE per pixel at equal code size d, as the ratio autoencoder / rival "
              f"(below 1x is better; one seed: counts beyond {np.exp(MSE_LOG_GAP):.2g}x), and the accuracy of a 5-NN "
              "classifier on the codes; paired over seeds. Anomaly: ROC-AUC of the autoencoder's reconstruction error "
              "against each classical detector, paired over held-out classes and seeds (one task and seed: counts "
              f"beyond {100 * LARGE_GAP:.0f} points). Supported when the autoencoder is ahead or tied in every "
              "comparison; contradicted when it is behind and never ahead; mixed when it is both.")
    used = pd.concat([scored(rows, "reconstruction_mse"), scored(rows, "roc_auc")])
    return verdict(entry, wins_or_ties(outcomes), "; ".join(lines), detail, scope_of(used))


def dbn_pretraining(rows: pd.DataFrame, entry: dict) -> Verdict:
    """A10: a classifier whose hidden layers start from stacked RBMs beats the same network from random
    initialisation on few labels; where the generative suite ran a DBN, its samples are not worse than a
    Gaussian mixture's (Fréchet distance)."""
    outcomes, lines, table = [], [], []
    d = ok(rows[rows["arch"] == "dbn_classifier"])
    d = d[pd.to_numeric(d["accuracy"], errors="coerce").notna()]
    pretrain = d["variant"].str.extract(r"pretrain=(\w+)")[0]
    d = d.assign(pretrain=pretrain.fillna(""))
    for dataset, g in d.groupby("dataset", sort=False):
        scratch = g[g["pretrain"] == "none"].groupby("seed")["accuracy"].mean()
        if scratch.empty:
            continue
        for source in sorted(set(g["pretrain"]) - {"none", ""}):
            mine = g[g["pretrain"] == source].groupby("seed")["accuracy"].mean()
            diff = paired(mine, scratch)
            if diff.n == 0:
                continue
            result = comparison(diff, LARGE_GAP)
            outcomes.append(result)
            table.append([dataset, int(g["n_train"].max()), f"RBMs on {source} images", acc(mine.mean()),
                          acc(scratch.mean()), pts(diff), result])
    if table:
        ahead, behind = outcomes.count(SUPPORTS), outcomes.count(CONTRADICTS)
        lines.append(f"pretraining: ahead of random init in {ahead}, behind in {behind}, tied or undecided in "
                     f"{len(table) - ahead - behind} of {len(table)} (dataset, labels, pretraining data)")
    generated = []
    if "frechet_distance" in rows:
        gen = scored(rows, "frechet_distance")
        for dataset, g in gen.groupby("dataset", sort=False):
            dbn, gmm = g[g["arch"] == "dbn"], g[g["arch"] == "gmm"]
            if dbn.empty or gmm.empty:
                continue
            a, b = (m.groupby("seed")["frechet_distance"].mean() for m in (dbn, gmm))
            diff = paired(a, b, log=True)
            if diff.n == 0:
                continue
            behind = comparison(diff, FD_LOG_GAP, higher_is_better=False) == CONTRADICTS
            outcomes.append(CONTRADICTS if behind else SUPPORTS)  # usable: not worse than the mixture
            generated.append([dataset, f"{a.mean():.3g}", f"{b.mean():.3g}", times(diff),
                              "worse" if behind else "not worse"])
        if generated:
            lines.append(f"generation: DBN's Fréchet distance not worse than GMM's on "
                         f"{sum(r[-1] == 'not worse' for r in generated)}/{len(generated)} datasets")
    if not outcomes:
        return verdict(entry, "inconclusive", "no few-label dataset ran dbn_classifier with pretrain=none and a "
                       "pretrained variant, and no generative dataset ran dbn beside gmm", scope=scope_of(rows))
    detail = ""
    if table:
        detail += (md_table(["dataset", "labelled images", "pretraining", "pretrained", "random init",
                             "pretrained − random", "outcome"], table)
                   + "\n\nThe same MLP (logistic units) fine-tuned on the labelled images only, its hidden layers "
                   "initialised from a DBN (RBMs with CD-1 on every training image without labels, or on the labelled "
                   "ones only) or at random; accuracy paired over seeds (one seed: counts beyond "
                   f"{100 * LARGE_GAP:.0f} points).\n\n")
    if generated:
        detail += (md_table(["dataset", "DBN Fréchet distance", "GMM Fréchet distance", "DBN / GMM", "reading"],
                            generated)
                   + f"\n\nGeneration (suite generative): supports when the DBN's Fréchet distance is not above the "
                   f"Gaussian mixture's beyond the noise (one seed: by {np.exp(FD_LOG_GAP):.3g}x).\n\n")
    detail += ("Supported when every comparison supports (pretraining ahead beyond the noise; generation not worse "
               "than GMM); mixed when some do; contradicted when none does and some go the other way.")
    return verdict(entry, overall(outcomes), "; ".join(lines), detail,
                   scope_of(ok(rows[rows["arch"].isin(["dbn_classifier", "dbn", "gmm"])])))


# ---------------------------------------------------------------- GMDH (A11)

GMDH_RIVALS = ("mlp", "ridge")
MIN_GMDH_LAYERS = 2  # A11: a network "of any depth" must at least have grown past its first layer


def best_of_arch(d: pd.DataFrame, arch: str, metric: str) -> str | None:
    """The configuration of one architecture with the highest mean `metric` over seeds."""
    scores = d[d["arch"] == arch].groupby("key")[metric].mean().dropna()
    return scores.idxmax() if len(scores) else None


def gmdh_readings(rows: pd.DataFrame) -> tuple[list[str], list[list], list[str]]:
    """Per regression dataset with GMDH rows, at the largest size: GMDH's test R^2 and layers grown
    against the MLP and ridge regression, paired over seeds. (outcomes, table rows, evidence lines)."""
    outcomes, table, lines = [], [], []
    for (suite, dataset), d in scored(rows, "r2").groupby(["suite", "dataset"], sort=False):
        d = at_top_size(d)
        gmdh = best_of_arch(d, "gmdh", "r2")
        if gmdh is None:
            continue
        g = seed_scores(d, gmdh, "r2")
        layers = pd.to_numeric(d.loc[d["key"] == gmdh, "n_layers"], errors="coerce").mean() \
            if "n_layers" in d else np.nan
        parts, cells = {}, []
        for rival in GMDH_RIVALS:
            key = best_of_arch(d, rival, "r2")
            if key is None:
                cells.append("–")
                continue
            diff = paired(g, seed_scores(d, key, "r2"))
            parts[rival] = comparison(diff, LARGE_GAP)
            cells.append(f"{key} R² {seed_scores(d, key, 'r2').mean():.3f} (GMDH − it: {diff_text(diff, log=False)})")
        if not parts:
            continue
        behind = [r for r, o in parts.items() if o == CONTRADICTS]
        deep_enough = np.isfinite(layers) and layers >= MIN_GMDH_LAYERS
        if len(behind) == len(parts):
            result = CONTRADICTS
        elif behind or not deep_enough:
            result = MIXED
        else:
            result = SUPPORTS
        outcomes.append(result)
        layer_text = f"{layers:.1f}" if np.isfinite(layers) else "–"
        table.append([dataset, int(d["n_train"].iloc[0]), f"R² {g.mean():.3f}", layer_text, *cells,
                      {SUPPORTS: "competes, grew layers", CONTRADICTS: "behind both", MIXED:
                       ("behind " + ", ".join(behind)) if behind else f"competes, but {layer_text} layer(s)"}[result]])
        lines.append(f"{dataset}: GMDH R² {g.mean():.3f} with {layer_text} layers; "
                     + "; ".join(f"{r} {('ahead of GMDH' if o == CONTRADICTS else 'behind GMDH' if o == SUPPORTS else 'level')}"
                                 for r, o in parts.items()))
    return outcomes, table, lines


def gmdh_vs_mlp(rows: pd.DataFrame, entry: dict) -> Verdict:
    """A11: GMDH grows a multi-layer polynomial network that competes with an MLP and ridge regression."""
    outcomes, table, lines = gmdh_readings(rows)
    if not outcomes:
        return verdict(entry, "inconclusive", "no regression dataset has finished cells of gmdh and of mlp or ridge",
                       scope=scope_of(ok(rows)))
    detail = (md_table(["dataset", "n_train", "GMDH", "layers grown", "vs mlp", "vs ridge", "reading"], table)
              + f"\n\nTest R² at the largest training size, paired over seeds (one seed: gaps under "
              f"{LARGE_GAP:.2f} R² count as level). A dataset supports when GMDH grew at least {MIN_GMDH_LAYERS} "
              "layers and is behind neither rival beyond the noise; contradicts when it is behind both.")
    return verdict(entry, overall(outcomes), "; ".join(lines), detail,
                   scope_of(ok(rows[rows["arch"].isin(["gmdh", *GMDH_RIVALS])])))
# ---------------------------------------------------------------- rl suite (A12)

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


# ---------------------------------------------------------------- registry of rules

def pending(rows: pd.DataFrame, entry: dict) -> Verdict:
    """The rule of a claim whose suite exists before its decision rule does."""
    return verdict(entry, "inconclusive", f"rows exist for {', '.join(sorted(rows['suite'].unique()))} but rule "
                   f"`{entry['rule']}` is not implemented yet; no verdict is guessed", scope=scope_of(rows))


IMPLEMENTED = (learning_curve_crossover, domain_winners, training_time, parameter_counts, cpu_budget, cnn_vs_mlp,
               depth_degradation, xor_separability, best_deep_vs_best_classical, curve_slope_at_top, small_data_gap, compute_cost,
               interpretability_by_family, recurrent_memory, transformer_rank_and_cost, mamba_scaling,
               features_raw_vs_crafted, gan_quality, diffusion_quality_stability, autoencoder_vs_classical,
               dbn_pretraining, gmdh_vs_mlp, deep_q_vs_tabular)
# Named in the registry, decided later: until then rows for them are inconclusive, never guessed.
PLANNED = ("use_case_winners",)
RULES = {rule.__name__: rule for rule in IMPLEMENTED} | {name: pending for name in PLANNED}


def judge(rows: pd.DataFrame, entry: dict) -> Verdict:
    """One claim: definitional, not-run, not implemented, or its rule's verdict on its suites' rows."""
    if entry["rule"] == "definitional":
        return verdict(entry, "definitional", entry["why"].strip(), scope="no experiment")
    suites = entry["evidence"]["suites"]
    mine = rows[rows["suite"].isin(suites)]
    if mine.empty:
        return not_run(entry, f"no results for suite{'s' if len(suites) > 1 else ''} {', '.join(suites)}")
    if entry["rule"] not in RULES:
        return verdict(entry, "inconclusive", f"no rule named `{entry['rule']}`", scope=scope_of(mine))
    if ok(mine).empty and entry["rule"] != "depth_degradation":
        counts = ", ".join(f"{n} {s}" for s, n in mine["status"].value_counts().items())
        return verdict(entry, "inconclusive", f"no finished cells ({counts})", scope=scope_of(mine))
    try:
        return RULES[entry["rule"]](mine, entry)
    except Exception as e:  # noqa: BLE001 - one broken rule must not hide the other verdicts
        return verdict(entry, "inconclusive", f"rule `{entry['rule']}` failed: {type(e).__name__}: {e}",
                       scope=scope_of(mine))


def evaluate_claims(df: pd.DataFrame, run_infos: dict | None = None, registry: list[dict] | None = None) -> list[Verdict]:
    """Verdicts for every registry claim, in registry order. `run_infos` ({run folder: run.json}) adds
    machine details to the scope."""
    rows = prepare(df, run_infos)
    return [judge(rows, entry) for entry in (registry if registry is not None else load_registry())]
