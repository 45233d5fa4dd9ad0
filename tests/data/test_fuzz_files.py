"""Fuzz: user data files a loader reads from a path the user gives, hostile or malformed.

Each case writes one bad file (or folder) and calls the loader the dataset config names, as a run
would. It must either refuse it with a DatasetError (which a run turns into one error row per model,
`dataset: <message>`) whose one line names the file, or load it into a usable Task: never another
exception, which would be a traceback. Ids start with the kind (`data:`), counted by
tests/count_bad_inputs.py.
"""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from harness.data import DatasetError, Task
from harness.data.tabular import load_table_file
from harness.data.text import (
    load_fortune_chars,
    load_fortunes,
    load_imdb_folder,
    load_text_csv,
)
from harness.data.timeseries import load_timeseries_csv, load_ts_file
from harness.data.vision import load_idx, load_image_folder

NON_UTF8 = "café naïve".encode("latin-1") + b"\xff\xfe\x80"
MARKUP = '<script>alert("x")</script>'


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def rows(n: int, classes: int = 2, target=None) -> str:
    """A CSV of n rows: two numeric inputs and a target (class k % classes, or the given values)."""
    values = target if target is not None else [str(i % classes) for i in range(n)]
    return "a,b,target\n" + "".join(f"{i},{i * 2 % 7},{v}\n" for i, v in zip(range(n), values))


# ---- tables (dataset=table_file): (id, file name, content, extra loader args, None = loads | words of the error)
TABLES = [
    ("empty-file", "t.csv", b"", {}, "cannot read"),
    ("header-only", "t.csv", "a,b,target\n", {}, "holds 0 rows"),
    ("one-row", "t.csv", rows(1), {}, "holds 1 rows"),
    ("two-rows", "t.csv", rows(2), {}, "holds 2 rows"),
    ("three-rows", "t.csv", rows(3), {}, None),
    ("one-class", "t.csv", rows(40, classes=1), {}, "single value"),
    ("nan-target", "t.csv", rows(40, target=["nan"] * 3 + ["1", "0"] * 18 + ["1"]), {}, "missing values"),
    ("empty-target-cells", "t.csv", rows(40, target=[""] * 40), {}, "missing values"),
    ("inf-target-regression", "t.csv", rows(40, target=[str(i) for i in range(39)] + ["inf"]), {}, "infinite"),
    ("minus-inf-target", "t.csv", rows(40, target=["-inf"] + [str(i * 1.5) for i in range(39)]), {}, "infinite"),
    ("inf-target-as-classes", "t.csv", rows(40, target=["inf", "1"] * 20), {"kind": "classification"}, None),
    ("huge-target", "t.csv", rows(40, target=["1e308"] + [str(i) for i in range(39)]), {}, None),
    ("inf-input", "t.csv", "a,b,target\n" + "".join(f"inf,{i},{i % 2}\n" for i in range(40)), {}, None),
    ("text-target-regression", "t.csv", rows(40, target=["x", "y"] * 20), {"kind": "regression"}, "numeric"),
    ("no-target-column", "t.csv", rows(10), {"target": "price"}, "no target column"),
    ("target-only", "t.csv", "target\n" + "0\n1\n" * 10, {}, "no input columns"),
    ("unknown-kind", "t.csv", rows(40), {"kind": "clustering"}, "unknown task kind"),
    ("log-of-negative", "t.csv", rows(40, target=[str(i - 20) for i in range(40)]), {"log_target": True}, "positive"),
    ("log-of-classes", "t.csv", rows(40), {"log_target": True}, "positive regression"),
    ("non-utf8", "t.csv", b"a,b,target\n" + b"".join(NON_UTF8 + b",1,%d\n" % (i % 2) for i in range(40)), {}, None),
    ("utf16-bom", "t.csv", rows(40).encode("utf-16"), {}, None),
    ("binary-garbage", "t.csv", bytes(range(256)) * 20, {}, "cannot read"),
    ("ragged-rows", "t.csv", "a,b,target\n1,2,0\n1,2,3,4,5\n", {}, "cannot read"),
    ("markup-column-names", "t.csv", f"\"{MARKUP}\",<b>b</b>,target\n" + "".join(f"{i},{i},{i % 2}\n" for i in range(40)),
     {}, None),
    ("markup-values", "t.csv", "a,b,target\n" + "".join(f"{MARKUP},{i},{i % 2}\n" for i in range(40)), {}, None),
    ("shell-metacharacters", "t.csv", "a,b,target\n" + "".join(f"$(rm -rf /);`id`,{i},{i % 2}\n" for i in range(40)),
     {}, None),
    ("unicode-labels", "t.csv", rows(40, target=["猫", "🐕"] * 20), {}, None),
    ("duplicate-column-names", "t.csv", "a,a,target\n" + "".join(f"{i},{i},{i % 2}\n" for i in range(40)), {}, None),
    ("all-missing-input", "t.csv", "a,b,target\n" + "".join(f",,{i % 2}\n" for i in range(40)), {}, None),
    ("singleton-class", "t.csv", rows(40, target=["0"] * 20 + ["1"] * 19 + ["2"]), {}, None),
    ("categorical-not-a-column", "t.csv", rows(40), {"categorical": ["nope"]}, "not in the table"),
    ("test-file-missing", "t.csv", rows(40), {"test_path": "absent.csv"}, "no table"),
    ("test-file-lacks-target", "t.csv", rows(40), {"test_path": "other.csv"}, "test table has no target"),
    ("test-fraction-one", "t.csv", rows(40), {"test_fraction": 1.0}, "test_fraction"),
    ("test-fraction-zero", "t.csv", rows(40), {"test_fraction": 0.0}, "test_fraction"),
    ("test-fraction-negative", "t.csv", rows(40), {"test_fraction": -0.5}, "test_fraction"),
    ("parquet-truncated", "t.parquet", "PARQUET", {}, "cannot read"),
    ("parquet-empty", "t.parquet", b"", {}, "cannot read"),
    ("a-folder", "dir", None, {}, "cannot read"),
    ("missing-file", "absent.csv", None, {}, "no table"),
    ("tsv-with-commas", "t.tsv", rows(40), {}, "no target column"),
]


@pytest.mark.parametrize("name,content,args,refused", [c[1:] for c in TABLES], ids=[f"data:table-{c[0]}" for c in TABLES])
def test_a_bad_table_file_is_refused_naming_it_or_loads_usable(tmp_path, name, content, args, refused):
    path = tmp_path / name
    if content is not None:
        write(path, content)
    elif name == "dir":
        path.mkdir()
    write(tmp_path / "other.csv", "a,b\n1,2\n3,4\n")
    args = {k: str(tmp_path / v) if k == "test_path" else v for k, v in args.items()}
    check(lambda: load_table_file(str(path), args.pop("target", "target"), seed=0, **args), refused, path)


def check(load, refused: str | None, path: Path) -> Task | None:
    """The contract: a DatasetError of one line naming the file and saying what is wrong, or a usable Task."""
    if refused is None:
        task = load()
        assert isinstance(task, Task) and len(task.y_train) >= 1 and len(task.y_test) >= 1
        return task
    with pytest.raises(DatasetError) as e:
        load()
    message = " ".join(str(e.value).split())
    assert refused in message, message
    assert path.name in message or str(path) in message, message
    return None


def texts(n: int, classes: int = 2) -> str:
    return "text,label\n" + "".join(f"\"entry number {i} about topic {i % classes}\",t{i % classes}\n" for i in range(n))


# ---- texts in a CSV (dataset=text_csv)
TEXT_CSVS = [
    ("empty-file", b"", "no column"),
    ("header-only", "text,label\n", "no rows"),
    ("one-row", texts(1), "single class"),
    ("one-class", texts(30, classes=1), "single"),
    ("singleton-class", texts(30) + "\"a lone one\",t9\n", "only one example"),
    ("missing-label", "text,label\nhello,\nworld,a\n", "has no"),
    ("wrong-columns", "body,topic\nhello,a\n", "no column 'text'"),
    ("non-utf8", b"text,label\n" + b"".join(NON_UTF8 + b" %d,t%d\n" % (i, i % 2) for i in range(30)), None),
    ("markup-texts", "text,label\n" + "".join(f"\"{MARKUP.replace(chr(34), '')} {i}\",<i>t{i % 2}</i>\n" for i in range(30)), None),
    ("shell-texts", "text,label\n" + "".join(f"\"$(reboot); `id` {i}\",t{i % 2}\n" for i in range(30)), None),
    ("unicode-texts", "text,label\n" + "".join(f"\"日本語のテキスト {i} 🎉\",猫{i % 2}\n" for i in range(30)), None),
    ("binary-garbage", bytes(range(256)) * 20, "no column"),
    ("unclosed-quote", "text,label\n\"never closed,a\nb,c\n", "has no"),
    ("nul-bytes", b"text,label\n" + b"".join(b"a\x00b %d,t%d\n" % (i, i % 2) for i in range(30)), None),
    ("missing-file", None, "does not exist"),
]


@pytest.mark.parametrize("content,refused", [c[1:] for c in TEXT_CSVS], ids=[f"data:text-csv-{c[0]}" for c in TEXT_CSVS])
def test_a_bad_text_csv_is_refused_naming_it_or_loads_usable(tmp_path, content, refused):
    path = tmp_path / "texts.csv"
    if content is not None:
        write(path, content)
    check(lambda: load_text_csv(str(path), seed=0), refused, path)


def series(n: int, classes: int = 2, length: int = 8) -> str:
    return "label," + ",".join(f"t{j}" for j in range(length)) + "\n" + "".join(
        f"c{i % classes}," + ",".join(str(np.sin(i + j)) for j in range(length)) + "\n" for i in range(n))


# ---- series in a CSV (dataset=timeseries_csv)
SERIES_CSVS = [
    ("empty-file", b"", "cannot parse"),
    ("header-only", "label,t0,t1\n", "no rows"),
    ("one-row", series(1), "single class"),
    ("one-class", series(20, classes=1), "single class"),
    ("singleton-class", series(20) + "c9," + ",".join(["1"] * 8) + "\n", "single row"),
    ("nan-values", series(20) + "c1,nan,1,2,3,4,5,6,7\n", "gaps"),
    ("inf-values", series(20) + "c1,inf,1,2,3,4,5,6,7\n", "infinite"),
    ("text-values", series(20) + "c1,abc,1,2,3,4,5,6,7\n", "text, not numbers"),
    ("too-many-values", series(20) + "c1,1,2,3,4,5,6,7,8,9,10\n", "cannot parse"),
    ("no-label-column", series(20).replace("label", "klass"), "no column 'label'"),
    ("no-value-columns", "label\na\nb\na\nb\n", "value columns"),
    ("missing-labels", series(20).replace("c1,", ",", 1), "no label"),
    ("non-utf8-labels", b"label,t0,t1\n" + b"".join(b"\xe9t%d,%d,%d\n" % (i % 2, i, i + 1) for i in range(20)), None),
    ("markup-labels", "label,t0,t1\n" + "".join(f"<b>{i % 2}</b>,{i},{i + 1}\n" for i in range(20)), None),
    ("binary-garbage", bytes(range(256)) * 20, "cannot parse"),
    ("missing-file", None, "does not exist"),
]


@pytest.mark.parametrize("content,refused", [c[1:] for c in SERIES_CSVS], ids=[f"data:series-csv-{c[0]}" for c in SERIES_CSVS])
def test_a_bad_series_csv_is_refused_naming_it_or_loads_usable(tmp_path, content, refused):
    path = tmp_path / "series.csv"
    if content is not None:
        write(path, content)
    check(lambda: load_timeseries_csv(str(path), seed=0), refused, path)


TS_HEADER = "@problemName fuzz\n@timeStamps false\n@univariate true\n@classLabel true a b\n@data\n"
TS_GOOD = TS_HEADER + "".join(f"{','.join(str(i + j) for j in range(6))}:{'ab'[i % 2]}\n" for i in range(12))

# ---- .ts files (dataset=ts_file): the TRAIN file is damaged, its TEST file is good
TS_FILES = [
    ("empty-file", "", "no @data"),
    ("truncated-in-header", TS_GOOD[:40], "no @data"),
    ("truncated-after-data-tag", TS_HEADER, "no series"),
    ("truncated-mid-case", TS_GOOD[: len(TS_GOOD) - 9], "needs values and a label"),
    ("truncated-mid-value", TS_GOOD[: len(TS_GOOD) - 6], "needs values and a label"),
    ("cut-in-half", TS_GOOD[: len(TS_GOOD) // 2 + 1], "needs values and a label"),
    ("non-utf8", TS_GOOD.encode() + b"1,2,3:\xff\n", "cannot read"),
    ("binary-garbage", bytes(range(256)) * 4, "cannot read"),
    ("undeclared-label", TS_GOOD + "1,2,3,4,5,6:z\n", "not among the declared"),
    ("text-value", TS_GOOD + "1,x,3,4,5,6:a\n", "not a number"),
    ("inf-value", TS_GOOD + "1,inf,3,4,5,6:a\n", "infinite"),
    ("missing-value", TS_GOOD + "1,?,3,4,5,6:a\n", "missing"),
    ("one-class", TS_HEADER.replace(" a b", " a") + "1,2,3:a\n4,5,6:a\n", "nothing to classify"),
    ("regression-problem", TS_HEADER.replace("@classLabel true a b", "@targetLabel true") + "1,2:0.5\n", "regression"),
    ("no-class-labels", TS_HEADER.replace("@classLabel true a b", "@classLabel false") + "1,2\n", "no class labels"),
    ("timestamps", TS_HEADER.replace("@timeStamps false", "@timeStamps true") + "1,2:a\n", "time stamps"),
    ("bad-classlabel-flag", TS_HEADER.replace("@classLabel true", "@classLabel maybe"), "true or false"),
    ("stray-line-before-data", "hello\n" + TS_GOOD, "expected a @tag"),
    ("markup-labels", TS_GOOD.replace(" a b", " <i>a</i> b").replace(":a\n", ":<i>a</i>\n"), None),
    ("channels-differ", TS_GOOD + "1,2:3,4:a\n", "channels"),
]


@pytest.mark.parametrize("content,refused", [c[1:] for c in TS_FILES], ids=[f"data:ts-{c[0]}" for c in TS_FILES])
def test_a_damaged_ts_file_is_refused_naming_it_or_loads_usable(tmp_path, content, refused):
    path = write(tmp_path / "fuzz_TRAIN.ts", content)
    write(tmp_path / "fuzz_TEST.ts", TS_GOOD)
    check(lambda: load_ts_file(str(tmp_path)), refused, path)


def ts_folder_case(tmp_path: Path, case: str) -> Path:
    if case == "no-test-file":
        write(tmp_path / "x_TRAIN.ts", TS_GOOD)
    elif case == "two-problems":
        for p in ("x", "y"):
            write(tmp_path / f"{p}_TRAIN.ts", TS_GOOD)
            write(tmp_path / f"{p}_TEST.ts", TS_GOOD)
    elif case == "test-file-empty":
        write(tmp_path / "x_TRAIN.ts", TS_GOOD)
        return write(tmp_path / "x_TEST.ts", "")
    return tmp_path


@pytest.mark.parametrize("case,refused", [("no-test-file", "exactly one"), ("two-problems", "exactly one"),
                                          ("test-file-empty", "no @data"), ("empty-folder", "exactly one")],
                         ids=lambda v: f"data:ts-folder-{v}" if v.count(" ") == 0 else "")
def test_a_ts_folder_without_one_pair_is_refused(tmp_path, case, refused):
    named = ts_folder_case(tmp_path, case)
    check(lambda: load_ts_file(str(tmp_path)), refused, named)


def png(path: Path, size=(8, 8), mode="L") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(str(path)))
    shape = size[::-1] + ((len(mode),) if len(mode) > 1 else ())
    Image.fromarray(rng.integers(0, 255, shape, dtype=np.uint8), mode).save(path)
    return path


def image_case(root: Path, case: str) -> Path:
    """An image folder of two classes, five images each, with one thing wrong; returns the culprit."""
    for cls in ("a", "b"):
        for i in range(5):
            png(root / cls / f"{i}.png")
    culprit = root / "a" / "bad.png"
    if case == "mixed-sizes":
        for i, size in enumerate([(1, 1), (300, 20), (7, 200), (64, 64)]):
            png(root / "b" / f"s{i}.png", size)
    elif case == "mixed-modes":
        png(root / "a" / "rgb.png", mode="RGB")
        png(root / "b" / "rgba.png", mode="RGBA")
        Image.new("P", (5, 9)).save(root / "a" / "palette.gif")
        Image.new("I;16", (4, 4)).save(root / "b" / "deep.tif")
    elif case == "truncated-png":
        data = png(culprit, (32, 32)).read_bytes()
        culprit.write_bytes(data[: len(data) // 2])
    elif case == "empty-png":
        write(culprit, b"")
    elif case == "text-named-png":
        write(culprit, "not an image at all")
    elif case == "jpeg-cut":
        Image.new("RGB", (40, 40), "red").save(root / "a" / "cut.jpg")
        culprit = root / "a" / "cut.jpg"
        culprit.write_bytes(culprit.read_bytes()[:100])
    elif case == "markup-class-names":
        (root / "b").rename(root / "<img src=x onerror=alert(1)>")
    elif case == "unicode-class-names":
        (root / "b").rename(root / "猫 🐈")
    elif case == "non-image-files-only":
        for f in (root / "b").iterdir():
            f.rename(f.with_suffix(".txt"))
        culprit = root / "b"
    elif case == "a-file-where-a-class-is":
        write(root / "c", "a file, not a class folder")
    elif case == "train-test-classes-differ":
        for split, classes in (("train", ("a", "b")), ("test", ("a", "z"))):
            for cls in classes:
                for i in range(3):
                    png(root / split / cls / f"{i}.png")
        culprit = root / "test"
    elif case == "one-image-per-class":
        for cls in ("a", "b"):
            for f in list((root / cls).iterdir())[1:]:
                f.unlink()
        culprit = root
    elif case == "one-class":
        import shutil

        shutil.rmtree(root / "b")
        culprit = root
    return culprit


IMAGE_FOLDERS = [("mixed-sizes", None), ("mixed-modes", None), ("truncated-png", "cannot read image"),
                 ("empty-png", "cannot read image"), ("text-named-png", "cannot read image"),
                 ("jpeg-cut", "cannot read image"), ("markup-class-names", None), ("unicode-class-names", None),
                 ("non-image-files-only", "no images found"), ("a-file-where-a-class-is", None),
                 ("train-test-classes-differ", "does not exist"), ("one-image-per-class", "two per class"),
                 ("one-class", "per class (found 1)")]


@pytest.mark.parametrize("case,refused", IMAGE_FOLDERS, ids=[f"data:images-{c[0]}" for c in IMAGE_FOLDERS])
def test_a_bad_image_folder_is_refused_naming_the_file_or_loads_usable(tmp_path, case, refused):
    culprit = image_case(tmp_path / "images", case)
    task = check(lambda: load_image_folder(str(tmp_path / "images"), seed=0), refused, culprit)
    if task is not None:  # every image read at one size, whatever it was on disk
        assert task.X_train.shape[1:] == (1, 28, 28) and np.isfinite(task.X_train).all()


def idx_bytes(shape: tuple[int, ...], code: int = 0x08) -> bytes:
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + bytes(int(np.prod(shape)))


IDX_NAMES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
GOOD_IDX = [idx_bytes((6, 4, 4)), idx_bytes((6,)), idx_bytes((2, 4, 4)), idx_bytes((2,))]
# the train images file damaged: (id, bytes, words of the error)
IDX_FILES = [
    ("empty", b"", "bad magic"),
    ("magic-of-a-zip", b"PK\x03\x04" + bytes(100), "bad magic"),
    ("magic-of-a-png", b"\x89PNG\r\n\x1a\n" + bytes(100), "bad magic"),
    ("magic-of-gzip-unzipped", gzip.compress(GOOD_IDX[0]), "bad magic"),
    ("unknown-dtype-code", bytes([0, 0, 0x07, 3]) + GOOD_IDX[0][4:], "bad magic"),
    ("nonzero-first-bytes", b"\x01\x02" + GOOD_IDX[0][2:], "bad magic"),
    ("header-cut", GOOD_IDX[0][:7], "truncated inside its header"),
    ("data-cut", GOOD_IDX[0][:-5], "truncated or corrupt"),
    ("data-too-long", GOOD_IDX[0] + b"extra", "truncated or corrupt"),
    ("huge-shape", bytes([0, 0, 8, 3]) + struct.pack(">3I", 2**31, 2**31, 2**31), "truncated or corrupt"),
    ("zero-dimensions", bytes([0, 0, 8, 0]), "truncated or corrupt"),
    ("labels-mismatch", idx_bytes((5, 4, 4)), "labels"),
    ("no-images", idx_bytes((0, 4, 4)), "labels"),
]


@pytest.mark.parametrize("content,refused", [c[1:] for c in IDX_FILES], ids=[f"data:idx-{c[0]}" for c in IDX_FILES])
def test_a_damaged_idx_file_is_refused_naming_it(tmp_path, content, refused):
    for name, data in zip(IDX_NAMES, GOOD_IDX):
        write(tmp_path / name, data)
    path = write(tmp_path / IDX_NAMES[0], content)
    check(lambda: load_idx(str(tmp_path)), refused, path)


@pytest.mark.parametrize("case", ["gz-cut", "gz-garbage", "gz-empty"], ids=lambda c: f"data:idx-{c}")
def test_a_damaged_gzipped_idx_file_is_refused_naming_it(tmp_path, case):
    for name, data in zip(IDX_NAMES, GOOD_IDX):
        write(tmp_path / name, data)
    (tmp_path / IDX_NAMES[1]).unlink()
    packed = gzip.compress(GOOD_IDX[1])
    content = {"gz-cut": packed[: len(packed) // 2], "gz-garbage": b"\x1f\x8b" + bytes(range(200)), "gz-empty": b""}[case]
    path = write(tmp_path / (IDX_NAMES[1] + ".gz"), content)
    check(lambda: load_idx(str(tmp_path)), "", path)


# ---- review folders (dataset=imdb_folder) and fortune files (dataset=fortunes, fortunes_chars)
def imdb_case(root: Path, case: str) -> Path:
    for split in ("train", "test"):
        for label in ("neg", "pos"):
            for i in range(3):
                write(root / split / label / f"{i}_1.txt", f"review {i} of {label} <br /> in {split}")
    culprit = root / "train" / "pos"
    if case == "non-utf8":
        write(culprit / "9_1.txt", NON_UTF8)
    elif case == "empty-review":
        write(culprit / "9_1.txt", b"")
    elif case == "markup-review":
        write(culprit / "9_1.txt", MARKUP)
    elif case == "no-reviews":
        for f in culprit.iterdir():
            f.unlink()
    elif case == "missing-split":
        import shutil

        shutil.rmtree(root / "test")
        culprit = root / "test" / "neg"
    return culprit


IMDB = [("non-utf8", None), ("empty-review", None), ("markup-review", None), ("no-reviews", "no .txt reviews"),
        ("missing-split", "does not exist")]


@pytest.mark.parametrize("case,refused", IMDB, ids=[f"data:imdb-{c[0]}" for c in IMDB])
def test_a_bad_review_folder_is_refused_naming_it_or_loads_usable(tmp_path, case, refused):
    culprit = imdb_case(tmp_path / "aclImdb", case)
    check(lambda: load_imdb_folder(str(tmp_path)), refused, culprit)


FORTUNES = [  # each category's file, from its name
    ("non-utf8", lambda cat: b"%\n".join(NON_UTF8 + b" %s %d\n" % (cat, i) for i in range(6)), None),
    ("empty-files", lambda cat: b"", "fewer than two categories"),
    ("only-separators", lambda cat: b"%\n%\n%\n", "fewer than two categories"),
    ("binary-garbage", lambda cat: cat + bytes(range(256)) * 8, "fewer than two categories"),
    ("markup-entries", lambda cat: b"%\n".join(b"%s %s %d\n" % (MARKUP.encode(), cat, i) for i in range(6)), None),
    ("two-entries-each", lambda cat: b"%s one\n%%\n%s two\n" % (cat, cat), "too few for a stratified split"),
]
@pytest.mark.parametrize("content,refused", [c[1:] for c in FORTUNES], ids=[f"data:fortunes-{c[0]}" for c in FORTUNES])
def test_bad_fortune_files_are_refused_naming_the_folder_or_load_usable(tmp_path, content, refused):
    for category in ("computers", "science"):
        write(tmp_path / category, content(category.encode()))
    check(lambda: load_fortunes(seed=0, categories=["computers", "science"], data_dir=str(tmp_path)), refused, tmp_path)
    if refused is None:
        check(lambda: load_fortune_chars(seed=0, categories=["computers", "science"], data_dir=str(tmp_path)), None, tmp_path)
