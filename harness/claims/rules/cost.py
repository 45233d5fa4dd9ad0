"""What a model costs: T3 (training time), T8 (whether deep models need a GPU), D4 (CPU-seconds and
the GPU need together), T6 (stored numbers) and A2 (a CNN's parameters against an MLP's)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.claims.registry import rule
from harness.claims.rows import (acc, at_top_size, best_key, md_table, ok, paired, pts, rig_labels, scope_of, seed_scores,
                                 times)
from harness.claims.rules.curves import linked_note
from harness.claims.rules.kinds import shallow_note, without_shallow
from harness.claims.rules.selection import SELECTION_NOTE, family_curves, loso_pick
from harness.claims.verdict import (CONTRADICTS, LARGE_LOG_RATIO, SUPPORTS, TIE, UNKNOWN, Curve, Verdict, not_run,
                                    outcome, overall, verdict)
from harness.core.display import fmt_count, fmt_seconds


# ---------------------------------------------------------------- time and hardware

CPU_BUDGET_SECONDS = 600    # T8: a deep model "runs on a CPU" when it trains within 10 minutes there


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
    """Most accurate deep and classical configurations (chosen leave one seed out, rules/selection.py)
    and the paired log-ratio of their `column` (deep over classical) with its outcome; None when a
    family is missing."""
    deep, classical = loso_pick(d, "deep"), loso_pick(d, "classical")
    if deep is None or classical is None:
        return None
    ratio = paired(deep.scores(d, column), classical.scores(d, column), log=True)
    result = outcome(ratio, LARGE_LOG_RATIO)
    return deep, classical, ratio, {"a": SUPPORTS, "b": CONTRADICTS}.get(result, result)


@rule(compares_machines=True)
def training_time(rows: pd.DataFrame, entry: dict) -> Verdict:
    """T3: wall training time of the most accurate deep vs most accurate classical model, on each rig
    (one kind of machine and the device its deep models used) apart."""
    outcomes, table, lines = [], [], []
    labels = rig_labels(rows)
    done = ok(rows)
    for (dataset, rig), d_all in done.groupby(["dataset", "rig"], sort=False):
        hardware = labels[rig]
        if not (d_all["family"] == "classical").any() and d_all["hardware"].iloc[0] != "cpu":
            # classical models always run on the CPU: a GPU rig's classical side is its host's (a run of
            # the deep models alone on the GPU beside one of every model on that host's CPU)
            host = d_all["host"].iloc[0]
            d_all = pd.concat([d_all, done[(done["dataset"] == dataset) & (done["host"] == host)
                                           & (done["family"] == "classical") & (done["hardware"] == "cpu")]])
        d = at_top_size(d_all)
        pair = best_pair_ratio(d, "train_seconds")
        if pair is None:
            continue
        deep, classical, ratio, result = pair
        outcomes.append(result)
        target = min(deep.scores(d, "accuracy").mean(), classical.scores(d, "accuracy").mean())
        table.append([dataset, hardware, f"{classical.name} {fmt_seconds(classical.scores(d, 'train_seconds').mean())}",
                      f"{deep.name} {fmt_seconds(deep.scores(d, 'train_seconds').mean())}", times(ratio),
                      acc(target), time_to_reach(d_all, "classical", target), time_to_reach(d_all, "deep", target)])
        lines.append(f"{dataset} on {hardware}: {deep.name} takes {times(ratio)} the time of {classical.name}")
    if not outcomes:
        return verdict(entry, "inconclusive", "no dataset has finished cells of both families", scope=scope_of(rows))
    detail = (md_table(["dataset", "hardware", "best classical: train", "best deep: train", "deep / classical",
                        "accuracy both reach", "classical time to reach it", "deep time to reach it"], table)
              + "\n\nTime to reach an accuracy is read across the models and training sizes run; bench does not "
              "record accuracy during training, so time-to-accuracy inside one training run is not derivable. "
              + SELECTION_NOTE)
    return verdict(entry, overall(outcomes), "; ".join(lines), detail, scope_of(ok(rows)),
                   curves=family_curves(ok(rows), "train_seconds", "training seconds over training size, "
                                        "most accurate configuration per family"))


@dataclass
class BudgetReading:
    dataset: str
    model: str
    n_train: int
    seconds: float
    accuracy: float
    statuses: str
    outcome: str      # supports "needs a GPU", contradicts it, or unknown
    machine: str = ""  # the CPU rig, where readings come from more than one


def cpu_budget_readings(rows: pd.DataFrame) -> list[BudgetReading]:
    """Every deep configuration trained on a CPU, at its dataset's largest CPU size: within budget or not,
    on each CPU rig apart (`machine` names it where there are several). Models of `kind: shallow` (no
    hidden layer) are not deep in the article's sense and left out."""
    rows, _ = without_shallow(rows)
    deep_cpu = rows[(rows["family"] == "deep") & (rows["device"] == "cpu")]
    labels = rig_labels(deep_cpu)
    readings = []
    for (dataset, rig), d in deep_cpu.groupby(["dataset", "rig"], sort=False):
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
                                          done["accuracy"].mean(), statuses, result,
                                          rig if len(labels) > 1 else ""))
    return readings


def gpu_speedups(rows: pd.DataFrame) -> list[list]:
    """CPU over GPU training time per deep configuration and size run on both, on the same kind of host (a
    GPU row is paired with CPU rows whose CPU model and core count are its host's: a laptop's CPU against
    a server's GPU would measure the machines, not the devices)."""
    deep = ok(rows[rows["family"] == "deep"])
    table = []
    for (dataset, key, n, host), d in deep.groupby(["dataset", "key", "n_train", "host"], sort=False):
        cpu, gpu = d[d["device"] == "cpu"], d[d["device"] != "cpu"]
        if cpu.empty or gpu.empty:
            continue
        table.append([dataset, key, n, fmt_seconds(cpu["train_seconds"].mean()), fmt_seconds(gpu["train_seconds"].mean()),
                      f"{cpu['train_seconds'].mean() / gpu['train_seconds'].mean():.1f}x",
                      f"{100 * (gpu['accuracy'].mean() - cpu['accuracy'].mean()):+.1f} pts",
                      ", ".join(sorted(gpu["machine"].unique())) + f" vs its host CPU ({host})"])
    return table


@rule(compares_machines=True)
def cpu_budget(rows: pd.DataFrame, entry: dict) -> Verdict:
    """T8: a deep model that trains on a CPU within budget contradicts 'needs a GPU' for that task."""
    rows, shallow = without_shallow(rows)
    readings = cpu_budget_readings(rows)
    if not readings:
        return not_run(entry, "no deep model was trained on a CPU" + (f" ({shallow_note(shallow)})" if shallow else ""))
    within = [r for r in readings if r.outcome == CONTRADICTS]
    over = [r for r in readings if r.outcome == SUPPORTS]
    classical = ok(rows[rows["family"] == "classical"])
    evidence = (linked_note(entry) + f"{len(within)}/{len(readings)} deep model-dataset pairs train on CPU within "
                f"{CPU_BUDGET_SECONDS // 60} min" + (f" (slowest {max(within, key=lambda r: r.seconds).model} "
                                                     f"{fmt_seconds(max(r.seconds for r in within))})" if within else "")
                + (f"; over budget: {', '.join(f'{r.dataset}/{r.model}' for r in over)}" if over else "")
                + (f"; classical: all on CPU, longest {fmt_seconds(classical['train_seconds'].max())}"
                   if len(classical) else ""))
    speedups = gpu_speedups(rows)
    if speedups:
        largest = {}  # each model's speedup at its largest size run on both devices
        for s in speedups:
            if s[2] >= largest.get((s[0], s[1]), s)[2]:
                largest[(s[0], s[1])] = s
        evidence += "; GPU speedup " + ", ".join(f"{s[1]} {s[5]} ({s[0]}, n={s[2]})" for s in list(largest.values())[:4])
    if shallow:
        evidence += f"; not counted as deep (kind: shallow): {', '.join(shallow)}"
    machines = any(r.machine for r in readings)
    detail = md_table(["dataset", *(["machine"] * machines), "deep model", "n_train", "CPU train time", "accuracy", "cells",
                       "within budget"],
                      [[r.dataset, *([r.machine] * machines), r.model, r.n_train, fmt_seconds(r.seconds), acc(r.accuracy),
                        r.statuses, {CONTRADICTS: "yes", SUPPORTS: "no"}.get(r.outcome, "unknown")] for r in readings])
    detail += (f"\n\nBudget: mean training time at most {CPU_BUDGET_SECONDS} s with every seed finished. A model within "
               "budget contradicts \"needs a GPU\" for that task at this size.")
    if speedups:
        detail += "\n\nGPU speedup (does not change the verdict: faster is not needed):\n\n" + md_table(
            ["dataset", "model", "n_train", "CPU", "GPU", "speedup", "GPU − CPU accuracy", "GPU"], speedups)
    if shallow:
        detail += "\n\n" + shallow_note(shallow)
    deep_cpu = rows[(rows["family"] == "deep") & (rows["device"] == "cpu")]
    return verdict(entry, overall([r.outcome for r in readings]), evidence, detail, scope_of(deep_cpu),
                   curves=accuracy_vs_cpu_seconds(rows))


def accuracy_vs_cpu_seconds(rows: pd.DataFrame) -> list[Curve]:
    """T8's evidence over an axis: accuracy against CPU-seconds of training, one point per configuration
    (means over seeds) at each dataset's largest size on a CPU, one series per dataset and family (and
    CPU rig, where there are several)."""
    d = ok(rows[rows["device"] == "cpu"])
    labels = rig_labels(d)
    series = {}
    for (dataset, rig), g in d.groupby(["dataset", "rig"], sort=False):
        g = g[g["n_train"] == g["n_train"].max()]
        per_key = g.groupby(["family", "key"]).agg(x=("train_cpu_seconds", "mean"), y=("accuracy", "mean")).dropna()
        for family, f in per_key.groupby(level="family"):
            name = f"{dataset} · {family}" + (f" · {labels[rig]}" if len(labels) > 1 else "")
            series[name] = sorted((float(r.x), float(r.y)) for r in f.itertuples())
    return [Curve("train_cpu_seconds", "accuracy", series, log_x=True,
                  title="accuracy against CPU-seconds of training, one point per configuration")] if series else []


@rule(compares_machines=True)
def compute_cost(rows: pd.DataFrame, entry: dict) -> Verdict:
    """D4: deep costs more CPU-seconds than classical (cost), on each CPU rig apart, and needs a GPU
    (T8's budget rule)."""
    cpu_runs = ok(rows[rows["hardware"] == "cpu"])
    labels = rig_labels(cpu_runs)
    cost_outcomes, table = [], []
    for (dataset, rig), d in cpu_runs.groupby(["dataset", "rig"], sort=False):
        d = at_top_size(d)
        dataset = f"{dataset} on {labels[rig]}" if len(labels) > 1 else dataset
        pair = best_pair_ratio(d, "train_cpu_seconds")
        if pair is None:
            continue
        deep, classical, ratio, result = pair
        cost_outcomes.append(result)
        memory = deep.scores(d, "peak_memory_mb").mean() / classical.scores(d, "peak_memory_mb").mean()
        table.append([dataset, f"{classical.name} / {deep.name}", times(ratio),
                      f"{memory:.2g}x" if np.isfinite(memory) else "–"])
    budget = cpu_budget_readings(rows)
    if not cost_outcomes and not budget:
        return not_run(entry, "no run trained on a CPU")
    cost = overall(cost_outcomes) if cost_outcomes else "inconclusive"
    need = overall([r.outcome for r in budget]) if budget else "inconclusive"
    value = cost if cost == need else "mixed" if {cost, need} & {"supported", "contradicted", "mixed"} else "inconclusive"
    within = sum(r.outcome == CONTRADICTS for r in budget)
    evidence = (linked_note(entry) + f"cost {cost}: deep/classical CPU-seconds " + ", ".join(f"{t[0]} {t[2]}" for t in table)
                + f"; GPU need {need}: {within}/{len(budget)} deep models train on CPU within "
                f"{CPU_BUDGET_SECONDS // 60} min")
    detail = (md_table(["dataset", "best classical / best deep", "CPU-seconds deep / classical",
                        "peak memory deep / classical"], table)
              + f"\n\nCost part: {cost}. GPU-need part (T8's rule, budget {CPU_BUDGET_SECONDS} s on CPU): {need}."
              " Peak memory is the process's resident memory above its start, sampled every 5 ms: a guide, not a decision. "
              + SELECTION_NOTE + " The GPU-need part leaves out models of `kind: shallow`, as T8 does.")
    return verdict(entry, value, evidence, detail, scope_of(cpu_runs),
                   curves=family_curves(cpu_runs, "train_cpu_seconds", "CPU-seconds of training over training size, "
                                        "most accurate configuration per family"))


# ---------------------------------------------------------------- model size and architecture

@rule
def parameter_counts(rows: pd.DataFrame, entry: dict) -> Verdict:
    """T6: median stored numbers of deep models vs classical models per dataset; models of `kind: shallow`
    (no hidden layer) are not deep in the article's sense and stay off the deep side."""
    rows, shallow = without_shallow(rows)
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
                  "Fitted model size in bytes is not recorded." + (" " + shallow_note(shallow) if shallow else ""))
    evidence = "; ".join(lines) + (f"; not counted as deep (kind: shallow): {', '.join(shallow)}" if shallow else "")
    return verdict(entry, overall(outcomes), evidence, "\n\n".join(detail), scope_of(ok(rows)))


@rule
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
