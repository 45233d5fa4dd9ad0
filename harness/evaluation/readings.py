"""Readings of result rows that both the claims and the report make: a dataset's sequence length,
an architecture's role across suites, the share of seeds that solved a memory task."""
from __future__ import annotations

import re

import pandas as pd


LENGTH = re.compile(r"\[(?:[^\]]*,)?length=(\d+)")



# Architecture roles across suites: the text suite's transformer_text is the sequence suite's transformer.
ROLES = {"transformer": re.compile(r"(^|_)transformer(_|$)"), "mamba": re.compile(r"(^|_)mamba(_|$)"),
         "lstm": re.compile(r"(^|_)lstm(_|$)")}



def role(key: str) -> str | None:
    """The architecture role of a configuration key ('transformer_text · tuned' -> 'transformer')."""
    arch = key.split(" · ")[0].split("[")[0]
    return next((r for r, pattern in ROLES.items() if pattern.search(arch)), None)



def with_lengths(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows of datasets varied over `length` (adding[length=200]), with `task` and `length` columns."""
    found = rows["dataset"].astype(str).str.extract(LENGTH)[0]
    rows = rows.assign(task=rows["dataset"].astype(str).str.split("[", n=1).str[0], length=pd.to_numeric(found))
    return rows.dropna(subset=["length"]).astype({"length": int})



def solved_share(d: pd.DataFrame, arch: str, by: str = "arch") -> pd.Series:
    """Share of seeds `arch` (a value of column `by`) solved, per length; a failed cell (error,
    timeout) counts as unsolved."""
    mine = d[d[by] == arch]
    solved = mine["solved"].where(mine["status"] == "ok", 0.0).fillna(0.0)
    return solved.groupby(mine["length"]).mean()
