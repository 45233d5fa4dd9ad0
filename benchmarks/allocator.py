"""Where part of a cell's extra time goes: a young process's C allocator. Measured, not adopted.

glibc serves a block over 128 KiB with a fresh memory mapping, unmaps it when it is freed and trims its
heap's top once 128 KiB of it are free; it raises those bounds as large blocks are freed, so a long-lived
process adapts to its workload. A cell's process is young (harness/core/isolation.py), and a training loop
frees and allocates the same large tensors every step: until it adapts, each comes back as new pages the
kernel faults in and zeroes. Setting the bounds high from the start (mallopt: blocks up to 32 MiB from the
heap, its top kept up to 1 GiB) removes that, and also makes the cell's peak memory include the freed
blocks the heap keeps: the row's `peak_memory_mb` would then measure the allocator as much as the model.

Each cell (its suite's settings, the model's own configuration, seed 0, the libraries' default threads)
runs three ways, the order alternating over `--repeats`: in a child forked from the forkserver bench's
cells fork from, with the allocator as it starts ("default", what `bench run` does) or set ("set"), and
in this long-lived process ("in-proc", what a plain script does). Printed per cell: the median training
seconds and peak memory of each, and the ratios of the times.

Run from the repository root on an otherwise idle machine: `python -m benchmarks.allocator`.
"""
from __future__ import annotations

import argparse
import ctypes
import statistics

from hydra.utils import instantiate
from omegaconf import OmegaConf

from harness.core.cell import CellSpec, execute_cell
from harness.core.config import compose_config, resolve_plan
from harness.core.isolation import call_in_child, start_server

CELLS = ["vision:cnn:mnist5k", "vision:hist_gradient_boosting:mnist5k", "vision:resnet:digits",
         "vision:mlp:digits", "tabular:ft_transformer:breast_cancer"]


def cell(suite: str, model: str, dataset: str) -> tuple[CellSpec, object]:
    """The model's own configuration (untuned), seed 0, on the library's default threads."""
    plan = resolve_plan(compose_config([f"suite={suite}", f"model={model}", f"dataset={dataset}"]))
    task = instantiate(plan.datasets[dataset].load, seed=0, _convert_="all")
    node = OmegaConf.to_container(next(iter(plan.models.values())), resolve=True)
    return CellSpec(model=node, seed=0, device="cpu", family=str(node.get("family", "deep")), label=model), task


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt's parameters (malloc.h)


def keep_freed_memory() -> None:
    libc = ctypes.CDLL("libc.so.6")
    if not (libc.mallopt(M_MMAP_THRESHOLD, 32 << 20) and libc.mallopt(M_TRIM_THRESHOLD, 1 << 30)):
        raise OSError("mallopt refused the settings")


class _Fit:
    """The cell in a child process like a cell's (harness/core/isolation.py `call_in_child`), the allocator
    set first or not: (training seconds, peak memory MB)."""

    def __init__(self, spec: CellSpec, task, keep: bool):
        self.spec, self.task, self.keep = spec, task, keep

    def __call__(self) -> tuple[float, float]:
        if self.keep:
            keep_freed_memory()
        row = execute_cell(self.spec, self.task)
        if row["status"] != "ok":
            raise RuntimeError(f"{self.spec.label}: {row['status']}: {row['error']}")
        return row["train_seconds"], row["peak_memory_mb"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cells", nargs="*", default=CELLS, help="suite:model:dataset")
    ap.add_argument("--repeats", type=int, default=4)
    args = ap.parse_args()
    start_server(["harness.models.cnn", "harness.models.resnet", "harness.models.mlp", "harness.models.tabular",
                  "baselines.trees", "harness.deep.tabular"])
    print(f"{'cell':<44}{'default':>9}{'set':>9}{'in-proc':>9}{'set/def':>9}{'set/in':>8}"
          f"{'MB def':>8}{'MB set':>8}{'MB in':>8}")
    for name in args.cells:
        spec, task = cell(*name.split(":"))
        execute_cell(spec, task)  # this process's first fit pays its first-call costs
        runs = {"default": [], "set": [], "in-proc": []}
        for r in range(args.repeats):
            order = ("default", "set", "in-proc") if r % 2 == 0 else ("in-proc", "set", "default")
            for kind in order:
                if kind == "in-proc":
                    row = execute_cell(spec, task)
                    runs[kind].append((row["train_seconds"], row["peak_memory_mb"]))
                else:
                    runs[kind].append(call_in_child(_Fit(spec, task, keep=kind == "set"), None, timeout=600))
        med = {k: statistics.median(s for s, _ in v) for k, v in runs.items()}
        mb = {k: statistics.median(m for _, m in v) for k, v in runs.items()}
        print(f"{name:<44}{med['default']:>9.2f}{med['set']:>9.2f}{med['in-proc']:>9.2f}"
              f"{med['set'] / med['default']:>9.3f}{med['set'] / med['in-proc']:>8.3f}"
              f"{mb['default']:>8.0f}{mb['set']:>8.0f}{mb['in-proc']:>8.0f}")


if __name__ == "__main__":
    main()
