"""Mixed precision for the supervised deep estimators (`precision=32|bf16|16|auto`; every row's `compute_precision`).

"32": float32 throughout (every model's recipe unless its yaml says otherwise). "bf16" and "16": the
forward passes and the loss run under `torch.autocast` in bfloat16 or float16 (matrix products and
convolutions in the low precision, reductions and the loss in float32, as autocast decides); the
weights, gradients and optimiser state stay float32. "16" also scales the loss (`torch.amp.GradScaler`)
so that small float16 gradients do not flush to zero; bfloat16 has float32's range and needs no scaling.
Prediction runs under the same autocast as training. "auto": "bf16" where the device multiplies bfloat16
matrices in hardware (a CPU with AMX, a GPU of compute capability 8.0 or later), else "32"; a CPU without
such units runs bfloat16 autocast no faster than float32, often slower. Rows record what it resolved to.
The DDPM takes it too (its U-Net's passes in training and sampling). The other estimators with their own
loops (the other generative models, the agents, the character language models) train in float32 whatever
is asked, and their rows say "32".
The command line's value is checked before a run starts (harness/app.py `check_precisions`).
"""
from __future__ import annotations

import contextlib
import functools

PRECISIONS = ("32", "bf16", "16", "auto")
DTYPES = {"bf16": "bfloat16", "16": "float16"}  # torch's names; torch is imported when used (the config checks
                                                # read PRECISIONS without it)


def check_precision(precision) -> str:
    """The precision as one of PRECISIONS ("32" also from the number 32, as a command line gives it)."""
    value = str(precision)
    if value not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    return value


def resolve_precision(device: str, precision) -> str:
    """The precision a model computes in on `device`: "auto" resolved (see above), any other checked."""
    value = check_precision(precision)
    if value != "auto":
        return value
    import torch

    return "bf16" if native_bf16(torch.device(device).type) else "32"


@functools.cache
def native_bf16(device_type: str) -> bool:
    """Whether the device has bfloat16 matrix units: AMX tiles on a CPU (torch's own check, a private
    function: missing means no), compute capability 8.0 or later on CUDA."""
    import torch

    if device_type == "cpu":
        return bool(getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)())
    if device_type == "cuda":
        return torch.cuda.is_available() and torch.cuda.get_device_capability()[0] >= 8
    return False


class ComputesInPrecision:
    """Gives an estimator with `precision` and `device` parameters its `precision_`: what it trains and predicts
    in ("auto" resolved for its device; "32" where it has no `precision`). Rows record it (compute_precision)."""

    @property
    def precision_(self) -> str:
        return resolve_precision(getattr(self, "device", "cpu"), getattr(self, "precision", "32"))


def autocast(device: str, precision: str = "32"):
    """The context a forward pass runs in: autocast to the precision's dtype, or nothing for "32"."""
    precision = resolve_precision(device, precision)
    if precision == "32":
        return contextlib.nullcontext()
    import torch

    return torch.autocast(torch.device(device).type, dtype=getattr(torch, DTYPES[precision]))


def grad_scaler(device: str, precision: str = "32"):
    """A loss scaler (torch.amp.GradScaler) for float16 training; None for the others."""
    if resolve_precision(device, precision) != "16":
        return None
    import torch

    return torch.amp.GradScaler(torch.device(device).type)
