"""Mamba's selective scan on a CPU as compiled loops (numba): the fused scan, what mamba-ssm's CUDA
kernel is to a GPU.

The recurrence of harness/models/mamba.py, per batch row b, inner channel e and state n:

    h_t = exp(delta_t A) * h_{t-1} + delta_t B_t u_t,      y_t = C_t . h_t + D u_t

The plain-torch stepwise scan spends much of its time between operations: about ten small tensor
operations per step forward and as many backward, each a Python call and a pass over a (B, E, N) slice.
Here a step is one compiled pass that updates the state and reads it out, and backward one that runs the
adjoint recurrence and accumulates every gradient (u, delta, A, B, C, D). The decays exp(delta_t A) are
left to torch: numba's exp is scalar here (no vector math library) and torch's is vectorised, so torch
fills them a few steps at a time into a buffer that stays in cache (CPU_SLICE_ELEMENTS) and the loops
read them. benchmarks/mamba_scan.py (one core, batch 32, d_inner 128, T = 200): forward 9.6 ms against
the stepwise scan's 16.9, forward+backward 58 against 70.

Layout: the model's, (B, T, .), states (B, T, E, N). The loops take C-contiguous float32 or float64
arrays (one compiled version each); float32's is compiled, or loaded from numba's cache, when this module
is imported, so a forkserver that imports it hands its cells the compiled code (harness/core/forkserver.py).
"""
from __future__ import annotations

import numpy as np
import torch
from numba import njit

CPU_SLICE_ELEMENTS = 2 ** 18  # 1 MB of float32 decays per buffer: what stays in a core's cache


@njit(cache=True, fastmath=True, boundscheck=False, nogil=True)
def _forward_steps(start, decay, u, delta, B, C, D, H, y, keep_states):  # pragma: no cover - compiled
    """Steps start .. start + L - 1 of every batch row: the states H[:, i] (H[:, i % 2] without
    `keep_states`) and y[:, i] = C_i . h_i + D u_i. decay (B, L, E, N): exp(delta A) of these steps;
    u, delta, y (B, T, E); B, C (B, T, N); D (E,); H (B, T or 2, E, N)."""
    batch, steps, channels, states = decay.shape
    zero = y.dtype.type(0)  # accumulate in the arrays' precision: a float64 sum would not vectorise
    for b in range(batch):
        for s in range(min(steps, u.shape[1] - start)):
            i = start + s
            h = H[b, i] if keep_states else H[b, i % 2]
            h_prev = H[b, i - 1] if keep_states else H[b, (i - 1) % 2]
            B_i, C_i = B[b, i], C[b, i]
            for e in range(channels):
                x = delta[b, i, e] * u[b, i, e]
                h_e = h[e]
                acc = zero
                if i == 0:  # h_{-1} = 0
                    for n in range(states):
                        h_n = x * B_i[n]
                        h_e[n] = h_n
                        acc += h_n * C_i[n]
                else:
                    decay_e, prev_e = decay[b, s, e], h_prev[e]
                    for n in range(states):
                        h_n = decay_e[n] * prev_e[n] + x * B_i[n]
                        h_e[n] = h_n
                        acc += h_n * C_i[n]
                y[b, i, e] = acc + D[e] * u[b, i, e]


@njit(cache=True, fastmath=True, boundscheck=False, nogil=True)
def _backward_steps(start, decay, u, delta, A, B, C, D, H, gy, g, g_u, g_delta, g_A, g_B, g_C, g_D):  # pragma: no cover
    """Steps start + L - 1 down to start of the adjoint recurrence, every batch row. g (B, E, N) is
    dL/dh carried backwards from the later steps (times their decay already). Written at these steps:
    g_u, g_delta (B, T, E), g_B, g_C (B, T, N); accumulated: g_A (E, N), g_D (E,)."""
    batch, steps, channels, states = decay.shape
    zero = g.dtype.type(0)
    dlog = np.empty(states, g.dtype)  # dL/d(delta_i A) of one channel
    for b in range(batch):
        for s in range(min(steps, u.shape[1] - start) - 1, -1, -1):
            i = start + s
            B_i, C_i, g_B_i, g_C_i, H_i = B[b, i], C[b, i], g_B[b, i], g_C[b, i], H[b, i]
            for n in range(states):
                g_B_i[n] = zero
                g_C_i[n] = zero
            for e in range(channels):
                gy_e, u_e, d = gy[b, i, e], u[b, i, e], delta[b, i, e]
                x = d * u_e
                g_e, h_e = g[b, e], H_i[e]
                acc_x = zero  # dL/d(delta u)_i
                acc_delta = zero  # the decay's share of dL/d delta_i
                # Three loops, not one: with fewer arrays each, the compiler vectorises them (one loop
                # writing g, g_B, g_C and g_A stayed scalar: 2.5x slower).
                for n in range(states):
                    g_n = g_e[n] + gy_e * C_i[n]  # y_i = C_i . h_i
                    g_C_i[n] += gy_e * h_e[n]
                    acc_x += g_n * B_i[n]  # drive_i = (delta u)_i B_i
                    g_B_i[n] += x * g_n
                    g_e[n] = g_n
                if i:  # h_i = decay_i h_{i-1} + ...: on to h_{i-1} (h_{-1} = 0)
                    decay_e, prev_e, A_e, g_A_e = decay[b, s, e], H[b, i - 1, e], A[e], g_A[e]
                    for n in range(states):
                        g_n = g_e[n] * decay_e[n]
                        g_e[n] = g_n
                        dlog[n] = g_n * prev_e[n]  # dL/d(delta_i A)
                    for n in range(states):
                        g_A_e[n] += dlog[n] * d
                        acc_delta += dlog[n] * A_e[n]
                g_u[b, i, e] = acc_x * d + gy_e * D[e]
                g_delta[b, i, e] = acc_delta + acc_x * u_e
                g_D[e] += gy_e * u_e


def _chunks(b: int, t: int, per_step: int):
    """Steps per decay buffer (B, L, E, N) of about CPU_SLICE_ELEMENTS, and their starts."""
    steps = min(t, max(1, CPU_SLICE_ELEMENTS // (b * per_step)))
    return steps, range(0, t, steps)


def _decays(delta, A, start, buffer):
    """exp(delta A) for the steps from `start` that fit `buffer` (B, L, E, N), by torch's vector exp."""
    out = buffer[:, :min(buffer.shape[1], delta.shape[1] - start)]
    torch.mul(delta[:, start:start + out.shape[1], :, None], A, out=out)
    return out.exp_()


def forward(u, delta, A, B, C, D, keep_states: bool):
    """y (B, T, E), skip term included, and the states H (B, T, E, N) when `keep_states` (else None).
    u, delta: (B, T, E); A: (E, N); B, C: (B, T, N); D: (E,), all of one dtype (float32 or float64)."""
    u, delta, A, B, C, D = (z.detach().contiguous() for z in (u, delta, A, B, C, D))
    b, t, e = u.shape
    n = A.shape[1]
    H = u.new_empty(b, t if keep_states else 2, e, n)
    y = u.new_empty(b, t, e)
    steps, starts = _chunks(b, t, e * n)
    buffer = u.new_empty(b, steps, e, n)
    arrays = tuple(z.numpy() for z in (u, delta, B, C, D, H, y))
    for start in starts:
        _forward_steps(start, _decays(delta, A, start, buffer).numpy(), *arrays, keep_states)
    return y, (H if keep_states else None)


def backward(gy, u, delta, A, B, C, D, H):
    """Gradients (u, delta, A, B, C, D) of the scan from dL/dy (B, T, E) and the states H of `forward`."""
    gy, u, delta, A, B, C, D = (z.detach().contiguous() for z in (gy, u, delta, A, B, C, D))
    b, t, e = u.shape
    n = A.shape[1]
    g = u.new_zeros(b, e, n)
    g_u, g_delta, g_B, g_C = u.new_empty(b, t, e), u.new_empty(b, t, e), u.new_empty(b, t, n), u.new_empty(b, t, n)
    g_A, g_D = u.new_zeros(e, n), u.new_zeros(e)
    steps, starts = _chunks(b, t, e * n)
    buffer = u.new_empty(b, steps, e, n)
    arrays = tuple(z.numpy() for z in (u, delta, A, B, C, D, H, gy, g, g_u, g_delta, g_A, g_B, g_C, g_D))
    for start in reversed(starts):
        _backward_steps(start, _decays(delta, A, start, buffer).numpy(), *arrays)
    return g_u, g_delta, g_A, g_B, g_C, g_D


def _compile() -> None:
    """Compile (or load from numba's cache) the float32 loops now, on a tiny input."""
    u, D = torch.ones(1, 2, 1), torch.ones(1)
    A, B = -torch.ones(1, 1), torch.ones(1, 2, 1)
    _, H = forward(u, u, A, B, B, D, keep_states=True)
    forward(u, u, A, B, B, D, keep_states=False)
    backward(u, u, u, A, B, B, D, H)


_compile()
