"""Mamba: a selective state-space model (Gu & Dao, 2023, "Mamba: linear-time sequence modeling with
selective state spaces"), in plain PyTorch, laid out as mamba-minimal (johnma2006/mamba-minimal).

Each residual block is `x = x + mixer(norm(x))` with RMSNorm. The mixer: `in_proj` splits each step
into a branch x and a gate res; x goes through a causal depthwise conv1d and SiLU, then the
selective SSM; the output is gated by SiLU(res) and projected back by `out_proj`. In the SSM,
`x_proj` makes the input-dependent (delta, B, C) of every step, `dt_proj` lifts delta from rank R
to E, A = -exp(A_log) is a learned diagonal decay per (inner channel, state) and D a skip. The
discretised recurrence, per inner channel e and state n:

    h_t = exp(delta_t A) * h_{t-1} + delta_t B_t u_t,      y_t = C_t . h_t + D u_t

Five scans compute it. `selective_scan_reference` is mamba-minimal's loop over time: slow (T Python
steps over full (B, T, E, N) tensors, and as many autograd nodes), kept as the ground truth that the
tests pin the others to, values and gradients.
`selective_scan_fused` (the CPU's scan) runs the recurrence and its adjoint as compiled loops
(harness/models/mamba_fused.py, numba): one pass over each step's state forward and one backward, the
way the official CUDA kernel fuses them. On one core with a batch of 32 (benchmarks/mamba_scan.py), at
T = 50-1,000 its forward pass (prediction) is 1.7x the stepwise scan's speed, forward+backward 1.2x,
and a training step of the mamba config 1.1x.
`selective_scan_stepwise` is the same loop in plain torch with a hand-written backward, where numba is
absent: each step updates one (B, E, N) state in place, computing its decay and drive when needed, so
every operation works on a slice that stays in a core's cache; the backward runs the adjoint recurrence
from the last step to the first over the stored states. About 3x faster than the chunked scan at
T = 251 and T = 1000 with a batch of 32 on one core.
`selective_scan` is a chunked two-level scan, for devices where each of the stepwise scan's ~10 T small
operations is a kernel launch: the series is cut into M chunks of L ~ sqrt(T) steps (longer on a CPU
for big batches); (1) one loop over the L positions runs the recurrence inside every chunk at once,
from a zero state; (2) a loop over the M chunks carries the state across chunk boundaries; (3) each
position adds the carried state times the decay since its chunk's start, exp(A * cumsum(delta)). About
3 sqrt(T) Python steps instead of T, O(T) work (about 1.6 times the reference's arithmetic), and only
what the recurrence itself computes: decays in [0, 1], their products, sums. Every exp() has a
non-positive argument, so nothing overflows however strong the decay (delta_t A can reach -100 and
beyond: the result underflows to 0, the right limit).
Rejected: Heinsen's cumsum trick, h_t = exp(S_t) * cumsum(exp(-S_s) b_s), whose exp(-S_s) overflows
float32 once the log-decay summed over a chunk passes -88 (64 steps at the largest initial decay,
-1.6 a step, already do); its log-space form (logcumsumexp) does not overflow but needs a sign split
and loses relative precision eps * |S_t|; a doubling (Hillis-Steele) scan does O(T log T) work.
`selective_scan_kernel` is the official fused CUDA kernel (mamba-ssm's `selective_scan_fn`), where the
package imports (it builds only with CUDA; not among bench's dependencies).
`scan="auto"` (the default) takes the fused scan on a CPU (the stepwise one without numba), the kernel
on a GPU where mamba-ssm imports, else the chunked scan.

The dt initialisation (bias = softplus^-1 of a log-uniform delta in [1e-3, 1e-1]) is the official
Mamba's; mamba-minimal only loads trained weights and omits it, but training from scratch needs it.

Shapes: B batch, T (mamba-minimal's l) time steps, C channels of the series, D = d_model,
E = d_inner = expand * D, N = d_state, R = dt_rank, K classes, L chunk length, M = T / L chunks.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.autograd.function import once_differentiable
from torch.nn import functional as F

from harness.models.sequence import SequenceClassifier, series_shape

try:  # the CPU's fused scan: compiled loops, where numba imports (aeon, a dependency, brings it)
    from harness.models import mamba_fused
except ImportError:  # pragma: no cover - numba absent: the stepwise scan serves
    mamba_fused = None

SCANS = ("auto", "fused", "stepwise", "chunked", "kernel", "reference")


@dataclass
class MambaConfig:
    d_model: int = 64
    layers: int = 2
    d_state: int = 16
    expand: int = 2
    d_conv: int = 4
    dt_rank: int | str = "auto"
    scan: str = "auto"  # `scan_for`: fused (else stepwise) on a CPU, else mamba-ssm's kernel where it imports, else chunked
    chunk_size: int | None = None  # the chunked scan's; None: `default_chunk_size`, about sqrt(T)

    def __post_init__(self):
        self.d_inner = int(self.expand * self.d_model)
        if self.dt_rank == "auto":
            self.dt_rank = math.ceil(self.d_model / 16)
        if self.scan not in SCANS:
            raise ValueError(f"unknown scan {self.scan!r}; choose one of {', '.join(SCANS)}")


def selective_scan_reference(u, delta, A, B, C, D):
    """The recurrence, one step at a time (mamba-minimal's loop). Slow: the ground truth for tests.

    u, delta: (B, T, E); A: (E, N); B, C: (B, T, N); D: (E,)  ->  y: (B, T, E)

    Steps are taken with `unbind` rather than mamba-minimal's `decay[:, i]`: the backward of an index
    writes its gradient into a zero tensor of the full (B, T, E, N) size, once per step, which makes
    the backward pass O(T^2) (minutes at T = 1000); `unbind`'s backward stacks the T gradients once.
    """
    b, t, e = u.shape
    decay = torch.exp(torch.einsum("bte,en->bten", delta, A))  # (B, T, E, N)
    drive = torch.einsum("bte,btn,bte->bten", delta, B, u)  # (B, T, E, N)
    h = u.new_zeros(b, e, A.shape[1])  # (B, E, N)
    ys = []
    for decay_t, drive_t, C_t in zip(decay.unbind(1), drive.unbind(1), C.unbind(1)):
        h = decay_t * h + drive_t  # (B, E, N)
        ys.append(torch.einsum("ben,bn->be", h, C_t))  # (B, E)
    return torch.stack(ys, dim=1) + u * D  # (B, T, E)


def in_scan_precision(*tensors):
    """The tensors in their common dtype, float32 at least: the scans sum over T steps, and under
    autocast the inputs arrive in bfloat16 or float16 (A and D in float32), as mamba-ssm's kernel takes them."""
    dtype = functools.reduce(torch.promote_types, (z.dtype for z in tensors), torch.float32)
    return tuple(z.to(dtype) for z in tensors)


def needs_gradients(*tensors) -> bool:
    """Whether the scan must keep its states for a backward pass (training), or may keep two (prediction)."""
    return torch.is_grad_enabled() and any(z.requires_grad for z in tensors)


class _StepwiseScan(torch.autograd.Function):
    """The recurrence one step at a time, time-major, with its adjoint as the backward. Saves the states
    H (T, B, E, N), as autograd would save them for the reference loop; nothing else of that size."""

    @staticmethod
    def forward(ctx, u, delta, A, B, C, D):
        y, H = _stepwise_forward(u, delta, A, B, C, keep_states=True)
        ctx.save_for_backward(u, delta, A, B, C, D, H)
        return y + u * D

    @staticmethod
    @once_differentiable
    def backward(ctx, gy):
        u, delta, A, B, C, D, H = ctx.saved_tensors
        t, b, e, n = H.shape
        gy_t, delta_t, B_t, C_t = (z.transpose(0, 1).contiguous() for z in (gy, delta, B, C))  # (T, B, .)
        du_t = (delta * u).transpose(0, 1).contiguous()  # (T, B, E)
        gC = torch.matmul(gy_t[:, :, None, :], H).squeeze(-2)  # (T, B, N): sum over e of dy_t h_t
        g = u.new_zeros(b, e, n)  # dL/dh_t, carried backwards in time
        decay, decay_next = u.new_empty(b, e, n), u.new_empty(b, e, n)  # exp(delta_t A), exp(delta_{t+1} A)
        step = u.new_empty(b, e, n)
        g_A = u.new_zeros(b, e, n)  # dL/dA per batch row: sum over t of dL/d(delta_t A) * delta_t
        g_delta = u.new_zeros(t, b, e)
        g_du = u.new_empty(t, b, e, 1)
        g_B = u.new_empty(t, b, 1, n)
        for i in range(t - 1, -1, -1):
            if i < t - 1:
                g.mul_(decay_next)  # h_{t+1} = decay_{t+1} h_t + ...
            g.addcmul_(gy_t[i][:, :, None], C_t[i][:, None, :])  # y_t = C_t . h_t
            torch.matmul(g, B_t[i][:, :, None], out=g_du[i])  # drive_t = (delta u)_t B_t
            torch.matmul(du_t[i][:, None, :], g, out=g_B[i])
            if i:  # h_{-1} = 0: the first decay multiplies nothing
                torch.mul(delta_t[i][:, :, None], A, out=decay).exp_()
                torch.mul(g, H[i - 1], out=step).mul_(decay)  # dL/d(delta_t A)
                g_A.addcmul_(step, delta_t[i][:, :, None])
                torch.sum(step.mul_(A), -1, out=g_delta[i])
                decay, decay_next = decay_next, decay
        g_du = g_du.squeeze(-1)  # (T, B, E)
        u_t = u.transpose(0, 1)
        g_delta = (g_delta + g_du * u_t).transpose(0, 1)
        g_u = (g_du * delta_t).transpose(0, 1) + gy * D
        return g_u, g_delta, g_A.sum(0), g_B.squeeze(-2).transpose(0, 1), gC.transpose(0, 1), (gy * u).sum((0, 1))


def _stepwise_forward(u, delta, A, B, C, keep_states: bool):
    """y without the skip term (B, T, E), and the states H (T, B, E, N) when `keep_states` (else None)."""
    b, t, e = u.shape
    n = A.shape[1]
    delta_t, B_t, C_t = (z.transpose(0, 1).contiguous() for z in (delta, B, C))  # (T, B, .)
    du_t = (delta * u).transpose(0, 1).contiguous()  # (T, B, E)
    H = u.new_empty(t, b, e, n) if keep_states else u.new_empty(2, b, e, n)  # inference: two alternating states
    decay = u.new_empty(b, e, n)
    y = None if keep_states else u.new_empty(t, b, e, 1)
    for i in range(t):
        h, h_prev = (H[i], H[i - 1]) if keep_states else (H[i % 2], H[(i - 1) % 2])
        torch.mul(du_t[i][:, :, None], B_t[i][:, None, :], out=h)  # the drive
        if i:
            torch.mul(delta_t[i][:, :, None], A, out=decay).exp_()
            h.addcmul_(decay, h_prev)
        if not keep_states:
            torch.matmul(h, C_t[i][:, :, None], out=y[i])
    if keep_states:
        y = torch.matmul(H, C_t[..., None])  # (T, B, E, 1): all steps' readouts at once
    return y.squeeze(-1).transpose(0, 1), (H if keep_states else None)


def selective_scan_stepwise(u, delta, A, B, C, D):
    """The same recurrence as `selective_scan_reference`, one step at a time with a hand-written backward.

    u, delta: (B, T, E); A: (E, N); B, C: (B, T, N); D: (E,)  ->  y: (B, T, E)

    Without gradients (prediction) it keeps two states, not T. Decays are exp(delta A) <= 1 for any
    delta >= 0 and A <= 0: nothing overflows. Computed in float32 at least (under autocast the inputs
    arrive in bfloat16 or float16, A and D in float32), as mamba-ssm's kernel does.
    """
    u, delta, A, B, C, D = in_scan_precision(u, delta, A, B, C, D)
    if needs_gradients(u, delta, A, B, C, D):
        return _StepwiseScan.apply(u, delta, A, B, C, D)
    y, _ = _stepwise_forward(u, delta, A, B, C, keep_states=False)
    return y + u * D


class _FusedScan(torch.autograd.Function):
    """The recurrence by harness/models/mamba_fused.py's compiled loops, forward and backward. Saves the
    states H (B, T, E, N), as the stepwise scan does (T, B, E, N)."""

    @staticmethod
    def forward(ctx, u, delta, A, B, C, D):
        y, H = mamba_fused.forward(u, delta, A, B, C, D, keep_states=True)
        ctx.save_for_backward(u, delta, A, B, C, D, H)
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx, gy):
        return mamba_fused.backward(gy, *ctx.saved_tensors)


def selective_scan_fused(u, delta, A, B, C, D):
    """The same recurrence as `selective_scan_reference`, by compiled loops on a CPU (numba): one pass
    per step, forward and backward, instead of the stepwise scan's ten small operations.

    u, delta: (B, T, E); A: (E, N); B, C: (B, T, N); D: (E,)  ->  y: (B, T, E)

    Computed in float32 at least, as the stepwise scan; without gradients it keeps two states, not T.
    """
    if mamba_fused is None:
        raise RuntimeError("scan=fused needs numba (pip install numba); scan=auto falls back to the stepwise scan")
    if u.device.type != "cpu":
        raise RuntimeError(f"scan=fused runs on a CPU, not {u.device.type}; scan=auto picks the device's scan")
    u, delta, A, B, C, D = in_scan_precision(u, delta, A, B, C, D)
    if needs_gradients(u, delta, A, B, C, D):
        return _FusedScan.apply(u, delta, A, B, C, D)
    return mamba_fused.forward(u, delta, A, B, C, D, keep_states=False)[0]


@functools.cache  # asked on every forward pass: a failed import is a search of the path each time
def kernel_scan():
    """mamba-ssm's fused selective scan (`selective_scan_fn`), or None where the package does not import."""
    try:
        from mamba_ssm.ops.selective_scan_interface import selective_scan_fn
    except Exception:  # noqa: BLE001 - absent, or present without a working CUDA build
        return None
    return selective_scan_fn


def selective_scan_kernel(u, delta, A, B, C, D):
    """The recurrence by mamba-ssm's CUDA kernel, in bench's layout: u, delta (B, T, E); A (E, N);
    B, C (B, T, N); D (E,) -> y (B, T, E). The kernel takes channels before time: (B, E, T), (B, N, T)."""
    scan = kernel_scan()
    if scan is None:
        raise RuntimeError("scan=kernel needs mamba-ssm (pip install mamba-ssm, on a machine with CUDA); "
                           "scan=auto falls back to the plain-torch scans")
    y = scan(*(z.transpose(1, 2).contiguous() for z in (u, delta)), A.contiguous(),
             *(z.transpose(1, 2).contiguous() for z in (B, C)), D.float())
    return y.transpose(1, 2)


def scan_for(requested: str, device_type: str) -> str:
    """The scan that runs: `requested`, or for "auto" the fastest one this device has."""
    if requested != "auto":
        return requested
    if device_type == "cpu":
        return "stepwise" if mamba_fused is None else "fused"
    return "kernel" if device_type == "cuda" and kernel_scan() is not None else "chunked"


CPU_SLICE_ELEMENTS = 2 ** 18  # 1 MB of float32: what one operation of the scan should touch on a CPU


def default_chunk_size(t: int, per_step: int, device: torch.device) -> int:
    """About sqrt(T) chunks of sqrt(T) steps, which minimises the scan's Python steps (~3 sqrt(T)).
    On a CPU, fewer and longer chunks where one position of every chunk, `per_step` = B*E*N elements
    per chunk, would pass CPU_SLICE_ELEMENTS: beyond a core's cache each operation streams from
    memory (B=32, E=128, N=16, T=1000 on one core: 250-step chunks train ~1.4x faster than 32-step)."""
    chunks = math.isqrt(t - 1) + 1  # ceil(sqrt(T))
    if device.type == "cpu":
        chunks = min(chunks, max(1, CPU_SLICE_ELEMENTS // per_step))
    return -(-t // chunks)


def selective_scan(u, delta, A, B, C, D, chunk_size: int | None = None):
    """The same recurrence as `selective_scan_reference`, chunked: about 3 sqrt(T) Python steps.

    u, delta: (B, T, E); A: (E, N); B, C: (B, T, N); D: (E,)  ->  y: (B, T, E)

    Each step works on one position of every chunk at once, (B, M, E, N), computed when needed: the
    full (B, T, E, N) decay and drive tensors of the reference are never built. Stable for any
    delta >= 0 and A <= 0 (what the model feeds it): no exp() of a positive number is taken.
    """
    b, t, e = u.shape
    n = A.shape[1]
    size = chunk_size or default_chunk_size(t, b * e * n, u.device)
    m = -(-t // size)
    # Zero-padding the end of delta makes the padded steps identity steps: decay exp(0) = 1, drive 0.
    delta_, du_, B_, C_ = (F.pad(z, (0, 0, 0, m * size - t)).view(b, m, size, -1)
                           for z in (delta, delta * u, B, C))  # (B, M, L, E or N)

    # (1) every chunk at once, one position at a time, from a zero state
    h, ys = None, []
    for delta_i, du_i, B_i, C_i in zip(delta_.unbind(2), du_.unbind(2), B_.unbind(2), C_.unbind(2)):  # (B, M, .)
        drive = du_i[..., None] * B_i[:, :, None]  # (B, M, E, N)
        h = drive if h is None else torch.addcmul(drive, torch.exp(delta_i[..., None] * A), h)  # (B, M, E, N)
        ys.append((h * C_i[:, :, None]).sum(-1))  # (B, M, E)

    # (2) the state entering each chunk, carried over the chunk boundaries; h is each chunk's last local state
    log_decay_so_far = delta_.cumsum(dim=2)  # (B, M, L, E): times A, the log-decay since the chunk's start
    chunk_decay = torch.exp(log_decay_so_far[:, :, -1, :, None] * A)  # (B, M, E, N)
    carried = [h.new_zeros(b, e, n)]  # (B, E, N) each
    for decay_c, h_end in zip(chunk_decay.unbind(1)[:-1], h.unbind(1)[:-1]):
        carried.append(torch.addcmul(h_end, decay_c, carried[-1]))
    h_in = torch.stack(carried, dim=1)  # (B, M, E, N)

    # (3) every position adds the entering state, decayed to it: exp of a sum of non-positive terms
    for i, (s_i, C_i) in enumerate(zip(log_decay_so_far.unbind(2), C_.unbind(2))):
        ys[i] = ys[i] + (torch.exp(s_i[..., None] * A) * h_in * C_i[:, :, None]).sum(-1)  # (B, M, E)
    y = torch.stack(ys, dim=2).reshape(b, m * size, e)[:, :t]  # (B, T, E)
    return y + u * D


class MambaBlock(nn.Module):
    def __init__(self, cfg: MambaConfig):
        super().__init__()
        self.cfg = cfg
        self.in_proj = nn.Linear(cfg.d_model, 2 * cfg.d_inner, bias=False)
        self.conv1d = nn.Conv1d(cfg.d_inner, cfg.d_inner, cfg.d_conv, groups=cfg.d_inner, padding=cfg.d_conv - 1)
        self.x_proj = nn.Linear(cfg.d_inner, cfg.dt_rank + 2 * cfg.d_state, bias=False)
        self.dt_proj = nn.Linear(cfg.dt_rank, cfg.d_inner, bias=True)
        # Official Mamba's dt init: delta starts log-uniform in [1e-3, 1e-1] (softplus of the bias).
        nn.init.uniform_(self.dt_proj.weight, -cfg.dt_rank ** -0.5, cfg.dt_rank ** -0.5)
        dt = torch.exp(torch.rand(cfg.d_inner) * (math.log(0.1) - math.log(1e-3)) + math.log(1e-3)).clamp(min=1e-4)
        with torch.no_grad():
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))  # softplus^-1(dt)
        # S4D-real init: A[e, n] = -(n + 1), the same for every channel.
        A = torch.arange(1, cfg.d_state + 1, dtype=torch.float32).repeat(cfg.d_inner, 1)  # (E, N)
        self.A_log = nn.Parameter(torch.log(A))
        self.D = nn.Parameter(torch.ones(cfg.d_inner))
        self.out_proj = nn.Linear(cfg.d_inner, cfg.d_model, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, D) -> (B, T, D)
        t = x.shape[1]
        x, res = self.in_proj(x).split(self.cfg.d_inner, dim=-1)  # (B, T, E) each
        # (B, T, E): causal, the right pad cut; contiguous, else SiLU and its backward take a strided
        # path ~5x slower (measured: a quarter of a training step's time outside the scan)
        x = self.conv1d(x.transpose(1, 2))[:, :, :t].transpose(1, 2).contiguous()
        y = self.ssm(F.silu(x))  # (B, T, E)
        return self.out_proj(y * F.silu(res))  # (B, T, D)

    def ssm(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, E) -> (B, T, E)
        A = -torch.exp(self.A_log)  # (E, N)
        delta, B, C = self.x_proj(x).split([self.cfg.dt_rank, self.cfg.d_state, self.cfg.d_state], dim=-1)
        delta = F.softplus(self.dt_proj(delta))  # (B, T, E)
        scan = scan_for(self.cfg.scan, x.device.type)
        if scan == "reference":
            return selective_scan_reference(x, delta, A, B, C, self.D)
        if scan == "fused":
            return selective_scan_fused(x, delta, A, B, C, self.D)
        if scan == "stepwise":
            return selective_scan_stepwise(x, delta, A, B, C, self.D)
        if scan == "kernel":
            return selective_scan_kernel(x, delta, A, B, C, self.D)
        return selective_scan(x, delta, A, B, C, self.D, self.cfg.chunk_size)


class ResidualBlock(nn.Module):
    def __init__(self, cfg: MambaConfig):
        super().__init__()
        self.norm = nn.RMSNorm(cfg.d_model)
        self.mixer = MambaBlock(cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, D) -> (B, T, D)
        return x + self.mixer(self.norm(x))


class MambaBackbone(nn.Module):
    """(B, T, d_in) -> (B, T, D): input projection, residual Mamba blocks, final RMSNorm. Causal."""

    causal = True

    def __init__(self, d_in: int, cfg: MambaConfig | None = None):
        super().__init__()
        cfg = cfg or MambaConfig()
        self.d_in, self.d_out = d_in, cfg.d_model
        self.input_proj = nn.Linear(d_in, cfg.d_model)
        self.layers = nn.ModuleList([ResidualBlock(cfg) for _ in range(cfg.layers)])
        self.norm_f = nn.RMSNorm(cfg.d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, d_in) -> (B, T, D)
        h = self.input_proj(x)  # (B, T, D)
        for layer in self.layers:
            h = layer(h)  # (B, T, D)
        return self.norm_f(h)


class Mamba(SequenceClassifier):
    """Mamba classifier: (B, C, T) -> (B, K). Mean pooling over time, as S4's sequence classifiers
    (Long Range Arena) do; `pooling="last"` reads the final state, as a recurrent network would."""

    def __init__(self, input_shape: tuple[int, ...], n_classes: int, d_model: int = 64, layers: int = 2,
                 d_state: int = 16, expand: int = 2, d_conv: int = 4, dt_rank: int | str = "auto",
                 scan: str = "auto", chunk_size: int | None = None, pooling: str = "mean"):
        c, _ = series_shape(input_shape)
        cfg = MambaConfig(d_model, layers, d_state, expand, d_conv, dt_rank, scan, chunk_size)
        super().__init__(MambaBackbone(c, cfg), n_classes, pooling)
