"""Deep text classification behind the scikit-learn face: strings in, labels out.

`TextClassifier` is `TorchClassifier` with a tokeniser in front. `fit` builds the vocabulary from
the training texts only (ids 0 = padding, 1 = unknown; tokens seen fewer than `min_count` times are
unknown), encodes every text to `seq_len_` ids (the longest training text, at most `max_len`;
longer texts are cut at the end, shorter ones padded at the end), and trains the module through
`harness.deep.training.train_module` with the same validation split, early stopping and optimisers as
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
from sklearn.model_selection import train_test_split
from torch import nn

from harness.deep.training import TorchClassifier, batched_logits, import_object, make_optimizer, train_module

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
                 device: str = "cpu", random_state: int = 0, time_limit: float | None = None):
        super().__init__(module, module_params, optimizer, lr, weight_decay, momentum, batch_size, max_epochs,
                         patience, val_fraction, lr_plateau_factor, augment_shift, min_steps_per_epoch, device,
                         random_state, time_limit)
        self.tokens = tokens
        self.lowercase = lowercase
        self.max_len = max_len
        self.min_count = min_count
        self.max_vocab = max_vocab

    def _ids(self, X) -> torch.Tensor:  # texts -> (N, seq_len_) int64 on the device
        docs = [tokenize(str(x), self.tokens, self.lowercase) for x in np.asarray(X, dtype=object).ravel()]
        return torch.as_tensor(encode(docs, self.vocabulary_, self.seq_len_), device=self.device)

    def fit(self, X, y, on_epoch: Callable[[int, int, float], None] | None = None):
        texts = [str(x) for x in np.asarray(X, dtype=object).ravel()]
        if len(texts) != len(y):
            raise ValueError(f"{len(texts)} texts but {len(y)} labels")
        self.classes_, y_idx = np.unique(np.asarray(y), return_inverse=True)
        torch.manual_seed(self.random_state)
        generator = torch.Generator().manual_seed(self.random_state)

        X_val, y_val = None, None
        n_val = int(round(self.val_fraction * len(texts)))
        idx = np.arange(len(texts))
        if n_val >= len(self.classes_) and len(texts) - n_val >= len(self.classes_):
            stratify = y_idx if np.bincount(y_idx).min() >= 2 else None
            idx, va = train_test_split(idx, test_size=n_val, stratify=stratify, random_state=self.random_state)
            X_val, y_val = [texts[i] for i in va], y_idx[va]
        # The vocabulary and length come from the training part only: validation is unseen text too.
        docs = [tokenize(texts[i], self.tokens, self.lowercase) for i in idx]
        self.vocabulary_ = build_vocabulary(docs, self.min_count, self.max_vocab)
        self.seq_len_ = max(1, min(self.max_len, max(len(d) for d in docs)))

        module_cls = import_object(self.module)
        self.module_ = module_cls((self.seq_len_,), len(self.classes_), vocab_size=len(self.vocabulary_) + 2,
                                  **(self.module_params or {})).to(self.device)
        self.criterion_ = getattr(module_cls, "criterion", None) or nn.functional.cross_entropy
        labels = lambda a: torch.as_tensor(a, dtype=torch.long, device=self.device)
        opt = make_optimizer(self.optimizer, self.module_.parameters(), self.lr, self.weight_decay, self.momentum)
        scheduler = (torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=self.lr_plateau_factor, patience=2)
                     if self.lr_plateau_factor else None)
        ids = torch.as_tensor(encode(docs, self.vocabulary_, self.seq_len_), device=self.device)
        self.history_ = train_module(
            self.module_, self.criterion_, ids, labels(y_idx[idx]),
            None if X_val is None else self._ids(X_val), None if y_val is None else labels(y_val),
            optimizer=opt, batch_size=self.batch_size, max_epochs=self.max_epochs, patience=self.patience,
            generator=generator, time_limit=self.time_limit, on_epoch=on_epoch, scheduler=scheduler,
            min_steps_per_epoch=self.min_steps_per_epoch)
        self.n_epochs_ = len(self.history_.train_loss)
        return self

    def decision_function(self, X) -> np.ndarray:
        return batched_logits(self.module_, self._ids(X), 1024).float().cpu().numpy()
