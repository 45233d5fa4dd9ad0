"""Each guarded model beside its second implementation (suites/guards.yaml), per dataset, where both
have finished rows: their scores over the seeds both ran, the paired gap with its interval, the pair's
margin and whether the two agree (harness/evaluation/guards.py, the reading the claims use)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from harness.evaluation.guards import DISAGREE, compare_pairs
from harness.report.blocks import Cell, Heading, Para, Table


def guard_blocks(d: pd.DataFrame, suite: str) -> list:
    results = compare_pairs(d)
    if not results:
        return []
    rows = []
    for r in results:
        interval = "–" if r.diff.single_seed else f"[{r.diff.lo:+.4g}, {r.diff.hi:+.4g}]"
        p = "–" if np.isnan(r.diff.p_value) else f"{r.diff.p_value:.3g}"
        reading = r.decision + (" (one seed: no noise estimate)" if r.diff.single_seed and r.decision != "agree" else "")
        rows.append([r.dataset, r.guard.model, f"{r.model_mean:.4g}", r.guard.second, f"{r.second_mean:.4g}", r.score,
                     f"{r.diff.mean:+.4g}", interval, p, str(r.diff.n), f"{r.margin:.3g}",
                     Cell(reading, cls="pill status-failed") if r.decision == DISAGREE else reading])
    return [Heading(3, f"{suite}: second implementations"),
            Para("Each guarded model beside an independent implementation of it on the same settings (suites/"
                 "guards.yaml), over the seeds both finished: the two disagree when the paired gap's 95% t-interval "
                 "excludes 0 and the gap is beyond the pair's margin; a claim resting on a model whose "
                 "implementations disagree reads implementations-disagree."),
            Table(["dataset", "model", "score", "second implementation", "score", "metric", "gap", "95% interval",
                   "p", "seeds", "margin", "reading"], rows, right={2, 4, 6, 7, 8, 9, 10})]
