"""Result rows as the rules read them: `prepare` once, then the shared ways of picking, pairing and
describing rows, so that every rule compares seeds, sizes and hardware alike."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from harness.evaluation.stats import PairedDifference, paired_difference
from harness.results.schema import OPTIONAL_COLUMNS, with_defaults

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
                # what a cell's budget was and whether it bound (harness/claims/conditions.py)
                "params", "n_test", "epochs", "steps", "rbm_epochs", "stop_reason", "loss_still_falling", "learning_curve",
                "fd_best_step",
                "n_features",
                *OPTIONAL_COLUMNS]


def prepare(df: pd.DataFrame, run_infos: dict | None = None) -> pd.DataFrame:
    """Fill missing columns and add `arch` (model without variant), `key` (one configuration, whose
    seeds may be pooled), `hardware` (the device the run's deep models used), `machine` (where the row
    ran), `host` (the kind of machine the run ran on) and `rig` (that host with the device its deep
    models used)."""
    df = with_defaults(df)
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
    hosts, rigs = run_rigs(df, run_infos)
    df["host"], df["rig"] = df["run"].map(hosts), df["run"].map(rigs)
    return df


def run_rigs(df: pd.DataFrame, run_infos: dict | None) -> tuple[dict[str, str], dict[str, str]]:
    """Each run's host ("<CPU>, <n> cores") and rig: "cpu (<host>)", or "<device> (<GPU>) beside <host>"
    where its deep models used another device. A kind of machine, not one machine: a host is its CPU
    model and core count (a cluster's identical nodes are one rig; a hostname would split them)."""
    hosts, rigs = {}, {}
    for run, d in df.groupby("run", sort=False):
        cores = ((run_infos or {}).get(run) or {}).get("machine", {}).get("cpu_cores")
        cpus = d["cpu_model"].dropna().astype(str)
        cpus = cpus[cpus != ""]
        host = hosts[run] = (cpus.iloc[0] if len(cpus) else "unknown CPU") + (f", {cores} cores" if cores else "")
        hardware = d["hardware"].iloc[0]
        gpus = d.loc[d["device"] != "cpu", "gpu_name"].dropna().astype(str)
        rigs[run] = (f"cpu ({host})" if hardware == "cpu"
                     else f"{hardware} ({gpus.iloc[0] if len(gpus) else 'unknown GPU'}) beside {host}")
    return hosts, rigs


def main_rig(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows of each suite's main rig: the one with the most finished cells there (ties: a CPU rig,
    then by name). A comparison never pairs a seed on one machine with a seed on another, nor averages
    one cell run on two: only rules that compare machines read the others' rows (`@rule(compares_machines=True)`)."""
    if rows.empty or rows["rig"].nunique() <= 1:
        return rows
    main = {}
    for suite, d in rows.groupby("suite", sort=False):
        finished = ok(d)["rig"].value_counts()
        main[suite] = min(d["rig"].unique(), key=lambda r: (-finished.get(r, 0), not r.startswith("cpu ("), r))
    return rows[rows["rig"] == rows["suite"].map(main)]


def other_rigs(rows: pd.DataFrame, kept: pd.DataFrame) -> list[str]:
    """The rigs of `rows` that `kept` leaves out, with their cells: "<rig>: <n> cells"."""
    left = rows.loc[rows.index.difference(kept.index)]
    return [f"{rig}: {n} cell{'s' * (n != 1)}" for rig, n in left["rig"].value_counts().sort_index().items()]


def rig_labels(rows: pd.DataFrame) -> dict[str, str]:
    """A short name per rig for a rule's text: its device ("cpu", "cuda") where no other rig in `rows`
    shares it, else the whole rig."""
    rigs = rows.groupby("rig", sort=False)["hardware"].first()
    shared = rigs.duplicated(keep=False)
    return {rig: (rig if shared[rig] else hw) for rig, hw in rigs.items()}


def machine_text(row, run_infos: dict | None) -> str:
    if row.device != "cpu" and isinstance(row.gpu_name, str) and row.gpu_name:
        return f"{row.device} ({row.gpu_name})"
    cores = ((run_infos or {}).get(row.run) or {}).get("machine", {}).get("cpu_cores")
    cpu = row.cpu_model if isinstance(row.cpu_model, str) and row.cpu_model else "unknown CPU"
    return f"cpu ({cpu}{f', {cores} cores' if cores else ''})"


# ---------------------------------------------------------------- picking rows

def ok(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[rows["status"] == "ok"]


def scored(rows: pd.DataFrame, column: str) -> pd.DataFrame:
    """Finished cells with a value in `column`."""
    d = ok(rows)
    return d[pd.to_numeric(d[column], errors="coerce").notna()] if column in d else d.iloc[:0]


def missing_suites(rows: pd.DataFrame, entry: dict) -> list[str]:
    return [s for s in entry["evidence"]["suites"] if s not in set(rows["suite"])]


def at_top_size(d: pd.DataFrame) -> pd.DataFrame:
    """Rows at the largest training size where both families have finished cells (else the largest)."""
    both = d.groupby("n_train")["family"].nunique()
    sizes = both[both >= 2].index if (both >= 2).any() else both.index
    return d[d["n_train"] == sizes.max()]


def common_sizes(d: pd.DataFrame) -> list[int]:
    per_family = [set(g["n_train"]) for _, g in d.groupby("family")]
    return sorted(set.intersection(*per_family)) if len(per_family) == 2 else []


def size_of(n) -> int | None:
    return None if n is None or pd.isna(n) else int(n)


def cells_of(d: pd.DataFrame, keys) -> tuple:
    """The (dataset, configuration, training size) cells of `keys` in `d`. The size is part of a cell: a
    budget that bound at one size (boosting without early stopping on 50 images) says nothing about
    the same model at 60,000 images, where it stopped on its own."""
    mine = d[d["key"].isin(list(keys))]
    sizes = mine["n_train"] if "n_train" in mine else pd.Series(None, index=mine.index, dtype=float)
    return tuple(sorted({(ds, k, size_of(n)) for ds, k, n in zip(mine["dataset"], mine["key"], sizes)},
                        key=lambda c: (c[0], c[1], -1 if c[2] is None else c[2])))


def seed_scores(d: pd.DataFrame, key: str, metric: str) -> pd.Series:
    """One score per seed (duplicated cells, e.g. the same seed in two runs, are averaged), labelled
    with the cells it comes from (`cells_of`), so a comparison knows whose budget bound."""
    mine = d[d["key"] == key]
    scores = mine.groupby("seed")[metric].mean().dropna()
    scores.attrs["cells"] = cells_of(mine, [key])
    return scores


def best_key(d: pd.DataFrame, family: str, metric: str = "accuracy") -> str | None:
    """The configuration of `family` with the highest mean `metric` over seeds."""
    scores = d[d["family"] == family].groupby("key")[metric].mean().dropna()
    return scores.idxmax() if len(scores) else None


def paired(a: pd.Series, b: pd.Series, log: bool = False, lower_is_better: bool = False) -> PairedDifference:
    """a - b over the seeds both have (on log values when `log`: the difference is a log ratio).
    `lower_is_better` (a distance, an error): the side with the larger value lost, for the budget check."""
    cells = (a.attrs.get("cells", ()), b.attrs.get("cells", ()))
    a, b = a.align(b, join="inner")
    if log:
        a, b = np.log(a.clip(lower=1e-9)), np.log(b.clip(lower=1e-9))
    return replace(paired_difference(a.to_numpy(), b.to_numpy()), a_cells=cells[0], b_cells=cells[1],
                   higher_is_better=not lower_is_better)


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


def diff_text(diff: PairedDifference, log: bool, digits: int = 3) -> str:
    """A difference of scores on any scale (a factor when `log`), with its interval."""
    if diff.n == 0:
        return "–"
    if log:
        return times(diff)
    text = f"{diff.mean:+.{digits}f}"
    return text + (" (1 seed)" if diff.single_seed else f" [{diff.lo:+.{digits}f}, {diff.hi:+.{digits}f}]")


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
    seed_text = (f"1 seed ({seeds[0]}): no noise estimate, so directions are indicative only" if len(seeds) == 1 else
                 f"{len(seeds)} seeds ({', '.join(map(str, seeds))})")
    parts = [f"suite {', '.join(sorted(d['suite'].unique()))}", f"datasets {', '.join(sorted(d['dataset'].unique()))}",
             sizes_text(d["n_train"]), seed_text, "hardware " + ", ".join(sorted(d["machine"].unique()))]
    return "; ".join(parts) + (f". {note}" if note else "")
