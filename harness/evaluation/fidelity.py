"""Published-figure fidelity: bench's baselines beside the figures their authors or archives published
for the same data and split (baselines/published_figures.yaml), so that a claim is never judged
against a baseline weaker than the literature's.

`fidelity_table(rows)` matches finished rows to the registry by suite, dataset, model and training
size (the registry's `n_train`: the size the figure is for), with the default variant and untuned
settings only, and returns one row per registry entry: bench's mean and standard deviation over seeds,
the number of seeds, and the difference in points. A point is a percentage point for accuracies and
error rates, and 1% of the environment's return range for returns; the difference is signed so that
positive means bench does better, whichever way the metric points. An entry more than `FLAG_POINTS`
below its figure is flagged; an entry without rows reads "not run", with `largest_run` the largest training
size the model did run on that dataset (a learning curve capped below the figure's size), if any.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import baselines
from harness.core.yamlfile import read_yaml
from harness.evaluation.guards import load_guards
from suites import CONFIG_DIR

REGISTRY = Path(baselines.__file__).with_name("published_figures.yaml")
FLAG_POINTS = 1.5  # issue 19: a baseline this far below its published figure is flagged
# metric -> (the row column it is computed from, how, whether higher is better)
METRICS = {"accuracy": ("accuracy", lambda v: v, True),
           "error_rate": ("accuracy", lambda v: 1.0 - v, False),
           "mean_return": ("mean_return", lambda v: v, True)}
FIELDS = ("suite", "dataset", "model", "n_train", "metric", "figure", "source", "setting", "bench_setting")
SOURCE_FIELDS = ("citation", "table", "read_in")
COLUMNS = ["suite", "dataset", "model", "n_train", "metric", "published", "bench_mean", "bench_std", "n_seeds",
           "bench_min", "bench_max",
           "difference_points", "flag", "status", "largest_run", "setting", "bench_setting", "source", "citation", "table", "read_in",
           # the model's second implementation (suites/guards.yaml) on the same data, size and settings, where it ran:
           # whether a gap to the figure is bench's code or the setting (seeds, evaluation) both share
           "second_model", "second_mean", "second_std", "second_n_seeds", "second_difference_points"]


class PublishedFiguresError(ValueError):
    """The registry of published figures names something bench does not have, or lacks a field."""


def load_published(path: Path = REGISTRY) -> pd.DataFrame:
    """The registry as one row per figure, its source's citation, table and `read_in` joined in;
    every suite, dataset and model checked against suites/."""
    doc = read_yaml(path)
    sources, figures = doc.get("sources") or {}, doc.get("figures") or []
    problems = [p for i, entry in enumerate(figures) for p in entry_problems(i, entry, sources)]
    problems += [f"source {key}: missing {f}" for key, s in sources.items() for f in SOURCE_FIELDS if not s.get(f)]
    keys = [(e.get("suite"), e.get("dataset"), e.get("model")) for e in figures]
    problems += [f"{'/'.join(map(str, k))} appears {keys.count(k)} times" for k in dict.fromkeys(keys) if keys.count(k) > 1]
    if problems:
        raise PublishedFiguresError(f"{path}: " + "; ".join(problems))
    table = pd.DataFrame([{**e, **{f: sources[e["source"]][f] for f in SOURCE_FIELDS}, "source": e["source"]}
                          for e in figures])
    return table.rename(columns={"figure": "published"})


def entry_problems(i: int, entry: dict, sources: dict) -> list[str]:
    where = f"figure {i} ({entry.get('suite')}/{entry.get('dataset')}/{entry.get('model')})"
    missing = [f for f in FIELDS if entry.get(f) in (None, "")]
    if missing:
        return [f"{where}: missing {', '.join(missing)}"]
    problems = []
    for group in ("suite", "dataset", "model"):
        if not (CONFIG_DIR / group / f"{entry[group]}.yaml").is_file():
            problems.append(f"{where}: no {group} named {entry[group]} in suites/{group}/")
    if not problems:
        suite = read_yaml(CONFIG_DIR / "suite" / f"{entry['suite']}.yaml")
        profiles = (suite.get("profiles") or {}).values()
        for group in ("dataset", "model"):
            named = {*(suite.get(f"{group}s") or []), *(n for p in profiles for n in (p or {}).get(f"{group}s") or [])}
            if entry[group] not in named:
                problems.append(f"{where}: suite {entry['suite']} runs no {group} {entry[group]} in any profile")
    if entry["metric"] not in METRICS:
        problems.append(f"{where}: metric {entry['metric']!r} is not one of {', '.join(METRICS)}")
    elif entry["metric"] == "mean_return":
        span = entry.get("return_range")
        if not (isinstance(span, list) and len(span) == 2 and span[0] < span[1] and span[0] <= entry["figure"] <= span[1]):
            problems.append(f"{where}: a return needs return_range [lowest, highest] around its figure")
    elif not 0.0 <= entry["figure"] <= 1.0:
        problems.append(f"{where}: {entry['metric']} {entry['figure']} is not a fraction in [0, 1]")
    if not (isinstance(entry["n_train"], int) and entry["n_train"] > 0):
        problems.append(f"{where}: n_train must be a positive whole number")
    if entry["source"] not in sources:
        problems.append(f"{where}: source {entry['source']!r} is not among the sources {sorted(sources)}")
    return problems


def points_scale(entry: pd.Series) -> float:
    """How many points one unit of the metric is worth: 100 for fractions, 100 / range for returns."""
    if entry["metric"] == "mean_return":
        low, high = entry["return_range"]
        return 100.0 / (high - low)
    return 100.0


def spread(per_seed: pd.Series) -> float:
    """The standard deviation over seeds; seeds that agree exactly read 0, not float noise (6.8e-17)."""
    return round(float(per_seed.std(ddof=1)), 12) + 0.0


def below_figure(difference_points: float) -> bool:
    """Flagged: more than FLAG_POINTS below the figure (rounded: 0.885 - 0.90 is -1.5000000000000013 points)."""
    return bool(round(difference_points, 9) < -FLAG_POINTS)


def not_run_text(largest_run) -> str:
    """What an entry without rows says: not run, and how far its model's learning curve went, if it ran."""
    return "not run" + (f" (its curve stops at n = {int(largest_run):,})" if pd.notna(largest_run) else "")


def second_implementation_text(r) -> str:
    """For a flagged entry (a fidelity_table row), what its second implementation says about the gap."""
    if not r.flag:
        return ""
    fmt = (lambda v: f"{v:.1f}") if r.metric == "mean_return" else (lambda v: f"{v:.4f}")
    ours_range = f", seeds from {fmt(r.bench_min)} to {fmt(r.bench_max)}" if r.n_seeds > 1 else ""
    head = (f"{r.model} on {r.dataset}: {fmt(r.bench_mean)} against {fmt(r.published)} "
            f"({r.difference_points:+.2f} points{ours_range}).")
    if not isinstance(r.second_model, str) or not r.second_model:
        return f"{head} No second implementation of it ran on these data to tell bench's code from the setting."
    their_std = f" ± {fmt(r.second_std)}" if pd.notna(r.second_std) else ""
    their_seeds = f"{int(r.second_n_seeds)} seed{'s' * (int(r.second_n_seeds) != 1)}"
    theirs = (f"{head} Its second implementation, {r.second_model}, on the same data and settings: "
              f"{fmt(r.second_mean)}{their_std} ({their_seeds}, {r.second_difference_points:+.2f} points)")
    if below_figure(r.second_difference_points):
        return f"{theirs}, below the figure too: the gap is shared by both implementations, not bench's code alone."
    return f"{theirs}, within {FLAG_POINTS} points of the figure: bench's own implementation is the weaker one."


def fidelity_table(rows: pd.DataFrame, registry: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per published figure (COLUMNS), bench's rows beside it: see the module docstring."""
    registry = load_published() if registry is None else registry
    ok = rows[rows["status"] == "ok"] if "status" in rows else rows.iloc[:0]
    if "variant" in ok:
        ok = ok[ok["variant"].fillna("").astype(str) == ""]
    if "tuned" in ok:
        ok = ok[~ok["tuned"].fillna(False).astype(bool)]
    seconds = {g.model: g.second for g in load_guards()}
    out = []
    for _, entry in registry.iterrows():
        column, compute, higher_better = METRICS[entry["metric"]]
        sign, scale = (1.0 if higher_better else -1.0), points_scale(entry)

        def points(mean: float) -> float:  # positive where bench does better, whichever way the metric points
            return sign * (mean - float(entry["published"])) * scale

        def measured(model_name: str) -> tuple[pd.DataFrame, pd.Series]:
            """The model's rows on this dataset, and its figure per seed at the entry's size."""
            model = ok[(ok["suite"] == entry["suite"]) & (ok["dataset"] == entry["dataset"])
                       & (ok["model"] == model_name)] if len(ok) else ok
            mine = model[model["n_train"] == entry["n_train"]] if len(model) else model
            per_seed = compute(pd.to_numeric(mine[column], errors="coerce")).groupby(mine["seed"]).mean().dropna() \
                if len(mine) and column in mine else pd.Series(dtype=float)
            return model, per_seed

        model, per_seed = measured(entry["model"])
        row = {c: entry.get(c) for c in COLUMNS if c in entry}
        second = seconds.get(entry["model"])
        if second:
            _, theirs = measured(second)
            if len(theirs):
                row.update(second_model=second, second_mean=float(theirs.mean()), second_n_seeds=int(len(theirs)),
                           second_std=spread(theirs) if len(theirs) > 1 else np.nan,
                           second_difference_points=points(float(theirs.mean())))
        if not len(per_seed):
            largest = int(model["n_train"].max()) if len(model) else np.nan
            out.append({**row, "bench_mean": np.nan, "bench_std": np.nan, "n_seeds": 0,
                        "difference_points": np.nan, "flag": False, "status": "not run", "largest_run": largest})
            continue
        mean = float(per_seed.mean())
        difference = points(mean)
        flag = below_figure(difference)
        out.append({**row, "bench_mean": mean, "bench_std": spread(per_seed) if len(per_seed) > 1 else np.nan,
                    "n_seeds": int(len(per_seed)), "difference_points": difference, "flag": flag,
                    "bench_min": float(per_seed.min()), "bench_max": float(per_seed.max()),
                    "status": f"more than {FLAG_POINTS} points below" if flag else "within or above",
                    "largest_run": np.nan})
    return pd.DataFrame(out, columns=COLUMNS)
