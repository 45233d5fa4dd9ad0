"""Resume: a cell that already finished with the same config and code is not run again.

Every row carries `cell_key`, a hash of everything that decides the cell's outcome: the resolved
dataset and model configs (hyperparameters, epochs), seed, training and test sizes, tuning, device,
threads, time limit, interpretation settings, bench's own source code (`code_version`) and the
versions of the libraries it runs on. A new run looks the key up in the earlier runs of its suite;
a finished row (ok or diverged: both are outcomes, not faults) is copied into the new run folder
with `reused_from` naming its origin, and the cell is skipped. Errors and timeouts run again.
Earlier folders are only read. `bench run ... --force` (or `resume=false`) runs everything.
"""
from __future__ import annotations

import hashlib
import json
import logging
from functools import lru_cache
from pathlib import Path

from harness.results.store import read_run_rows

log = logging.getLogger("bench")
REUSABLE = ("ok", "diverged")
SOURCE_ROOTS = ("harness", "baselines")
# Code that only presents results: editing it cannot change a cell's outcome (files, or folders ending in /).
PRESENTATION = ("harness/cli.py", "harness/app.py", "harness/core/display.py", "harness/evaluation/stats.py",
                "harness/results/compare.py", "harness/results/reference.py", "harness/results/history.py",
                "harness/report/", "harness/claims/")


@lru_cache(maxsize=1)
def code_version() -> str:
    """A hash of bench's Python sources (presentation modules aside): any edit, committed or not,
    changes it. Deliberately coarse: an edit to one model's file re-runs every model's cells."""
    root = Path(__file__).resolve().parents[2]
    digest = hashlib.sha1()
    for top in SOURCE_ROOTS:
        for path in sorted((root / top).rglob("*.py")):
            name = path.relative_to(root).as_posix()
            if name in PRESENTATION or name.startswith(tuple(p for p in PRESENTATION if p.endswith("/"))):
                continue
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def cell_key(payload: dict) -> str:
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


class ResumeIndex:
    """Finished rows of earlier runs of one suite, by cell_key (the newest row wins)."""

    def __init__(self, suite_folder: Path, exclude: Path):
        self.rows: dict[str, dict] = {}
        if not suite_folder.is_dir():
            return
        for folder in sorted(p for p in suite_folder.iterdir() if p.is_dir() and p.resolve() != exclude.resolve()):
            try:
                df = read_run_rows(folder)
            except Exception as e:  # noqa: BLE001 - an unreadable old run is skipped, not fatal
                log.warning("resume: skipping %s: %s", folder, e)
                continue
            if "cell_key" not in df or not len(df):
                continue
            for row in df[df["status"].isin(REUSABLE) & df["cell_key"].notna()].to_dict("records"):
                row["reused_from"] = row.get("reused_from") or str(folder)
                self.rows[row["cell_key"]] = row

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, key: str) -> dict | None:
        return self.rows.get(key)

