"""Time and memory of one training step against sequence length: transformer, LSTM, Mamba (claims A5, A6).

    python -m benchmarks.sequence_length_cost [--lengths 64 128 256 512 1024] [--batch 16] [--out plot.png]

Each (model, length) point runs in a fresh child process (bench's cell isolation), so its peak
memory is its own: resident memory above the process's start, sampled every 5 ms during three
training steps (forward, cross-entropy, backward, Adam) on random (batch, 1, T) series. Time is the
median of the steps after one warm-up, on one thread. Prints a table and the log-log slope of each
curve (1 = linear in T, 2 = quadratic), and saves a log-log plot.
"""
from __future__ import annotations

import argparse
import functools
import statistics
import time

import numpy as np

MODELS = {
    "transformer": ("harness.models.transformer.Transformer", {"patch": 1}),  # one token per step: attention is T^2
    "lstm": ("harness.models.recurrent.Recurrent", {"cell": "lstm", "hidden": 64}),
    "mamba": ("harness.models.mamba.Mamba", {}),
}


def step_cost(module_path: str, params: dict, length: int, batch: int, steps: int = 3) -> dict:
    import torch

    from harness.core.measure import measure
    from harness.deep.training import import_object

    torch.manual_seed(0)
    net = import_object(module_path)((1, length), 2, **params)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x, y = torch.randn(batch, 1, length), torch.randint(0, 2, (batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()

    step()  # warm-up: allocator and kernel selection
    times = []
    with measure("cpu") as cost:
        for _ in range(steps):
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
    return {"seconds": statistics.median(times), "peak_mb": cost.peak_memory_mb}


def slope(lengths: list[int], values: list[float]) -> float:
    return float(np.polyfit(np.log(lengths), np.log(values), 1)[0])


def main() -> None:
    from harness.core.isolation import call_in_child

    ap = argparse.ArgumentParser()
    ap.add_argument("--lengths", type=int, nargs="+", default=[64, 128, 256, 512, 1024])
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--out", default="sequence_length_cost.png")
    args = ap.parse_args()
    rows = {}
    print(f"{'model':<12} {'T':>6} {'step ms':>9} {'peak MB':>9}")
    for name, (path, params) in MODELS.items():
        for t in args.lengths:
            r = call_in_child(functools.partial(step_cost, path, params, t, args.batch), threads=1, timeout=600)
            rows[(name, t)] = r
            print(f"{name:<12} {t:>6} {r['seconds'] * 1000:>9.1f} {r['peak_mb']:>9.1f}", flush=True)
    for name in MODELS:
        secs = [rows[(name, t)]["seconds"] for t in args.lengths]
        mem = [max(rows[(name, t)]["peak_mb"], 1e-3) for t in args.lengths]
        print(f"{name:<12} log-log slope: time {slope(args.lengths, secs):.2f}, memory {slope(args.lengths, mem):.2f}")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        for name in MODELS:
            axes[0].loglog(args.lengths, [rows[(name, t)]["seconds"] * 1000 for t in args.lengths], "o-", label=name)
            axes[1].loglog(args.lengths, [max(rows[(name, t)]["peak_mb"], 1e-3) for t in args.lengths], "o-", label=name)
        for ax, label in zip(axes, ("ms per training step", "peak memory above start (MB)")):
            ax.set_xlabel("sequence length T")
            ax.set_ylabel(label)
            ax.legend()
        fig.tight_layout()
        fig.savefig(args.out, dpi=120)
        print(f"plot: {args.out}")
    except Exception as e:  # noqa: BLE001 - the table above is the result; the plot is a convenience
        print(f"plot not written: {e}")


if __name__ == "__main__":
    main()
