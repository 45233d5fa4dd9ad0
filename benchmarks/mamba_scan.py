"""Mamba's selective scans, forward and forward+backward: the fused scan (numba's compiled loops; the
CPU's), the stepwise scan (its plain-torch twin, where numba is absent), both with hand-written
backwards, and the chunked scan (the GPU's without mamba-ssm) against the sequential reference scan.

Every scan gets the same random inputs, drawn as a freshly initialised Mamba block makes them: delta
log-uniform in [1e-3, 1e-1], A = -(1..N) per channel. "forward" runs without autograd (inference);
"forward+backward" runs the forward with autograd and backpropagates a weighted sum of the output
to all six inputs (training). Repeats alternate which scan goes first; the median time of each is
compared. The last column is the largest difference from the reference's output, a sanity check.

`--model-steps` times, besides, a whole training step (forward, backward, AdamW) of the mamba model
config's classifier (d_model 64, 2 blocks: d_inner 128) on one-channel series of each length, with the
fused and with the stepwise scan: what a cell's training time sees of the scan.

Run from the repository root on an otherwise idle machine: `python -m benchmarks.mamba_scan --threads 1`
(`--batch 32 --d-inner 128` is the scan of the mamba model config's blocks).
"""
from __future__ import annotations

import argparse
import math
import statistics
import time

import torch

from harness.models.mamba import (
    selective_scan,
    selective_scan_fused,
    selective_scan_reference,
    selective_scan_stepwise,
)

SCANS = {"reference": selective_scan_reference, "chunked": selective_scan, "stepwise": selective_scan_stepwise,
         "fused": selective_scan_fused}


def scan_inputs(batch: int, length: int, d_inner: int, d_state: int, seed: int = 0) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    dt = torch.exp(torch.rand(batch, length, d_inner, generator=g) * (math.log(0.1) - math.log(1e-3)) + math.log(1e-3))
    A = -torch.arange(1, d_state + 1, dtype=torch.float32).repeat(d_inner, 1)
    return [torch.randn(batch, length, d_inner, generator=g), dt, A, torch.randn(batch, length, d_state, generator=g),
            torch.randn(batch, length, d_state, generator=g), torch.ones(d_inner)]


def time_forward(scan, inputs) -> float:
    with torch.no_grad():
        t0 = time.perf_counter()
        scan(*inputs)
        return time.perf_counter() - t0


def time_forward_backward(scan, inputs, weights) -> float:
    inputs = [x.detach().requires_grad_() for x in inputs]
    t0 = time.perf_counter()
    (scan(*inputs) * weights).sum().backward()
    return time.perf_counter() - t0


def time_model_steps(length: int, batch: int, scans: list[str], repeats: int) -> dict[str, float]:
    """Median seconds of a training step of the mamba config's classifier with each scan (same weights)."""
    from harness.models.mamba import Mamba

    torch.manual_seed(0)
    models = {scan: Mamba((1, length), 2, scan=scan) for scan in scans}
    for m in models.values():
        m.load_state_dict(models[scans[0]].state_dict())
    optims = {scan: torch.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=0.01) for scan, m in models.items()}
    x, y = torch.randn(batch, 1, length), torch.randint(0, 2, (batch,))

    def step(scan):
        t0 = time.perf_counter()
        optims[scan].zero_grad()
        torch.nn.functional.cross_entropy(models[scan](x), y).backward()
        optims[scan].step()
        return time.perf_counter() - t0

    times = {scan: [] for scan in scans}
    for scan in scans:
        step(scan)  # warm-up
    for r in range(repeats):
        for scan in (scans if r % 2 == 0 else scans[::-1]):
            times[scan].append(step(scan))
    return {scan: statistics.median(v) for scan, v in times.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lengths", type=int, nargs="+", default=[100, 300, 1000])
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--d-inner", type=int, default=64)
    ap.add_argument("--d-state", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--model-steps", action="store_true", help="also time a Mamba classifier's training step")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch}, d_inner {args.d_inner}, "
          f"d_state {args.d_state}, float32, median of {args.repeats} repeats, times in ms")
    print(f"{'T':>6} {'scan':>10} {'fwd':>9} {'f+b':>9} {'f+b vs reference':>17} {'f+b vs chunked':>15} "
          f"{'max |diff|':>11}")
    summary = {}
    for length in args.lengths:
        inputs = scan_inputs(args.batch, length, args.d_inner, args.d_state)
        weights = torch.randn(args.batch, length, args.d_inner, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            expected = selective_scan_reference(*inputs)
            diff = {name: float((scan(*inputs) - expected).abs().max()) for name, scan in SCANS.items()}
        fwd = {name: [] for name in SCANS}
        both = {name: [] for name in SCANS}
        for name, scan in SCANS.items():  # warm-up: first-touch allocations, lazy initialisation
            time_forward(scan, inputs)
            time_forward_backward(scan, inputs, weights)
        for r in range(args.repeats):
            for name in (list(SCANS) if r % 2 == 0 else list(SCANS)[::-1]):  # alternate who goes first
                fwd[name].append(time_forward(SCANS[name], inputs))
                both[name].append(time_forward_backward(SCANS[name], inputs, weights))
        f = {k: 1e3 * statistics.median(v) for k, v in fwd.items()}
        b = {k: 1e3 * statistics.median(v) for k, v in both.items()}
        summary[length] = b
        for name in SCANS:
            print(f"{length:>6} {name:>10} {f[name]:>9.1f} {b[name]:>9.1f} {b['reference'] / b[name]:>16.2f}x "
                  f"{b['chunked'] / b[name]:>14.2f}x {diff[name]:>11.1e}", flush=True)
    last = summary[args.lengths[-1]]
    print(f"forward+backward at T={args.lengths[-1]}: fused {last['stepwise'] / last['fused']:.2f}x the stepwise "
          f"scan, {last['reference'] / last['fused']:.2f}x the reference, {last['chunked'] / last['fused']:.2f}x the "
          f"chunked scan")
    if args.model_steps:
        print(f"\ntraining step of the mamba config's classifier, batch {args.batch}, median of {args.repeats}, ms")
        print(f"{'T':>6} {'fused':>9} {'stepwise':>9} {'speed-up':>9}")
        for length in args.lengths:
            t = time_model_steps(length, args.batch, ["fused", "stepwise"], args.repeats)
            print(f"{length:>6} {1e3 * t['fused']:>9.1f} {1e3 * t['stepwise']:>9.1f} {t['stepwise'] / t['fused']:>8.2f}x",
                  flush=True)

if __name__ == "__main__":
    main()
