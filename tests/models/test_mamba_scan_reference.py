"""bench's Mamba selective scan (harness/models/mamba.py) pinned to two implementations written here,
independently of it, from the Mamba paper (Gu & Dao 2023, eq. 2a-2b with the zero-order-hold
discretisation of A and the simplified Euler one of B, as in the paper's Algorithm 2 and its code):

    h_t = exp(delta_t A) h_{t-1} + delta_t B_t x_t,      y_t = C_t . h_t + D x_t      (h_0 = 0)

1. `recurrence`: that formula, one time step, batch, channel and state at a time, in float64 NumPy
   (no torch, no einsum, nothing shared with bench's code).
2. `kernel_form`: the same map unrolled as a causal kernel (the "SSM as a matrix" view of Mamba-2's
   section 3), y_t = sum_{s<=t} C_t . (exp(A (S_t - S_s)) delta_s B_s x_s) + D x_t with S the running
   sum of delta: one batched torch expression, so its gradients can be compared too.
`selective_scan_fused` (the scan the models run on a CPU: compiled loops with a hand-written backward),
`selective_scan_stepwise` (its plain-torch twin, where numba is absent),
`selective_scan` (the chunked scan they run elsewhere) and `selective_scan_reference` (bench's own loop)
must give their values, on random inputs of several shapes, chunk sizes and decay strengths.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from harness.models.mamba import (
    selective_scan,
    selective_scan_fused,
    selective_scan_reference,
    selective_scan_stepwise,
)


def recurrence(x, delta, A, B, C, D) -> np.ndarray:
    """The paper's recurrence, element by element. x, delta: (b, t, e); A: (e, n); B, C: (b, t, n); D: (e,)."""
    x, delta, A, B, C, D = (np.asarray(v, dtype=np.float64) for v in (x, delta, A, B, C, D))
    batch, steps, channels = x.shape
    states = A.shape[1]
    y = np.zeros((batch, steps, channels))
    for b in range(batch):
        for e in range(channels):
            h = np.zeros(states)
            for t in range(steps):
                for n in range(states):
                    h[n] = np.exp(delta[b, t, e] * A[e, n]) * h[n] + delta[b, t, e] * B[b, t, n] * x[b, t, e]
                y[b, t, e] = sum(C[b, t, n] * h[n] for n in range(states)) + D[e] * x[b, t, e]
    return y


def kernel_form(x, delta, A, B, C, D) -> torch.Tensor:
    """The recurrence unrolled: a lower-triangular (t, s) kernel per batch, channel and state."""
    S = delta.cumsum(dim=1)  # (b, t, e): log-decay per unit of A, summed to step t
    gap = S[:, :, None, :] - S[:, None, :, :]  # (b, t, s, e): S_t - S_s
    causal = torch.ones(x.shape[1], x.shape[1], dtype=torch.bool).tril()  # s <= t
    # masked before the exp: above the diagonal S_t - S_s < 0 and exp(A * gap) would overflow
    decay = torch.exp(torch.where(causal[None, :, :, None, None], gap[..., None] * A, torch.zeros((), dtype=x.dtype)))
    decay = decay * causal[None, :, :, None, None]  # (b, t, s, e, n)
    inputs = (delta * x)[:, None, :, :, None] * B[:, None, :, None, :]  # (b, 1, s, e, n): delta_s B_s x_s
    return (decay * inputs * C[:, :, None, None, :]).sum(dim=(2, 4)) + x * D  # (b, t, e)


def random_inputs(batch: int, steps: int, channels: int, states: int, decay: float, seed: int, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, steps, channels, generator=g, dtype=dtype)
    delta = torch.nn.functional.softplus(torch.randn(batch, steps, channels, generator=g, dtype=dtype) - 1) * decay
    A = -torch.rand(channels, states, generator=g, dtype=dtype) * states - 0.1  # negative: a decay, as -exp(A_log)
    B = torch.randn(batch, steps, states, generator=g, dtype=dtype)
    C = torch.randn(batch, steps, states, generator=g, dtype=dtype)
    D = torch.randn(channels, generator=g, dtype=dtype)
    return x, delta, A, B, C, D


SHAPES = [  # batch, steps, channels, states, chunk size (None: bench's default), decay strength
    (1, 1, 1, 1, None, 1.0),
    (2, 7, 3, 2, None, 1.0),
    (3, 17, 4, 5, 4, 1.0),      # steps not a multiple of the chunk
    (2, 33, 2, 3, 33, 1.0),     # one chunk
    (1, 40, 5, 4, 1, 1.0),      # chunks of one step
    (2, 25, 3, 4, 6, 20.0),     # strong decay: exp(delta A) underflows towards 0
    (2, 25, 3, 4, None, 0.01),  # weak decay: the state carries far
]


@pytest.mark.parametrize("batch, steps, channels, states, chunk, decay", SHAPES)
def test_bench_scans_match_the_papers_recurrence(batch, steps, channels, states, chunk, decay):
    inputs = random_inputs(batch, steps, channels, states, decay, seed=steps)
    expected = torch.from_numpy(recurrence(*inputs))
    torch.testing.assert_close(kernel_form(*inputs), expected, rtol=1e-10, atol=1e-10)  # the two references agree
    torch.testing.assert_close(selective_scan(*inputs, chunk_size=chunk), expected, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(selective_scan_reference(*inputs), expected, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(selective_scan_stepwise(*inputs), expected, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(selective_scan_fused(*inputs), expected, rtol=1e-10, atol=1e-10)


def test_bench_scan_matches_in_float32_as_the_models_run_it():
    inputs = random_inputs(4, 60, 8, 16, 1.0, seed=1, dtype=torch.float32)
    expected = torch.from_numpy(recurrence(*inputs)).float()
    torch.testing.assert_close(selective_scan(*inputs), expected, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(selective_scan_stepwise(*inputs), expected, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(selective_scan_fused(*inputs), expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("scan", [lambda *v: selective_scan(*v, chunk_size=5), selective_scan_stepwise,
                                  selective_scan_fused], ids=["chunked", "stepwise", "fused"])
def test_bench_scan_gradients_match_the_kernel_form(scan):
    inputs = [v.requires_grad_() for v in random_inputs(2, 19, 3, 4, 1.0, seed=3)]
    weights = torch.randn(2, 19, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    ours = torch.autograd.grad((scan(*inputs) * weights).sum(), inputs)
    theirs = torch.autograd.grad((kernel_form(*inputs) * weights).sum(), inputs)
    for name, a, b in zip("x delta A B C D".split(), ours, theirs):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9, msg=name)


def test_the_references_catch_a_wrong_scan():
    """Not blind: a scan that drops the state carried across chunks, or that reads another step size
    (exp(delta) - 1 for delta), is caught by the same comparison."""
    x, delta, A, B, C, D = random_inputs(2, 12, 3, 2, 1.0, seed=5)
    expected = torch.from_numpy(recurrence(x, delta, A, B, C, D))
    per_chunk = torch.cat([selective_scan(*(v[:, i:i + 4] for v in (x, delta)), A, *(v[:, i:i + 4] for v in (B, C)), D)
                           for i in range(0, 12, 4)], dim=1)
    assert not torch.allclose(per_chunk, expected, atol=1e-6)
    assert not torch.allclose(selective_scan(x, torch.expm1(delta), A, B, C, D), expected, atol=1e-6)
