"""Result rows on disk: one Parquet file per finished cell, written atomically, never overwritten.

A run folder holds `cells/*.parquet` (the source of truth: one row each, renamed into place only
when complete, so a crash leaves nothing half-written), `results.parquet` (all cells in one
table, for users), `run.json` (provenance) and `bench.log`. `load_results` reads any mix of run
folders, suite folders or the results root.
"""
from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path

import pandas as pd

from harness.results.schema import IDENTITY, STATUSES  # noqa: F401 - the store's identity of a row

# The committed smoke references (harness/results/reference.py); also what orders a first run's cells.
REFERENCE_ROOT = Path("results/reference")
ALL_INDEX = "all.json"  # in results/all/<stamp>/: the suites' run folders of one `bench run suite=all`


class ResultsError(Exception):
    """Result folders that cannot be read: missing, empty or corrupt."""


def _umask() -> int:
    mask = os.umask(0o022)  # the only way to read it is to set it: put it straight back
    os.umask(mask)
    return mask


# mkstemp makes files only their owner may read (0600); results, reports and caches are meant to be
# shared (a results folder on a team disk, a CI artifact server), so they get the mode the user's umask gives.
FILE_MODE = 0o666 & ~_umask()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, then rename: readers see all or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def frame_to_parquet_bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


class RunStore:
    """The folder of one run (or one multirun sweep: its jobs share the folder)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.cells = self.folder / "cells"
        self.cells.mkdir(parents=True, exist_ok=True)

    def write_row(self, row: dict) -> Path:
        name = "__".join(str(row[k]) for k in ("dataset", "model", "variant", "params_id", "seed", "n_train"))
        path = self.cells / f"{safe_name(name)}.parquet"
        if path.exists():
            # Same cell twice in one folder (e.g. duplicated sweep values): keep both, never overwrite.
            path = self.cells / f"{safe_name(name)}__{row['cell_started']}.parquet"
        atomic_write_bytes(path, frame_to_parquet_bytes(pd.DataFrame([row])))
        return path

    def write_json(self, name: str, payload: dict) -> None:
        atomic_write_bytes(self.folder / name, json.dumps(payload, indent=2, default=str).encode())

    def consolidate(self) -> pd.DataFrame:
        """Gather every finished cell into results.parquet (replaced atomically by a superset)."""
        df = read_cells(self.cells)
        if len(df):
            atomic_write_bytes(self.folder / "results.parquet", frame_to_parquet_bytes(df))
        return df


def safe_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_.=" else "-" for c in text)[:200]


def cell_files(cells: Path) -> list[Path]:
    """The finished cells of a folder. A `.tmp-*` file is a write that a killed process never
    finished: not a result, never read."""
    return sorted(f for f in cells.glob("*.parquet") if not f.name.startswith("."))


def damaged(path: Path, e: Exception, what: str) -> None:
    """Say which file could not be read (truncated by a full disk, emptied, overwritten by another
    tool) and what bench does instead; the rest of the results stand."""
    from harness.core.display import console

    text = " ".join(f"{type(e).__name__}: {e}".split())[:200]
    console.print(f"warning: {path} is damaged ({text}); {what}", soft_wrap=True, markup=False, style="yellow")


def read_cells(cells: Path) -> pd.DataFrame:
    """Every readable cell of a folder; a damaged one is named in a warning and left out, never
    allowed to hide the others."""
    frames = []
    for f in cell_files(cells):
        try:
            frames.append(pd.read_parquet(f))
        except Exception as e:  # noqa: BLE001 - any damage: say which file, keep the rest
            damaged(f, e, "that cell is left out, the others are read")
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def run_folders(path: Path) -> list[Path]:
    """Run folders at or under `path`. A run folder has a `cells/` sub-folder; a folder given
    directly may also be a consolidated run (results.parquet only, as in results/reference/). A
    folder with no cells/ under it but consolidated runs with their run.json (results/evidence/: the
    committed evidence) gives those, except any under a `reference/` folder (smoke references, which
    must not mix with runs)."""
    path = Path(path)
    if not path.exists():
        raise ResultsError(f"no such results folder: {path}")
    members = member_folders(path)  # results/all/<stamp>: the suites' run folders it names
    if members is not None:
        return [m for m in members if m.is_dir()] or _no_runs(path)
    if is_run_folder(path):
        return [path]
    found = sorted(p.parent for p in path.rglob("cells") if p.is_dir())
    if not found:
        found = sorted(p.parent for p in path.rglob("run.json") if (p.parent / "results.parquet").is_file()
                       and REFERENCE_ROOT.name not in p.relative_to(path).parts)
    if not found:
        raise ResultsError(f"{path} holds no bench run (no cells/ folder under it, nor a consolidated run's "
                           "results.parquet and run.json)")
    return found


def is_run_folder(path: Path) -> bool:
    """A run folder has a `cells/` sub-folder, or is consolidated (results.parquet only, as in
    results/reference/ and results/evidence/)."""
    return (path / "cells").is_dir() or (path / "results.parquet").is_file()


def load_suite_runs(suite: Path) -> pd.DataFrame:
    """The rows of the runs directly under one suite's folder (`<results>/<suite>/<stamp>/`, consolidated
    ones included), or of the folder itself where it is one run (a reference). Unlike a results root
    searched by `run_folders`, nothing deeper is read: a root's reference/ holds smoke runs that must
    not mix with a suite's own. Raises ResultsError where there are none."""
    suite = Path(suite)
    runs = sorted(p for p in suite.glob("*/") if is_run_folder(p))
    return load_results(runs or [suite])


def member_folders(folder: Path) -> list[Path] | None:
    """The run folders that an all-suites folder (results/all/<stamp>, `bench run suite=all`) names in
    its all.json, relative to the results root; None where `folder` is not one."""
    path = Path(folder) / ALL_INDEX
    if not path.is_file():
        return None
    try:
        names = [m["folder"] for m in json.loads(path.read_text())["members"] if m.get("folder")]
    except (ValueError, KeyError, TypeError) as e:
        raise ResultsError(f"cannot read {path}: {e}") from e
    return [Path(folder).parent.parent / name for name in names]


def _no_runs(path: Path):
    raise ResultsError(f"{path} names no run folder that exists (see its all.json)")


def read_run_rows(folder: Path) -> pd.DataFrame:
    """The rows of one run folder: its results.parquet when that holds every cell (one file to
    read), else the cells themselves (a run still going, or killed before it consolidated)."""
    folder = Path(folder)
    cells = folder / "cells"
    consolidated = folder / "results.parquet"
    n_cells = len(cell_files(cells)) if cells.is_dir() else None
    if consolidated.is_file():
        try:
            df = pd.read_parquet(consolidated)
        except Exception as e:  # noqa: BLE001 - any damage
            if n_cells is None:  # a consolidated run alone (a reference): nothing else holds its rows
                raise ResultsError(f"cannot read result file {consolidated}: {e}") from e
            damaged(consolidated, e, "reading the run's cells instead")
            df = None
        if df is not None and (n_cells is None or len(df) == n_cells):
            return df
    return read_cells(cells) if cells.is_dir() else pd.DataFrame()


def load_results(paths: list[Path | str]) -> pd.DataFrame:
    """All rows of all runs under the given paths, with a `run` column naming each run folder. Each
    measurement counts once: a run folder reached twice (a results root and a run under it) is read
    once, and a row found in two folders (a reused row beside its origin, a copied run) once."""
    frames, seen = [], set()
    for p in paths:
        for folder in run_folders(Path(p)):
            if folder.resolve() in seen:
                continue
            seen.add(folder.resolve())
            df = read_run_rows(folder)
            if len(df):
                df["run"] = str(folder)
                frames.append(df)
    if not frames:
        raise ResultsError(f"no finished cells under {', '.join(map(str, paths))}")
    return once_per_measurement(pd.concat(frames, ignore_index=True))


def once_per_measurement(df: pd.DataFrame) -> pd.DataFrame:
    """Rows of one cell identity that started at the same microsecond are one measurement: a reused
    row keeps its origin's `cell_started`, so `bench claims results/` would otherwise count a cell once
    per run that reused it (and its intervals would be too narrow). The row that was not reused is kept,
    so `run` names the run that measured it; rows without a start time are all kept."""
    if "cell_started" not in df:
        return df
    key = [c for c in IDENTITY if c in df] + ["cell_started"]
    reused = df["reused_from"].notna() if "reused_from" in df else pd.Series(False, index=df.index)
    order = df.assign(_reused=reused).sort_values("_reused", kind="stable")
    repeated = order.duplicated(key) & order["cell_started"].notna()
    if not repeated.any():
        return df
    return df.loc[sorted(order.index[~repeated])].reset_index(drop=True)


def load_run_info(folder: Path) -> dict:
    f = Path(folder) / "run.json"
    if not f.exists():
        return {}
    try:
        info = json.loads(f.read_text())
        if not isinstance(info, dict):
            raise ValueError("not a JSON object")
    except (OSError, UnicodeDecodeError, ValueError) as e:  # the rows stand without their provenance
        damaged(f, e, "the run's provenance is shown as not recorded")
        return {}
    return info
