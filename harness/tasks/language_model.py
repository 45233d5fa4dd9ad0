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
import pandas as pd
from rich.console import Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from sklearn.base import BaseEstimator

from harness.core.display import FAMILY_COLOURS, fmt_count, fmt_seconds, visible
from harness.data.text import SEPARATOR, UNKNOWN
from harness.tasks.base import TaskKind, scores_instead_of_accuracy


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


def language_model_scores(y_true, y_pred: np.ndarray) -> dict[str, float]:
    """Bits per character: the model's total -log2 p of the held-out texts (y_pred: one total per
    text, in bits) over their number of characters (y_true: the texts, which are their own targets)."""
    chars = sum(len(t) for t in y_true)
    bits = np.asarray(y_pred, dtype=float)
    if bits.shape != (len(y_true),):
        raise ValueError(f"a language model predicts one total per text: {len(y_true)} texts, predictions {bits.shape}")
    return {"bpc": float(bits.sum() / chars) if chars else float("nan"), "n_test_chars": chars}


def language_model_table(dataset: str, d: pd.DataFrame) -> list:
    """Bits per character (lower is better) with the uniform baseline, then one sample per model."""
    ok = d[d["status"] == "ok"]
    agg = ok.groupby(["family", "label"], sort=False).agg(
        bpc=("bpc", "mean"), uniform=("uniform_bpc", "mean"), train=("train_seconds", "mean"),
        params=("n_parameters", "mean"), steps=("steps", "mean"), seeds=("seed", "nunique")).reset_index()
    agg = agg.sort_values("bpc").reset_index(drop=True)
    best = {fam: g["bpc"].idxmin() for fam, g in agg.groupby("family") if g["bpc"].notna().any()}
    t = Table(title=f"{escape(dataset)}  (n_train={int(d['n_train'].max())}, test={int(d['n_test'].max())} texts; "
                    "bits per character, lower is better)", title_justify="left")
    for col in ("model", "family", "bpc", "uniform bpc", "train", "params", "steps", "seeds"):
        t.add_column(col, justify="left" if col in ("model", "family") else "right", no_wrap=True)
    for i, r in agg.iterrows():
        mark = "★ " if best.get(r["family"]) == i else "  "
        t.add_row(escape(mark + r["label"]), f"[{FAMILY_COLOURS.get(r['family'], 'white')}]{escape(r['family'])}[/]",
                  f"{r['bpc']:.3f}", f"{r['uniform']:.3f}", fmt_seconds(r["train"]), fmt_count(r["params"]),
                  fmt_count(r["steps"]), str(r["seeds"]), style="bold" if mark.strip() else None)
    for _, r in d[d["status"] != "ok"].drop_duplicates("label").iterrows():
        t.add_row(escape(f"  {r['label']}"), "", f"[red]{r['status']}[/]", "", "", "", "", "")
    first_seed = ok.sort_values("seed").drop_duplicates("label").set_index("label")
    samples = [Panel(Text(visible(str(first_seed.loc[label, "sample"]))), title=escape(f"{label} (seed "
                     f"{first_seed.loc[label, 'seed']})"), title_align="left", expand=False)
               for label in agg["label"] if "sample" in first_seed and pd.notna(first_seed.loc[label, "sample"])]
    return [t, Group(*samples)] if samples else [t]


class LanguageModel(TaskKind):
    name = "language_model"
    score, higher_is_better, compare_floor = "bpc", False, "bpc_rise"
    report_section = "language_model"

    def n_classes(self, task) -> int:
        """What is predicted is one of the alphabet's characters (y holds texts)."""
        return len(task.class_names)

    def scores(self, y_true, y_pred) -> dict[str, float]:
        return language_model_scores(y_true, y_pred)

    def owns(self, rows: pd.DataFrame) -> bool:
        return scores_instead_of_accuracy(rows, "bpc")

    def tables(self, dataset: str, rows: pd.DataFrame) -> list:
        return language_model_table(dataset, rows)


KIND = LanguageModel()
