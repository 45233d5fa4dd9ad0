"""Text classification datasets: Debian's fortune cookies by category, IMDB's aclImdb folders, a
CSV with a text and a label column, and a Hugging Face dataset saved with `save_to_disk`.

X is a 1-D numpy array of Python strings (dtype object), so that classical pipelines (which start
with a TfidfVectorizer) and deep models (which tokenise inside their estimator, from the training
split only) read the same task. y is int64 0..K-1 over the sorted label names, kept in
`class_names`.

Characters (`load_fortune_chars`, task kind `language_model`): the same entries, each ending in
its file's separator line `%`, a seeded `test_fraction` held out, for character language models
(harness/deep/charlm.py). X and y are both the texts: a language model's targets are the next
characters of its own input, and bits per character need the held-out texts' length.

Fortunes. `apt-get install -y fortunes fortunes-min` puts about 40 files of fortune-cookie text in
/usr/share/games/fortunes, one per category, entries separated by lines holding only `%`: quotations,
jokes, definitions, song lyrics and poems collected by BSD and Debian users since the 1980s. The
category is the label. The default eight categories (`FORTUNE_CATEGORIES`) are the topical files
with at least 580 entries: `cookie`, `miscellaneous` and `fortunes` are grab-bags of every topic (a
label a reader could not predict from the text), `zippy`, `knghtbrd` and `platitudes` hold one
source or one style rather than one topic, and the smaller files (linux, law, food, ...) have too
few entries to split 75/25 per class with a useful test set. Offensive files (`fortunes-off`, the
`off/` folder) are never read. There is no official split: it is stratified by the run's seed.
"""
from __future__ import annotations

import csv
import importlib.util
import random
import re
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from harness.data.task import DatasetError, Task, check_stratified_split

# Where fortune files live: Debian/Ubuntu, Fedora, Homebrew, FreeBSD ports.
FORTUNE_DIRS = (Path("/usr/share/games/fortunes"), Path("/usr/share/games/fortune"),
                Path("/opt/homebrew/share/games/fortunes"), Path("/usr/local/share/games/fortunes"))
FORTUNE_CATEGORIES = ("computers", "definitions", "men-women", "people", "politics", "science",
                      "songs-poems", "work")
HOW_TO_GET_FORTUNES = ("Install it with `apt-get install -y fortunes fortunes-min` (Debian/Ubuntu), or pass "
                       "`dataset.load.data_dir=/folder/with/fortune/files`.")
OVERSTRIKE = re.compile(r".\x08")  # "_\bA" (underline) or "A\bA" (bold) in old terminal text
UNKNOWN = "\ufffd"   # what a character outside a language model's alphabet becomes
SEPARATOR = "\n%\n"  # what ends each entry, as in the fortune files


def read_fortune_file(path: Path) -> list[str]:
    """The entries of one fortune file: text between lines holding only `%`, stripped, empty ones
    dropped, terminal overstriking (char, backspace) removed."""
    try:
        raw = path.read_bytes().decode("utf-8", errors="replace")
    except OSError as e:
        raise DatasetError(f"cannot read fortune file {path}: {e}") from e
    raw = OVERSTRIKE.sub("", raw.replace("\r\n", "\n"))
    entries = re.split(r"^%\s*$", raw, flags=re.MULTILINE)
    return [e.strip("\n").rstrip() for e in entries if e.strip()]


def find_fortune_dir(data_dir: str | None) -> tuple[Path | None, list[Path]]:
    """The first folder holding fortune files, and every folder looked in."""
    folders = []
    if data_dir:
        root = Path(data_dir).expanduser()
        folders += [root, root / "fortunes"]
    folders += FORTUNE_DIRS
    for folder in folders:
        if folder.is_dir() and any((folder / c).is_file() for c in FORTUNE_CATEGORIES + ("fortunes", "cookie")):
            return folder, folders
    return None, folders


def fortune_entries(categories: list[str] | tuple[str, ...] | None = None, data_dir: str | None = None
                    ) -> tuple[dict[str, list[str]], Path]:
    """{category: entries} for the chosen categories (all non-offensive files when None), with an
    entry that appears under two categories dropped from both (its label is ambiguous) and repeats
    inside one category kept once."""
    folder, looked = find_fortune_dir(data_dir)
    if folder is None:
        where = "\n  ".join(str(f) for f in looked)
        raise DatasetError(f"fortunes: no fortune files found. Looked in:\n  {where}\n{HOW_TO_GET_FORTUNES}")
    if categories is None:
        categories = sorted(p.name for p in folder.iterdir()
                            if p.is_file() and not p.suffix and not p.is_symlink() and p.name != "off")
    missing = [c for c in categories if not (folder / c).is_file()]
    if missing:
        raise DatasetError(f"fortunes: {folder} has no file for categor{'y' if len(missing) == 1 else 'ies'} "
                           f"{', '.join(missing)} (it has: {', '.join(sorted(p.name for p in folder.iterdir() if not p.suffix))})")
    by_cat = {c: list(dict.fromkeys(read_fortune_file(folder / c))) for c in categories}
    seen: dict[str, int] = {}
    for entries in by_cat.values():
        for e in entries:
            seen[e] = seen.get(e, 0) + 1
    return {c: [e for e in entries if seen[e] == 1] for c, entries in by_cat.items()}, folder


def split_texts(name: str, texts: list[str], labels: list[str], test_fraction: float, seed: int,
                source: str) -> Task:
    """Labels as written -> 0..K-1 over their sorted names; stratified split by the seed."""
    classes = sorted(set(labels))
    check_stratified_split(name, labels, test_fraction, source, "entries")
    y = np.array([classes.index(label) for label in labels], dtype=np.int64)
    X = np.array(texts, dtype=object)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_fraction, stratify=y, random_state=seed)
    return Task(name, "classification", X_tr, y_tr, X_te, y_te, "text", classes, source)


def load_fortunes(seed: int = 0, categories: list[str] | None = FORTUNE_CATEGORIES, min_entries: int = 0,
                  test_fraction: float = 0.25, data_dir: str | None = None, name: str = "fortunes") -> Task:
    """Fortune cookies labelled by category (see the module docstring for the default eight).
    `categories: null` takes every file with at least `min_entries` entries."""
    by_cat, folder = fortune_entries(list(categories) if categories else None, data_dir)
    by_cat = {c: e for c, e in by_cat.items() if len(e) >= max(min_entries, 2)}
    if len(by_cat) < 2:
        raise DatasetError(f"{name}: fewer than two categories of {folder} have {min_entries} entries or more")
    texts = [e for entries in by_cat.values() for e in entries]
    labels = [c for c, entries in by_cat.items() for _ in entries]
    return split_texts(name, texts, labels, test_fraction, seed, str(folder))


def char_split(entries: list[str], seed: int, test_fraction: float, min_char_count: int
               ) -> tuple[list[str], list[str], list[str]]:
    """(train texts, held-out texts, alphabet) for character language models. Entries are shuffled by
    the seed, the first `test_fraction` of them held out, each followed by SEPARATOR (a model must
    predict where an entry ends). The alphabet is every character seen at least `min_char_count`
    times in the training texts, plus UNKNOWN; any other character of either split becomes UNKNOWN,
    so that every model predicts over the same alphabet and their bits per character compare."""
    entries = list(entries)
    random.Random(seed).shuffle(entries)
    n_test = min(max(1, int(round(test_fraction * len(entries)))), len(entries) - 1)
    texts = [e + SEPARATOR for e in entries]
    counts = Counter(c for t in texts[n_test:] for c in t)
    alphabet = sorted({c for c, n in counts.items() if n >= min_char_count} | {UNKNOWN})
    keep = set(alphabet)
    clean = lambda t: "".join(c if c in keep else UNKNOWN for c in t)  # noqa: E731
    return [clean(t) for t in texts[n_test:]], [clean(t) for t in texts[:n_test]], alphabet


def load_fortune_chars(seed: int = 0, categories: list[str] | None = FORTUNE_CATEGORIES, test_fraction: float = 0.1,
                       min_char_count: int = 5, data_dir: str | None = None, name: str = "fortunes_chars") -> Task:
    """Fortune entries as a language-modelling task (`char_split`); the alphabet is `class_names`.
    `categories: null` reads every file of the folder."""
    by_cat, folder = fortune_entries(list(categories) if categories else None, data_dir)
    entries = [e for cat in by_cat.values() for e in cat]
    if len(entries) < 2:
        raise DatasetError(f"{name}: {folder} holds {len(entries)} usable entries; a train and a test split need 2")
    train, test, alphabet = char_split(entries, seed, test_fraction, min_char_count)
    X_train, X_test = np.array(train, dtype=object), np.array(test, dtype=object)
    return Task(name, "language_model", X_train, X_train, X_test, X_test, "text", alphabet,
                f"{folder} ({', '.join(by_cat)})")


def encode_split(name: str, train: tuple[list[str], list[str]], test: tuple[list[str], list[str]],
                 source: str) -> Task:
    """A task from an official train/test split of (texts, labels as written)."""
    classes = sorted(set(train[1]))
    unseen = sorted(set(test[1]) - set(classes))
    if unseen:
        raise DatasetError(f"{name}: test labels {unseen[:5]} never occur in train ({source})")
    to_y = lambda labels: np.array([classes.index(label) for label in labels], dtype=np.int64)
    return Task(name, "classification", np.array(train[0], dtype=object), to_y(train[1]),
                np.array(test[0], dtype=object), to_y(test[1]), "text", classes, source)


def load_imdb_folder(path: str, name: str = "imdb", seed: int = 0, max_per_class: int | None = None) -> Task:
    """Movie reviews in the aclImdb layout (Maas et al., 2011): `path/{train,test}/{pos,neg}/*.txt`,
    official split kept; `unsup/` and the `.feat` files are ignored. `max_per_class` takes the first
    reviews of each class and split in file-name order (a sliver for quick runs)."""
    root = Path(path).expanduser()
    if (root / "aclImdb").is_dir():
        root = root / "aclImdb"
    splits = {}
    for split in ("train", "test"):
        texts, labels = [], []
        for label in ("neg", "pos"):
            folder = root / split / label
            if not folder.is_dir():
                raise DatasetError(f"{name}: {folder} does not exist; expected the aclImdb layout "
                                   f"{root}/{{train,test}}/{{pos,neg}}/*.txt (get it from "
                                   "https://ai.stanford.edu/~amaas/data/sentiment/ and unpack it)")
            files = sorted(folder.glob("*.txt"))[:max_per_class]
            if not files:
                raise DatasetError(f"{name}: no .txt reviews in {folder}")
            for f in files:
                # The reviews keep the site's line breaks as "<br />".
                texts.append(f.read_text(encoding="utf-8", errors="replace").replace("<br />", " "))
                labels.append(label)
        splits[split] = (texts, labels)
    return encode_split(name, splits["train"], splits["test"], str(root))


def read_text_csv(path: Path, text_column: str, label_column: str, sep: str) -> tuple[list[str], list[str]]:
    if not path.is_file():
        raise DatasetError(f"text CSV {path} does not exist")
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        reader = csv.DictReader(f, delimiter=sep)
        fields = reader.fieldnames or []
        for col in (text_column, label_column):
            if col not in fields:
                raise DatasetError(f"{path}: no column {col!r} (its header has: {', '.join(fields) or 'nothing'}); "
                                   "set dataset.load.text_column / label_column")
        texts, labels = [], []
        for i, row in enumerate(reader):
            if row[text_column] is None or row[label_column] in (None, ""):
                raise DatasetError(f"{path}: row {i + 2} has no {text_column!r} or {label_column!r} value")
            texts.append(row[text_column])
            labels.append(row[label_column])
    if not texts:
        raise DatasetError(f"{path} holds a header but no rows")
    return texts, labels


def load_text_csv(path: str, text_column: str = "text", label_column: str = "label", test_path: str | None = None,
                  test_fraction: float = 0.25, sep: str = ",", name: str = "text_csv", seed: int = 0) -> Task:
    """Texts and labels from named columns of a CSV file; a second file as the test split, or a
    stratified split by the seed."""
    train = read_text_csv(Path(path).expanduser(), text_column, label_column, sep)
    if test_path:
        return encode_split(name, train, read_text_csv(Path(test_path).expanduser(), text_column, label_column, sep),
                            str(path))
    return split_texts(name, *train, test_fraction, seed, str(path))


def load_hf_dataset(path: str, text_column: str = "text", label_column: str = "label", train_split: str = "train",
                    test_split: str = "test", test_fraction: float = 0.25, name: str = "hf_text",
                    seed: int = 0) -> Task:
    """A Hugging Face dataset saved with `save_to_disk` (Arrow files, no download): its train and
    test splits, or one split divided by the seed. ClassLabel ids are mapped to their names."""
    if importlib.util.find_spec("datasets") is None:
        raise DatasetError(f"{name}: reading {path} needs the `datasets` package (pip install datasets)")
    import datasets

    root = Path(path).expanduser()
    if not root.exists():
        raise DatasetError(f"{name}: {root} does not exist (save a dataset there with `ds.save_to_disk`)")
    try:
        ds = datasets.load_from_disk(str(root))
    except (FileNotFoundError, ValueError) as e:
        raise DatasetError(f"{name}: {root} is not a dataset saved with save_to_disk: {e}") from e

    def columns(split) -> tuple[list[str], list[str]]:
        for col in (text_column, label_column):
            if col not in split.column_names:
                raise DatasetError(f"{name}: {root} has no column {col!r} (it has {', '.join(split.column_names)})")
        feature = split.features[label_column]
        labels = split[label_column]
        labels = [feature.int2str(v) if hasattr(feature, "int2str") else str(v) for v in labels]
        return list(split[text_column]), labels

    if isinstance(ds, datasets.DatasetDict):
        if train_split not in ds:
            raise DatasetError(f"{name}: {root} has no split {train_split!r} (it has {', '.join(ds)})")
        if test_split in ds:
            return encode_split(name, columns(ds[train_split]), columns(ds[test_split]), str(root))
        ds = ds[train_split]
    return split_texts(name, *columns(ds), test_fraction, seed, str(root))
