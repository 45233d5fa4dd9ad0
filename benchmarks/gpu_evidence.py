"""The GPU rows of the evidence, in one call of a lent GPU machine (issues 16 and 19).

A GPU machine is lent to some tasks only, for minutes, bare: no package registry, no Fashion-MNIST, none
of bench's own dependencies beyond what its image holds (torch, scikit-learn, pandas, pyarrow... but not
Hydra). So the work is split in three, and only the middle one needs the GPU:

    python -m benchmarks.gpu_evidence prepare          # here: .device/ gets what the machine lacks
    python3 -m benchmarks.gpu_evidence run             # there, with .device carried: writes $OUT
    python -m benchmarks.gpu_evidence land FOLDER      # here: FOLDER (what came back) into results/evidence/

`run` starts two runs of the vision suite's evidence cells on Fashion-MNIST's learning curve (50 to all
60,000 images, three seeds; suites/suite/vision.yaml, profile=evidence) side by side on that machine:
  - on the GPU (hardware=cuda): the deep models (MLP, CNN, ResNet), one cell at a time;
  - on its CPU (hardware=cpu): every model, one thread a cell on all cores but two (those feed the GPU
    run): the deep models' CPU side of the same cells (T8's speedups pair a GPU with the CPU of its own host) and the classical
    side that T3 sets beside the GPU (classical models always run on the CPU).
At `--deadline` seconds both are stopped as Ctrl-C stops a run (every finished cell kept) and the rows of
each, with its provenance, are written to $OUT/cuda/ and $OUT/cpu/. It then prints each deep cell's
training time on the GPU against this host's CPU and against the 2-core machine of the committed evidence.

`land` copies the two runs into results/evidence/vision/ beside the 2-core run: the claims keep them
apart (each run is its own rig; only T3, T8 and D4 compare rigs; harness/claims/rows.py main_rig), then
`bench scorecard` rewrites SCORECARD.md. `run --rehearse` does the whole on a CPU in seconds (the smoke
profile at one size, the "GPU" half on the CPU too): what the tests run, since CI has no GPU.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEVICE = ROOT / ".device"          # git-ignored: carried to the machine (`carry: [".device"]`)
SITE = DEVICE / "site"             # pure-Python packages bench needs that the machine's image lacks
DATA = DEVICE / "data"             # Fashion-MNIST's idx files (paths.data_dir there)
MISSING = ("hydra-core", "omegaconf", "antlr4-python3-runtime")  # the machine's image holds the rest a vision run imports
DEEP = ("mlp", "cnn", "resnet")
COMMAND = "PYTHONUNBUFFERED=1 python3 -m benchmarks.gpu_evidence run --deadline 420"


# ---------------------------------------------------------------- here, before the call

def prepare(device: Path = DEVICE) -> None:
    """Copy the installed files of MISSING (pure Python: they run under the machine's Python 3.12) and the
    Fashion-MNIST idx files into `device`, and print the call to make."""
    site = device / "site"
    for name in MISSING:
        dist = importlib.metadata.distribution(name)
        base = Path(dist.locate_file(""))
        for f in dist.files or []:
            src = Path(dist.locate_file(f))
            if ".." in f.parts or not src.is_file() or src.suffix == ".pyc":
                continue  # scripts installed outside site-packages; compiled caches
            dst = site / src.relative_to(base)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    from harness.data.vision import DEBIAN_FASHION_MNIST

    source = Path(os.environ.get("BENCH_DATA_DIR", DEBIAN_FASHION_MNIST)).expanduser()
    idx = sorted(source.glob("*-idx?-ubyte*"))
    if len(idx) < 4:
        sys.exit(f"Fashion-MNIST's four idx files are not in {source}: apt-get install dataset-fashion-mnist, "
                 "or set BENCH_DATA_DIR to the folder that holds them")
    (device / "data").mkdir(parents=True, exist_ok=True)
    for f in idx:
        shutil.copy2(f, device / "data" / f.name)
    size = sum(f.stat().st_size for f in device.rglob("*") if f.is_file()) / 2**20
    print(f"{device}: {size:.0f} MiB (packages: {', '.join(MISSING)}; Fashion-MNIST from {source})")
    # 420 s of runs and ~1-2 min of start leave a shorter second try inside the 15 minutes of a lease
    print(f"device call: run(command={COMMAND!r}, carry=['.device'], timeout_s=480)")


# ---------------------------------------------------------------- there, on the GPU machine

def bench_command(results: Path, hardware: str, models: tuple[str, ...] | None, workers: int, threads: int,
                  rehearse: bool, data_dir: Path | None) -> list[str]:
    cmd = [sys.executable, "-m", "harness.cli", "run", "suite=vision", "dataset=fashion_mnist",
           f"hardware={hardware}", f"hardware.workers={workers}", f"hardware.threads={threads}", f"paths.results={results}",
           f"paths.data_dir={data_dir}" if data_dir else None,
           *(["profile=smoke", "scaling=off"] if rehearse else ["profile=evidence", "scaling=on"])]
    if models:
        cmd.append(f"suite.models=[{','.join(models)}]")
    return [c for c in cmd if c]


def stop(proc: subprocess.Popen, grace: float = 60.0) -> None:
    """Stop a bench run as Ctrl-C does (its finished cells stay written), then for good after `grace` s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run(out: Path, deadline: float, rehearse: bool = False, data_dir: Path | None = None) -> int:
    """Both halves side by side until they end or `deadline` s pass, then their rows into `out`. Fashion-MNIST
    is read from `data_dir`, else .device/data, else where bench looks by default."""
    data_dir = data_dir or (DATA if DATA.is_dir() else None)
    env = dict(os.environ, PYTHONUNBUFFERED="1",
               PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), str(SITE) if SITE.is_dir() else "",
                                                      os.environ.get("PYTHONPATH", "")) if p))
    import torch  # noqa: F401 - the machine's own

    gpu = "cpu" if rehearse else "cuda"
    if gpu == "cuda" and not torch.cuda.is_available():
        sys.exit("no CUDA device here: run this on the GPU machine, or with --rehearse")
    # Threads set, not left to each run: two runs that each took a thread per core would oversubscribe the
    # cores, and torch's spinning threads then slow every cell many times over (seen rehearsing on 2 cores).
    cores = os.cpu_count() or 2
    feed = min(2, max(1, cores // 2))  # the GPU run's own threads: loading batches, launching kernels
    work = Path(tempfile.mkdtemp(prefix="gpu-evidence-"))
    halves = {"cuda": bench_command(work / "cuda", gpu, DEEP, 1, feed, rehearse, data_dir),
              "cpu": bench_command(work / "cpu", "cpu", None, max(1, cores - feed), 1, rehearse, data_dir)}
    out.mkdir(parents=True, exist_ok=True)
    logs = {name: open(out / f"{name}.log", "w") for name in halves}
    started = time.monotonic()
    procs = {name: subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=logs[name], stderr=subprocess.STDOUT)
             for name, cmd in halves.items()}
    for name, cmd in halves.items():
        print(f"{name}: {' '.join(cmd[1:])}", flush=True)
    while any(p.poll() is None for p in procs.values()) and time.monotonic() - started < deadline:
        time.sleep(2)
    for p in procs.values():
        stop(p)
    for f in logs.values():
        f.close()
    print(f"both stopped after {time.monotonic() - started:.0f} s; exit codes "
          + ", ".join(f"{n} {p.returncode}" for n, p in procs.items()), flush=True)
    try:
        return collect(work, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def collect(work: Path, out: Path) -> int:
    """Each half's rows (finished cells, consolidated) and run.json into out/<half>/, then the speedups."""
    from harness.results.store import read_run_rows

    frames = {}
    for half in ("cuda", "cpu"):
        runs = sorted((work / half / "vision").glob("*/run.json"))
        if not runs:
            print(f"{half}: no run folder under {work / half}", flush=True)
            continue
        folder = runs[-1].parent
        rows = read_run_rows(folder)
        (out / half).mkdir(parents=True, exist_ok=True)
        shutil.copy2(folder / "run.json", out / half / "run.json")
        rows.to_parquet(out / half / "results.parquet", index=False)
        frames[half] = rows
        print(f"{half}: {len(rows)} cells ({(rows['status'] == 'ok').sum()} ok) from {folder.name}", flush=True)
    print(speedup_table(frames))
    return 0 if len(frames) == 2 else 1


def speedup_table(frames: dict) -> str:
    """Mean training seconds per deep cell on the GPU, this host's CPU and the committed 2-core evidence."""
    import pandas as pd

    def means(df, name):
        d = df[(df["status"] == "ok") & df["model"].isin(DEEP)]
        return d.groupby(["model", "n_train"]).agg(**{name: ("train_seconds", "mean"), f"{name}_acc": ("accuracy", "mean")})

    parts = [means(frames[h], h) for h in ("cuda", "cpu") if h in frames]
    evidence = sorted((ROOT / "results" / "evidence" / "vision").glob("*/results.parquet"))
    if evidence:
        rows = pd.concat(pd.read_parquet(p) for p in evidence)
        two_core = rows[(rows["dataset"] == "fashion_mnist") & (rows["device"] == "cpu")]
        if len(two_core):
            parts.append(means(two_core, "two_core"))
    if not parts:
        return "no deep cells finished"
    table = pd.concat(parts, axis=1)
    for side in ("cpu", "two_core"):
        if "cuda" in table and side in table:
            table[f"{side}/cuda"] = table[side] / table["cuda"]
    return table.round(3).to_string()


# ---------------------------------------------------------------- here, after the call

def land(came_back: Path, evidence: Path = ROOT / "results" / "evidence") -> list[Path]:
    """Copy each half that came back (results.parquet and run.json) into evidence/vision/<its stamp>/,
    leaving every run already there alone."""
    landed = []
    for half in ("cuda", "cpu"):
        src = came_back / half
        if not (src / "results.parquet").is_file() or not (src / "run.json").is_file():
            print(f"{half}: nothing came back in {src}")
            continue
        started = json.loads((src / "run.json").read_text()).get("started", "")
        stamp = started[:19].replace("T", "_").replace(":", "-") or "unknown"
        dst = evidence / "vision" / f"{stamp}-{half}"
        if dst.exists():
            sys.exit(f"{dst} exists already: finished results are never overwritten")
        dst.mkdir(parents=True)
        for f in ("results.parquet", "run.json"):
            shutil.copy2(src / f, dst / f)
        landed.append(dst)
        print(f"{half}: {dst}")
    return landed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="step", required=True)
    sub.add_parser("prepare", help="here: fill .device/ with what the GPU machine lacks")
    r = sub.add_parser("run", help="there: the GPU and CPU halves side by side, rows to $OUT")
    r.add_argument("--deadline", type=float, default=420.0, help="seconds before both halves are stopped")
    r.add_argument("--out", type=Path, default=None, help="where the rows go (default $OUT)")
    r.add_argument("--rehearse", action="store_true", help="smoke profile, the GPU half on the CPU: a check anywhere")
    lnd = sub.add_parser("land", help="here: what came back into results/evidence/vision/")
    lnd.add_argument("folder", type=Path)
    lnd.add_argument("--evidence", type=Path, default=ROOT / "results" / "evidence")
    args = parser.parse_args(argv)
    if args.step == "prepare":
        prepare()
        return 0
    if args.step == "run":
        out = args.out or (Path(os.environ["OUT"]) if os.environ.get("OUT") else None)
        if out is None:
            sys.exit("give --out, or run where $OUT is set (the device call)")
        return run(out, args.deadline, args.rehearse)
    land(args.folder, args.evidence)
    return 0


if __name__ == "__main__":
    sys.exit(main())
