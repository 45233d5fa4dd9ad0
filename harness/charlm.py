"""Character-level language models on real text: a smoothed n-gram model against LSTM, causal
transformer and Mamba language models, in bits per character (bpc) on held-out text, with samples.

Corpus. The fortune cookies of harness/data/text.py (the classification suite's eight categories by
default), each entry followed by its file's separator line `%`, entries shuffled by the seed and
`test_fraction` of them held out. The alphabet is every character seen at least `min_char_count`
times in the training text; any other character (in train or held-out text) becomes `UNKNOWN`, so
every model predicts over the same alphabet and their bpc compare.

- `KneserNey`: interpolated Kneser-Ney smoothing of order N (Kneser & Ney, 1995; in the form of
  Chen & Goodman, 1999, section 3: one absolute discount per order, D = n1 / (n1 + 2 n2)), the
  highest order on counts, lower orders on continuation counts (how many distinct characters
  precede an n-gram), the unigram level interpolated with the uniform distribution over the
  alphabet, so that every character has a probability and the distribution sums to 1.
- Neural models: `SequenceTagger` of harness/models/sequence.py on character embeddings with a causal
  backbone (LSTM, pre-norm transformer with causal attention, Mamba), trained on next-character
  cross-entropy over random windows of the training text for a fixed wall-clock budget each: on a
  CPU the question is what each family reaches in the same minutes, not at convergence.

bpc = mean over held-out characters (the first `max_test_chars` of the held-out text, 30,000 by
default: a neural model's evaluation on all of it would cost more than its training budget) of -log2 p(char | preceding text). The n-gram model reads its
N - 1 preceding characters; a neural model reads up to `seq_len` of them: held-out text is cut into
windows of `seq_len` with a stride of half that, and only each window's second half is scored
(the first window is scored whole), so every scored character but the first few has at least
seq_len / 2 characters of context.

`compare(...)` returns one dict per model (model, family, bpc, train_seconds, n_parameters, sample,
...), the rows a runner task kind would write; `python -m harness.charlm` prints them.
"""
from __future__ import annotations

import argparse
import math
import random
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from harness.data.text import FORTUNE_CATEGORIES, fortune_entries
from harness.models.mamba import MambaBackbone, MambaConfig
from harness.models.recurrent import RecurrentBackbone
from harness.models.sequence import SequenceTagger
from harness.models.transformer import TransformerBackbone, TransformerConfig

UNKNOWN = "\ufffd"
SEPARATOR = "\n%\n"  # what ends each entry, as in the fortune files
NEURAL = ("lstm", "transformer", "mamba")
MODELS = ("kneser_ney",) + NEURAL
# Widths for the default CPU budget: Mamba's scan in plain torch costs about ten times an LSTM step
# of the same width on a CPU (width 128: 3 s a step of 32 x 128 characters, 3 steps in 8 s), so it
# gets half the width to take a comparable number of steps in the same seconds.
WIDTHS = {"lstm": 128, "transformer": 128, "mamba": 64}


@dataclass
class CharCorpus:
    train: str
    test: str
    alphabet: list[str]  # sorted; includes UNKNOWN
    source: str = ""

    @property
    def index(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.alphabet)}

    def ids(self, text: str) -> torch.Tensor:  # (len(text),) int64
        index = self.index
        return torch.tensor([index[c] for c in text], dtype=torch.long)


def make_corpus(entries: list[str], seed: int = 0, test_fraction: float = 0.1, min_char_count: int = 5,
                source: str = "") -> CharCorpus:
    """Entries shuffled by the seed, `test_fraction` held out, rare characters mapped to UNKNOWN."""
    entries = list(entries)
    random.Random(seed).shuffle(entries)
    n_test = max(1, int(round(test_fraction * len(entries))))
    train = "".join(e + SEPARATOR for e in entries[n_test:])
    test = "".join(e + SEPARATOR for e in entries[:n_test])
    counts = Counter(train)
    alphabet = sorted({c for c, n in counts.items() if n >= min_char_count} | {UNKNOWN})
    keep = set(alphabet)
    clean = lambda s: "".join(c if c in keep else UNKNOWN for c in s)
    return CharCorpus(clean(train), clean(test), alphabet, source)


def fortune_corpus(seed: int = 0, categories=FORTUNE_CATEGORIES, test_fraction: float = 0.1,
                   data_dir: str | None = None) -> CharCorpus:
    by_cat, folder = fortune_entries(list(categories) if categories else None, data_dir)
    return make_corpus([e for entries in by_cat.values() for e in entries], seed, test_fraction,
                       source=f"{folder} ({', '.join(by_cat)})")


class KneserNey:
    """Interpolated Kneser-Ney character model of order N over a fixed alphabet (module docstring).

    tables[n] for n = 1..N: (counts of n-grams, total count per context of n - 1 chars, distinct
    next chars per context, discount). Counts are raw at order N and continuation counts below."""

    def __init__(self, order: int = 5, alphabet: list[str] | None = None):
        self.order = order
        self.alphabet = alphabet

    def fit(self, text: str) -> "KneserNey":
        if self.order < 1:
            raise ValueError(f"order must be at least 1, got {self.order}")
        self.alphabet_ = list(self.alphabet or sorted(set(text)))
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

    def bits(self, text: str) -> float:
        """Total -log2 p of text, each character given the characters before it in text."""
        k = self.order - 1
        return -sum(math.log2(self.prob(text[max(0, i - k):i], text[i])) for i in range(len(text)))

    def sample(self, prompt: str, length: int, temperature: float, rng: np.random.Generator) -> str:
        out = prompt
        for _ in range(length):
            p = self.distribution(out[-(self.order - 1):] if self.order > 1 else "") ** (1.0 / temperature)
            out += self.alphabet_[rng.choice(len(p), p=p / p.sum())]
        return out[len(prompt):]

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
        raise ValueError(f"unknown language model {kind!r}; choose one of {', '.join(NEURAL)}")
    model = SequenceTagger(backbone, vocab_size, vocab_size=vocab_size)
    assert model.causal, f"{kind} backbone is not causal: it would see the character it predicts"
    return model


def train_lm(model: nn.Module, ids: torch.Tensor, seconds: float, seq_len: int, batch_size: int, lr: float,
             generator: torch.Generator, max_steps: int | None = None) -> int:
    """AdamW on next-character cross-entropy over random windows until `seconds` pass; returns the steps."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    model.train()
    start, steps = time.perf_counter(), 0
    offsets = torch.arange(seq_len + 1)
    while time.perf_counter() - start < seconds and (max_steps is None or steps < max_steps):
        starts = torch.randint(0, len(ids) - seq_len - 1, (batch_size, 1), generator=generator)
        window = ids[starts + offsets]  # (B, T + 1)
        logits = model(window[:, :-1])  # (B, T, V)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), window[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        steps += 1
        if not math.isfinite(loss.item()):
            raise RuntimeError(f"language model loss became {loss.item()} at step {steps}")
    return steps


def neural_bits(model: nn.Module, ids: torch.Tensor, seq_len: int, batch_size: int = 64) -> float:
    """Total -log2 p of ids[1:] (the first character has no context and is left out, as in
    `evaluate`), in windows of seq_len at a stride of seq_len / 2, the last one aligned to the end;
    each window scores only the characters no earlier window scored (module docstring)."""
    t = min(seq_len, len(ids) - 1)
    last = len(ids) - 1 - t
    starts = sorted(set(range(0, last + 1, max(1, seq_len // 2))) | {last})
    model.eval()
    total, done = 0.0, 0  # every target position up to `done` is scored
    with torch.inference_mode():
        for b in range(0, len(starts), batch_size):
            chunk = starts[b:b + batch_size]
            x = torch.stack([ids[s:s + t + 1] for s in chunk])  # (B, t + 1)
            nll = nn.functional.cross_entropy(model(x[:, :-1]).transpose(1, 2), x[:, 1:], reduction="none")  # (B, t)
            for s, row in zip(chunk, nll):
                total += float(row[max(0, done - s):].sum())  # row[j] predicts position s + 1 + j
                done = s + t
    return total / math.log(2)


def neural_sample(model: nn.Module, corpus: CharCorpus, prompt: str, length: int, temperature: float,
                  seq_len: int, generator: torch.Generator) -> str:
    ids = corpus.ids(prompt).tolist()
    model.eval()
    with torch.inference_mode():
        for _ in range(length):
            logits = model(torch.tensor([ids[-seq_len:]]))[0, -1] / temperature  # (V,)
            ids.append(int(torch.multinomial(torch.softmax(logits, -1), 1, generator=generator)))
    return "".join(corpus.alphabet[i] for i in ids[len(prompt):])


def evaluate(corpus: CharCorpus, models=MODELS, order: int = 5, seconds: float = 50.0, seq_len: int = 64,
             batch_size: int = 32, widths: dict | None = None, layers: int = 2, lr: float = 3e-3, seed: int = 0,
             max_test_chars: int | None = 30_000, sample_length: int = 200, temperature: float = 0.8,
             prompt: str = SEPARATOR, max_steps: int | None = None) -> list[dict]:
    """One row per model: bpc on the first `max_test_chars` characters of corpus.test (the same for
    every model; the first one excluded, having no context), train_seconds, n_parameters, steps
    (neural), and a sample of `sample_length` characters after `prompt` at `temperature`.
    `widths` maps a neural model to its hidden width (default `WIDTHS`)."""
    widths = {**WIDTHS, **(widths or {})}
    test = corpus.test[:max_test_chars] if max_test_chars else corpus.test
    unknown = sorted(set(models) - set(MODELS))
    if unknown:
        raise ValueError(f"unknown models {unknown}; choose from {', '.join(MODELS)}")
    common = dict(alphabet_size=len(corpus.alphabet), uniform_bpc=math.log2(len(corpus.alphabet)),
                  n_train_chars=len(corpus.train), n_test_chars=len(test), seed=seed)
    n_scored = len(test) - 1
    rows = []
    for name in models:
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        t0 = time.perf_counter()
        if name == "kneser_ney":
            lm = KneserNey(order, corpus.alphabet).fit(corpus.train)
            train_seconds = time.perf_counter() - t0
            bits = lm.bits(test) + math.log2(lm.prob("", test[0]))  # drop the first char
            sample = lm.sample(prompt, sample_length, temperature, np.random.default_rng(seed))
            rows.append(dict(model=f"kneser_ney_{order}", family="classical", bpc=bits / n_scored,
                             train_seconds=train_seconds, n_parameters=lm.n_parameters_, steps=None,
                             sample=sample, **common))
            continue
        model = neural_lm(name, len(corpus.alphabet), seq_len, width=widths[name], layers=layers)
        steps = train_lm(model, corpus.ids(corpus.train), seconds, seq_len, batch_size, lr, generator, max_steps)
        train_seconds = time.perf_counter() - t0
        bits = neural_bits(model, corpus.ids(test), seq_len)
        sample = neural_sample(model, corpus, prompt, sample_length, temperature, seq_len, generator)
        rows.append(dict(model=name, family="deep", bpc=bits / n_scored, train_seconds=train_seconds,
                         n_parameters=sum(p.numel() for p in model.parameters()), steps=steps, sample=sample,
                         **common))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.charlm", description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma-separated, from {', '.join(MODELS)}")
    parser.add_argument("--seconds", type=float, default=50.0, help="training budget of each neural model")
    parser.add_argument("--order", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data-dir", default=None, help="a folder of fortune files")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    corpus = fortune_corpus(args.seed, data_dir=args.data_dir)
    print(f"corpus: {corpus.source}\n  {len(corpus.train):,} training and {len(corpus.test):,} held-out characters, "
          f"alphabet of {len(corpus.alphabet)} (uniform: {math.log2(len(corpus.alphabet)):.2f} bpc)")
    rows = evaluate(corpus, args.models.split(","), order=args.order, seconds=args.seconds, seed=args.seed)
    print(f"\n{'model':<14}{'bpc':>7}{'train s':>9}{'params':>10}{'steps':>7}")
    for r in rows:
        print(f"{r['model']:<14}{r['bpc']:>7.3f}{r['train_seconds']:>9.1f}{r['n_parameters']:>10,}"
              f"{r['steps'] if r['steps'] is not None else '':>7}")
    for r in rows:
        print(f"\n--- {r['model']} (temperature 0.8) ---\n{r['sample']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
