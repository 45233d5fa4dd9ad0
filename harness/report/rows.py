"""The rows as the report reads them: every column present, each configuration named, the cells at
the largest training size, means over seeds with their 95% Student-t interval
(`harness.evaluation.stats.mean_ci`), and how such a figure is written.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from harness.evaluation.stats import mean_ci
from harness.results.schema import with_defaults


FAMILIES = ("classical", "deep")
METRICS = ("accuracy", "f1_macro", "train_seconds", "predict_seconds_per_1k", "peak_memory_mb", "n_parameters")


def with_labels(df: pd.DataFrame) -> pd.DataFrame:
    """Fill columns older results lack (the row schema's defaults); name each configuration
    `model[variant]`, qualified by the device, the host's CPU, tuning or parameters only where those
    differ under one name (else seeds, or one cell timed on two machines, would mix)."""
    df = with_defaults(df)
    df["variant"] = df["variant"].fillna("").astype(str)
    base = df["model"] + df["variant"].map(lambda v: f"[{v}]" if v else "")
    df["label"] = base
    qualifiers = {"device": df["device"].astype(str), "cpu_model": "on " + df["cpu_model"].fillna("unknown CPU").astype(str),
                  "tuned": df["tuned"].map({True: "tuned", False: "not tuned"}),
                  "params_id": "params " + df["params_id"].astype(str)}
    for col, text in qualifiers.items():
        varies = df.groupby([df["suite"], df["dataset"], base])[col].transform("nunique") > 1
        df.loc[varies, "label"] += " · " + text[varies]
    return df


def largest_size(d: pd.DataFrame) -> pd.DataFrame:
    """The finished cells at the largest training size that has any."""
    ok = d[d["status"] == "ok"]
    return ok[ok["n_train"] == ok["n_train"].max()] if len(ok) else ok


def aggregate(ok: pd.DataFrame) -> pd.DataFrame:
    """One row per configuration: family, and (mean, low, high, n) of every metric over seeds,
    classical first, then by mean accuracy."""
    rows = []
    for (label, family), g in ok.groupby(["label", "family"], sort=False):
        rows.append({"label": label, "family": family,
                     **{m: mean_ci(pd.to_numeric(g[m], errors="coerce")) for m in METRICS}})
    agg = pd.DataFrame(rows, columns=["label", "family", *METRICS])
    if not len(agg):
        return agg
    agg["_fam"] = agg["family"].map({f: i for i, f in enumerate(FAMILIES)}).fillna(len(FAMILIES))
    agg["_acc"] = agg["accuracy"].map(lambda t: t[0])
    return agg.sort_values(["_fam", "_acc"], ascending=[True, False]).drop(columns="_fam").reset_index(drop=True)


def fmt_ci(ci: tuple, fmt=lambda x: f"{x:.4f}") -> str:
    mean, low, high, n = ci
    if n == 0:
        return "–"
    return fmt(mean) if n == 1 else f"{fmt(mean)} ± {fmt((high - low) / 2)}"


def fmt_mb(mb: float) -> str:
    if mb is None or not np.isfinite(mb):
        return "–"
    return f"{mb / 1024:.1f} GB" if mb >= 1024 else f"{mb:.1f} MB" if mb >= 0.1 else "<0.1 MB"
