"""`bench history SUITE`: each model's score and calibrated training time over runs and commits, and
the steps where one of them changed beyond noise.

Points, oldest first (by when each was measured, the `started` of its run.json):
- every run folder of the suite under the results folder (rows a run reused from an earlier one
  count once, in the run that measured them: harness/results/store.py `once_per_measurement`);
- the committed reference results/reference/SUITE at every commit that changed it (`git log`, each
  version read with `git show COMMIT:path`), plus the working copy where it differs from HEAD.
  Outside a git checkout only the working copy is read, and the history says so.

A series is one (dataset, model, variant, training size, profile): a model at another size or
profile is another experiment, not a step. Per point it has the mean score over seeds (the column
and direction its task kind names, as in `bench compare`) and the calibrated training time: the
geometric mean over seeds of train_seconds / the run's calibration seconds (harness/core/calibration.py),
shown in calibration units, so a faster machine is not a step.

Steps, asv-style: a piecewise-constant fit with a penalty per step (optimal partitioning, exact for
these few points), on the per-point means weighted by 1/SE² with SE from the seed spread pooled over
the series' points. The penalty is z²: for one step, splitting lowers the weighted squared error by
(Δ/SE_Δ)², so a step is fitted exactly where the change exceeds z standard errors of seed noise,
the rule `bench compare` uses for a pair. Unlike a rule on consecutive pairs, the fit also finds a
drift made of small moves (each inside the band) once the levels it separates differ beyond it.
Each fitted step must then also pass `bench compare`'s floor between the two levels it separates
(accuracy_drop, bpc_rise, mse_rise, fd_rise; for time, time_ratio and min_seconds); the smallest
that fails is merged away, until all pass.
"""
from __future__ import annotations

import io
import json
import math
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from harness.results.compare import Thresholds, calibration_of, score_of
from harness.results.store import ResultsError, load_results
from harness.tasks import kind_of_rows

SERIES = ["dataset", "model", "variant", "n_train", "profile"]


@dataclass
class Point:
    """One measurement of the suite: a run folder, or the reference at one commit."""
    label: str
    started: str
    rows: pd.DataFrame
    calibration: float | None


@dataclass
class History:
    points: list[Point]
    series: pd.DataFrame  # one row per (series, point): level, spread and step of score and time
    steps: pd.DataFrame   # one row per step beyond noise
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------- points

def run_points(results: Path, suite: str) -> list[Point]:
    """Every run of the suite under the results folder; none where it has no finished cell."""
    folder = Path(results) / suite
    try:
        df = load_results([folder])
    except ResultsError:
        return []
    points = []
    for run, rows in df.groupby("run", sort=False):
        info = read_json(Path(run) / "run.json")
        points.append(Point(f"run {Path(run).name}", str(info.get("started") or Path(run).name),
                            rows.reset_index(drop=True), calibration_of(Path(run))))
    return points


def read_json(path: Path) -> dict:
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def git(folder: Path, *args: str) -> bytes | None:
    """A git command's output in `folder`; None where git is missing or the folder is no checkout."""
    try:
        done = subprocess.run(["git", *args], cwd=folder, capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def reference_point(label: str, parquet: bytes, run_json: bytes | None) -> Point | None:
    try:
        rows = pd.read_parquet(io.BytesIO(parquet))
        info = json.loads(run_json) if run_json else {}
    except Exception:  # noqa: BLE001 - a damaged version is left out, the others stand
        return None
    info = info if isinstance(info, dict) else {}
    seconds = (info.get("calibration") or {}).get("seconds")
    return Point(label, str(info.get("started") or ""), rows, float(seconds) if seconds else None)


def reference_points(root: Path, suite: str) -> tuple[list[Point], list[str]]:
    """The reference of the suite at every commit that changed it, and the working copy where it
    differs from HEAD; with a note where its git history could not be read."""
    folder = Path(root) / suite
    current = folder / "results.parquet"
    if not current.is_file():
        return [], []
    run_json = folder / "run.json"
    working = reference_point("reference (working copy)", current.read_bytes(),
                              run_json.read_bytes() if run_json.is_file() else None)
    log = git(folder, "log", "--format=%H %h %cs", "--", "results.parquet")
    if log is None:
        return [p for p in [working] if p], [f"{folder} is not inside a git checkout (or git is missing): only the "
                                              "current reference is read, not its history"]
    points, notes = [], []
    for line in reversed(log.decode().split("\n")):
        if not line.strip():
            continue
        commit, short, day = line.split()
        parquet = git(folder, "show", f"{commit}:./results.parquet")
        point = parquet and reference_point(f"reference {short} {day}", parquet,
                                            git(folder, "show", f"{commit}:./run.json"))
        if point:
            points.append(point)
        else:
            notes.append(f"the reference at commit {short} could not be read; left out")
    head = git(folder, "show", "HEAD:./results.parquet")
    if working and head != current.read_bytes():  # uncommitted (or untracked) reference
        points.append(working)
    return points, notes


# ---------------------------------------------------------------------------------------- steps

def fit_levels(y: np.ndarray, se: np.ndarray, penalty: float) -> list[int]:
    """Optimal partitioning: the segment starts minimising the weighted squared error to each
    segment's weighted mean plus `penalty` per step. Exact, O(n²): histories have tens of points."""
    n = len(y)
    w = 1 / np.maximum(se, 1e-12) ** 2
    cw, cwy, cwy2 = (np.concatenate([[0.0], np.cumsum(a)]) for a in (w, w * y, w * y * y))

    def cost(s: int, t: int) -> float:  # points s..t-1
        sw, swy = cw[t] - cw[s], cwy[t] - cwy[s]
        return (cwy2[t] - cwy2[s]) - swy * swy / sw

    best, start = [0.0] + [math.inf] * n, [0] * (n + 1)
    for t in range(1, n + 1):
        for s in range(t):
            c = best[s] + cost(s, t) + (penalty if s else 0.0)
            if c < best[t]:
                best[t], start[t] = c, s
    starts, t = [], n
    while t > 0:
        starts.append(start[t])
        t = start[t]
    return sorted(starts)


def detect_steps(y, n, sd, *, z: float, floor, extra=None) -> list[tuple[int, float, float]]:
    """The steps of a series: (index of the point where a new level starts, the level before, the
    level after), each beyond seed noise and the floor.

    y, n, sd: per point mean, seed count and spread over seeds (NaN with one seed). `floor(left, right)`
    is the smallest change that counts between two levels; `extra(left, right)`, where given, is one
    more test a step must pass (a slowdown's seconds)."""
    y, n, sd = (np.asarray(a, dtype=float) for a in (y, n, sd))
    dof = np.where(np.isfinite(sd), n - 1, 0)
    sigma = math.sqrt(np.nansum(dof * np.nan_to_num(sd) ** 2) / dof.sum()) if dof.sum() else 0.0
    # With no seed spread anywhere the fit takes every change and the floor alone decides.
    se = np.maximum(sigma, 1e-9) / np.sqrt(np.maximum(n, 1))
    starts = fit_levels(y, se, z * z)

    def level(a: int, b: int) -> tuple[float, float]:  # mean over the seeds of points a..b-1, and their count
        return float(np.average(y[a:b], weights=np.maximum(n[a:b], 1))), float(np.maximum(n[a:b], 1).sum())

    while True:
        bounds = starts + [len(y)]
        found, margins = [], []
        for i in range(1, len(starts)):
            (left, n_left), (right, n_right) = level(bounds[i - 1], bounds[i]), level(bounds[i], bounds[i + 1])
            band = max(floor(left, right), z * sigma * math.sqrt(1 / n_left + 1 / n_right))
            passes = abs(right - left) > band and (extra is None or extra(left, right))
            margins.append((abs(right - left) / band if band else math.inf) if passes else -1.0)
            found.append((starts[i], left, right))
        if not margins or min(margins) > 0:
            return found
        del starts[int(np.argmin(margins)) + 1]  # the weakest step that fails: merge its two levels


# ---------------------------------------------------------------------------------------- series

def point_table(points: list[Point]) -> pd.DataFrame:
    """Per series and point: score and calibrated time, mean and spread over the seeds that finished,
    and how the series' task kind judges its score (as `bench compare` does)."""
    out = []
    for i, p in enumerate(points):
        rows = p.rows.assign(variant=p.rows["variant"].fillna("") if "variant" in p.rows else "")
        if "profile" not in rows:
            rows = rows.assign(profile="")
        for key, g in rows.groupby(SERIES, sort=False, dropna=False):
            ok = g[g["status"] == "ok"]
            rec = dict(zip(SERIES, key)) | {"point": i, "label": p.label, "started": p.started,
                                            "seeds": len(ok), "failed": len(g) - len(ok),
                                            "family": str(g["family"].iloc[0]) if "family" in g else ""}
            if len(ok):
                kind = kind_of_rows(ok)
                compared = score_of(ok)
                rec |= {"metric": kind.score, "higher_is_better": kind.higher_is_better,
                        "floor_name": compared[2] if compared else None, "relative": bool(compared and compared[3])}
                if kind.score in ok:
                    s = ok[kind.score].astype(float).dropna()
                    rec |= {"score": s.mean(), "score_sd": s.std(ddof=1), "score_seeds": len(s)}
            if p.calibration and len(ok) and "train_seconds" in ok:
                t = ok["train_seconds"].astype(float) / p.calibration
                logs = np.log(t[t > 0].dropna())
                rec |= {"time": float(np.exp(logs.mean())) if len(logs) else math.nan,
                        "log_time_sd": logs.std(ddof=1), "time_seeds": len(logs), "calibration": p.calibration}
            out.append(rec)
    return pd.DataFrame(out)


def series_steps(table: pd.DataFrame, th: Thresholds) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The points table with `score_step` / `time_step` marks (+1 better, -1 worse), and the steps.
    A kind that `bench compare` judges by times only (no floor for its score) gets no score steps."""
    table = table.copy()
    table["score_step"], table["time_step"] = 0, 0
    steps = []
    for key, g in table.groupby(SERIES, sort=False, dropna=False):
        label = dict(zip(SERIES, key))
        s = g[g["score"].notna() & g["floor_name"].notna()] if {"score", "floor_name"} <= set(g) else g.iloc[:0]
        if len(s) > 1:
            floor_value = getattr(th, s["floor_name"].iloc[-1])
            relative = bool(s["relative"].iloc[-1])
            sign = 1 if s["higher_is_better"].iloc[-1] else -1
            for i, left, right in detect_steps(s["score"], s["score_seeds"], s["score_sd"], z=th.z,
                                               floor=lambda a, b: floor_value * (abs(a) if relative else 1)):
                steps.append(mark_step(table, label, s, i, "score", sign, left, right))
        t = g[g["time"].notna()] if "time" in g else g.iloc[:0]
        if len(t) > 1:
            cal = float(t["calibration"].median())

            def seconds_beyond(left, right, cal=cal) -> bool:  # in seconds of the history's median machine
                return abs(math.exp(right) - math.exp(left)) * cal > th.min_seconds

            for i, left, right in detect_steps(np.log(t["time"]), t["time_seeds"], t["log_time_sd"], z=th.z,
                                               floor=lambda a, b: math.log(th.time_ratio), extra=seconds_beyond):
                steps.append(mark_step(table, label, t, i, "time", -1, math.exp(left), math.exp(right)))
    return table, pd.DataFrame(steps)


def mark_step(table: pd.DataFrame, label: dict, s: pd.DataFrame, i: int, what: str, sign: int,
              before: float, after: float) -> dict:
    """Mark in `table` the step at the i-th point of series `s`, between levels `before` and `after`."""
    better = sign * (after - before) > 0
    table.loc[s.index[i], f"{what}_step"] = 1 if better else -1
    metric = s["metric"].iloc[i] if what == "score" else "train time (calibration units)"
    return label | {"point": int(s["point"].iloc[i]), "at": s["label"].iloc[i], "metric": metric, "what": what,
                    "before": before, "after": after, "verdict": "improvement" if better else "regression"}


def build_history(suite: str, results: Path, reference_root: Path | None, th: Thresholds) -> History:
    points = run_points(results, suite)
    notes: list[str] = []
    if reference_root is not None:
        refs, notes = reference_points(reference_root, suite)
        points += refs
    if not points:
        raise ResultsError(f"no run of suite {suite} under {Path(results) / suite}"
                           + (f" and no reference in {Path(reference_root) / suite}" if reference_root else ""))
    points.sort(key=lambda p: p.started)
    table, steps = series_steps(point_table(points), th)
    return History(points, table, steps, notes)


# ---------------------------------------------------------------------------------------- views

MARKS = {1: "▲", -1: "▼", 0: ""}  # a step to a better / worse level starts at this point


def cell_text(r) -> str:
    """A series at one point: 'score · calibrated time', each with its step mark; what failed."""
    if r is None:
        return ""
    parts = []
    if isinstance(r.get("score"), float) and not math.isnan(r["score"]):
        parts.append(f"{r['score']:.3f}{MARKS[int(r['score_step'])]}")
    if isinstance(r.get("time"), float) and not math.isnan(r["time"]):
        parts.append(f"{r['time']:.3g}{MARKS[int(r['time_step'])]}")
    if r.get("failed"):
        parts.append(f"{int(r['failed'])} failed")
    return " · ".join(parts)


def groups(h: History):
    """(title, rows of that dataset, size and profile) in the order the points show them."""
    for key, g in h.series.groupby(["dataset", "n_train", "profile"], sort=False, dropna=False):
        dataset, n_train, profile = key
        yield f"{dataset} · n_train={n_train}" + (f" · {profile}" if profile else ""), g


def matrix(g: pd.DataFrame, shown: list[int]) -> list[tuple[str, list[str]]]:
    """(model label, cell text per shown point) for one group."""
    out = []
    for (model, variant), s in g.groupby(["model", "variant"], sort=False):
        at = {int(r["point"]): r for _, r in s.iterrows()}
        out.append((model + (f"[{variant}]" if variant else ""), [cell_text(at.get(i)) for i in shown]))
    return out


def legend(h: History, th: Thresholds) -> str:
    return (f"Each cell: score (its kind's column: {', '.join(sorted(set(h.series.get('metric', pd.Series()).dropna())))}) "
            f"· training seconds ÷ the run's calibration seconds. ▼ a step to a worse level starts here, ▲ to a better "
            f"one: a penalised piecewise-constant fit, each step beyond {th.z:g} standard errors of seed noise and "
            f"bench compare's floor (accuracy ±{th.accuracy_drop}, bpc ±{th.bpc_rise}, time ×{th.time_ratio} "
            f"and +{th.min_seconds} s).")


def step_lines(h: History) -> list[str]:
    lines = []
    for _, s in h.steps.iterrows():
        label = s["model"] + (f"[{s['variant']}]" if s["variant"] else "")
        lines.append(f"{s['verdict']}: {s['dataset']} {label} (n_train={s['n_train']}) {s['metric']} "
                     f"{s['before']:.4g} -> {s['after']:.4g} from {s['at']}")
    return lines


def print_history(h: History, console, last: int) -> None:
    from rich.markup import escape
    from rich.table import Table

    shown = list(range(len(h.points)))[-last:]
    for title, g in groups(h):
        t = Table(title=title, title_justify="left")
        t.add_column("model", no_wrap=True)
        for i in shown:
            t.add_column(f"{i + 1}. {h.points[i].label}", justify="right")
        for label, cells in matrix(g, shown):
            t.add_row(escape(label), *(c.replace("▼", "[red]▼[/]").replace("▲", "[green]▲[/]") for c in cells))
        console.print(t)
    if len(h.points) > len(shown):
        console.print(f"{len(h.points) - len(shown)} earlier points are in --markdown and --plot (--last N shows more)")
    for line in step_lines(h):
        colour = "red" if line.startswith("regression") else "green"
        console.print(f"[{colour}]{escape(line)}[/]", soft_wrap=True)
    if not len(h.steps):
        console.print(f"no step beyond noise over {len(h.points)} points")
    for n in h.notes:
        console.print(f"[yellow]note:[/] {escape(n)}", soft_wrap=True)


def to_markdown(h: History, suite: str, th: Thresholds) -> str:
    from harness.results.compare import markdown_cell

    counts = h.steps["verdict"].value_counts() if len(h.steps) else pd.Series(dtype=int)
    lines = [f"### bench history: {suite}, {len(h.points)} points, {counts.get('regression', 0)} steps for the worse, "
             f"{counts.get('improvement', 0)} for the better", "", legend(h, th), "",
             "| # | point | measured | calibration (s) |", "|---|---|---|---|"]
    lines += [f"| {i + 1} | {markdown_cell(p.label)} | {markdown_cell(p.started)} | "
              f"{'–' if p.calibration is None else format(p.calibration, '.4g')} |" for i, p in enumerate(h.points)]
    shown = list(range(len(h.points)))
    for title, g in groups(h):
        lines += ["", f"#### {markdown_cell(title)}", "", "| model | " + " | ".join(str(i + 1) for i in shown) + " |",
                  "|---|" + "---|" * len(shown)]
        lines += ["| " + " | ".join(markdown_cell(c) for c in (label, *cells)) + " |" for label, cells in matrix(g, shown)]
    lines += ["", "#### Steps", ""] + ([f"- {markdown_cell(s)}" for s in step_lines(h)] or ["- none beyond noise"])
    lines += [f"> {markdown_cell(n)}" for n in h.notes]
    return "\n".join(lines) + "\n"


def plot_history(h: History, path: Path) -> None:
    """PNG: per dataset, size and profile, each model's score and calibrated time over the points
    (numbered as in the tables; dashed: classical), steps circled (red ▼ worse, green ▲ better)."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    panels = list(groups(h))
    fig = Figure(figsize=(12, 3.6 * len(panels)), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    x_labels = [f"{i + 1}" for i in range(len(h.points))]
    names = list(dict.fromkeys(h.series["model"]))  # one colour per model in every panel
    palette = matplotlib.colormaps["tab20"].colors
    for row, (title, g) in enumerate(panels):
        axes = fig.add_subplot(len(panels), 2, 2 * row + 1), fig.add_subplot(len(panels), 2, 2 * row + 2)
        for (model, variant), s in g.groupby(["model", "variant"], sort=False):
            name = model + (f"[{variant}]" if variant else "")
            style = "--" if s["family"].iloc[0] == "classical" else "-"
            for ax, col in zip(axes, ("score", "time")):
                if col not in s or s[col].isna().all():
                    continue
                d = s[s[col].notna()]
                ax.plot(d["point"] + 1, d[col], style, marker="o", ms=3, label=name,
                        color=palette[names.index(model) % len(palette)])
                for mark, colour, marker in ((-1, "red", "v"), (1, "green", "^")):
                    at = d[d[f"{col}_step"] == mark]
                    ax.plot(at["point"] + 1, at[col], ls="", marker=marker, ms=11, mfc="none", mec=colour, mew=2)
        metric = ", ".join(sorted(set(g["metric"].dropna()))) if "metric" in g else "score"
        axes[0].set(title=f"{title}: {metric}", xlabel="point", ylabel=metric)
        axes[1].set(title=f"{title}: training time", xlabel="point", ylabel="seconds ÷ calibration seconds",
                    yscale="log")
        for ax in axes:
            ax.set_xticks(range(1, len(h.points) + 1), x_labels)
            ax.grid(alpha=0.3)
        axes[1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)


def cmd_history(suite: str, results: Path, reference_root: Path | None, th: Thresholds, *,
                markdown: str | None = None, plot: str | None = None, last: int = 6) -> int:
    """`bench history SUITE`: 0, or 2 where there is nothing to read."""
    from rich.markup import escape

    from harness.core.display import console

    try:
        h = build_history(suite, results, reference_root, th)
    except ResultsError as e:
        console.print(f"[red]error:[/] {escape(str(e))}", soft_wrap=True)
        return 2
    print_history(h, console, last)
    if markdown:
        Path(markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(markdown).write_text(to_markdown(h, suite, th))
        console.print(f"markdown: {markdown}")
    if plot:
        plot_history(h, Path(plot))
        console.print(f"plot: {plot}")
    return 0
