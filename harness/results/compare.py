"""`bench compare BASE NEW`: did a change make any model worse or slower, beyond noise?

Cells are matched by (suite, dataset, model, variant, training size); seeds are pooled. Each
comparison has a noise band, and only a change outside it counts:

- score: accuracy, or bits per character for a language model (lower is better), ROC-AUC for an
  anomaly detector, MSE per pixel for a reconstruction (lower is better). The difference
  of means over seeds against `z` standard errors of that difference (the spread over seeds of each
  side; a side with one seed borrows the other side's spread), and never less than `accuracy_drop`
  (ROC-AUC too), `bpc_rise` or `mse_rise` (seed noise is invisible with one seed per side); for a
  generator's Fréchet distance (lower is better), `fd_rise` times the base distance.
- time: training time and prediction time per 1k samples, each divided by the calibration
  workload of the run that measured it (harness/core/calibration.py), so a slower machine is not a
  regression. Compared as the ratio of geometric means, against `time_ratio` or `z` standard
  errors of the log-ratio, whichever is wider; a slowdown must also exceed `min_seconds` in the
  new run's seconds (a millisecond fit doubling is noise). The calibration workload does not catch
  every difference of machine or load (a CI runner measured every cell x1.1-1.8 slower than the
  reference after calibration), so a comparison of at least `DRIFT_MIN_CELLS` cells of `min_seconds`
  or more also divides each cell's ratio by the run-wide drift, the median ratio over those cells: a
  cell regresses when it slowed beyond the others. Only a slowdown is divided out, and one beyond
  `drift_ratio` is not read as the machine's and is left in, so a slowdown of everything still fails.
- status: a cell that finished in BASE and fails in NEW is a regression.

Exit code 1 when anything regressed, else 0; 2 for unreadable input.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
import pandas as pd

from harness.results.store import ResultsError, load_results, run_folders
from harness.tasks import kind_of_rows

MATCH = ["suite", "dataset", "model", "variant", "n_train"]
TIMES = {"train_seconds": "train", "predict_seconds_per_1k": "predict/1k"}
DRIFT_MIN_CELLS = 5  # fewer cells than this give no drift worth dividing by


def threshold(default: float, help: str, minimum: float = 0.0):
    """A Thresholds field: its default, what it means (the `bench compare` flag's help) and its smallest value."""
    return field(default=default, metadata={"help": help, "minimum": minimum})


@dataclass
class Thresholds:
    """Smallest changes that count. Every field is a flag of `bench compare` and `bench reference`
    (harness/cli.py makes one per field: --accuracy-drop, ...)."""

    accuracy_drop: float = threshold(0.02, "smallest accuracy (and ROC-AUC) change that counts, absolute: 0.02 = 2 points")
    time_ratio: float = threshold(1.5, "smallest normalised slowdown that counts, as a ratio", minimum=1.0)
    z: float = threshold(3.0, "standard errors of seed noise a change must exceed")
    min_seconds: float = threshold(0.5, "smallest absolute slowdown that counts, in seconds of NEW's time")
    drift_ratio: float = threshold(2.0, "largest run-wide slowdown (median over cells, after calibration) "
                                        "read as the machine's and divided out of each cell's", minimum=1.0)
    bpc_rise: float = threshold(0.05, "smallest rise in a language model's bits per character that counts")
    mse_rise: float = threshold(0.002, "smallest rise in a reconstruction's MSE per pixel (pixels in [0, 1]) that counts")
    fd_rise: float = threshold(0.25, "smallest rise of a Fréchet distance (FD) that counts, as a fraction of BASE's "
                                     "(0.25: +25%)")

    def problems(self) -> list[str]:
        """Each field below its smallest sensible value, as `--flag must be at least N, got V`."""
        return [f"--{f.name.replace('_', '-')} must be at least {f.metadata['minimum']:g}, got {getattr(self, f.name):g}"
                for f in fields(self) if not getattr(self, f.name) >= f.metadata["minimum"]]


def score_of(rows: pd.DataFrame) -> tuple[str, int, str, bool] | None:
    """What a cell is compared by, as its rows' task kind says (harness/tasks/): (column, +1 when higher
    is better else -1, the Thresholds field that holds its smallest change that counts, whether that
    floor is a fraction of the base value); None where the kind compares no score, only times."""
    kind = kind_of_rows(rows)
    if kind.compare_floor is None:
        return None
    return kind.score, 1 if kind.higher_is_better else -1, kind.compare_floor, kind.relative_floor


def pick_run(path: Path) -> list[Path]:
    """A run folder or reference as given; a folder of several runs (a suite folder): its newest
    run, since pooling runs of different code versions would blur exactly what is compared."""
    folders = run_folders(path)
    if len(folders) > 1 and not ((path / "cells").is_dir() or (path / "results.parquet").is_file()):
        return [max(folders, key=lambda f: f.name)]
    return folders


def calibration_of(folder: Path) -> float | None:
    """Median calibration seconds over the run's jobs (run.json and jobs/*/run.json)."""
    values = []
    for f in [folder / "run.json", *sorted((folder / "jobs").glob("*/run.json"))]:
        try:
            cal = json.loads(f.read_text()).get("calibration") or {}
        except (OSError, ValueError):
            continue
        if cal.get("seconds"):
            values.append(float(cal["seconds"]))
    return float(np.median(values)) if values else None


def load_side(path: Path) -> tuple[pd.DataFrame, list[Path]]:
    folders = pick_run(Path(path))
    df = load_results(folders)
    cal = {str(f): calibration_of(f) for f in folders}
    origin = df["reused_from"] if "reused_from" in df else pd.Series([None] * len(df), index=df.index)
    origin = origin.where(origin.notna(), df["run"])  # a reused row was timed in the run it came from
    for o in set(origin) - set(cal):
        cal[o] = calibration_of(Path(o)) if Path(o).exists() else None
    df["calibration"] = [cal.get(o) or cal.get(r) for o, r in zip(origin, df["run"])]
    df["variant"] = df["variant"].fillna("") if "variant" in df else ""
    return df, folders


def _stats(values: pd.Series) -> tuple[float, float, int]:
    v = values.dropna().astype(float)
    n = len(v)
    return (float(v.mean()) if n else math.nan, float(v.std(ddof=1)) if n > 1 else math.nan, n)


def _se(sd_b: float, n_b: int, sd_n: float, n_n: int) -> float:
    """Standard error of a difference of means; a side without its own spread borrows the other's."""
    sd_b = sd_b if not math.isnan(sd_b) else sd_n
    sd_n = sd_n if not math.isnan(sd_n) else sd_b
    if math.isnan(sd_b) or not n_b or not n_n:
        return 0.0
    return math.sqrt(sd_b ** 2 / n_b + sd_n ** 2 / n_n)


def compare_score(rec: dict, b_ok: pd.DataFrame, n_ok: pd.DataFrame, compared: tuple, th: Thresholds) -> None:
    """The score's change between the sides against its band; a reason or a betterment in rec."""
    col, sign, floor, relative = compared
    mb, sb, nb = _stats(b_ok[col] if col in b_ok else pd.Series(dtype=float))
    mn, sn, nn = _stats(n_ok[col] if col in n_ok else pd.Series(dtype=float))
    band = max(getattr(th, floor) * (abs(mb) if relative else 1), th.z * _se(sb, nb, sn, nn))
    rec.update({"metric": col, f"base_{col}": mb, f"new_{col}": mn, f"{col}_change": mn - mb, f"{col}_band": band})
    if sign * (mn - mb) < -band:
        rec["reasons"].append(f"{col} {mb:.4f} -> {mn:.4f} ({mn - mb:+.4f}, band ±{band:.4f})")
    elif sign * (mn - mb) > band:
        rec.setdefault("better", []).append(col)


def time_ratios(rec: dict, b_ok: pd.DataFrame, n_ok: pd.DataFrame) -> None:
    """Each time's calibrated ratio of geometric means between the sides, its seed-noise limit and both
    sides' seconds (in NEW's), into rec."""
    for col, label in TIMES.items():
        if col not in b_ok or col not in n_ok:
            continue
        tb = (b_ok[col] / b_ok["calibration"]).astype(float)
        tn = (n_ok[col] / n_ok["calibration"]).astype(float)
        tb, tn = tb[(tb > 0) & tb.notna()], tn[(tn > 0) & tn.notna()]
        if not len(tb) or not len(tn):
            continue
        lb, slb, kb = _stats(np.log(tb))
        ln, sln, kn = _stats(np.log(tn))
        cal_new = float(n_ok["calibration"].median())
        scale = float(n_ok["n_test"].median()) / 1000 if col == "predict_seconds_per_1k" else 1.0
        rec.update({f"{label}_ratio": math.exp(ln - lb), f"{label}_log_se": _se(slb, kb, sln, kn),
                    f"base_{label}_seconds": float(np.exp(lb) * cal_new), f"new_{label}_seconds": float(np.exp(ln) * cal_new),
                    f"{label}_scale": scale})


def run_drift(recs: list[dict], label: str, th: Thresholds) -> float:
    """The run-wide slowdown to divide out of each cell's `label` time: the median ratio over cells
    that took at least `min_seconds` on both sides (below it a cell's time is mostly fixed costs, not
    the machine's speed). 1 with fewer than DRIFT_MIN_CELLS such cells, for a faster run (a cell that
    kept its time while others sped up is not slower than before), or beyond `drift_ratio` (then it
    is not the machine's, see the module doc)."""
    r = [rec[f"{label}_ratio"] for rec in recs if f"{label}_ratio" in rec
         and min(rec[f"base_{label}_seconds"], rec[f"new_{label}_seconds"]) * rec[f"{label}_scale"] >= th.min_seconds]
    if len(r) < DRIFT_MIN_CELLS:
        return 1.0
    drift = float(np.exp(np.median(np.log(r))))
    return drift if 1 <= drift <= th.drift_ratio else 1.0


def judge_times(rec: dict, drifts: dict[str, float], th: Thresholds) -> None:
    """A time that slowed (or sped up) beyond its limit and the run's drift, as a reason (a betterment) in rec."""
    for label in TIMES.values():
        if f"{label}_ratio" not in rec:
            continue
        drift = drifts[label]
        ratio = rec[f"{label}_ratio"] / drift
        limit = max(th.time_ratio, math.exp(th.z * rec[f"{label}_log_se"]))
        base_s = rec[f"base_{label}_seconds"] * drift  # the base's time on this machine and load
        seconds_more = (rec[f"new_{label}_seconds"] - base_s) * rec[f"{label}_scale"]
        rec.update({f"{label}_limit": limit, f"{label}_drift": drift})
        if ratio > limit and seconds_more > th.min_seconds:
            beyond = f" beyond the run's x{drift:.2f}" if drift != 1 else ""
            rec["reasons"].append(f"{label} time x{ratio:.2f}{beyond} (limit x{limit:.2f}, +{seconds_more:.2f} s)")
        elif ratio < 1 / limit and -seconds_more > th.min_seconds:
            rec.setdefault("better", []).append(f"{label} time")


def compare(base: pd.DataFrame, new: pd.DataFrame, th: Thresholds) -> pd.DataFrame:
    """One row per matched cell group, with the changes, their bands and a verdict."""
    out, timed = [], []
    keys = sorted(set(map(tuple, base[MATCH].astype(str).values)) | set(map(tuple, new[MATCH].astype(str).values)))
    b_groups = {k: g for k, g in base.groupby([base[c].astype(str) for c in MATCH])}
    n_groups = {k: g for k, g in new.groupby([new[c].astype(str) for c in MATCH])}
    for key in keys:
        b, n = b_groups.get(key), n_groups.get(key)
        rec = dict(zip(MATCH, key))
        rec.update(verdict="unchanged", reasons=[])
        if b is None or n is None:
            rec["verdict"] = "new" if b is None else "missing"
            out.append(rec)
            continue
        b_ok, n_ok = b[b["status"] == "ok"], n[n["status"] == "ok"]
        rec.update(base_seeds=len(b_ok), new_seeds=len(n_ok), base_failed=len(b) - len(b_ok),
                   new_failed=len(n) - len(n_ok))
        if len(b_ok) and len(n_ok) < len(n):
            bad = n[n["status"] != "ok"].iloc[0]
            rec["reasons"].append(f"{bad['status']} in new: {str(bad['error'])[:120]}")
            rec["verdict"] = "regression"
        if not len(b_ok) or not len(n_ok):
            if not len(b_ok) and len(n_ok):
                rec["verdict"], rec["reasons"] = "improvement", ["fails in base, finishes in new"]
            out.append(rec)
            continue
        compared = score_of(b_ok)
        if compared is not None:
            compare_score(rec, b_ok, n_ok, compared, th)
        time_ratios(rec, b_ok, n_ok)
        timed.append(rec)
        out.append(rec)
    drifts = {label: run_drift(timed, label, th) for label in TIMES.values()}
    for rec in timed:
        judge_times(rec, drifts, th)
        if rec["reasons"]:
            rec["verdict"] = "regression"
        elif rec.get("better"):
            rec["verdict"] = "improvement"
    df = pd.DataFrame(out)
    df["reasons"] = df["reasons"].map(lambda r: "; ".join(r))
    if "better" in df:
        df["better"] = df["better"].map(lambda r: ", ".join(r) if isinstance(r, list) else "")
    return df


def context_warnings(base: pd.DataFrame, new: pd.DataFrame) -> list[str]:
    """Differences of set-up that make a comparison weaker: profile, threads, device, library versions."""
    notes = []
    for col, what in (("profile", "profile"), ("torch_threads", "torch threads"), ("device", "device")):
        if col in base and col in new and set(base[col].dropna().astype(str)) != set(new[col].dropna().astype(str)):
            notes.append(f"{what} differs: base {sorted(set(base[col].dropna().astype(str)))}, "
                         f"new {sorted(set(new[col].dropna().astype(str)))}")
    if base["calibration"].isna().any() or new["calibration"].isna().any():
        notes.append("a run without calibration: its times are compared unnormalised")
    return notes


def drift_warnings(df: pd.DataFrame) -> list[str]:
    """The run-wide drift divided out of each cell's time, said once per time."""
    notes = []
    for label in TIMES.values():
        col = f"{label}_drift"
        if col in df and df[col].notna().any() and (drift := float(df[col].dropna().iloc[0])) != 1:
            notes.append(f"{label} times are x{drift:.2f} the base's in the median cell after calibration: "
                         f"read as this machine's and load's and divided out of each cell's ratio")
    return notes


def summary_counts(df: pd.DataFrame) -> dict[str, int]:
    return {v: int((df["verdict"] == v).sum()) for v in ("regression", "improvement", "unchanged", "missing", "new")}


def markdown_cell(text) -> str:
    """Text safe inside a Markdown table cell of a PR comment: no raw HTML, no broken columns."""
    s = "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")
            .replace("\n", " "))


def _fmt(x, spec: str, none: str = "–") -> str:
    return none if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def score_texts(r, band_spec: str = ".4f") -> tuple[str, str, str]:
    """(base, new, change with its band) of a row's score, named when it is not accuracy."""
    col = r.get("metric") if isinstance(r.get("metric"), str) else "accuracy"
    name = "" if col == "accuracy" else f"{col} "
    return (f"{name}{_fmt(r.get(f'base_{col}'), '.4f')}", _fmt(r.get(f"new_{col}"), ".4f"),
            f"{_fmt(r.get(f'{col}_change'), '+.4f')} (±{_fmt(r.get(f'{col}_band'), band_spec)})")


def to_markdown(df: pd.DataFrame, base: str, new: str, warnings: list[str], th: Thresholds) -> str:
    counts = summary_counts(df)
    icon = "❌" if counts["regression"] else "✅"
    lines = [f"### {icon} bench compare: {counts['regression']} regressions, {counts['improvement']} improvements, "
             f"{counts['unchanged']} unchanged",
             "",
             f"Base `{markdown_cell(base)}` → new `{markdown_cell(new)}`. Bands: accuracy ±max({th.accuracy_drop}, "
             f"{th.z:g}·SE over seeds), bits per character (bpc, lower is better) ±max({th.bpc_rise}, {th.z:g}·SE); "
             f"times normalised by each run's calibration workload, ratio over max(×{th.time_ratio}, {th.z:g}·SE) "
             f"and +{th.min_seconds} s.",
             ""]
    lines += [f"> ⚠️ {markdown_cell(w)}" for w in warnings]
    if counts["missing"] or counts["new"]:
        lines.append(f"> {counts['missing']} cells only in base, {counts['new']} only in new (not compared).")
    header = ["verdict", "dataset", "model", "n", "score base → new", "Δ (band)", "train ×", "predict ×", "why"]
    lines += ["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    order = {"regression": 0, "improvement": 1, "unchanged": 2, "missing": 3, "new": 4}
    for _, r in df.sort_values("verdict", key=lambda s: s.map(order)).iterrows():
        label = r["model"] + (f"[{r['variant']}]" if r.get("variant") else "")
        base_score, new_score, change = score_texts(r)
        lines.append("| " + " | ".join(markdown_cell(c) for c in (
            r["verdict"], r["dataset"], label, r["n_train"], f"{base_score} → {new_score}", change,
            _fmt(r.get("train_ratio"), ".2f"), _fmt(r.get("predict/1k_ratio"), ".2f"),
            r.get("reasons") or r.get("better") or "")) + " |")
    return "\n".join(lines) + "\n"


def print_table(df: pd.DataFrame, console) -> None:
    from rich.markup import escape
    from rich.table import Table

    colours = {"regression": "red", "improvement": "green", "unchanged": "dim", "missing": "yellow", "new": "yellow"}
    for (suite, dataset), g in df.groupby(["suite", "dataset"], sort=False):
        t = Table(title=f"{suite} · {dataset}", title_justify="left")
        for col, j in (("model", "left"), ("n", "right"), ("score base", "right"), ("score new", "right"),
                       ("Δ (band)", "right"), ("train ×", "right"), ("predict ×", "right"), ("verdict", "left")):
            t.add_column(col, justify=j, no_wrap=col != "verdict")
        for _, r in g.iterrows():
            label = r["model"] + (f"[{r['variant']}]" if r.get("variant") else "")
            why = r.get("reasons") or r.get("better") or ""
            t.add_row(escape(label), str(r["n_train"]), *score_texts(r, ".3f"),
                      _fmt(r.get("train_ratio"), ".2f"), _fmt(r.get("predict/1k_ratio"), ".2f"),
                      f"[{colours[r['verdict']]}]{r['verdict']}[/] {escape(why)}")
        console.print(t)


def cmd_compare(base: str, new: str, th: Thresholds, markdown: str | None = None) -> int:
    from harness.core.display import console

    try:
        b, b_folders = load_side(Path(base))
        n, n_folders = load_side(Path(new))
    except ResultsError as e:
        from rich.markup import escape

        console.print(f"[red]error:[/] {escape(str(e))}", soft_wrap=True)
        return 2
    df = compare(b, n, th)
    warnings = context_warnings(b, n) + drift_warnings(df)
    print_table(df, console)
    for w in warnings:
        console.print(f"[yellow]warning:[/] {w}")
    counts = summary_counts(df)
    names = (", ".join(map(str, b_folders)), ", ".join(map(str, n_folders)))
    console.print(f"base {names[0]} -> new {names[1]}: [red]{counts['regression']} regressions[/], "
                  f"[green]{counts['improvement']} improvements[/], {counts['unchanged']} unchanged"
                  + (f", {counts['missing']} only in base, {counts['new']} only in new" if counts["missing"] or counts["new"] else ""))
    if markdown:
        Path(markdown).write_text(to_markdown(df, *names, warnings, th))
        console.print(f"markdown: {markdown}")
    return 1 if counts["regression"] else 0
