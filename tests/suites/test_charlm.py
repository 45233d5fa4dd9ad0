"""Character language models (harness/deep/charlm.py) and the charlm suite: bits per character from real
per-text predictions, Kneser-Ney a distribution, every text scored on its own, the suite run end to
end through the runner, and its samples shown escaped in the report."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

from baselines.charlm import KneserNey
from harness.deep.charlm import NeuralCharLM, neural_bits, neural_lm
from harness.tasks.language_model import START
from harness.data.text import SEPARATOR, UNKNOWN, char_split, find_fortune_dir, load_fortune_chars
from harness.tasks import scores
from harness.results.store import RunStore

HAVE_FORTUNES = find_fortune_dir(None)[0] is not None
needs_fortunes = pytest.mark.skipif(not HAVE_FORTUNES, reason="apt-get install -y fortunes fortunes-min")

ENTRIES = [f"the {w} sat on the mat number {i}." for i, w in enumerate(["cat", "dog", "bat", "rat"] * 30)]


def tiny(backbone: str, **kw) -> NeuralCharLM:
    return NeuralCharLM(backbone, **(dict(width=8, layers=1, embed_dim=8, seq_len=16, budget_seconds=None, max_steps=3,
                                          sample_length=20) | kw))


# --- the metric and the models ------------------------------------------------------------------------

def test_bpc_is_total_bits_over_characters_of_the_texts():
    assert scores("language_model", np.array(["ab", "cde"], dtype=object), np.array([2.0, 8.0])) == \
        {"bpc": 2.0, "n_test_chars": 5}
    with pytest.raises(ValueError):
        scores("language_model", np.array(["ab", "cde"], dtype=object), np.array([2.0]))


def test_a_uniform_model_scores_log2_of_its_alphabet():
    # Order 1 on a text where every character of the alphabet (UNKNOWN included) is equally common:
    # interpolated Kneser-Ney gives each the same probability, so bpc is log2 V whatever the test text.
    lm = KneserNey(order=1).fit(("ab" + UNKNOWN) * 50)
    assert len(lm.alphabet_) == 3
    test = np.array(["abba", "b" + UNKNOWN, "zzz"], dtype=object)  # z was never seen: UNKNOWN
    assert scores("language_model", test, lm.predict(test))["bpc"] == pytest.approx(math.log2(3), rel=1e-12)
    assert lm.diagnostics(test, test)["uniform_bpc"] == math.log2(3)


def test_kneser_ney_is_a_distribution_and_beats_uniform():
    train, test, alphabet = char_split(ENTRIES, seed=0, test_fraction=0.2, min_char_count=1)
    lm = KneserNey(5).fit(train)
    assert lm.alphabet_ == alphabet
    for context in ["", "t", "the c", "zzzz", "mat n", START + "th"]:
        assert lm.distribution(context).sum() == pytest.approx(1.0, abs=1e-9)
        assert (lm.distribution(context) > 0).all()
    assert scores("language_model", test, lm.predict(test))["bpc"] < 0.5 * math.log2(len(alphabet))


@pytest.mark.parametrize("model", [KneserNey(3, sample_length=20), tiny("lstm"), tiny("transformer"), tiny("mamba")],
                         ids=["kneser_ney", "lstm", "transformer", "mamba"])
def test_each_text_is_scored_on_its_own(model):
    """A text's bits do not depend on which other texts are predicted with it (the neural models
    batch windows of several texts together, padded: padding must never reach a scored character)."""
    train, test, _ = char_split(ENTRIES, seed=0, test_fraction=0.2, min_char_count=1)
    model.fit(train)
    texts = [test[0], "a much longer text than the window of sixteen characters, " * 3, test[1][:5]]
    together = model.predict(texts)
    alone = [model.predict([t])[0] for t in texts]
    np.testing.assert_allclose(together, alone, rtol=1e-5)
    assert (together > 0).all() and together[1] > together[0]


def test_neural_language_model_trains_its_steps_and_samples_reproducibly():
    train, test, alphabet = char_split(ENTRIES, seed=0, test_fraction=0.2, min_char_count=1)
    first, second = tiny("lstm", random_state=4).fit(train), clone(tiny("lstm", random_state=4)).fit(train)
    d = first.diagnostics(test, test)
    assert d["steps"] == 3 and len(first.losses_) == 3 and np.isfinite(d["final_train_loss"])
    assert len(d["sample"]) == 20 and set(d["sample"]) <= set(alphabet)
    assert d["sample"] == second.sample() and (first.predict(test) == second.predict(test)).all()
    assert first.n_parameters_ > 0
    with pytest.raises(ValueError, match="never end"):
        tiny("lstm", max_steps=None).fit(train)


def test_windowed_scoring_equals_one_pass_when_the_window_holds_the_text():
    torch.manual_seed(0)
    model = neural_lm("lstm", 30, 64, width=8, layers=1)
    ids = torch.randint(0, 30, (40,))
    with torch.inference_mode():
        one_pass = torch.nn.functional.cross_entropy(model(ids[None, :-1])[0], ids[1:], reduction="sum") / math.log(2)
    assert neural_bits(model, [ids], 64)[0] == pytest.approx(float(one_pass), rel=1e-5)


def test_short_windows_score_every_character_once():
    # A model that reads only the current character: context cannot change its numbers, so windows
    # of any length must add up to one pass over the characters after the first `context`.
    torch.manual_seed(0)
    model = torch.nn.Embedding(30, 30)  # (B, T) ids -> (B, T, V) logits
    ids = torch.randint(0, 30, (53,))
    with torch.inference_mode():
        per_char = torch.nn.functional.cross_entropy(model(ids[:-1]), ids[1:], reduction="none") / math.log(2)
    for seq_len in (4, 7, 16, 64):
        assert neural_bits(model, [ids], seq_len, context=3)[0] == pytest.approx(float(per_char[2:].sum()), rel=1e-5)


# --- the dataset ----------------------------------------------------------------------------------------

def write_fortunes(folder: Path, name: str, entries: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("\n%\n".join(entries) + "\n%\n")


def test_fortune_chars_hold_out_whole_entries_over_one_alphabet(tmp_path):
    write_fortunes(tmp_path, "computers", [f"byte {i} of {'ab' * i}" for i in range(20)] + ["a rare \u00e9"])
    write_fortunes(tmp_path, "work", [f"shift {i}" for i in range(19)])
    task = load_fortune_chars(seed=3, categories=["computers", "work"], data_dir=str(tmp_path))
    assert task.kind == "language_model" and task.X_train is task.y_train and task.X_test is task.y_test
    assert len(task.X_test) == 4 and len(task.X_train) == 36  # a tenth of 40 entries
    assert all(t.endswith(SEPARATOR) for t in [*task.X_train, *task.X_test])
    assert "\u00e9" not in task.class_names and UNKNOWN in task.class_names  # seen once, under min_char_count
    assert set("".join([*task.X_train, *task.X_test])) <= set(task.class_names)
    again = load_fortune_chars(seed=3, categories=["computers", "work"], data_dir=str(tmp_path))
    assert list(again.X_test) == list(task.X_test)
    small = task.subsample_train(10, seed=0)  # texts are not classes: a plain random subset
    assert len(small.X_train) == 10 and set(small.X_train) <= set(task.X_train)


# --- the suite ------------------------------------------------------------------------------------------

SMOKE = ["suite=charlm", "profile=smoke", "hardware.threads=1", "profile.max_train=150", "profile.max_test=20",
         *(f"suite.profiles.smoke.overrides.{m}.estimator.max_steps=4"
           for m in ("char_lstm", "char_transformer", "char_mamba"))]


@pytest.fixture(scope="module")
def smoke_run(bench, tmp_path_factory) -> Path:
    code, folder = bench(tmp_path_factory.mktemp("results"), *SMOKE)  # isolation as the suite's default: process
    assert code == 0
    return folder


@needs_fortunes
def test_charlm_suite_writes_rows_with_bits_per_character(smoke_run):
    df = pd.read_parquet(smoke_run / "results.parquet").set_index("model")
    assert sorted(df.index) == ["char_lstm", "char_mamba", "char_transformer", "kneser_ney"]
    assert (df["status"] == "ok").all() and np.isfinite(df["bpc"]).all() and (df["bpc"] > 0).all()
    assert df.loc["kneser_ney", "bpc"] < df.loc["kneser_ney", "uniform_bpc"]
    assert df["uniform_bpc"].nunique() == 1  # one alphabet for every model
    assert (df.loc[["char_lstm", "char_transformer", "char_mamba"], "steps"] == 4).all()
    assert (df["sample"].str.len() == 200).all() and (df["n_test"] == 20).all()
    report = (smoke_run / "report.md").read_text()
    assert "bpc" in report and "char_mamba (seed 0, temperature 0.8)" in report


@needs_fortunes
def test_report_shows_samples_escaped_and_sorted_by_bpc(smoke_run, tmp_path):
    from harness.report import write_report

    df = pd.read_parquet(smoke_run / "results.parquet")
    nasty = "<script>alert(1)</script> ```` fence\x1b[31m & more"
    df.loc[df["model"] == "kneser_ney", "sample"] = nasty
    store = RunStore(tmp_path / "run")
    for _, row in df.iterrows():
        store.write_row(row.to_dict())
    store.consolidate()
    md_path, html_path = write_report([store.folder], store.folder)
    md, page = md_path.read_text(), html_path.read_text()
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "\x1b" not in md + page and "\\x1b[31m" in md
    # the fence is longer than the sample's longest run of backticks, so the sample cannot close it
    assert "`````text\n<script>alert(1)</script> ```` fence" in md
    table = md[md.index("| model | family | bpc"):].split("\n\n")[0].splitlines()[2:]
    bpcs = [float(line.split("|")[3].split("±")[0]) for line in table]
    assert bpcs == sorted(bpcs) and table[0].startswith("| **★ ")
