"""The paragraph under the title: what was run, what failed, and the best of each dataset in the
words of its kind (accuracy, bits per character, Fréchet distance, return)."""
from __future__ import annotations

import pandas as pd

from harness.report.rows import FAMILIES, aggregate, largest_size
from harness.tasks import table_kind


def summary_text(df: pd.DataFrame) -> str:
    ok = df[df["status"] == "ok"]
    models = df.drop_duplicates("model")
    n_fam = {f: int((models["family"] == f).sum()) for f in FAMILIES}
    seeds = ", ".join(map(str, sorted(df["seed"].unique())))
    text = (f"{len(df)} cells from {df['run'].nunique()} run(s) of suite(s) {', '.join(dict.fromkeys(df['suite']))}: "
            f"{len(ok)} finished, {len(df) - len(ok)} failed. {df['dataset'].nunique()} datasets, "
            f"{len(models)} models ({n_fam['classical']} classical, {n_fam['deep']} deep), seeds {seeds}, "
            f"profile {', '.join(sorted(df['profile'].astype(str).unique()))}, deep models on "
            f"{', '.join(sorted(df.loc[df['family'] == 'deep', 'device'].astype(str).unique())) or '–'}.")
    best, lowest_bpc, lowest_fd, top_return = [], [], [], []
    for (suite, dataset), d in df.groupby(["suite", "dataset"], sort=False):
        section = table_kind(d).report_section
        if section == "control":
            means = d[d["status"] == "ok"].groupby(["label", "family"])["mean_return"].mean().dropna()
            if len(means):
                (label, family), ret = means.idxmax(), means.max()
                top_return.append(f"{dataset} {label} ({family}, {ret:.2f})")
            continue
        if section == "generation":
            means = largest_size(d).groupby(["label", "family"])["frechet_distance"].mean().dropna()
            if len(means):
                (label, family), fd = means.idxmin(), means.min()
                lowest_fd.append(f"{dataset} {label} ({family}, {fd:.2f})")
            continue
        if section == "language_model":
            means = largest_size(d).groupby(["label", "family"])["bpc"].mean()
            if len(means):
                (label, family), bpc = means.idxmin(), means.min()
                lowest_bpc.append(f"{dataset} {label} ({family}, {bpc:.3f})")
            continue
        if table_kind(d).score != "accuracy":
            continue  # scored otherwise (R², ROC-AUC, reconstruction error): their sections say who is best
        agg = aggregate(largest_size(d))
        if len(agg):
            top = agg.loc[agg["_acc"].idxmax()]
            best.append(f"{dataset} {top['label']} ({top['family']}, {top['_acc']:.4f})")
    if best:
        text += " Most accurate at the largest training size: " + "; ".join(best) + "."
    if lowest_bpc:
        text += " Fewest bits per character: " + "; ".join(lowest_bpc) + "."
    if lowest_fd:
        text += " Lowest Fréchet distance of generated images: " + "; ".join(lowest_fd) + "."
    if top_return:
        text += " Highest mean evaluation return: " + "; ".join(top_return) + "."
    if "smoke" in set(df["profile"]):
        text += " Profile smoke trains on a sliver of data for a couple of epochs: it checks the harness, not the claims."
    return text
