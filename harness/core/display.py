"""What the user watches: a progress bar over cells, a transient epoch bar, and result tables."""
from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)
from rich.table import Table
from rich.text import Text

console = Console(stderr=True)
FAMILY_COLOURS = {"classical": "cyan", "deep": "magenta"}


class RunDisplay:
    """Outer bar over (dataset x model x seed) cells; an inner, transient bar over epochs."""

    def __init__(self, total_cells: int):
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                                 console=console, transient=False)
        self.total = total_cells
        self.cells = None
        self.epochs = None

    def __enter__(self):
        self.progress.__enter__()
        self.cells = self.progress.add_task("cells", total=self.total)
        return self

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)

    def start_cell(self, dataset: str, model: str, seed: int, n_train: int) -> None:
        self.progress.update(self.cells, description=f"[bold]{dataset}[/] · {escape(model)} · seed {seed} · n={n_train}")

    def on_epoch(self, epoch: int, max_epochs: int, loss: float, label: str | None = None) -> None:
        """`label` says what was done where epochs are not the unit (a language model's steps)."""
        if self.epochs is None:
            self.epochs = self.progress.add_task("  epochs", total=max_epochs)
        self.progress.update(self.epochs, completed=epoch,
                             description=f"  {escape(label or f'epoch {epoch}')} · loss {loss:.4f}")

    def end_cell(self, row: dict) -> None:
        if self.epochs is not None:
            self.progress.remove_task(self.epochs)
            self.epochs = None
        self.progress.advance(self.cells)
        self.progress.console.print(cell_line(row))

    def print(self, *args, **kwargs) -> None:
        self.progress.console.print(*args, **kwargs)


def cell_line(row: dict) -> str:
    label = row["model"] + (f"[{row['variant']}]" if row.get("variant") else "")
    where = escape(f"{row['dataset']:<14} {label:<24} seed {row['seed']} n={row['n_train']}")
    if row["status"] != "ok":
        return f"[red]✗[/] {where}  [red]{row['status']}[/]: {row['error']}"
    reused = "  [dim](reused)[/]" if row.get("reused_from") else ""
    acc = row.get("accuracy")
    score = f"acc {acc:.4f}"
    if acc is None or pd.isna(acc):  # a regression row has an MSE, a language model's bits per character
        score = next((f"{name} {row[col]:.4f}" for col, name in (("bpc", "bpc"), ("mse", "mse"), ("frechet_distance", "FD"),
                                                                 ("roc_auc", "ROC-AUC"), ("reconstruction_mse", "MSE"),
                                                                 ("mean_return", "return"))
                      if row.get(col) is not None and not pd.isna(row[col])), "–")
    return (f"[green]✓[/] {where}  {score}  train {fmt_seconds(row['train_seconds'])}"
            f"  predict {row['predict_seconds_per_1k'] * 1000:.1f} ms/1k{reused}")


def fmt_seconds(s: float) -> str:
    if s is None or (isinstance(s, float) and math.isnan(s)):
        return "–"
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.1f} s" if s < 120 else f"{s / 60:.1f} min"


def fmt_count(n) -> str:
    if n is None or pd.isna(n):
        return "–"
    n = float(n)
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return f"{n:.0f}"


CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def visible(text: str) -> str:
    """Generated text made safe to show: control characters (a bell, an escape sequence) written as
    \\xNN; newlines and tabs kept."""
    return CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def is_language_model(d: pd.DataFrame) -> bool:
    """Rows scored in bits per character rather than accuracy."""
    return "bpc" in d and d["bpc"].notna().any() and d["accuracy"].isna().all()


def is_generation(d: pd.DataFrame) -> bool:
    """Rows of generated images, measured by Fréchet distance rather than accuracy (harness/evaluation/generative_metrics.py)."""
    return "frechet_distance" in d and d["frechet_distance"].notna().any() and d["accuracy"].isna().all()


def is_control(d: pd.DataFrame) -> bool:
    """Rows of agents scored by the return of their evaluation episodes (harness/deep/rl.py)."""
    return "mean_return" in d and pd.to_numeric(d["mean_return"], errors="coerce").notna().any() \
        and d["accuracy"].isna().all()


def control_table(dataset: str, d: pd.DataFrame) -> list:
    """Mean return of the evaluation episodes per agent (mean over seeds, with their spread), how many
    seeds reached the reward threshold while training and after how many steps (median of those)."""
    ok = d[d["status"] == "ok"]
    num = lambda col: pd.to_numeric(ok[col], errors="coerce")  # noqa: E731
    ok = ok.assign(ret=num("mean_return"), to_steps=num("steps_to_threshold"), to_seconds=num("seconds_to_threshold"))
    agg = ok.groupby(["family", "label"], sort=False).agg(
        ret=("ret", "mean"), spread=("ret", "std"), solved=("solved", "sum"), seeds=("seed", "nunique"),
        train=("train_seconds", "mean"), params=("n_parameters", "mean")).reset_index()
    reached = ok[np.isfinite(ok["to_steps"])].groupby("label").agg(steps=("to_steps", "median"),
                                                                    seconds=("to_seconds", "median"))
    agg = agg.join(reached, on="label").sort_values("ret", ascending=False).reset_index(drop=True)
    best = {fam: g["ret"].idxmax() for fam, g in agg.groupby("family") if g["ret"].notna().any()}
    threshold = pd.to_numeric(ok["reward_threshold"], errors="coerce").max() if "reward_threshold" in ok else np.nan
    t = Table(title=f"{escape(dataset)}  (control: {int(d['n_train'].max())} environment steps per agent, "
                    f"{int(d['n_test'].max())} evaluation episodes; return, higher is better; solved at {threshold:g}; "
                    "steps→, time→: median steps and training time to reach it, over the seeds that did)",
              title_justify="left")
    columns = ("model", "family", "return", "sd", "solved", "steps→", "time→", "train", "params")
    for col in columns:
        t.add_column(col, justify="left" if col in ("model", "family") else "right", no_wrap=True)
    f = lambda x, spec: "–" if pd.isna(x) else format(x, spec)  # noqa: E731
    for i, r in agg.iterrows():
        mark = "★ " if best.get(r["family"]) == i else "  "
        t.add_row(escape(mark + r["label"]), f"[{FAMILY_COLOURS.get(r['family'], 'white')}]{escape(r['family'])}[/]",
                  f(r["ret"], ".2f"), f(r["spread"], ".2f"), f"{int(r['solved'])}/{r['seeds']}",
                  "–" if pd.isna(r.get("steps")) else fmt_count(r["steps"]), fmt_seconds(r.get("seconds")),
                  fmt_seconds(r["train"]), fmt_count(r["params"]), style="bold" if mark.strip() else None)
    for _, r in d[d["status"] != "ok"].drop_duplicates("label").iterrows():
        t.add_row(escape(f"  {r['label']}"), "", f"[red]{r['status']}[/]", *[""] * (len(columns) - 3))
    return [t]


def generation_table(dataset: str, d: pd.DataFrame) -> list:
    """Fréchet distance (lower is better), precision, recall and CAS per model, means over seeds; the
    distance of real training images to the test images is the floor in the title."""
    ok = d[d["status"] == "ok"]
    num = lambda col: pd.to_numeric(ok[col], errors="coerce") if col in ok else pd.Series(float("nan"), index=ok.index)  # noqa: E731
    agg = ok.assign(fd=num("frechet_distance"), p=num("precision"), r=num("recall"), cas=num("cas_accuracy"),
                    floor=num("frechet_distance_real"), clf=num("feature_classifier_accuracy")).groupby(
        ["family", "label"], sort=False).agg(fd=("fd", "mean"), p=("p", "mean"), r=("r", "mean"), cas=("cas", "mean"),
                                             train=("train_seconds", "mean"), sample=("predict_seconds_per_1k", "mean"),
                                             params=("n_parameters", "mean"), seeds=("seed", "nunique")).reset_index()
    agg = agg.sort_values("fd").reset_index(drop=True)
    best = {fam: g["fd"].idxmin() for fam, g in agg.groupby("family") if g["fd"].notna().any()}
    floor, clf = num("frechet_distance_real").mean(), num("feature_classifier_accuracy").mean()
    t = Table(title=f"{escape(dataset)}  (n_train={int(d['n_train'].max())}, test={int(d['n_test'].max())}; Fréchet "
                    f"distance, lower is better; real images score {floor:.2f}; feature classifier accuracy {clf:.3f})",
              title_justify="left")
    for col in ("model", "family", "FD", "precision", "recall", "CAS", "train", "sample /1k", "params", "seeds"):
        t.add_column(col, justify="left" if col in ("model", "family") else "right", no_wrap=True)
    f = lambda x, spec=".3f": "–" if pd.isna(x) else format(x, spec)  # noqa: E731
    for i, r in agg.iterrows():
        mark = "★ " if best.get(r["family"]) == i else "  "
        t.add_row(escape(mark + r["label"]), f"[{FAMILY_COLOURS.get(r['family'], 'white')}]{escape(r['family'])}[/]",
                  f(r["fd"], ".2f"), f(r["p"]), f(r["r"]), f(r["cas"]), fmt_seconds(r["train"]),
                  fmt_seconds(r["sample"]), fmt_count(r["params"]), str(r["seeds"]), style="bold" if mark.strip() else None)
    for _, r in d[d["status"] != "ok"].drop_duplicates("label").iterrows():
        t.add_row(escape(f"  {r['label']}"), "", f"[red]{r['status']}[/]", "", "", "", "", "", "", "")
    return [t]


def language_model_table(dataset: str, d: pd.DataFrame) -> list:
    """Bits per character (lower is better) with the uniform baseline, then one sample per model."""
    ok = d[d["status"] == "ok"]
    agg = ok.groupby(["family", "label"], sort=False).agg(
        bpc=("bpc", "mean"), uniform=("uniform_bpc", "mean"), train=("train_seconds", "mean"),
        params=("n_parameters", "mean"), steps=("steps", "mean"), seeds=("seed", "nunique")).reset_index()
    agg = agg.sort_values("bpc").reset_index(drop=True)
    best = {fam: g["bpc"].idxmin() for fam, g in agg.groupby("family") if g["bpc"].notna().any()}
    t = Table(title=f"{escape(dataset)}  (n_train={int(d['n_train'].max())}, test={int(d['n_test'].max())} texts; "
                    "bits per character, lower is better)", title_justify="left")
    for col in ("model", "family", "bpc", "uniform bpc", "train", "params", "steps", "seeds"):
        t.add_column(col, justify="left" if col in ("model", "family") else "right", no_wrap=True)
    for i, r in agg.iterrows():
        mark = "★ " if best.get(r["family"]) == i else "  "
        t.add_row(escape(mark + r["label"]), f"[{FAMILY_COLOURS.get(r['family'], 'white')}]{escape(r['family'])}[/]",
                  f"{r['bpc']:.3f}", f"{r['uniform']:.3f}", fmt_seconds(r["train"]), fmt_count(r["params"]),
                  fmt_count(r["steps"]), str(r["seeds"]), style="bold" if mark.strip() else None)
    for _, r in d[d["status"] != "ok"].drop_duplicates("label").iterrows():
        t.add_row(escape(f"  {r['label']}"), "", f"[red]{r['status']}[/]", "", "", "", "", "")
    first_seed = ok.sort_values("seed").drop_duplicates("label").set_index("label")
    samples = [Panel(Text(visible(str(first_seed.loc[label, "sample"]))), title=escape(f"{label} (seed "
                     f"{first_seed.loc[label, 'seed']})"), title_align="left", expand=False)
               for label in agg["label"] if "sample" in first_seed and pd.notna(first_seed.loc[label, "sample"])]
    return [t, Group(*samples)] if samples else [t]


def has_scores(d: pd.DataFrame, column: str) -> bool:
    """Whether any row holds a number in `column`."""
    return column in d and pd.to_numeric(d[column], errors="coerce").notna().any()


def base_dataset(name: str) -> str:
    """A dataset variant's dataset: digits_anomaly[anomaly_class=3] -> digits_anomaly."""
    return str(name).split("[", 1)[0]


def with_label(d: pd.DataFrame) -> pd.DataFrame:
    return d.assign(label=d["model"] + d.get("variant", pd.Series("", index=d.index)).fillna("").map(
        lambda v: f"[{v}]" if v else ""))


def failed_rows(t: Table, d: pd.DataFrame, columns: int) -> None:
    for _, r in d[d["status"] != "ok"].drop_duplicates("label").iterrows():
        t.add_row(escape(f"  {r['label']}"), f"[red]{r['status']}[/]", *[""] * (columns - 2))


def anomaly_table(dataset: str, d: pd.DataFrame) -> Table:
    """A detector per row, its ROC-AUC and PR-AUC averaged over the dataset's variants (held-out
    classes) and seeds, with the worst variant's ROC-AUC; PR-AUC's chance level, the anomaly rate, is
    in the title."""
    ok = d[d["status"] == "ok"]
    per_task = ok.groupby(["family", "label", "dataset"], sort=False)["roc_auc"].mean()
    agg = ok.groupby(["family", "label"], sort=False).agg(
        roc=("roc_auc", "mean"), pr=("pr_auc", "mean"), train=("train_seconds", "mean"),
        seeds=("seed", "nunique")).reset_index().sort_values("roc", ascending=False)
    worst = per_task.groupby(level=["family", "label"]).min()
    rate = pd.to_numeric(ok["anomaly_rate"], errors="coerce").mean() if "anomaly_rate" in ok else np.nan
    t = Table(title=f"{escape(dataset)}  (anomaly detection: {d['dataset'].nunique()} task(s), test="
                    f"{int(d['n_test'].max())}, anomaly rate {rate:.3f} = PR-AUC by chance; ROC-AUC 0.5 = chance)",
              title_justify="left")
    columns = ("model", "ROC-AUC", "worst task", "PR-AUC", "train", "seeds")
    for col in columns:
        t.add_column(col, justify="left" if col == "model" else "right", no_wrap=True)
    for i, (_, r) in enumerate(agg.iterrows()):
        t.add_row(f"[{FAMILY_COLOURS.get(r['family'], 'white')}]{escape(('★ ' if i == 0 else '  ') + r['label'])}[/]",
                  f"{r['roc']:.3f}", f"{worst[(r['family'], r['label'])]:.3f}", f"{r['pr']:.3f}",
                  fmt_seconds(r["train"]), str(r["seeds"]), style="bold" if i == 0 else None)
    failed_rows(t, d, len(columns))
    return t


def reconstruction_table(dataset: str, d: pd.DataFrame) -> Table:
    """A reducer per row (model[code_size=d]), by code size: test MSE per pixel, the share of the
    variance it explains, and the k-NN accuracy of its codes (that of the raw inputs in the title)."""
    ok = d[d["status"] == "ok"]
    ok = ok.assign(**{c: np.nan for c in ("code_size", "explained_variance", "knn_accuracy", "knn_input_accuracy")
                      if c not in ok})
    agg = ok.groupby(["family", "label"], sort=False).agg(
        code=("code_size", "mean"), mse=("reconstruction_mse", "mean"), ev=("explained_variance", "mean"),
        knn=("knn_accuracy", "mean"), train=("train_seconds", "mean"), params=("n_parameters", "mean"),
        seeds=("seed", "nunique")).reset_index()
    agg = agg.sort_values(["code", "mse"])
    best = {c: g["mse"].idxmin() for c, g in agg.groupby("code")}
    raw = pd.to_numeric(ok["knn_input_accuracy"], errors="coerce").mean()
    t = Table(title=f"{escape(dataset)}  (reconstruction: n_train={int(d['n_train'].max())}, test="
                    f"{int(d['n_test'].max())}, {d['seed'].nunique()} seed(s); MSE per pixel, lower is better; "
                    f"5-NN on the raw inputs {'–' if pd.isna(raw) else f'{raw:.4f}'})", title_justify="left")
    columns = ("model", "MSE", "expl. var", "5-NN codes", "train", "params")
    for col in columns:
        t.add_column(col, justify="left" if col == "model" else "right", no_wrap=True)
    number = lambda v, spec: "–" if pd.isna(v) else format(v, spec)  # noqa: E731
    for i, r in agg.iterrows():
        mark = "★ " if best.get(r["code"]) == i else "  "
        name = re.sub(r"\[code_size=(\d+)\]", r" d=\1", r["label"])  # pca[code_size=8] -> pca d=8
        t.add_row(f"[{FAMILY_COLOURS.get(r['family'], 'white')}]{escape(mark + name)}[/]", f"{r['mse']:.5f}",
                  number(r["ev"], ".3f"), number(r["knn"], ".4f"), fmt_seconds(r["train"]), fmt_count(r["params"]),
                  style="bold" if mark.strip() else None)
    failed_rows(t, d, len(columns))
    return t


def few_labels_table(dataset: str, d: pd.DataFrame) -> Table:
    """A classifier per row, its test accuracy (mean over seeds) at each number of labelled images."""
    ok = d[d["status"] == "ok"]
    sizes = sorted(ok["n_train"].unique())
    means = ok.groupby(["label", "n_train"])["accuracy"].mean().unstack()
    seeds = ok.groupby("label")["seed"].nunique()
    t = Table(title=f"{escape(dataset)}  (few labels: test accuracy by labelled training images, "
                    f"test={int(d['n_test'].max())})", title_justify="left")
    for col in ("model", *(f"n={n}" for n in sizes), "seeds"):
        t.add_column(col, justify="left" if col == "model" else "right", no_wrap=True)
    for label in means.index:
        t.add_row(escape(label), *("–" if pd.isna(means.loc[label].get(n)) else f"{means.loc[label, n]:.4f}"
                                   for n in sizes), str(seeds[label]))
    failed_rows(t, d, len(sizes) + 2)
    return t


def grouped_tables(df: pd.DataFrame) -> tuple[list, set]:
    """Tables of the unsupervised suite's kinds, and the datasets they cover: anomaly detection and
    few-label datasets one table per dataset before its variants (held-out classes, label counts),
    reconstruction one per dataset."""
    tables, covered = [], set()
    df = with_label(df)
    for base, d in df.groupby(df["dataset"].map(base_dataset), sort=False):
        if has_scores(d, "roc_auc"):
            tables.append(anomaly_table(base, d))
        elif has_scores(d, "n_labelled") and has_scores(d, "accuracy"):
            tables.append(few_labels_table(base, d))
        elif has_scores(d, "reconstruction_mse"):
            tables += [reconstruction_table(name, g) for name, g in d.groupby("dataset", sort=False)]
        else:
            continue
        covered |= set(d["dataset"])
    return tables, covered


def summary_tables(df: pd.DataFrame) -> list:
    """One table per dataset: mean over seeds at the largest training size, best of each family marked
    (a language model's table is followed by its samples)."""
    tables, covered = grouped_tables(df)
    for dataset, d in df.groupby("dataset", sort=False):
        if dataset in covered:
            continue
        d = d[d["n_train"] == d["n_train"].max()]
        d = d.assign(label=d["model"] + d.get("variant", "").map(lambda v: f"[{v}]" if v else ""))
        if is_language_model(d):
            tables += language_model_table(dataset, d)
            continue
        if is_generation(d):
            tables += generation_table(dataset, d)
            continue
        if is_control(d):
            tables += control_table(dataset, d)
            continue
        ok = d[d["status"] == "ok"]
        # A regression dataset (no accuracy) shows R^2 and MSE in the accuracy and F1 columns.
        regression = "r2" in ok and ok["accuracy"].isna().all() and ok["r2"].notna().any()
        score, second = ("r2", "mse") if regression else ("accuracy", "f1_macro")
        agg = ok.groupby(["family", "label"], sort=False).agg(
            accuracy=(score, "mean"), f1=(second, "mean"), train=("train_seconds", "mean"),
            predict=("predict_seconds_per_1k", "mean"), params=("n_parameters", "mean"),
            seeds=("seed", "nunique")).reset_index()
        best = {fam: g["accuracy"].idxmax() for fam, g in agg.groupby("family")
                if g["accuracy"].notna().any()} if len(agg) else {}
        t = Table(title=f"{escape(dataset)}  (n_train={int(d['n_train'].max())}, test={int(d['n_test'].max())})",
                  title_justify="left")
        for col, justify in (("model", "left"), ("R²" if regression else "accuracy", "right"),
                             ("MSE" if regression else "macro-F1", "right"), ("train", "right"),
                             ("predict /1k", "right"), ("params", "right"), ("seeds", "right")):
            t.add_column(col, justify=justify, no_wrap=True)
        for fam in ("classical", "deep"):
            rows = agg[agg["family"] == fam].sort_values("accuracy", ascending=False)
            if not len(rows):
                continue
            t.add_row(f"[bold {FAMILY_COLOURS[fam]}]{fam}[/]")
            for i, r in rows.iterrows():
                best_mark = "★ " if best.get(fam) == i else "  "
                t.add_row(escape(best_mark + r["label"]), f"{r['accuracy']:.4f}", f"{r['f1']:.4f}", fmt_seconds(r["train"]),
                          fmt_seconds(r["predict"]), fmt_count(r["params"]), str(r["seeds"]),
                          style="bold" if best_mark.strip() else None)
        for _, r in d[d["status"] != "ok"].drop_duplicates("label").iterrows():
            t.add_row(escape(f"  {r['label']}"), f"[red]{r['status']}[/]", "", "", "", "", "")
        tables.append(t)
    return tables
