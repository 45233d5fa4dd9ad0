"""Mixed precision for the supervised deep estimators (`precision=32|bf16|16`; every row's `compute_precision`).

"32": float32 throughout (the default, and what every committed result used). "bf16" and "16": the
forward passes and the loss run under `torch.autocast` in bfloat16 or float16 (matrix products and
convolutions in the low precision, reductions and the loss in float32, as autocast decides); the
weights, gradients and optimiser state stay float32. "16" also scales the loss (`torch.amp.GradScaler`)
so that small float16 gradients do not flush to zero; bfloat16 has float32's range and needs no scaling.
Prediction runs under the same autocast as training. Meant for GPUs (tensor cores); a CPU runs bfloat16
autocast too, usually no faster than float32 without AMX or AVX-512 BF16 units.
Estimators with their own loops (the generative models, the agents, the character language models)
train in float32 whatever is asked, and their rows say "32".
The command line's value is checked before a run starts (harness/app.py `check_precisions`).
"""
from __future__ import annotations

import contextlib

PRECISIONS = ("32", "bf16", "16")
DTYPES = {"bf16": "bfloat16", "16": "float16"}  # torch's names; torch is imported when used (the config checks
                                                # read PRECISIONS without it)


def check_precision(precision) -> str:
    """The precision as one of PRECISIONS ("32" also from the number 32, as a command line gives it)."""
    value = str(precision)
    if value not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    return value


def autocast(device: str, precision: str = "32"):
    """The context a forward pass runs in: autocast to the precision's dtype, or nothing for "32"."""
    precision = check_precision(precision)
    if precision == "32":
        return contextlib.nullcontext()
    import torch

    return torch.autocast(torch.device(device).type, dtype=getattr(torch, DTYPES[precision]))


def grad_scaler(device: str, precision: str = "32"):
    """A loss scaler (torch.amp.GradScaler) for float16 training; None for the others."""
    if check_precision(precision) != "16":
        return None
    import torch

    return torch.amp.GradScaler(torch.device(device).type)
