"""A training step in float32 against the same step under bfloat16 autocast, per network and input shape:
the measurement behind a model config's `precision: auto` (harness/deep/precision.py).

Each network is built as its suites/model yaml builds it (module, module_params, batch_size), fed random
inputs of the shapes of the data it meets (the sequence suite's five UCR/UEA sets, 28x28 images, tables), and
timed over forward, loss, backward and an Adam step. Repeats alternate which precision goes first; the
median of each is compared. Dropout stays on (training mode), as in training. bfloat16 pays where the CPU multiplies it in hardware (AMX): the script says
whether this one does (`native bf16`).

Run from the repository root on an otherwise idle machine: `python -m benchmarks.precision_speed --threads 1`.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
import yaml

from harness.deep.precision import autocast, native_bf16
from harness.deep.training import import_object

SERIES = {"gunpoint": (1, 150), "italy_power_demand": (1, 24), "arrowhead": (1, 251), "basic_motions": (6, 100),
          "japanese_vowels": (12, 29)}
IMAGES = {"28x28": (1, 28, 28)}
TABLES = {"diamonds": (9,), "breast_cancer": (30,)}  # numeric columns only
SHAPES = {"fcn": SERIES, "resnet1d": SERIES, "mamba": SERIES, "transformer": SERIES, "cnn": IMAGES, "resnet": IMAGES,
          "ft_transformer": TABLES}


def step_seconds(module: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, precision: str,
                 optimizer: torch.optim.Optimizer) -> float:
    t0 = time.perf_counter()
    with autocast("cpu", precision):
        loss = torch.nn.functional.cross_entropy(module(x).float(), y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return time.perf_counter() - t0


def compare(model: str, shape: tuple[int, ...], repeats: int) -> dict[str, float]:
    spec = yaml.safe_load(open(f"suites/model/{model}.yaml"))["estimator"]
    torch.manual_seed(0)
    module = import_object(spec["module"])(shape, 3, **(spec.get("module_params") or {}))
    optimizer = torch.optim.Adam(module.parameters())
    x, y = torch.randn(int(spec["batch_size"]), *shape), torch.randint(0, 3, (int(spec["batch_size"]),))
    times: dict[str, list[float]] = {"32": [], "bf16": []}
    for p in ("32", "bf16"):  # warm-up: oneDNN picks and caches its kernels on first use
        step_seconds(module, x, y, p, optimizer)
    for r in range(repeats):
        for p in (("32", "bf16") if r % 2 == 0 else ("bf16", "32")):
            times[p].append(step_seconds(module, x, y, p, optimizer))
    return {p: statistics.median(t) for p, t in times.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", nargs="+", default=list(SHAPES), choices=list(SHAPES))
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), native bf16: {native_bf16('cpu')}")
    print(f"{'model':12s} {'data':20s} {'batch':>5s} {'float32 ms':>10s} {'bf16 ms':>8s} {'speed-up':>8s}")
    for model in args.models:
        batch = yaml.safe_load(open(f"suites/model/{model}.yaml"))["estimator"]["batch_size"]
        for name, shape in SHAPES[model].items():
            t = compare(model, shape, args.repeats)
            print(f"{model:12s} {name:20s} {batch:5d} {t['32'] * 1e3:10.1f} {t['bf16'] * 1e3:8.1f} "
                  f"{t['32'] / t['bf16']:7.2f}x")


if __name__ == "__main__":
    main()
