"""The failed cells of a dataset, listed under its results wherever they are shown."""
from __future__ import annotations

import pandas as pd

from harness.report.blocks import Cell, Table


def failed_table(failed: pd.DataFrame) -> Table:
    rows = [[r["label"], str(r["seed"]), str(r["n_train"]), Cell(str(r["status"]), cls="pill status-failed"),
             Cell(str(r["error"] or "")[:300], cls="error")]
            for _, r in failed.sort_values(["label", "seed", "n_train"]).iterrows()]
    return Table(["model", "seed", "n_train", "status", "error"], rows, right={1, 2}, row_cls=list(failed["family"]))
