"""Deep text classification behind the scikit-learn face: strings in, labels out.

`TextClassifier` is `TorchClassifier` with a tokeniser in front. `fit` builds the vocabulary from
the training texts only (ids 0 = padding, 1 = unknown; tokens seen fewer than `min_count` times are
unknown), encodes every text to `seq_len_` ids (the longest training text, at most `max_len`;
longer texts are cut at the end, shorter ones padded at the end), and trains the module through
the shared loop (harness/deep/training.py) with the same validation split, early stopping and optimisers as
every other deep model. The module is built as `Module(input_shape=(seq_len_,), n_classes,
vocab_size=..., **module_params)` (harness/models/text.py).

Tokens: `tokens="word"` splits lower-cased text into words and single punctuation marks;
`tokens="char"` reads characters.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Callable

import numpy as np
import torch
from torch import nn

from harness.deep.classifier import TorchClassifier
from harness.deep.estimator import keep_arguments, stratified_holdout
from harness.deep.training import seeded

WORD = re.compile(r"\w+|[^\w\s]")
TOKENS = ("word", "char")
PAD, UNK = 0, 1


def tokenize(text: str, tokens: str = "word", lowercase: bool = True) -> list[str]:
    text = text.lower() if lowercase else text
    if tokens == "word":
        return WORD.findall(text)
    if tokens == "char":
        return list(text)
    raise ValueError(f"unknown tokens {tokens!r}; choose one of {', '.join(TOKENS)}")


def build_vocabulary(docs: list[list[str]], min_count: int, max_size: int | None) -> dict[str, int]:
    """token -> id from 2 up, most frequent first (ties alphabetical, so the ids are deterministic)."""
    counts = Counter(t for doc in docs for t in doc)
    ranked = sorted((t for t, c in counts.items() if c >= min_count), key=lambda t: (-counts[t], t))
    return {t: i + 2 for i, t in enumerate(ranked[:max_size])}


def encode(docs: list[list[str]], vocab: dict[str, int], length: int) -> np.ndarray:  # -> (N, length) int64
    ids = np.full((len(docs), length), PAD, dtype=np.int64)
    for i, doc in enumerate(docs):
        row = [vocab.get(t, UNK) for t in doc[:length]]
        ids[i, :len(row)] = row
    return ids


class TextClassifier(TorchClassifier):
    """A text module of harness/models/text.py trained on token ids built in `fit` (see the module
    docstring). The TorchClassifier parameters mean the same here."""

    def __init__(self, module: str = "harness.models.text.FastText", module_params: dict | None = None,
                 tokens: str = "word", lowercase: bool = True, max_len: int = 128, min_count: int = 2,
                 max_vocab: int | None = 30_000,
                 optimizer: str = "adam", lr: float = 1e-3, weight_decay: float = 0.0, momentum: float = 0.9,
                 batch_size: int = 64, max_epochs: int = 30, patience: int = 5, val_fraction: float = 0.1,
                 lr_plateau_factor: float | None = None, augment_shift: float = 0.0, min_steps_per_epoch: int = 10,
                 precision: str = "32", device: str = "cpu", random_state: int = 0, time_limit: float | None = None):
        keep_arguments(self, locals())

    def _ids(self, X) -> torch.Tensor:  # texts -> (N, seq_len_) int64 on the device
        docs = [tokenize(str(x), self.tokens, self.lowercase) for x in np.asarray(X, dtype=object).ravel()]
        return torch.as_tensor(encode(docs, self.vocabulary_, self.seq_len_), device=self.device)

    def fit(self, X, y, on_epoch: Callable[[int, int, float], None] | None = None):
        texts = [str(x) for x in np.asarray(X, dtype=object).ravel()]
        if len(texts) != len(y):
            raise ValueError(f"{len(texts)} texts but {len(y)} labels")
        self.classes_, y_idx = np.unique(np.asarray(y), return_inverse=True)
        generator = seeded(self.random_state)
        tr, va = stratified_holdout(len(texts), self.val_fraction, self.random_state, y_idx)
        # The vocabulary and length come from the training part only: validation is unseen text too.
        docs = [tokenize(texts[i], self.tokens, self.lowercase) for i in tr]
        self.vocabulary_ = build_vocabulary(docs, self.min_count, self.max_vocab)
        self.seq_len_ = max(1, min(self.max_len, max(len(d) for d in docs)))
        self.module_ = self.build((self.seq_len_,), len(self.classes_), vocab_size=len(self.vocabulary_) + 2)
        self.criterion_ = getattr(self.module_class(), "criterion", None) or nn.functional.cross_entropy
        ids = torch.as_tensor(encode(docs, self.vocabulary_, self.seq_len_), device=self.device)
        self.fit_module(self.criterion_, ids, self.labels(y_idx[tr]),
                        None if va is None else self._ids([texts[i] for i in va]),
                        None if va is None else self.labels(y_idx[va]), generator, on_epoch)
        return self

    def decision_function(self, X) -> np.ndarray:
        return self.logits(self._ids(X), 1024).cpu().numpy()
