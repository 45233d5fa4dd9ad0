"""Anomaly-detection tasks (kind `anomaly`): train on normal samples only, score test samples, and
rank the anomalies (y = 1) above the normal ones (y = 0). Nothing is downloaded.

Held-out class (`load_held_out_class`): an image dataset of the vision suite (digits, mnist5k), split
into train and test exactly as the vision suite splits it (stratified, seeded); one class c is the
anomaly. Training split: every training image of the other classes. Test split: every test image,
y = 1 for those of class c (about a tenth of them: 10 balanced classes).

UCR anomaly series (`load_ucr_anomaly`): 135_UCR_Anomaly_InternalBleeding16 of the KDD-TSAD / UCR
anomaly archive (Keogh et al., SIGKDD 2021 competition: one anomaly per series), which aeon ships
as `aeon/datasets/data/KDD-TSAD_135/135_UCR_Anomaly_InternalBleeding16_{TRAIN,TEST}.csv` (read with
`aeon.datasets.load_kdd_tsad_135`): the heart rate of a patient with internal bleeding, 7,501 points,
one period about 183 points; the labelled anomaly is points 4,187-4,198 (12 points). The archive's
convention: the first 1,200 points (the TRAIN file, a prefix of TEST) are anomaly-free.
Windows: every window of `window` consecutive points (stride 1). Training windows lie inside points
0-1,199; test windows inside points 1,200-7,500 (no overlap with training). A test window is an
anomaly (y = 1) when any of its points is labelled anomalous (with window 64: 75 of 6,238, 1.2%).
Each window has its own mean subtracted (a heart rate that drifts up is not by itself the anomaly,
the shape is) and is divided by the standard deviation of the training points. X (N, 1, window).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.data.task import DatasetError, Task
from harness.data.vision import load_digits, load_mnist5k

SOURCES = {"digits": load_digits, "mnist5k": load_mnist5k}
UCR_TRAIN_END = 1200  # 135_UCR_Anomaly_InternalBleeding16: points before this are the anomaly-free training part


def load_held_out_class(source: str = "digits", anomaly_class: int = 0, seed: int = 0,
                        test_fraction: float | None = None, name: str | None = None) -> Task:
    """`source`'s images with class `anomaly_class` as the anomaly (module docstring)."""
    if source not in SOURCES:
        raise DatasetError(f"unknown image source {source!r}; choose {', '.join(SOURCES)}")
    base = SOURCES[source](seed=seed, **({} if test_fraction is None else {"test_fraction": test_fraction}))
    c = int(anomaly_class)
    if c not in set(np.unique(base.y_train)):
        raise DatasetError(f"{source} has no class {c} (classes {', '.join(map(str, np.unique(base.y_train)))})")
    normal = base.y_train != c
    return Task(name or f"{source}_anomaly", "anomaly", base.X_train[normal], np.zeros(int(normal.sum()), np.int64),
                base.X_test, (base.y_test == c).astype(np.int64), "image", ["normal", "anomaly"],
                f"{base.source}: class {c} held out as the anomaly")


def sliding_windows(x: np.ndarray, window: int) -> np.ndarray:
    """Every window of `window` consecutive points of x (T,): (T - window + 1, window)."""
    return np.lib.stride_tricks.sliding_window_view(x, window).copy()


def load_ucr_anomaly(window: int = 64, seed: int = 0, name: str = "ucr_internal_bleeding") -> Task:
    """Windows of the UCR anomaly series InternalBleeding16 that aeon ships (module docstring)."""
    try:
        import aeon
        from aeon.datasets import load_kdd_tsad_135
    except ImportError as e:
        raise DatasetError(f"{name}: needs aeon (pip install aeon), which ships the series: {e}") from e
    path = Path(aeon.__file__).parent / "datasets" / "data" / "KDD-TSAD_135"
    try:
        series, labels = load_kdd_tsad_135(split="test")
    except (OSError, ValueError) as e:
        raise DatasetError(f"{name}: cannot read the KDD-TSAD 135 series under {path}: {e}") from e
    series, labels = np.asarray(series, dtype=np.float64).ravel(), np.asarray(labels).astype(int).ravel()
    window = int(window)
    if not 2 <= window <= UCR_TRAIN_END // 2:
        raise DatasetError(f"{name}: window must be between 2 and {UCR_TRAIN_END // 2}, got {window}")
    if labels[:UCR_TRAIN_END].any():
        raise DatasetError(f"{name}: the series' training part (points 0-{UCR_TRAIN_END - 1}) holds anomalies")
    train, test = series[:UCR_TRAIN_END], series[UCR_TRAIN_END:]
    scale = float(train.std())
    X_train, X_test = sliding_windows(train, window), sliding_windows(test, window)
    y_test = sliding_windows(labels[UCR_TRAIN_END:], window).max(axis=1).astype(np.int64)

    def prepare(W: np.ndarray) -> np.ndarray:  # (N, window) -> (N, 1, window), mean-free, on the training scale
        return ((W - W.mean(axis=1, keepdims=True)) / scale).astype(np.float32)[:, None]

    return Task(name, "anomaly", prepare(X_train), np.zeros(len(X_train), np.int64), prepare(X_test), y_test,
                "sequence", ["normal", "anomaly"],
                f"aeon {aeon.__version__} {path.name}/135_UCR_Anomaly_InternalBleeding16_TEST.csv, windows of {window}")
