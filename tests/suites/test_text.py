"""The text suite: loaders (fortunes, aclImdb folders, CSV, Hugging Face), the TF-IDF and deep text
classifiers on a real sliver of fortunes, and the suite's smoke run (character language models:
tests/suites/test_charlm.py).

Tests that read the fortunes corpus skip when it is not installed (`apt-get install -y fortunes
fortunes-min`); the loader tests build their own files.
"""
from __future__ import annotations

import numpy as np
import pytest

from harness.data import DatasetError
from harness.data import text as text_data
from harness.data.text import (find_fortune_dir, load_fortunes, load_hf_dataset, load_imdb_folder, load_text_csv,
                               read_fortune_file)

HAVE_FORTUNES = find_fortune_dir(None)[0] is not None
needs_fortunes = pytest.mark.skipif(not HAVE_FORTUNES, reason="apt-get install -y fortunes fortunes-min")


def write_fortunes(folder, name: str, entries: list[str]) -> None:
    (folder / name).write_text("".join(e + "\n%\n" for e in entries))


def test_fortune_file_is_split_on_percent_lines_and_overstriking_removed(tmp_path):
    (tmp_path / "work").write_bytes(b"First one.\n%\nSecond,\n\ttwo lines.\n\t\t-- Someone\n%\n\n%\n"
                                    b"_\x08b_\x08o_\x08l_\x08d and 100% sure\n%\n")
    assert read_fortune_file(tmp_path / "work") == ["First one.", "Second,\n\ttwo lines.\n\t\t-- Someone",
                                                    "bold and 100% sure"]


def test_fortunes_from_a_folder_drop_entries_under_two_labels(tmp_path):
    write_fortunes(tmp_path, "science", [f"science fact {i}" for i in range(8)] + ["shared", "science fact 0"])
    write_fortunes(tmp_path, "work", [f"work joke {i}" for i in range(8)] + ["shared"])
    task = load_fortunes(seed=1, categories=["science", "work"], data_dir=str(tmp_path), test_fraction=0.25)
    assert task.class_names == ["science", "work"] and task.input_kind == "text"
    texts = list(task.X_train) + list(task.X_test)
    assert len(texts) == 16 and "shared" not in texts  # repeats kept once, ambiguous entries dropped
    assert task.X_train.dtype == object and np.bincount(task.y_test).tolist() == [2, 2]
    again = load_fortunes(seed=1, categories=["science", "work"], data_dir=str(tmp_path), test_fraction=0.25)
    assert list(again.X_test) == list(task.X_test)  # the seed fixes the split


def test_missing_fortunes_say_where_they_looked_and_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(text_data, "FORTUNE_DIRS", ())
    with pytest.raises(DatasetError, match=r"(?s)Looked in:.*nothing_here.*apt-get install -y fortunes"):
        load_fortunes(data_dir=str(tmp_path / "nothing_here"))
    write_fortunes(tmp_path, "work", ["a", "b"])
    with pytest.raises(DatasetError, match="no file for category science"):
        load_fortunes(categories=["science", "work"], data_dir=str(tmp_path))


@needs_fortunes
def test_installed_fortunes_default_task():
    task = load_fortunes(seed=0)
    assert task.class_names == sorted(text_data.FORTUNE_CATEGORIES)
    assert task.n_train > 4000 and np.bincount(task.y_train).min() > 300
    assert all(isinstance(x, str) and x for x in task.X_test[:50])


def test_imdb_folder_layout_round_trip(tmp_path):
    for split in ("train", "test"):
        for label, words in (("pos", "great fun"), ("neg", "dull mess")):
            (tmp_path / "aclImdb" / split / label).mkdir(parents=True)
            for i in range(3):
                (tmp_path / "aclImdb" / split / label / f"{i}_7.txt").write_text(f"{words} {i}<br />end")
    task = load_imdb_folder(str(tmp_path))  # the folder above aclImdb works too
    assert task.class_names == ["neg", "pos"] and len(task.X_train) == len(task.X_test) == 6
    assert "great fun 0 end" in list(task.X_train) and task.y_train.tolist() == [0, 0, 0, 1, 1, 1]
    assert len(load_imdb_folder(str(tmp_path / "aclImdb"), max_per_class=2).X_test) == 4
    with pytest.raises(DatasetError, match=r"aclImdb layout"):
        load_imdb_folder(str(tmp_path / "elsewhere"))


def test_text_csv_round_trip_and_errors(tmp_path):
    rows = [("a, quoted \"text\"\nover two lines", "x")] + [(f"text {i}", "xy"[i % 2]) for i in range(11)]
    path = tmp_path / "t.csv"
    import csv

    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["body", "topic"])
        w.writerows(rows)
    task = load_text_csv(str(path), text_column="body", label_column="topic", test_fraction=0.5, seed=0)
    assert sorted(list(task.X_train) + list(task.X_test)) == sorted(r[0] for r in rows)
    assert task.class_names == ["x", "y"]
    both = load_text_csv(str(path), text_column="body", label_column="topic", test_path=str(path))
    assert len(both.X_test) == len(rows)
    with pytest.raises(DatasetError, match=r"no column 'text' \(its header has: body, topic\)"):
        load_text_csv(str(path))
    with pytest.raises(DatasetError, match="does not exist"):
        load_text_csv(str(tmp_path / "missing.csv"))


def test_hugging_face_loader_needs_datasets_or_a_saved_dataset(tmp_path):
    try:
        import datasets
    except ImportError:
        with pytest.raises(DatasetError, match="pip install datasets"):
            load_hf_dataset(str(tmp_path))
        return
    ds = datasets.DatasetDict({s: datasets.Dataset.from_dict({"text": ["good", "bad", "fine", "awful"],
                                                               "label": [1, 0, 1, 0]}) for s in ("train", "test")})
    ds.save_to_disk(str(tmp_path / "ds"))
    task = load_hf_dataset(str(tmp_path / "ds"))
    assert len(task.X_train) == 4 and task.class_names == ["0", "1"]


# --- models on a real sliver: two categories of different style, 240 train / 160 test texts -------

@pytest.fixture(scope="module")
def sliver():
    if not HAVE_FORTUNES:
        pytest.skip("apt-get install -y fortunes fortunes-min")
    task = load_fortunes(seed=0, categories=["definitions", "songs-poems"])
    return task.subsample_train(240, 0), task.X_test[:160], task.y_test[:160]


CLASSICAL = ["logistic_regression", "linear_svm", "naive_bayes"]
DEEP = {"FastText": {}, "TextCNN": {"filters": 16}, "RecurrentText": {"cell": "gru", "hidden": 32},
        "TransformerText": {"d_model": 32, "layers": 1}, "MambaText": {"d_model": 16, "layers": 1}}


@pytest.mark.parametrize("features", ["word", "char"])
@pytest.mark.parametrize("model", CLASSICAL)
def test_tfidf_models_beat_chance_on_real_text(sliver, model, features):
    import baselines.text as bt
    from harness.core.measure import count_parameters

    task, X_test, y_test = sliver
    est = getattr(bt, model)(features).fit(task.X_train, task.y_train)
    assert (est.predict(X_test) == y_test).mean() > 0.7
    assert count_parameters(est) > 0


@pytest.mark.parametrize("module", list(DEEP))
def test_deep_text_models_beat_chance_on_real_text(sliver, module):
    from sklearn.base import clone

    from harness.deep.text import TextClassifier

    task, X_test, y_test = sliver
    est = TextClassifier(f"harness.models.text.{module}", {"embed_dim": 32, **DEEP[module]}, max_len=32,
                         lr=0.005, batch_size=32, max_epochs=10, patience=0, val_fraction=0.0, min_steps_per_epoch=0)
    assert clone(est).get_params() == est.get_params()  # the parameters are the constructor's
    est.fit(task.X_train, task.y_train)
    assert est.seq_len_ == 32 and len(est.vocabulary_) + 2 == est.module_.embed.num_embeddings
    assert (est.predict(X_test) == y_test).mean() > 0.65
    assert est.predict_proba(X_test[:3]).sum(1) == pytest.approx(np.ones(3), abs=1e-5)


def test_text_classifier_ids_come_from_training_text_only():
    from harness.deep.text import UNK, TextClassifier, encode, tokenize

    est = TextClassifier(max_len=4, min_count=1, max_epochs=1, val_fraction=0.0)
    est.fit(np.array(["the cat sat", "the dog ran", "a cat", "a dog"], dtype=object), np.array([0, 1, 0, 1]))
    ids = encode([tokenize("The zebra sat on the mat, twice")], est.vocabulary_, est.seq_len_)[0]
    assert est.seq_len_ == 3 and ids.tolist() == [est.vocabulary_["the"], UNK, est.vocabulary_["sat"]]


@pytest.mark.parametrize("module", list(DEEP))
def test_deep_text_models_ignore_padding(module):
    """A text's logits do not depend on how much padding follows it (what a longer text in its batch,
    or a longer seq_len_, adds), nor does an empty text give NaN."""
    import torch

    import harness.models.text as text_models

    params = DEEP[module] | ({"layers": 2} if "layers" in DEEP[module] else {})  # the mask must reach every block
    torch.manual_seed(0)
    net = getattr(text_models, module)((24,), 3, vocab_size=40, embed_dim=16, **params).eval()
    ids = torch.tensor([[5, 9, 2, 7, 3, 11, 6, 8],   # no padding
                        [4, 4, 8, 0, 0, 0, 0, 0],    # three words
                        [1, 0, 0, 0, 0, 0, 0, 0],    # one unknown word
                        [0, 0, 0, 0, 0, 0, 0, 0]])   # empty
    with torch.no_grad():
        short = net(ids)
        padded = net(torch.nn.functional.pad(ids, (0, 16)))  # 24 ids each: 16 more padding
    assert torch.isfinite(short).all()
    torch.testing.assert_close(padded, short, atol=1e-5, rtol=1e-5)


# --- the suite ----------------------------------------------------------------------------------------

@needs_fortunes
def test_text_suite_smoke_run(tmp_path):
    from harness.cli import main

    assert main(["run", "suite=text", "profile=smoke", "hardware.threads=1", f"paths.results={tmp_path}"]) == 0
