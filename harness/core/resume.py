"""Resume: a cell that already finished with the same config and code is not run again.

Every row carries `cell_key`, a hash of everything that decides the cell's outcome: the resolved
dataset and model configs (hyperparameters, epochs), the content of a user's data file (`load.path`),
seed, training and test sizes, tuning, device, threads, time limit, interpretation settings, bench's
own source code (`code_version`) and the version of every installed distribution it runs on (its
dependencies and theirs: harness/core/hardware.py runtime_versions). A new run looks the key up in the earlier runs of its suite;
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
PRESENTATION = ("harness/cli.py", "harness/app.py", "harness/listing.py", "harness/dry_run.py",
                "harness/core/display.py", "harness/evaluation/stats.py",
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


def data_fingerprint(load: dict) -> str | None:
    """What a user's data file holds, for the resume key: a dataset config's `load.path` (a CSV,
    Parquet, idx or .ts file, or an image or text folder) names a file whose content can change under
    the same name. A file: a hash of its bytes; a folder: of its files' names, sizes and modification
    times (reading every image of a folder per run would cost more than the cells it saves). None
    where the config names no path (embedded and registry datasets: their version is the package's)."""
    path = (load or {}).get("path")
    if not path:
        return None
    path = Path(str(path)).expanduser()
    try:
        st = path.stat()
    except OSError:
        return "missing"  # the loader says where it looked; the key only has to differ from a real file's
    if path.is_dir():  # a change deep inside leaves the folder's own stat alone: list it every time
        digest = hashlib.sha1()
        for f in sorted(path.rglob("*")):
            if f.is_file():
                fs = f.stat()
                digest.update(f"{f.relative_to(path)}\0{fs.st_size}\0{fs.st_mtime_ns}\n".encode())
        return digest.hexdigest()[:16]
    return _file_hash(str(path.resolve()), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=64)
def _file_hash(path: str, size: int, mtime_ns: int) -> str:
    """A file's bytes, hashed once per (size, modification time): every cell of a run asks."""
    digest = hashlib.sha1()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


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

