"""Accuracy datasets run at several training sizes: where deep overtakes classical, and the power law
each model's error follows."""
from __future__ import annotations

import numpy as np
import pandas as pd

from harness.evaluation.stats import crossover, fit_power_law
from harness.report.blocks import Cell, Heading, Para, Table


def learning_curve_blocks(d: pd.DataFrame, suite: str) -> list:
    """Where several training sizes were run: per dataset, the crossover size at which the best deep
    model overtakes the best classical one (seed-bootstrap interval), and per model the saturating
    power law error = a * n^-b + c fitted to its mean error, with standard errors."""
    ok = d[d["status"] == "ok"]
    blocks = []
    for dataset, g in ok.groupby("dataset", sort=False):
        if g["n_train"].nunique() < 2:
            continue
        curves = g.assign(model=g["label"])[["n_train", "seed", "family", "model", "accuracy"]]
        x = crossover(curves)
        pair = f"{x.models.get('deep', '–')} (deep) vs {x.models.get('classical', '–')} (classical)"
        if x.n_star is not None:
            hi = "beyond the sizes run" if not np.isfinite(x.hi) else f"{x.hi:.0f}"
            where = f"crossover at n* ≈ {x.n_star:.0f} (95% interval {x.lo:.0f} to {hi}, {x.n_seeds} seeds)"
        else:
            where = {"deep": "no crossover: deep leads at every size run",
                     "classical": "no crossover: classical leads or ties at every size run",
                     "neither": "no single crossover: deep leads first, then falls behind"}.get(x.leader, "no crossover")
        rows = []
        for label, m in g.groupby("label", sort=False):
            means = m.groupby("n_train")["accuracy"].mean()
            fit = fit_power_law(means.index.to_numpy(float), 1 - means.to_numpy())
            if fit.success:
                rows.append([label, Cell(m["family"].iloc[0], cls=f"fam fam-{m['family'].iloc[0]}"),
                             f"{fit.a:.3g} ± {fit.a_se:.2g}", f"{fit.b:.3f} ± {fit.b_se:.3f}",
                             f"{fit.c:.4f} ± {fit.c_se:.4f}", f"{1 - means.iloc[-1]:.4f}"])
            else:
                rows.append([label, m["family"].iloc[0], "–", "–", "–", f"{1 - means.iloc[-1]:.4f}"])
        blocks += [Heading(3, f"{suite}/{dataset}: learning curves"),
                   Para(f"Best at the largest size: {pair}; {where}. Power law error = a·n^-b + c fitted to the "
                        f"mean test error at each size (± standard errors; c is the error it levels off at)."),
                   Table(["model", "family", "a", "b", "c (floor)", "error at largest n"], rows, right={2, 3, 4, 5},
                         row_cls=[str(r[1].text if isinstance(r[1], Cell) else r[1]) for r in rows])]
    return blocks
