"""Neural character language models (the contract and the START convention: harness/tasks/language_model.py;
the n-gram baseline they are compared with: baselines/charlm.py). The suite `bench run suite=charlm`
runs them on Debian fortunes (`load_fortune_chars` in harness/data/text.py: shuffled entries, each
ending in `%`, a tenth held out, rare characters mapped to UNKNOWN so that every model predicts over
the same alphabet).

`NeuralCharLM`: `SequenceTagger` of harness/models/sequence.py on character embeddings with a
causal backbone (LSTM, pre-norm transformer with causal attention, Mamba), trained on
next-character cross-entropy over random windows of the training stream for a time budget (wall-clock
or CPU seconds) or a number of steps: on a CPU the question is what each family reaches in the same
minutes, not at convergence. It reads up to `seq_len` preceding characters: a text is cut into windows of
`seq_len` with a stride of half that, and each window scores only the characters no earlier
window scored, so every scored character but a text's first few has at least seq_len / 2
characters of context.
"""
from __future__ import annotations

import math
import sys
from typing import Callable

import numpy as np
import torch
from torch import nn

from harness.deep.callbacks import Divergence, Progress
from harness.deep.estimator import keep_arguments
from harness.deep.loop import Budget, run_loop
from harness.deep.training import count_parameters, gradient_step, make_optimizer, seeded
from harness.models.mamba import MambaBackbone, MambaConfig
from harness.models.recurrent import RecurrentBackbone
from harness.models.sequence import SequenceTagger
from harness.models.transformer import TransformerBackbone, TransformerConfig
from harness.tasks.language_model import START, CharLanguageModel

BACKBONES = ("lstm", "transformer", "mamba")


def neural_lm(kind: str, vocab_size: int, seq_len: int, embed_dim: int = 64, width: int = 128,
              layers: int = 2) -> SequenceTagger:
    """(B, T) ids -> (B, T, V) next-character logits with a causal backbone."""
    if kind == "lstm":
        backbone = RecurrentBackbone(embed_dim, "lstm", hidden=width, layers=layers)
    elif kind == "transformer":
        backbone = TransformerBackbone(embed_dim, TransformerConfig(width, 4, layers, 4, 0.0, "sinusoidal",
                                                                    max_len=seq_len, causal=True))
    elif kind == "mamba":
        backbone = MambaBackbone(embed_dim, MambaConfig(width, layers))
    else:
        raise ValueError(f"unknown language model backbone {kind!r}; choose one of {', '.join(BACKBONES)}")
    model = SequenceTagger(backbone, vocab_size, vocab_size=vocab_size)
    assert model.causal, f"{kind} backbone is not causal: it would see the character it predicts"
    return model


def train_lm(model: nn.Module, ids: torch.Tensor, seconds: float | None, seq_len: int, batch_size: int, lr: float,
             generator: torch.Generator, max_steps: int | None = None,
             on_epoch: Callable[..., None] | None = None, clock: str = "wall") -> list[float]:
    """AdamW on next-character cross-entropy over random windows of ids until `seconds` pass on `clock`
    (harness/deep/loop.py Budget: "wall" or "cpu") or `max_steps` are taken (None: no such limit);
    returns every step's loss. Progress as
    on_epoch(percent of the budget done, 100, recent loss, "step N")."""
    opt = make_optimizer("adamw", model.parameters(), lr, weight_decay=0.01)
    params = list(model.parameters())
    offsets = torch.arange(seq_len + 1, device=ids.device)

    def step() -> float:
        starts = torch.randint(0, len(ids) - seq_len - 1, (batch_size, 1), generator=generator).to(ids.device)
        window = ids[starts + offsets]  # (B, T + 1)
        logits = model(window[:, :-1])  # (B, T, V)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), window[:, 1:].reshape(-1))
        gradient_step(opt, loss, params, 1.0)
        return loss.item()

    policy = [Divergence("language model loss"), Progress(on_epoch)]
    return run_loop(step, Budget(steps=max_steps, seconds=seconds, clock=clock), policy, modules=[model]).losses


def neural_bits(model: nn.Module, seqs: list[torch.Tensor], seq_len: int, context: int = 1,
                batch_size: int = 64) -> np.ndarray:
    """Per sequence of ids, the total -log2 p of seq[context:] (the first `context` ids are only
    read), in windows of seq_len at a stride of seq_len / 2, the last one aligned to the end; each
    window scores only the ids no earlier window scored (module docstring). Windows of all sequences
    share batches, padded at the end: the model is causal, so padding never reaches a scored id."""
    jobs = []  # (sequence, window start, window length t, first of its t targets to score)
    for k, ids in enumerate(seqs):
        if len(ids) <= context:
            continue
        t = min(seq_len, len(ids) - 1)
        last, done = len(ids) - 1 - t, context - 1  # every target position up to `done` is scored or skipped
        for s in sorted(set(range(0, last + 1, max(1, seq_len // 2))) | {last}):
            jobs.append((k, s, t, max(0, done - s)))  # target j of the window is position s + 1 + j
            done = s + t
    jobs.sort(key=lambda j: -j[2])  # similar lengths share a batch
    bits = np.zeros(len(seqs))
    model.eval()
    with torch.inference_mode():
        for b in range(0, len(jobs), batch_size):
            chunk = jobs[b:b + batch_size]
            width = chunk[0][2] + 1
            x = torch.stack([nn.functional.pad(seqs[k][s:s + t + 1], (0, width - t - 1))
                             for k, s, t, _ in chunk])  # (B, t + 1), padded at the end
            nll = nn.functional.cross_entropy(model(x[:, :-1]).transpose(1, 2), x[:, 1:], reduction="none")  # (B, t)
            for (k, _, t, skip), row in zip(chunk, nll):
                bits[k] += float(row[skip:t].sum()) / math.log(2)
    return bits


class NeuralCharLM(CharLanguageModel):
    """A causal `backbone` (lstm | transformer | mamba) of `layers` layers of `width` units over
    `embed_dim`-d character embeddings, trained by `train_lm` on windows of `seq_len` characters in
    batches of `batch_size` with AdamW at `lr`, for `budget_seconds` on `budget_clock` ("wall": wall-clock
    time; "cpu": the process's CPU time, the same compute whatever runs beside it) or `max_steps` steps,
    whichever ends first (None: no such limit; one of them must be set)."""

    def __init__(self, backbone: str = "lstm", width: int = 128, layers: int = 2, embed_dim: int = 64,
                 seq_len: int = 64, lr: float = 3e-3, batch_size: int = 32, budget_seconds: float | None = 45.0,
                 budget_clock: str = "wall", max_steps: int | None = None, device: str = "cpu", random_state: int = 0,
                 sample_length: int = 200, temperature: float = 0.8):
        keep_arguments(self, locals())

    def ids(self, text: str) -> torch.Tensor:  # (len(text),) int64 on the device; text already clean
        return torch.tensor([self.index_[c] for c in text], dtype=torch.long, device=self.device)

    def fit(self, X, y=None, on_epoch: Callable[..., None] | None = None) -> "NeuralCharLM":
        """on_epoch(percent of the budget done, 100, loss, "step N"), each time the percent moves."""
        ids = self.ids(self.learn_alphabet(X))
        if len(ids) < self.seq_len + 2:
            raise ValueError(f"{len(ids)} training characters; a window of seq_len={self.seq_len} needs "
                             f"{self.seq_len + 2}")
        generator = seeded(self.random_state)
        self.module_ = neural_lm(self.backbone, len(self.alphabet_), self.seq_len, self.embed_dim, self.width,
                                 self.layers).to(self.device)
        self.losses_ = train_lm(self.module_, ids, self.budget_seconds, self.seq_len, self.batch_size, self.lr,
                                generator, self.max_steps, on_epoch, self.budget_clock)
        self.steps_ = len(self.losses_)
        return self

    def text_bits(self, texts: list[str]) -> np.ndarray:
        start = self.clean(START)  # texts that never end like a fortune entry may lack its characters
        return neural_bits(self.module_, [self.ids(start + t) for t in texts], self.seq_len, context=len(start))

    def sample_text(self, length: int, seed: int) -> str:
        generator = torch.Generator(device=self.device).manual_seed(seed)
        ids = self.ids(self.clean(START)).tolist()
        self.module_.eval()
        with torch.inference_mode():
            for _ in range(length):
                x = torch.tensor([ids[-self.seq_len:]], device=self.device)
                logits = self.module_(x)[0, -1] / self.temperature  # (V,)
                ids.append(int(torch.multinomial(torch.softmax(logits, -1), 1, generator=generator)))
        return "".join(self.alphabet_[i] for i in ids[len(START):])

    def diagnostics(self, X, y) -> dict:
        tail = self.losses_[-20:]  # one step's loss is one batch's: average the last few
        return super().diagnostics(X, y) | {"final_train_loss": float(np.mean(tail)) if tail else float("nan")}

    @property
    def n_parameters_(self) -> int:
        return count_parameters(self.module_)


def main(argv: list[str] | None = None) -> int:
    """`python -m harness.deep.charlm [OVERRIDES]` is `bench run suite=charlm [OVERRIDES]`."""
    from harness.app import run

    return run(["suite=charlm", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
