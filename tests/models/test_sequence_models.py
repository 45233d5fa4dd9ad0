"""Sequence architectures: shapes, gradients, learning through TorchClassifier, causality, and the
Mamba fast scan pinned to the reference scan.

The learning problem: is a noisy sine wave of 3 or of 5 cycles per window, at a random phase? A
second channel is pure noise. 200 training series of 40 steps; chance is 0.5.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from harness.models.mamba import (Mamba, MambaBackbone, MambaConfig, default_chunk_size, selective_scan,
                                  selective_scan_fused,
                                  selective_scan_reference, selective_scan_stepwise)
from harness.models.recurrent import Recurrent, RecurrentBackbone
from harness.models.sequence import SequenceTagger
from harness.models.tdnn import TDNN
from harness.models.transformer import Transformer, TransformerBackbone, TransformerConfig
from harness.deep.training import TorchClassifier, import_object

M = "harness.models."
# name: (module, small module_params, training epochs, learning rate)
ARCHITECTURES = {
    "rnn": (M + "recurrent.Recurrent", {"cell": "rnn", "hidden": 32}, 30, 3e-3),
    "lstm": (M + "recurrent.Recurrent", {"cell": "lstm", "hidden": 32}, 12, 3e-3),
    "gru": (M + "recurrent.Recurrent", {"cell": "gru", "hidden": 32}, 12, 3e-3),
    "bidirectional_lstm": (M + "recurrent.Recurrent", {"cell": "lstm", "hidden": 16, "layers": 2,
                                                       "bidirectional": True}, 10, 3e-3),
    "tdnn": (M + "tdnn.TDNN", {"hidden": [16, 16]}, 30, 1e-2),
    "fcn": (M + "tdnn.FCN", {"filters": [16, 32, 16]}, 5, 3e-3),
    "resnet1d": (M + "resnet1d.ResNet1D", {"filters": [16, 32, 32]}, 5, 3e-3),
    "transformer": (M + "transformer.Transformer", {"d_model": 32, "layers": 2, "patch": 8}, 10, 3e-3),
    "mamba": (M + "mamba.Mamba", {"d_model": 32, "layers": 1, "d_state": 8}, 6, 3e-3),
}


def sines(n: int, seed: int, steps: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """(n, 2, steps) float32 series and their 0/1 labels (3 or 5 cycles per window)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    cycles = np.where(y == 0, 3.0, 5.0)[:, None]
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    wave = np.sin(2 * np.pi * cycles * np.arange(steps)[None] / steps + phase) + 0.3 * rng.standard_normal((n, steps))
    return np.stack([wave, rng.standard_normal((n, steps))], axis=1).astype(np.float32), y


# Options the learning test does not cover, for the shape and gradient tests.
VARIANTS = {name: (module, params) for name, (module, params, _, _) in ARCHITECTURES.items()} | {
    "lstm_mean_pooling": (M + "recurrent.Recurrent", {"cell": "lstm", "hidden": 8, "pooling": "mean"}),
    "bidirectional_rnn_mean_pooling": (M + "recurrent.Recurrent", {"cell": "rnn", "hidden": 8, "bidirectional": True,
                                                                   "pooling": "mean"}),
    "tdnn_three_layers": (M + "tdnn.TDNN", {"hidden": [8, 8, 4], "delays": [2, 2, 4]}),
    "transformer_per_step_tokens": (M + "transformer.Transformer", {"d_model": 16, "n_heads": 2}),
    "transformer_learned_causal_last": (M + "transformer.Transformer", {
        "d_model": 16, "n_heads": 2, "positional": "learned", "causal": True, "pooling": "last", "patch": 3}),
    "mamba_reference_scan_last": (M + "mamba.Mamba", {"d_model": 16, "d_state": 4, "scan": "reference",
                                                      "pooling": "last"}),
}


def build(name: str, input_shape=(2, 40), n_classes=3) -> nn.Module:
    module, params = VARIANTS[name]
    torch.manual_seed(0)
    return import_object(module)(input_shape, n_classes, **params)


@pytest.mark.parametrize("name", VARIANTS)
def test_forward_shape_and_gradients_reach_every_parameter_and_the_first_step(name):
    module = build(name)
    x = torch.randn(4, 2, 40, requires_grad=True)
    logits = module(x)
    assert logits.shape == (4, 3) and logits.dtype == torch.float32
    logits.logsumexp(1).sum().backward()
    for pname, p in module.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), f"{name}: no finite gradient for {pname}"
    assert sum(float(p.grad.abs().sum()) for p in module.parameters()) > 0
    assert x.grad[:, :, 0].abs().sum() > 0, f"{name}: the loss does not depend on the first step"


@pytest.mark.parametrize("name", VARIANTS)
def test_other_layouts_are_read_as_series(name):
    # Images (B, C, H, W) are W steps of C*H features; a 2-D batch (B, T) is one channel.
    assert build(name, (1, 8, 12), 10)(torch.rand(5, 1, 8, 12)).shape == (5, 10)
    assert build(name, (30,), 2)(torch.randn(5, 30)).shape == (5, 2)


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_learns_sine_frequency_through_the_training_loop(name):
    module, params, epochs, lr = ARCHITECTURES[name]
    X, y = sines(200, seed=0)
    X_test, y_test = sines(200, seed=1)
    est = TorchClassifier(module=module, module_params=params, lr=lr, batch_size=32, max_epochs=epochs,
                          patience=0, random_state=0).fit(X, y)
    accuracy = float(np.mean(est.predict(X_test) == y_test))
    assert accuracy >= 0.8, f"{name}: accuracy {accuracy:.3f} where chance is 0.5"


def test_lstm_forget_gate_starts_open():
    lstm = Recurrent((1, 10), 2, cell="lstm", hidden=5, layers=2).backbone.rnn
    for layer in range(2):
        forget = (getattr(lstm, f"bias_ih_l{layer}") + getattr(lstm, f"bias_hh_l{layer}"))[5:10]
        torch.testing.assert_close(forget, torch.ones(5))


def test_mlp_config_also_takes_series():
    X, y = sines(50, seed=0)
    est = TorchClassifier(module=M + "mlp.MLP", max_epochs=1, patience=0).fit(X, y)
    assert est.predict(X).shape == (50,)


def test_bad_arguments_say_what_is_allowed():
    with pytest.raises(ValueError, match="rnn, lstm, gru"):
        Recurrent((1, 10), 2, cell="elman")
    with pytest.raises(ValueError, match="last, mean"):
        Recurrent((1, 10), 2, pooling="max")
    with pytest.raises(ValueError, match="longer than 6 steps"):
        TDNN((1, 6), 2)
    with pytest.raises(ValueError, match="sinusoidal, learned"):
        Transformer((1, 10), 2, positional="rotary")
    with pytest.raises(ValueError, match="auto, fused, stepwise, chunked, kernel, reference"):
        Mamba((1, 10), 2, scan="parallel")


# --- Mamba: the fused, chunked and stepwise scans against the sequential reference -------------------

def scan_inputs(t: int, dtype: torch.dtype, decay: str, b: int = 2, e: int = 6, n: int = 4, seed: int = 0):
    """Random (u, delta, A, B, C, D). "weak": delta*A near 0, the state sums ~T terms (long memory);
    "strong": delta*A down to about -700 a step, far past where exp(-cumsum) overflows float32."""
    g = torch.Generator().manual_seed(seed)
    rand = lambda *shape: torch.randn(*shape, generator=g, dtype=torch.float64)
    if decay == "weak":
        delta = nn.functional.softplus(rand(b, t, e) - 5)  # ~0.007
        A = -torch.exp(rand(e, n) - 3)  # ~ -0.05
    else:
        delta = nn.functional.softplus(3 * rand(b, t, e) + 2)  # up to ~15
        A = -torch.exp(4 * torch.rand(e, n, generator=g, dtype=torch.float64))  # -1 .. -55
    tensors = (rand(b, t, e), delta, A, rand(b, t, n), rand(b, t, n), rand(e))
    return [z.to(dtype).requires_grad_() for z in tensors]


TOLERANCE = {torch.float32: dict(rtol=1e-4, atol=1e-4), torch.float64: dict(rtol=1e-9, atol=1e-9)}


@pytest.mark.parametrize("scan", [selective_scan, selective_scan_stepwise, selective_scan_fused],
                         ids=["chunked", "stepwise", "fused"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("decay", ["weak", "strong"])
@pytest.mark.parametrize("t", [1, 5, 64, 1000])
def test_fast_scans_match_the_reference_values_and_gradients(t, decay, dtype, scan):
    inputs = scan_inputs(t, dtype, decay)
    fast, ref = scan(*inputs), selective_scan_reference(*inputs)
    assert torch.isfinite(fast).all()
    scale = float(ref.detach().abs().max())  # atol relative to the output's size
    tol = TOLERANCE[dtype]
    torch.testing.assert_close(fast, ref, rtol=tol["rtol"], atol=tol["atol"] * scale)
    weights = torch.randn(ref.shape, generator=torch.Generator().manual_seed(1), dtype=dtype)
    grads_fast = torch.autograd.grad((fast * weights).sum(), inputs)
    grads_ref = torch.autograd.grad((ref * weights).sum(), inputs)
    for name, gf, gr in zip(["u", "delta", "A", "B", "C", "D"], grads_fast, grads_ref):
        assert torch.isfinite(gf).all(), name
        torch.testing.assert_close(gf, gr, rtol=tol["rtol"], atol=tol["atol"] * float(gr.abs().max()),
                                   msg=lambda m: f"gradient of {name}: {m}")


@pytest.mark.parametrize("chunk_size", [1, 3, 7, 50, 64])
def test_chunked_scan_is_exact_for_any_chunk_size(chunk_size):
    inputs = [z.detach() for z in scan_inputs(50, torch.float64, "weak")]
    torch.testing.assert_close(selective_scan(*inputs, chunk_size=chunk_size), selective_scan_reference(*inputs),
                               rtol=1e-10, atol=1e-10)


def test_default_chunks_are_about_sqrt_t_and_longer_on_a_cpu_for_big_batches():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")  # a device object, nothing runs on it
    assert default_chunk_size(1000, 16, cpu) == default_chunk_size(1000, 16, cuda) == 32
    assert default_chunk_size(1, 16, cpu) == 1 and default_chunk_size(2, 16, cpu) == 1
    assert default_chunk_size(1000, 32 * 128 * 16, cpu) == 250  # 4 chunks of 65536 elements a position
    assert default_chunk_size(1000, 32 * 128 * 16, cuda) == 32
    inputs = [z.detach() for z in scan_inputs(5, torch.float64, "weak", b=4, e=256, n=256)]  # 1 chunk, not 3
    torch.testing.assert_close(selective_scan(*inputs), selective_scan_reference(*inputs), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("scan", ["auto", "fused", "stepwise", "chunked"])
def test_mamba_model_gives_the_same_output_with_any_scan(scan):
    torch.manual_seed(0)
    fast = Mamba((3, 70), 4, d_model=16, layers=2, d_state=4, scan=scan).double()
    ref = Mamba((3, 70), 4, d_model=16, layers=2, d_state=4, scan="reference").double()
    ref.load_state_dict(fast.state_dict())
    x = torch.randn(3, 3, 70, dtype=torch.float64)
    torch.testing.assert_close(fast(x), ref(x), rtol=1e-10, atol=1e-10)
    with torch.no_grad():  # prediction: the fused and stepwise scans keep two states instead of T
        torch.testing.assert_close(fast(x), ref(x), rtol=1e-10, atol=1e-10)


def test_auto_scan_is_the_fused_one_on_a_cpu_and_the_stepwise_one_without_numba(monkeypatch):
    import harness.models.mamba as mamba

    calls = []
    monkeypatch.setattr(mamba, "selective_scan_fused", lambda *v: calls.append("fused") or selective_scan_fused(*v))
    monkeypatch.setattr(mamba, "selective_scan_stepwise", lambda *v: calls.append("stepwise") or selective_scan_stepwise(*v))
    monkeypatch.setattr(mamba, "selective_scan", lambda *v: calls.append("chunked") or selective_scan(*v))
    Mamba((3, 20), 4, d_model=16, layers=2, d_state=4)(torch.randn(2, 3, 20))
    assert calls == ["fused", "fused"]
    monkeypatch.setattr(mamba, "mamba_fused", None)
    Mamba((3, 20), 4, d_model=16, layers=2, d_state=4)(torch.randn(2, 3, 20))
    assert calls[2:] == ["stepwise", "stepwise"]
    with pytest.raises(RuntimeError, match="needs numba"):
        selective_scan_fused(*scan_inputs(4, torch.float32, "weak"))


def test_auto_takes_the_kernel_on_cuda_only_where_mamba_ssm_imports(monkeypatch):
    import harness.models.mamba as mamba

    monkeypatch.setattr(mamba, "kernel_scan", lambda: None)
    assert [mamba.scan_for("auto", d) for d in ("cpu", "cuda", "mps")] == ["fused", "chunked", "chunked"]
    assert mamba.scan_for("chunked", "cpu") == "chunked"
    with pytest.raises(RuntimeError, match="needs mamba-ssm"):
        mamba.selective_scan_kernel(*[z.detach() for z in scan_inputs(4, torch.float32, "weak")])
    monkeypatch.setattr(mamba, "kernel_scan", lambda: object())
    assert [mamba.scan_for("auto", d) for d in ("cpu", "cuda", "mps")] == ["fused", "kernel", "chunked"]


@pytest.mark.gpu
def test_mamba_ssm_kernel_matches_the_reference_on_cuda():
    import harness.models.mamba as mamba

    if not torch.cuda.is_available() or mamba.kernel_scan() is None:
        pytest.skip("needs CUDA and mamba-ssm")
    inputs = [z.detach().float().cuda().requires_grad_() for z in scan_inputs(200, torch.float64, "weak", b=3, e=8)]
    fast, ref = mamba.selective_scan_kernel(*inputs), selective_scan_reference(*inputs)
    torch.testing.assert_close(fast, ref, rtol=1e-3, atol=1e-3 * float(ref.abs().max()))
    weights = torch.randn_like(ref)
    for gf, gr in zip(torch.autograd.grad((fast * weights).sum(), inputs),
                      torch.autograd.grad((ref * weights).sum(), inputs)):
        torch.testing.assert_close(gf, gr, rtol=1e-3, atol=1e-3 * float(gr.abs().max()))


@pytest.mark.parametrize("scan", [selective_scan_stepwise, selective_scan_fused], ids=["stepwise", "fused"])
def test_hand_written_backwards_pass_gradcheck(scan):
    inputs = [z.detach()[:, :6].requires_grad_() if z.dim() == 3 else z.detach().requires_grad_()
              for z in scan_inputs(6, torch.float64, "strong")]
    assert torch.autograd.gradcheck(scan, inputs)


# --- Per-step outputs: causality, language modelling, memory tasks --------------------------------

CAUSAL_BACKBONES = {
    "lstm": lambda d: RecurrentBackbone(d, "lstm", hidden=16),
    "rnn_two_layers": lambda d: RecurrentBackbone(d, "rnn", hidden=16, layers=2),
    "transformer": lambda d: TransformerBackbone(d, TransformerConfig(d_model=16, n_heads=2, max_len=64,
                                                                      causal=True, dropout=0.0)),
    "transformer_learned": lambda d: TransformerBackbone(d, TransformerConfig(
        d_model=16, n_heads=2, max_len=64, causal=True, dropout=0.0, positional="learned")),
    "mamba": lambda d: MambaBackbone(d, MambaConfig(d_model=16, layers=2, d_state=4)),
    "mamba_reference_scan": lambda d: MambaBackbone(d, MambaConfig(d_model=16, layers=1, d_state=4, scan="reference")),
}
NON_CAUSAL_BACKBONES = {
    "bidirectional_lstm": lambda d: RecurrentBackbone(d, "lstm", hidden=16, bidirectional=True),
    "transformer_encoder": lambda d: TransformerBackbone(d, TransformerConfig(d_model=16, n_heads=2, max_len=64,
                                                                              dropout=0.0)),
}


def outputs_before_and_after_a_change_at(backbone: nn.Module, t0: int, steps: int = 40):
    torch.manual_seed(0)
    backbone.eval()
    x = torch.randn(2, steps, 3)
    changed = x.clone()
    changed[:, t0:] = torch.randn(2, steps - t0, 3)
    with torch.no_grad():
        return backbone(x), backbone(changed)


@pytest.mark.parametrize("name", CAUSAL_BACKBONES)
def test_causal_backbones_do_not_look_ahead(name):
    backbone = CAUSAL_BACKBONES[name](3)
    assert backbone.causal
    t0 = 17
    before, after = outputs_before_and_after_a_change_at(backbone, t0)
    assert before.shape == (2, 40, 16)
    torch.testing.assert_close(after[:, :t0], before[:, :t0], rtol=1e-5, atol=1e-6)
    assert not torch.allclose(after[:, t0:], before[:, t0:]), "the change is not seen at all"


@pytest.mark.parametrize("name", NON_CAUSAL_BACKBONES)
def test_non_causal_backbones_say_so_and_do_look_ahead(name):
    backbone = NON_CAUSAL_BACKBONES[name](3)
    assert not backbone.causal
    before, after = outputs_before_and_after_a_change_at(backbone, 17)
    assert not torch.allclose(after[:, :17], before[:, :17])


@pytest.mark.parametrize("name", ["lstm", "transformer", "mamba"])
def test_tagger_learns_a_character_language_model(name):
    text = "the cat sat on the mat. " * 8
    vocab = sorted(set(text))
    ids = torch.tensor([vocab.index(ch) for ch in text])
    windows = ids.unfold(0, 25, 3)  # (W, 25): inputs are [:, :-1], next-token targets [:, 1:]
    torch.manual_seed(0)
    lm = SequenceTagger(CAUSAL_BACKBONES[name](16), n_outputs=len(vocab), vocab_size=len(vocab))
    assert lm.causal
    opt = torch.optim.Adam(lm.parameters(), lr=1e-2)
    for _ in range(60):
        logits = lm(windows[:, :-1])  # (W, 24, V)
        loss = nn.functional.cross_entropy(logits.reshape(-1, len(vocab)), windows[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    # The text repeats with period 24, so the next character is nearly always determined by the ones before.
    # Uniform guessing costs log(V) = 2.4 nats; after 60 steps these models are at 0.05-0.3.
    assert loss.item() < 0.5, f"{name}: next-character loss {loss.item():.2f}, uniform {math.log(len(vocab)):.2f}"


def test_tagger_gives_per_step_outputs_for_the_adding_task():
    # The adding problem (Hochreiter & Schmidhuber, 1997): inputs (value, marker) per step, target the sum of
    # the two marked values, read at the last step.
    tagger = SequenceTagger(CAUSAL_BACKBONES["mamba"](2), n_outputs=1)
    out = tagger(torch.randn(4, 30, 2))
    assert out.shape == (4, 30, 1) and out[:, -1].shape == (4, 1)
