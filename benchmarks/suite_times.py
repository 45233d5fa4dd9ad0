"""Time to a scorecard: how long each suite's run took, read from its run folder (nothing is run).

    python -m benchmarks.suite_times PATH... [--save FILE.json] [--compare FILE.json] [--markdown FILE]

PATH is a run folder (`results/<suite>/<stamp>/`, or a committed reference `results/reference/<suite>/`),
a suite folder (its newest run, by folder name as in `bench compare`) or a results root (each suite's
newest run; a `reference/` folder below the root is skipped, pass it directly to read it).

Per suite it prints the run's wall time (run.json `ended - started`, over every job of a sweep;
where that is missing, the span of the cells: first `cell_started` to last `cell_started +
cell_seconds`), its cells (ok / failed / reused), cells per minute, the sum of `cell_seconds` and
its 3 slowest cells; then the total wall time (suites one after another: the time to a full
scorecard) and the 10 slowest cells overall. A reused cell (non-empty `reused_from`, copied from an
earlier run by resume) cost nothing in this run: it is counted apart and left out of every time figure.

`--save FILE.json` writes these figures with the run's machine and git commit; `--compare FILE.json`
prints, for each suite in both, the old and new wall times and old/new (speedup above 1), and per
model the ratio of mean `cell_seconds` over ok cells. A suite whose profile or machine (CPU model,
core count, device, GPU) differs between the two is flagged not comparable. Compare runs of the
same machine at the same load only.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from harness.results.schema import CELL_STARTED_FORMAT
from harness.results.store import ResultsError, load_run_info, read_run_rows

SLOWEST_PER_SUITE = 3
SLOWEST_OVERALL = 10
FORMAT = 1  # of the --save file


# ---------------------------------------------------------------- which runs


def is_run(folder: Path) -> bool:
    """As harness.results.store.run_folders decides: cells/ (a run) or results.parquet (a reference)."""
    return (folder / "cells").is_dir() or (folder / "results.parquet").is_file()


def runs_below(folder: Path) -> list[Path]:
    """Run folders at or below `folder`, not looking inside a run; `reference/` below the top skipped."""
    if is_run(folder):
        return [folder]
    found = []
    for child in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if child.name != "reference":
            found += runs_below(child)
    return found


def suite_of(folder: Path) -> str:
    info = load_run_info(folder)
    if info.get("suite"):
        return str(info["suite"])
    rows = read_run_rows(folder)
    if "suite" in rows and len(rows):
        return str(rows["suite"].iloc[0])
    return folder.parent.name if folder.parent.name != "reference" else folder.name


def resolve(paths: list[Path | str]) -> list[Path]:
    """One run folder per suite and path: a run folder as given, else the newest run of each suite
    below the path (newest by folder name: the run stamps sort in time)."""
    chosen = []
    for p in map(Path, paths):
        if not p.exists():
            raise ResultsError(f"no such results folder: {p}")
        found = runs_below(p)
        if not found:
            raise ResultsError(f"{p} holds no bench run (no cells/ or results.parquet under it)")
        newest: dict[str, Path] = {}
        for f in found:
            s = suite_of(f)
            if s not in newest or f.name > newest[s].name:
                newest[s] = f
        chosen += newest.values()
    return chosen


# ---------------------------------------------------------------- figures of one run


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        t = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _cell_time(stamp) -> datetime | None:
    try:
        return datetime.strptime(str(stamp), CELL_STARTED_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def infos_of(folder: Path) -> list[dict]:
    """run.json and, for a sweep, every job's jobs/*/run.json."""
    infos = [load_run_info(folder)] + [load_run_info(f.parent) for f in sorted((folder / "jobs").glob("*/run.json"))]
    return [i for i in infos if i]


def wall_of(infos: list[dict], fresh: pd.DataFrame) -> tuple[float | None, str]:
    """(seconds, where from): the jobs' first start to their last end, else the cells' span."""
    starts, ends = [_when(i.get("started")) for i in infos], [_when(i.get("ended")) for i in infos]
    if infos and all(starts) and all(ends):
        return (max(ends) - min(starts)).total_seconds(), "run.json"
    if len(fresh) and "cell_started" in fresh:
        begun = [_cell_time(s) for s in fresh["cell_started"]]
        spans = [(b, b.timestamp() + (0.0 if pd.isna(s) else float(s)))
                 for b, s in zip(begun, fresh["cell_seconds"]) if b is not None]
        if spans:
            return max(e for _, e in spans) - min(b for b, _ in spans).timestamp(), "cells"
    return None, "-"


def label(row: dict | pd.Series, with_n: bool = False) -> str:
    variant = f"[{row['variant']}]" if row.get("variant") else ""
    n = f" n_train={int(row['n_train'])}" if with_n else ""
    return f"{row['suite']}/{row['dataset']}/{row['model']}{variant} seed {int(row['seed'])}{n}"


def machine_line(m: dict | None) -> str:
    if not m:
        return "machine unknown (no run.json)"
    gpu = f", {m['gpu_name']}" if m.get("gpu_name") else ""
    return (f"{m.get('cpu_model') or '?'}, {m.get('cpu_cores') or '?'} cores, {m.get('device') or '?'}{gpu}, "
            f"{m.get('torch_threads') or '?'} torch thread(s)")


def figures(folder: Path) -> dict | None:
    """Everything printed and saved about one run folder; None while it has no cell yet (a suite=all run
    still on an earlier suite)."""
    rows = read_run_rows(folder)
    if rows.empty:
        return None
    infos = infos_of(folder)
    info = infos[0] if infos else {}
    for col, default in (("reused_from", None), ("variant", ""), ("status", "ok"), ("cell_seconds", math.nan)):
        if col not in rows:
            rows[col] = default
    rows["variant"] = rows["variant"].fillna("")
    reused = rows["reused_from"].notna() & (rows["reused_from"].astype(str) != "")
    fresh = rows[~reused]
    ok = fresh["status"] == "ok"
    wall, wall_from = wall_of(infos, fresh)
    # n_train in a cell's name only where it tells cells apart (a learning curve)
    with_n = "n_train" in fresh and bool(fresh.duplicated(["dataset", "model", "variant", "seed"]).any())
    slow = fresh.assign(_s=fresh["cell_seconds"].astype(float)).sort_values("_s", ascending=False, kind="stable")
    slowest = [{"cell": label(r, with_n), "seconds": float(r["_s"]), "status": str(r["status"])}
               for _, r in slow.head(SLOWEST_PER_SUITE).iterrows() if not pd.isna(r["_s"])]
    per_model = (fresh[ok].assign(key=fresh["model"] + fresh["variant"].map(lambda v: f"[{v}]" if v else ""))
                 .groupby("key")["cell_seconds"].mean())
    profiles = sorted({str(p) for p in rows["profile"].dropna()}) if "profile" in rows else []
    if not profiles:
        profiles = [str(((info.get("config") or {}).get("profile") or {}).get("name") or "?")]
    n_run = len(fresh)
    return {
        "suite": suite_of(folder), "folder": str(folder),
        "wall_seconds": wall, "wall_from": wall_from,
        "started": min((i.get("started") or "" for i in infos), default="") or None,
        "ended": max((i.get("ended") or "" for i in infos), default="") or None,
        "cells": {"ok": int(ok.sum()), "failed": int((~ok).sum()), "reused": int(reused.sum())},
        "cells_per_minute": n_run / (wall / 60) if wall else None,
        "cell_seconds_sum": float(fresh["cell_seconds"].astype(float).sum()),
        "slowest": slowest,
        "model_mean_cell_seconds": {k: float(v) for k, v in per_model.items() if not pd.isna(v)},
        "profile": "+".join(profiles),
        "machine": info.get("machine"),
        "git_commit": info.get("git_commit") or (str(rows["git_commit"].iloc[0]) if "git_commit" in rows and len(rows) else None),
        "code_version": info.get("code_version"),
        # every fresh cell, for the overall slowest list (not saved)
        "_cells": [{"cell": label(r, with_n), "seconds": float(r["_s"]), "status": str(r["status"])}
                   for _, r in slow.iterrows() if not pd.isna(r["_s"])],
    }


def collect(paths: list[Path | str]) -> dict:
    """Figures of every chosen run, keyed by suite, plus the totals."""
    suites: dict[str, dict] = {}
    for folder in resolve(paths):
        fig = figures(folder)
        if fig is None:
            continue
        if fig["suite"] in suites:
            raise ResultsError(f"two runs of suite {fig['suite']} given ({suites[fig['suite']]['folder']}, "
                               f"{folder}): give one per suite")
        suites[fig["suite"]] = fig
    cells = sorted((c for f in suites.values() for c in f.pop("_cells")), key=lambda c: -c["seconds"])
    machines = list(dict.fromkeys(machine_line(f["machine"]) for f in suites.values()))
    commits = list(dict.fromkeys(str(f["git_commit"]) for f in suites.values()))
    return {
        "format": FORMAT, "tool": "benchmarks.suite_times",
        "machine": "; ".join(machines), "git_commit": ", ".join(commits),
        "total_wall_seconds": sum(f["wall_seconds"] or 0.0 for f in suites.values()),
        "total_cell_seconds": sum(f["cell_seconds_sum"] for f in suites.values()),
        "slowest": cells[:SLOWEST_OVERALL],
        "suites": suites,
    }


# ---------------------------------------------------------------- comparing two saves


def not_comparable(old: dict, new: dict) -> list[str]:
    """Why two runs of a suite cannot be compared for time: profile or machine differ."""
    why = []
    if old.get("profile") != new.get("profile"):
        why.append(f"profile {old.get('profile')} vs {new.get('profile')}")
    mo, mn = old.get("machine") or {}, new.get("machine") or {}
    for key in ("cpu_model", "cpu_cores", "device", "gpu_name"):
        if mo.get(key) != mn.get(key):
            why.append(f"{key} {mo.get(key)} vs {mn.get(key)}")
    return why


def compare(old: dict, new: dict) -> dict:
    """Per suite in both: walls and speedup (old/new), per-model speedups, why not comparable."""
    out = {}
    for suite in [s for s in new["suites"] if s in old["suites"]]:
        o, n = old["suites"][suite], new["suites"][suite]
        models = {}
        for m, t in n["model_mean_cell_seconds"].items():
            if m in o["model_mean_cell_seconds"]:
                ot = o["model_mean_cell_seconds"][m]
                models[m] = {"old": ot, "new": t, "speedup": ot / t if t else None}
        ow, nw = o.get("wall_seconds"), n.get("wall_seconds")
        out[suite] = {"old_wall": ow, "new_wall": nw, "speedup": ow / nw if ow and nw else None,
                      "not_comparable": not_comparable(o, n), "models": models}
    return out


# ---------------------------------------------------------------- tables


def _num(x, fmt: str = ".1f") -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, fmt)


def _x(x) -> str:
    return "–" if x is None else f"{x:.2f}x"


def _cell(c: dict) -> str:
    return c["cell"] + ("" if c["status"] == "ok" else f" ({c['status']})")


def tables(figs: dict, cmp: dict | None = None) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) of every table printed: the same for plain text and Markdown."""
    suites = figs["suites"].values()
    out = [("suites (machine: " + figs["machine"] + ")",
            ["suite", "wall s", "from", "ok", "failed", "reused", "cells/min", "sum cell s", "profile"],
            [[f["suite"], _num(f["wall_seconds"]), f["wall_from"], str(f["cells"]["ok"]), str(f["cells"]["failed"]),
              str(f["cells"]["reused"]), _num(f["cells_per_minute"]), _num(f["cell_seconds_sum"]), f["profile"]]
             for f in suites]
            + [["total", _num(figs["total_wall_seconds"]), "", str(sum(f["cells"]["ok"] for f in suites)),
                str(sum(f["cells"]["failed"] for f in suites)), str(sum(f["cells"]["reused"] for f in suites)),
                "", _num(figs["total_cell_seconds"]), ""]]),
           (f"{SLOWEST_PER_SUITE} slowest cells per suite", ["cell", "seconds"],
            [[_cell(c), _num(c["seconds"], ".2f")] for f in suites for c in f["slowest"]]),
           (f"{SLOWEST_OVERALL} slowest cells overall", ["cell", "seconds"],
            [[_cell(c), _num(c["seconds"], ".2f")] for c in figs["slowest"]])]
    if cmp is not None:
        out.append(("compared with the saved figures (speedup = old / new, above 1 is faster)",
                    ["suite", "old wall s", "new wall s", "speedup", "comparable"],
                    [[s, _num(c["old_wall"]), _num(c["new_wall"]), _x(c["speedup"]),
                      "yes" if not c["not_comparable"] else "NO: " + "; ".join(c["not_comparable"])]
                     for s, c in cmp.items()]))
        out.append(("per model: mean cell seconds of ok cells", ["suite", "model", "old s", "new s", "speedup"],
                    [[s + ("" if not c["not_comparable"] else " (not comparable)"), m,
                      _num(v["old"], ".2f"), _num(v["new"], ".2f"), _x(v["speedup"])]
                     for s, c in cmp.items() for m, v in c["models"].items()]))
    return out


def _numeric(v: str) -> bool:
    try:
        float(v.removesuffix("x"))
    except ValueError:
        return v in ("", "–")
    return True


def text_columns(rows: list[list[str]], n: int) -> list[bool]:
    """Which columns hold text (left-aligned) rather than figures (right-aligned)."""
    return [not all(_numeric(r[i]) for r in rows) for i in range(n)]


def plain(title: str, header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    left = text_columns(rows, len(header))

    def fmt(r: list[str]) -> str:
        return "  ".join(v.ljust(w) if lf else v.rjust(w) for v, w, lf in zip(r, widths, left)).rstrip()
    return "\n".join([title, fmt(header), *map(fmt, rows)]).rstrip() + "\n"


def markdown(title: str, header: list[str], rows: list[list[str]]) -> str:
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |",
             "|" + "|".join("---" if lf else "---:" for lf in text_columns(rows, len(header))) + "|"]
    return "\n".join(lines + ["| " + " | ".join(v.replace("|", "\\|") for v in r) + " |" for r in rows]) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="+", help="run folders, suite folders (newest run) or results roots")
    ap.add_argument("--save", metavar="FILE.json", help="write the figures to FILE.json")
    ap.add_argument("--compare", metavar="FILE.json", help="compare with figures saved by --save")
    ap.add_argument("--markdown", metavar="FILE", help="also write the tables as Markdown to FILE")
    args = ap.parse_args(argv)
    try:
        figs = collect(args.paths)
        cmp = None
        if args.compare:
            old = json.loads(Path(args.compare).read_text())
            if not isinstance(old, dict) or "suites" not in old:
                raise ResultsError(f"{args.compare} is not a file saved by --save")
            cmp = compare(old, figs)
            if not cmp:
                print(f"no suite in both {args.compare} and the runs given", file=sys.stderr)
    except (ResultsError, OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    done = tables(figs, cmp)
    print("\n".join(plain(*t) for t in done), end="")
    if args.save:
        Path(args.save).write_text(json.dumps(figs, indent=2, default=str) + "\n")
    if args.markdown:
        Path(args.markdown).write_text("\n".join(markdown(*t) for t in done))
    return 0


if __name__ == "__main__":
    sys.exit(main())
