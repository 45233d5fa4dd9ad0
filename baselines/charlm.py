"""The classical character language model: interpolated Kneser-Ney smoothing of order N (Kneser &
Ney, 1995; in the form of Chen & Goodman, 1999, section 3: one absolute discount per order,
D = n1 / (n1 + 2 n2)), the highest order on counts, lower orders on continuation counts (how many
distinct characters precede an n-gram), the unigram level interpolated with the uniform
distribution over the alphabet, so that every character has a probability and the distribution
sums to 1. Its face is the language-model contract of harness/tasks/language_model.py.
"""
from __future__ import annotations

import math
from collections import Counter

import numpy as np

from harness.tasks.language_model import START, CharLanguageModel


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
            # Continuation counts of the order below: the distinct characters seen before each (n-1)-gram,
            # over every n-gram of the text (Chen & Goodman's N1+(. w)). Taken from this order's table
            # instead, an n-gram met only at the start of the stream would lose its left neighbour.
            seen = {text[i:i + n] for i in range(len(text) - n + 1)} if n < self.order else counts
            counts = Counter(gram[1:] for gram in seen)
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
