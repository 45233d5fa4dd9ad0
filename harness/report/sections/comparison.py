"""Across a suite's accuracy datasets: the best deep against the best classical configuration, paired
over seeds, and the average rank of every configuration."""
from __future__ import annotations

import numpy as np
import pandas as pd

from harness.evaluation.stats import average_ranks, nemenyi_cd, paired_difference
from harness.report.blocks import Cell, Heading, Para, Table
from harness.report.rows import aggregate, largest_size


def comparison_blocks(d: pd.DataFrame, suite: str) -> list:
    """Best deep vs best classical per dataset, paired over shared seeds (a gap inside the noise is a
    tie), then the average rank of every configuration across datasets with the Nemenyi critical
    difference (Demsar, 2006)."""
    rows, scores = [], {}
    for dataset, g in d.groupby("dataset", sort=False):
        agg = aggregate(largest_size(g))
        if not len(agg):
            continue
        scores[dataset] = agg.set_index("label")["_acc"]
        best = {fam: agg.loc[f["_acc"].idxmax(), "label"] for fam, f in agg.groupby("family")}
        if {"classical", "deep"} - set(best):
            continue
        ok = largest_size(g)
        per_seed = {fam: ok[ok["label"] == best[fam]].set_index("seed")["accuracy"] for fam in ("classical", "deep")}
        seeds = sorted(set(per_seed["deep"].index) & set(per_seed["classical"].index))
        if not seeds:
            continue
        diff = paired_difference(per_seed["deep"][seeds].to_numpy(), per_seed["classical"][seeds].to_numpy())
        outcome = {"a": "deep wins", "b": "classical wins", "tie": "tie (inside the noise)"}[diff.winner]
        if diff.single_seed:
            outcome = f"{outcome.split(' (')[0]}, one seed: no noise estimate"
        rows.append([dataset, best["deep"], best["classical"], f"{diff.mean:+.4f}",
                     f"[{diff.lo:+.4f}, {diff.hi:+.4f}]", str(diff.n),
                     "–" if np.isnan(diff.p_value) else f"{diff.p_value:.3g} ({diff.test})", outcome])
    blocks = []
    if rows:
        blocks += [Heading(3, f"{suite}: best deep vs best classical"),
                   Para("Accuracy difference at the largest training size over the seeds both share, with a "
                        "95% bootstrap interval; an interval that holds 0 is a tie."),
                   Table(["dataset", "best deep", "best classical", "deep − classical", "95% interval", "seeds",
                          "p (test)", "outcome"], rows, right={3, 4, 5})]
    table = pd.DataFrame(scores)
    if table.shape[1] >= 2:
        ranks = average_ranks(table.T)
        n_datasets = table.T.dropna().shape[0]  # average_ranks keeps the datasets where every model ran
        cd = nemenyi_cd(len(ranks), n_datasets)
        families = d.drop_duplicates("label").set_index("label")["family"]
        blocks += [Heading(3, f"{suite}: average ranks across datasets"),
                   Para(f"Rank 1 is the most accurate on a dataset; averaged over {n_datasets} datasets. "
                        + (f"Two configurations whose average ranks differ by less than the critical difference "
                           f"CD = {cd:.2f} (Nemenyi, alpha 0.05) are not told apart." if cd else "")),
                   Table(["model", "family", "average rank"],
                         [[label, Cell(families.get(label, ""), cls=f"fam fam-{families.get(label, '')}"), f"{r:.2f}"]
                          for label, r in ranks.sort_values().items()], right={2},
                         row_cls=[str(families.get(label, "")) for label in ranks.sort_values().index])]
    return blocks
