"""Task kind `language_model`: texts whose model is scored in bits per character on held-out
texts, and the contract character models keep (`CharLanguageModel`): the n-gram baseline
(baselines/charlm.py) and the neural models (harness/deep/charlm.py).

`fit(texts)` learns from the texts concatenated into one stream; `predict(texts)` returns, per text,
its total -log2 p in bits, each text read after START (the end of an entry, as every entry of the
training stream is) and independently of the other texts, so a subset or another order of the test
split changes no text's number. The kind's scores divide the total by the characters: bpc.
Characters outside the training texts' alphabet count as UNKNOWN.
"""
from __future__ import annotations

import math

import numpy as np
from sklearn.base import BaseEstimator

from harness.data.text import SEPARATOR, UNKNOWN
from harness.core.measure import language_model_scores


START = SEPARATOR  # what every text is read after, and every sample starts from: the end of an entry



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
