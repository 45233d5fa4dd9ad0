"""What a verdict was tested on: sizes, seeds, budgets, hardware, exclusions, read from the rows it rests on.

Conditions are part of a verdict's identity (as in HELM, where a score means nothing without the
scenario and the adaptation that produced it): two verdicts on different data sizes or budgets are
different results. `conditions_of` collects them from a claim's rows; `budget_bound` says whether a
cell stopped because its budget ran out rather than because it had finished learning.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from harness.claims.rows import size_of
from harness.claims.verdict import Conditions
from harness.evaluation.budget import still_improving

# A model's budget, as its params name it: the cap, and the row column that says how much it used.
CAPS = (("max_epochs", "epochs", "epochs"), ("max_steps", "steps", "steps"), ("max_steps", "train_steps", "steps"),
        ("rbm_steps", "rbm_epochs", "RBM epochs"), ("total_timesteps", "env_steps", "env steps"))
CURVE_TOLERANCE = 0.02  # a return curve still rising by more than 2% of its range over its last quarter


def params_of(row) -> dict:
    text = row.get("params") if isinstance(row, dict) else getattr(row, "params", None)
    try:
        return json.loads(text) if isinstance(text, str) and text else {}
    except ValueError:
        return {}


def budget_of(row: pd.Series) -> tuple[str, bool]:
    """(the cell's budget in words, whether it bound). It bound when the budget ended training: the row's
    `stop_reason` is a budget (epochs, steps, seconds; not "plateau": a generator's Fréchet distance
    had stopped improving) or, in rows written before bench recorded it, the
    cell used its whole cap of epochs or steps; when its wall-clock cap cut it (`budget_hit`); or when it
    was still improving at the end (`loss_still_falling`, or a recorded return curve still rising)."""
    params, parts, bound = params_of(row), [], False
    for cap, used_col, unit in CAPS:
        limit, used = params.get(cap), row.get(used_col)
        if limit is None or used is None or pd.isna(used) or unit in " ".join(parts):
            continue
        parts.append(f"{int(used)}/{int(limit)} {unit}")
        bound |= float(used) >= float(limit)
    reason = row.get("stop_reason")
    # the model's own decision to stop: a loss still falling then does not make the budget bind
    decided = isinstance(reason, str) and reason in ("solved", "early_stopping", "converged", "plateau")
    if isinstance(reason, str) and reason:  # recorded: it says what ended training, better than a count
        bound = reason in ("epochs", "steps", "seconds", "iterations", "time_limit")
        parts.append(f"stopped by {reason}")
    best_step = row.get("fd_best_step")  # a generator checked along training (harness/deep/generative.py)
    if best_step is not None and not pd.isna(best_step):
        parts.append(f"Fréchet distance best at step {int(best_step)}")
    if params.get("budget_seconds"):
        parts.append(f"≤{params['budget_seconds']} {'CPU-s' if params.get('budget_clock') == 'cpu' else 's'}")
    elif params.get("time_limit"):
        parts.append(f"≤{params['time_limit']} s")
    for flag in ("budget_hit", "loss_still_falling"):
        value = row.get(flag)
        if value is not None and not pd.isna(value) and bool(value):
            bound |= not (decided and flag == "loss_still_falling")
            parts.append("loss still falling" if flag == "loss_still_falling" else "time cap hit")
    curve = row.get("learning_curve")
    if isinstance(curve, str) and curve:
        values = learning_curve_values(curve)
        if len(values) >= 4:
            spread = float(np.nanmax(values) - np.nanmin(values)) or 1.0
            rising = still_improving(values, higher_is_better=True, tolerance=CURVE_TOLERANCE * spread)
            bound |= rising
            parts.append("return still rising" if rising else "return flat at the end")
    return ", ".join(parts), bound


def learning_curve_values(text: str) -> list[float]:
    try:
        curve = json.loads(text)
    except ValueError:
        return []
    if isinstance(curve, dict):
        curve = curve.get("returns") or curve.get("mean_return") or list(curve.values())[-1]
    out = []
    for point in curve or []:
        value = point[-1] if isinstance(point, (list, tuple)) else point.get("mean_return") if isinstance(point, dict) else point
        try:
            out.append(float(value))
        except (TypeError, ValueError):
            continue
    return out


def bound_keys(rows: pd.DataFrame) -> set[tuple[str, str, int | None]]:
    """(dataset, configuration key, training size) cells where some finished run was budget-bound."""
    if rows.empty or "key" not in rows:
        return set()
    done = rows[rows["status"] == "ok"]
    return {(r["dataset"], r["key"], size_of(r.get("n_train"))) for _, r in done.iterrows() if budget_of(r)[1]}


def model_budgets(rows: pd.DataFrame) -> dict[str, str]:
    """One line per model with a budget: its cap and in how many finished cells it bound."""
    out = {}
    done = rows[rows["status"] == "ok"]
    for arch, group in done.groupby("arch", sort=True):
        budgets = [budget_of(r) for _, r in group.iterrows()]
        texts = sorted({t for t, _ in budgets if t})
        if not texts:
            continue
        n_bound = sum(b for _, b in budgets)
        example = texts[0] if len(texts) == 1 else f"{texts[0]} … {texts[-1]}"
        out[str(arch)] = f"{example}; bound in {n_bound}/{len(budgets)} cells"
    return out


def excluded_cells(rows: pd.DataFrame) -> list[str]:
    """Cells that did not finish, as "model on dataset: status (n)": they are not in any comparison."""
    bad = rows[rows["status"] != "ok"]
    return [f"{m} on {d}: {s} ({n})" for (m, d, s), n in bad.groupby(["model", "dataset", "status"]).size().items()]


def run_settings(rows: pd.DataFrame, run_infos: dict | None) -> tuple[list[str], str, str]:
    """(threads, tuning budget, machine load) from the runs' run.json."""
    threads, tuning, load = set(), set(), []
    for run in sorted(set(rows["run"])) if "run" in rows else []:
        info = (run_infos or {}).get(run) or {}
        config = info.get("config") or {}
        hardware = config.get("hardware") or {}
        if hardware.get("threads") is not None:
            threads.add(str(hardware["threads"]))
        tune = config.get("tune")
        tuning.add("none" if not tune else json.dumps(tune, sort_keys=True, default=str) if not isinstance(tune, str) else tune)
        seconds = (info.get("calibration") or {}).get("seconds")
        if seconds:
            load.append(float(seconds))
    load_text = (f"calibration {min(load) * 1000:.0f}–{max(load) * 1000:.0f} ms (a busy machine reads slower)"
                 if load else "")
    return sorted(threads), ", ".join(sorted(tuning)), load_text


def mixed_precisions(rows: pd.DataFrame) -> list[str]:
    """"precision bf16" and the like where some cells computed in less than float32 (harness/deep/precision.py)."""
    values = rows["compute_precision"].dropna().astype(str) if "compute_precision" in rows else pd.Series(dtype=str)
    return [f"precision {p}" for p in sorted(set(values) - {"32"})]


def conditions_of(rows: pd.DataFrame, run_infos: dict | None = None, *, paired: list[int] | None = None,
                  regime: str = "") -> Conditions:
    """The conditions of the rows a verdict rests on (all of the claim's suites' rows: finished or not)."""
    if rows.empty:
        return Conditions(regime=regime)
    done = rows[rows["status"] == "ok"]
    ints = lambda col: sorted({int(v) for v in pd.to_numeric(done.get(col, pd.Series(dtype=float)), errors="coerce").dropna()})
    threads, tuning, load = run_settings(rows, run_infos)
    threads = sorted(set(threads) | {str(t) for t in ints("torch_threads")})  # what the cells ran on (workers share cores)
    return Conditions(
        suites=sorted(set(rows["suite"])), datasets=sorted(set(rows["dataset"])), n_train=ints("n_train"),
        n_test=ints("n_test"), seeds=ints("seed"), paired=list(paired or []), budgets=model_budgets(rows),
        bound=sorted({k for _, k, _ in bound_keys(rows)}), tuning=tuning, hardware=sorted(set(done.get("machine", [])))
        + mixed_precisions(done),
        threads=threads, workers=ints("workers"), load=load, excluded=excluded_cells(rows), regime=regime)


def span(values: list[int], unit: str = "") -> str:
    if not values:
        return "–"
    return f"{values[0]}{unit}" if len(values) == 1 else (
        ", ".join(f"{v}{unit}" for v in values) if len(values) <= 4 else f"{values[0]}–{values[-1]}{unit} ({len(values)} values)")


def condition_lines(c: Conditions) -> list[str]:
    """The conditions as short lines, the way the report and `--explain` show them."""
    if not c.suites:
        return [c.regime] if c.regime else ["no rows"]
    paired = sorted(set(c.paired))
    lines = [f"suites {', '.join(c.suites)}; datasets {', '.join(c.datasets)}",
             f"training sizes {span(c.n_train)}; test sizes {span(c.n_test)}",
             f"seeds {span(c.seeds)}; paired per comparison "
             + ("–" if not paired else f"{paired[0]}" if len(paired) == 1 else f"{paired[0]}–{paired[-1]}")
             + (f" ({len(c.paired)} comparisons)" if c.paired else "")]
    if c.budgets:
        lines.append("budgets: " + "; ".join(f"{m} {t}" for m, t in c.budgets.items()))
    lines.append(f"tuning {c.tuning or 'none recorded'}")
    at_once = [w for w in c.workers if w > 1]
    lines.append("hardware " + (", ".join(c.hardware) or "–") + (f"; threads {', '.join(c.threads)}" if c.threads else "")
                 + (f"; up to {max(at_once)} cells at once (times measured side by side)" if at_once else "")
                 + (f"; {c.load}" if c.load else ""))
    if c.excluded:
        lines.append("excluded: " + "; ".join(c.excluded))
    if c.guards:
        lines.append("second implementations: " + "; ".join(c.guards))
    if c.other_rigs:
        lines.append("not read, run on another rig (only the time and hardware claims compare rigs): "
                     + "; ".join(c.other_rigs))
    if c.regime:
        lines.append(c.regime)
    return lines
