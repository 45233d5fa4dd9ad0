"""Shared training loop (harness.deep.training.train_module) vs a plain PyTorch loop over the same tensors.

Both train the same freshly seeded module for the same epochs on mnist5k's training split with the
same optimizer and batch size, no validation split and no augmentation, so the ratio isolates the
loop itself. Repeats alternate the two loops; the median epoch time of each is compared.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from harness.data.vision import load_mnist5k
from harness.models.cnn import LeNet5
from harness.models.mlp import MLP
from harness.deep.training import train_module


def plain_loop(module, X, y, epochs, batch_size, opt, generator):
    for _ in range(epochs):
        module.train()
        perm = torch.randperm(len(X), generator=generator)
        for i in range(0, len(X), batch_size):
            idx = perm[i:i + batch_size]
            loss = nn.functional.cross_entropy(module(X[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()


def time_one(kind: str, make, X, y, epochs: int, batch_size: int) -> float:
    torch.manual_seed(0)
    module = make()
    opt = torch.optim.Adam(module.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    t0 = time.perf_counter()
    if kind == "plain":
        plain_loop(module, X, y, epochs, batch_size, opt, gen)
    else:
        train_module(module, nn.functional.cross_entropy, X, y, None, None, optimizer=opt, batch_size=batch_size,
                     max_epochs=epochs, patience=0, generator=gen)
    return (time.perf_counter() - t0) / epochs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=6)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    task = load_mnist5k()
    X, y = torch.as_tensor(task.X_train), torch.as_tensor(task.y_train)
    models = {"mlp": lambda: MLP((1, 28, 28), 10), "cnn": lambda: LeNet5((1, 28, 28), 10, channels=(16, 32))}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {len(X)} samples, batch 64, "
          f"{args.epochs} epochs x {args.repeats} repeats")
    print(f"{'model':<6} {'plain samples/s':>16} {'bench samples/s':>16} {'ratio':>7}")
    for name, make in models.items():
        times = {"plain": [], "bench": []}
        for r in range(args.repeats):
            for kind in (("plain", "bench") if r % 2 == 0 else ("bench", "plain")):  # alternate who goes first
                times[kind].append(time_one(kind, make, X, y, args.epochs, 64))
        plain, bench = (len(X) / statistics.median(times[k]) for k in ("plain", "bench"))
        print(f"{name:<6} {plain:>16.0f} {bench:>16.0f} {bench / plain:>7.3f}")


if __name__ == "__main__":
    main()
