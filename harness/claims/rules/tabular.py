"""A11: a GMDH network grows several layers and competes with an MLP and ridge regression on
regression tables (test R²)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from harness.claims.registry import rule
from harness.claims.rules.descriptive import described
from harness.claims.rows import at_top_size, diff_text, md_table, ok, paired, scope_of, scored, seed_scores
from harness.claims.verdict import CONTRADICTS, LARGE_GAP, MIXED, SUPPORTS, Verdict, comparison, overall, verdict

GMDH_RIVALS = ("mlp", "ridge")
MIN_GMDH_LAYERS = 2  # A11: a network "of any depth" must at least have grown past its first layer


def best_of_arch(d: pd.DataFrame, arch: str, metric: str) -> str | None:
    """The configuration of one architecture with the highest mean `metric` over seeds."""
    scores = d[d["arch"] == arch].groupby("key")[metric].mean().dropna()
    return scores.idxmax() if len(scores) else None


def gmdh_readings(rows: pd.DataFrame) -> tuple[list[str], list[list], list[str]]:
    """Per regression dataset with GMDH rows, at the largest size: GMDH's test R^2 and layers grown
    against the MLP and ridge regression, paired over seeds. (outcomes, table rows, evidence lines)."""
    outcomes, table, lines = [], [], []
    for (suite, dataset), d in scored(rows, "r2").groupby(["suite", "dataset"], sort=False):
        d = at_top_size(d)
        gmdh = best_of_arch(d, "gmdh", "r2")
        if gmdh is None:
            continue
        g = seed_scores(d, gmdh, "r2")
        layers = pd.to_numeric(d.loc[d["key"] == gmdh, "n_layers"], errors="coerce").mean() \
            if "n_layers" in d else np.nan
        parts, cells = {}, []
        for rival in GMDH_RIVALS:
            key = best_of_arch(d, rival, "r2")
            if key is None:
                cells.append("–")
                continue
            diff = paired(g, seed_scores(d, key, "r2"))
            parts[rival] = comparison(diff, LARGE_GAP)
            cells.append(f"{key} R² {seed_scores(d, key, 'r2').mean():.3f} (GMDH − it: {diff_text(diff, log=False)})")
        if not parts:
            continue
        behind = [r for r, o in parts.items() if o == CONTRADICTS]
        deep_enough = np.isfinite(layers) and layers >= MIN_GMDH_LAYERS
        if len(behind) == len(parts):
            result = CONTRADICTS
        elif behind or not deep_enough:
            result = MIXED
        else:
            result = SUPPORTS
        outcomes.append(result)
        layer_text = f"{layers:.1f}" if np.isfinite(layers) else "–"
        table.append([dataset, int(d["n_train"].iloc[0]), f"R² {g.mean():.3f}", layer_text, *cells,
                      {SUPPORTS: "competes, grew layers", CONTRADICTS: "behind both", MIXED:
                       ("behind " + ", ".join(behind)) if behind else f"competes, but {layer_text} layer(s)"}[result]])
        lines.append(f"{dataset}: GMDH R² {g.mean():.3f} with {layer_text} layers; "
                     + "; ".join(f"{r} {('ahead of GMDH' if o == CONTRADICTS else 'behind GMDH' if o == SUPPORTS else 'level')}"
                                 for r, o in parts.items()))
    return outcomes, table, lines


def gmdh_reproduction(data: pd.DataFrame, entry: dict) -> Verdict:
    """A11: GMDH grows a multi-layer polynomial network that competes with an MLP and ridge regression."""
    rows = data  # not named `rows`: a helper, not a registered rule
    outcomes, table, lines = gmdh_readings(rows)
    if not outcomes:
        return verdict(entry, "inconclusive", "no regression dataset has finished cells of gmdh and of mlp or ridge",
                       scope=scope_of(ok(rows)))
    detail = (md_table(["dataset", "n_train", "GMDH", "layers grown", "vs mlp", "vs ridge", "reading"], table)
              + f"\n\nTest R² at the largest training size, paired over seeds (one seed: gaps under "
              f"{LARGE_GAP:.2f} R² count as level). A dataset supports when GMDH grew at least {MIN_GMDH_LAYERS} "
              "layers and is behind neither rival beyond the noise; contradicts when it is behind both.")
    return verdict(entry, overall(outcomes), "; ".join(lines), detail,
                   scope_of(ok(rows[rows["arch"].isin(["gmdh", *GMDH_RIVALS])])))


@rule
def gmdh_vs_mlp(rows: pd.DataFrame, entry: dict) -> Verdict:
    """A11: the article describes; a definitional verdict whose reproduction is gmdh_reproduction's."""
    return described(entry, gmdh_reproduction(rows, entry))
