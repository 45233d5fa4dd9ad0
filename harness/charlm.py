"""Character-level language models on real text: a smoothed n-gram model against LSTM, causal
transformer and Mamba language models, in bits per character (bpc) on held-out text, with samples.
The suite `bench run suite=charlm` runs them on Debian fortunes (`load_fortune_chars` in
harness/data/text.py: shuffled entries, each ending in `%`, a tenth held out, rare characters
mapped to UNKNOWN so that every model predicts over the same alphabet).

Both model classes are scikit-learn estimators over texts (`CharLanguageModel`): `fit(texts)` learns from
the texts concatenated into one stream; `predict(texts)` returns, per text, its total -log2 p in
bits, each text read after START (the end of an entry, as every entry of the training stream is)
and independently of the other texts, so a subset or another order of the test split changes no
text's number. `harness.metrics.scores("language_model", texts, bits)` divides the total by the
characters: bpc. Characters outside the training texts' alphabet count as UNKNOWN.

- `KneserNey`: interpolated Kneser-Ney smoothing of order N (Kneser & Ney, 1995; in the form of
  Chen & Goodman, 1999, section 3: one absolute discount per order, D = n1 / (n1 + 2 n2)), the
  highest order on counts, lower orders on continuation counts (how many distinct characters
  precede an n-gram), the unigram level interpolated with the uniform distribution over the
  alphabet, so that every character has a probability and the distribution sums to 1.
- `NeuralCharLM`: `SequenceTagger` of harness/models/sequence.py on character embeddings with a
  causal backbone (LSTM, pre-norm transformer with causal attention, Mamba), trained on
  next-character cross-entropy over random windows of the training stream for a wall-clock budget
  or a number of steps: on a CPU the question is what each family reaches in the same minutes, not
  at convergence. It reads up to `seq_len` preceding characters: a text is cut into windows of
  `seq_len` with a stride of half that, and each window scores only the characters no earlier
  window scored, so every scored character but a text's first few has at least seq_len / 2
  characters of context.
"""
from __future__ import annotations

import math
import sys
import time
from collections import Counter
from typing import Callable

import numpy as np
import torch
from sklearn.base import BaseEstimator
from torch import nn

from harness.data.text import SEPARATOR, UNKNOWN
from harness.metrics import language_model_scores
from harness.models.mamba import MambaBackbone, MambaConfig
from harness.models.recurrent import RecurrentBackbone
from harness.models.sequence import SequenceTagger
from harness.models.transformer import TransformerBackbone, TransformerConfig
from harness.training import Diverged

START = SEPARATOR  # what every text is read after, and every sample starts from: the end of an entry
BACKBONES = ("lstm", "transformer", "mamba")


class CharLanguageModel(BaseEstimator):
    """What the character models share: the alphabet, per-text bits, a seeded sample, diagnostics.
    A subclass sets `steps_` in fit and defines `text_bits(texts)` and `sample_text(length, seed)`."""

    def learn_alphabet(self, X) -> str:
        """Set alphabet_ (every character of the texts, plus UNKNOWN) and return the texts as one stream."""
        text = "".join(texts_of(X))
        if not text:
            raise ValueError("no training text")
        self.alphabet_ = sorted(set(text) | {UNKNOWN})
        self.index_ = {c: i for i, c in enumerate(self.alphabet_)}
        return text

    def clean(self, text: str) -> str:
        return "".join(c if c in self.index_ else UNKNOWN for c in text)

    def predict(self, X) -> np.ndarray:
        """(N,) float: each text's total -log2 p in bits, read after START."""
        return np.asarray(self.text_bits([self.clean(t) for t in texts_of(X)]), dtype=float)

    def score(self, X, y=None) -> float:
        """Minus the bits per character of X (higher is better, as scikit-learn's searches expect)."""
        return -language_model_scores(texts_of(X), self.predict(X))["bpc"]

    def sample(self) -> str:
        """`sample_length` characters after START at `temperature`, seeded by `random_state`."""
        return self.sample_text(self.sample_length, self.random_state)

    def diagnostics(self, X, y) -> dict:
        """Extra columns of the model's result row: the trivial baseline and a sample."""
        return {"steps": self.steps_, "alphabet_size": len(self.alphabet_),
                "uniform_bpc": math.log2(len(self.alphabet_)), "sample": self.sample()}


def texts_of(X) -> list[str]:
    """A text, or a sequence of texts, as a list of strings."""
    return [X] if isinstance(X, str) else [str(x) for x in np.asarray(X, dtype=object).ravel()]


class KneserNey(CharLanguageModel):
    """Interpolated Kneser-Ney character model of order N (module docstring).

    tables_[n] for n = 1..N: (counts of n-grams, total count per context of n - 1 chars, distinct
    next chars per context, discount). Counts are raw at order N and continuation counts below."""

    def __init__(self, order: int = 5, sample_length: int = 200, temperature: float = 0.8, random_state: int = 0):
        self.order = order
        self.sample_length = sample_length
        self.temperature = temperature
        self.random_state = random_state

    def fit(self, X, y=None) -> "KneserNey":
        if self.order < 1:
            raise ValueError(f"order must be at least 1, got {self.order}")
        text = self.learn_alphabet(X)
        raw = Counter(text[i:i + self.order] for i in range(len(text) - self.order + 1))
        self.tables_: dict[int, tuple] = {}
        counts = raw
        for n in range(self.order, 0, -1):
            total, types = Counter(), Counter()
            for gram, c in counts.items():
                total[gram[:-1]] += c
                types[gram[:-1]] += 1
            count_of = Counter(c for c in counts.values() if c <= 2)
            n1, n2 = count_of[1], count_of[2]
            discount = n1 / (n1 + 2 * n2) if n1 + n2 else 0.5
            self.tables_[n] = (counts, total, types, discount)
            counts = Counter(gram[1:] for gram in counts)  # continuation counts of the order below
        self.steps_ = None  # counted, not trained
        return self

    def prob(self, context: str, char: str) -> float:
        """p(char | the last N - 1 characters of context)."""
        p = 1.0 / len(self.alphabet_)
        for n in range(1, self.order + 1):
            if len(context) < n - 1:
                break
            counts, total, types, d = self.tables_[n]
            h = context[len(context) - n + 1:] if n > 1 else ""
            t = total.get(h, 0)
            if t == 0:  # an unseen context: every longer one is unseen too
                break
            p = (max(counts.get(h + char, 0) - d, 0.0) + d * types[h] * p) / t
        return p

    def distribution(self, context: str) -> np.ndarray:  # (V,) over alphabet_, sums to 1
        return np.array([self.prob(context, c) for c in self.alphabet_])

    def bits(self, text: str, context: str = "") -> float:
        """Total -log2 p of text, each character given the characters before it (context, then text)."""
        k, full = self.order - 1, context + text
        return -sum(math.log2(self.prob(full[max(0, i - k):i], full[i])) for i in range(len(context), len(full)))

    def text_bits(self, texts: list[str]) -> list[float]:
        return [self.bits(t, START) for t in texts]

    def sample_text(self, length: int, seed: int) -> str:
        rng, out = np.random.default_rng(seed), START
        for _ in range(length):
            p = self.distribution(out[max(0, len(out) - self.order + 1):]) ** (1.0 / self.temperature)
            out += self.alphabet_[rng.choice(len(p), p=p / p.sum())]
        return out[len(START):]

    @property
    def n_parameters_(self) -> int:
        """Stored counts: one per distinct n-gram of each order."""
        return sum(len(t[0]) for t in self.tables_.values())


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
             on_step: Callable[[int, float, float], None] | None = None) -> list[float]:
    """AdamW on next-character cross-entropy over random windows of ids until `seconds` pass or
    `max_steps` are taken (None: no such limit); returns every step's loss. on_step(steps, fraction
    of the budget done, loss) after each step."""
    if seconds is None and max_steps is None:
        raise ValueError("set a time budget or max_steps: training would never end")
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    model.train()
    start, losses = time.perf_counter(), []
    offsets = torch.arange(seq_len + 1, device=ids.device)
    while True:
        elapsed = time.perf_counter() - start
        done = max(elapsed / seconds if seconds is not None else 0.0,
                   len(losses) / max_steps if max_steps is not None else 0.0)
        if done >= 1.0:
            return losses
        starts = torch.randint(0, len(ids) - seq_len - 1, (batch_size, 1), generator=generator).to(ids.device)
        window = ids[starts + offsets]  # (B, T + 1)
        logits = model(window[:, :-1])  # (B, T, V)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), window[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
        if not math.isfinite(losses[-1]):
            raise Diverged(f"language model loss became {losses[-1]} at step {len(losses)}")
        if on_step:
            on_step(len(losses), done, losses[-1])


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
    batches of `batch_size` with AdamW at `lr`, for `budget_seconds` of wall-clock time or `max_steps`
    steps, whichever ends first (None: no such limit; one of them must be set)."""

    def __init__(self, backbone: str = "lstm", width: int = 128, layers: int = 2, embed_dim: int = 64,
                 seq_len: int = 64, lr: float = 3e-3, batch_size: int = 32, budget_seconds: float | None = 45.0,
                 max_steps: int | None = None, device: str = "cpu", random_state: int = 0, sample_length: int = 200,
                 temperature: float = 0.8):
        self.backbone = backbone
        self.width = width
        self.layers = layers
        self.embed_dim = embed_dim
        self.seq_len = seq_len
        self.lr = lr
        self.batch_size = batch_size
        self.budget_seconds = budget_seconds
        self.max_steps = max_steps
        self.device = device
        self.random_state = random_state
        self.sample_length = sample_length
        self.temperature = temperature

    def ids(self, text: str) -> torch.Tensor:  # (len(text),) int64 on the device; text already clean
        return torch.tensor([self.index_[c] for c in text], dtype=torch.long, device=self.device)

    def fit(self, X, y=None, on_epoch: Callable[..., None] | None = None) -> "NeuralCharLM":
        """on_epoch(percent of the budget done, 100, loss, "step N"), each time the percent moves."""
        ids = self.ids(self.learn_alphabet(X))
        if len(ids) < self.seq_len + 2:
            raise ValueError(f"{len(ids)} training characters; a window of seq_len={self.seq_len} needs "
                             f"{self.seq_len + 2}")
        torch.manual_seed(self.random_state)
        generator = torch.Generator().manual_seed(self.random_state)
        self.module_ = neural_lm(self.backbone, len(self.alphabet_), self.seq_len, self.embed_dim, self.width,
                                 self.layers).to(self.device)
        shown = [-1]

        def on_step(steps: int, done: float, loss: float) -> None:
            percent = min(100, int(100 * done))
            if on_epoch and percent > shown[0]:
                shown[0] = percent
                on_epoch(percent, 100, loss, f"step {steps}")

        self.losses_ = train_lm(self.module_, ids, self.budget_seconds, self.seq_len, self.batch_size, self.lr,
                                generator, self.max_steps, on_step)
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
        return sum(p.numel() for p in self.module_.parameters() if p.requires_grad)


def main(argv: list[str] | None = None) -> int:
    """`python -m harness.charlm [OVERRIDES]` is `bench run suite=charlm [OVERRIDES]`."""
    from harness.cli import main as bench

    return bench(["run", "suite=charlm", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
