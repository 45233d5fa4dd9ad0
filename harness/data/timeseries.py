"""Time-series classification datasets: the UCR/UEA problems that the `aeon` package ships, any pair of
`.ts` files, and CSV files with one series per row.

Shapes: X is float32 (N, C, T) with C channels (1 for the univariate UCR sets) and T time points;
y is int64 0..K-1, mapped the same way in train and test, with the labels as written in the files
kept in `class_names`. Values are left as the files hold them (the UCR sets come z-normalised per
series; BasicMotions and JapaneseVowels do not).

The UCR/UEA problems and `.ts` pairs keep their official train/test split, whatever the seed: for
them the seed varies only what the model draws at random. CSV files without a test file are split
by the seed (stratified), like the image loaders.

Unequal lengths (JapaneseVowels: 7 to 29 frames) are made equal by `equal_length`, because every
model here takes one (N, C, T) array. The literature does not agree on one way: the UCR archive
stores variable-length series padded with NaN and, for its published baselines, fills the tail with
low-amplitude noise (Dau et al. 2019); deep-learning papers on the UEA sets mostly pad with zeros;
aeon ships a `JapaneseVowels_eq` variant resampled to 25 frames. The default here, `pad_last`,
repeats each series' last value up to the longest length in train and test: unlike zeros it adds no
step that a distance or a convolution would read as a feature of the series.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from harness.data.task import DatasetError, Task

# The problems inside aeon's wheel (aeon/datasets/data/<Problem>/<Problem>_{TRAIN,TEST}.ts).
AEON_BUNDLED = ("ACSF1", "ArrowHead", "BasicMotions", "GunPoint", "ItalyPowerDemand", "JapaneseVowels", "OSULeaf")
EQUAL_LENGTH = ("pad_last", "pad_zero", "resample")
TS_HEADER_FLAGS = ("timestamps", "missing", "univariate", "equallength", "classlabel", "targetlabel")

Series = list[np.ndarray]  # one (C, T_i) float64 array per case; T_i may differ between cases


def aeon_data_dir() -> Path | None:
    """The folder of .ts files inside the installed aeon package, found without importing aeon
    (its import compiles numba functions for seconds)."""
    spec = importlib.util.find_spec("aeon")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "datasets" / "data"


def read_ts_header(lines: list[str], path: Path) -> tuple[dict, int]:
    """The header tags of a .ts file (keys lower-case, values as written) and the index of its first data line."""
    header: dict = {"classlabel": False, "class_values": []}
    for i, raw in enumerate(lines):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not line.startswith("@"):
            raise DatasetError(f"{path}:{i + 1}: expected a @tag or @data before the series, found {line[:40]!r}")
        tokens = line.split()
        key = tokens[0][1:].lower()
        if key == "data":
            return header, i + 1
        if key in TS_HEADER_FLAGS:
            if len(tokens) < 2 or tokens[1].lower() not in ("true", "false"):
                raise DatasetError(f"{path}:{i + 1}: @{tokens[0][1:]} needs true or false")
            header[key] = tokens[1].lower() == "true"
            if key == "classlabel":
                header["class_values"] = tokens[2:]
                if header[key] and not header["class_values"]:
                    raise DatasetError(f"{path}:{i + 1}: @classLabel true must list the class labels")
        elif key in ("problemname", "dimensions", "serieslength"):
            header[key] = tokens[1] if len(tokens) > 1 else ""
    raise DatasetError(f"{path} has no @data line: not a .ts file, or truncated inside its header")


def read_ts(path: Path) -> tuple[Series, list[str], dict]:
    """One classification .ts file: its series, their labels as written, and its header.

    aeon's `load_from_ts_file` reads the same files but lower-cases every label ("Standing" becomes
    "standing"); this reader keeps them, and names the line of any fault.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise DatasetError(f"cannot read .ts file {path}: {e}") from e
    header, start = read_ts_header(lines, path)
    if header.get("targetlabel"):
        raise DatasetError(f"{path} is a regression problem (@targetLabel true); these loaders classify")
    if not header["classlabel"]:
        raise DatasetError(f"{path} has no class labels (@classLabel false)")
    if header.get("timestamps"):
        raise DatasetError(f"{path} has time stamps (@timeStamps true), which bench does not read; "
                           "write the values without them")
    declared = header["class_values"]
    n_channels = int(header["dimensions"]) if str(header.get("dimensions", "")).isdigit() else None
    X, y = [], []
    for i in range(start, len(lines)):
        line = lines[i].strip()
        if not line or line.startswith("#"):
            continue
        *channels, label = (part.strip() for part in line.split(":"))
        where = f"{path}:{i + 1}"
        if not channels:
            raise DatasetError(f"{where}: a case needs values and a label separated by ':'")
        if n_channels is None:
            n_channels = len(channels)
        if len(channels) != n_channels:
            raise DatasetError(f"{where}: {len(channels)} channels where the file has {n_channels}")
        if declared and label not in declared:
            raise DatasetError(f"{where}: label {label!r} is not among the declared classes {declared}")
        try:
            case = [np.array(c.replace("?", "nan").split(","), dtype=np.float64) for c in channels]
        except ValueError as e:
            raise DatasetError(f"{where}: a value is not a number ({e})") from e
        if len({len(c) for c in case}) > 1:
            raise DatasetError(f"{where}: the channels of one case differ in length ({[len(c) for c in case]})")
        case = np.stack(case)
        if not np.isfinite(case).all():
            raise DatasetError(f"{where}: missing or infinite values; bench's models need them imputed first")
        X.append(case)
        y.append(label)
    if not X:
        raise DatasetError(f"{path} holds no series after its @data line")
    return X, y, header


def sort_labels(labels) -> list[str]:
    """Labels in numeric order when all are numbers ("2" before "10"), else in text order."""
    labels = sorted(set(labels))
    try:
        return sorted(labels, key=float)
    except ValueError:
        return labels


def encode_labels(y_train: list[str], y_test: list[str], classes: list[str] | None = None):
    """Labels as int64 indices into `classes` (the declared order, else `sort_labels` of both splits)."""
    classes = list(classes) if classes else sort_labels([*y_train, *y_test])
    index = {c: k for k, c in enumerate(classes)}
    unknown = sorted(set(y_test) - set(index))
    if unknown:
        raise DatasetError(f"test labels {unknown} are not among the training classes {classes}")
    encode = lambda y: np.array([index[v] for v in y], dtype=np.int64)
    return encode(y_train), encode(y_test), classes


def equal_length(series: Series, length: int, how: str = "pad_last") -> np.ndarray:
    """Cases of different lengths as one float32 (N, C, length) array (see the module docstring).

    pad_last: repeat each case's last value; pad_zero: append zeros; resample: linear interpolation
    of each case onto `length` evenly spaced points (stretches short cases instead of padding them).
    """
    if how not in EQUAL_LENGTH:
        raise DatasetError(f"unknown way to equalise lengths {how!r}; choose one of {', '.join(EQUAL_LENGTH)}")
    out = np.empty((len(series), series[0].shape[0], length), dtype=np.float32)
    for i, x in enumerate(series):  # x: (C, T_i)
        t = x.shape[1]
        if how == "resample" and t != length:
            grid = np.linspace(0, t - 1, length)
            out[i] = np.stack([np.interp(grid, np.arange(t), channel) for channel in x])
            continue
        out[i, :, :t] = x[:, :length]
        if t < length:
            out[i, :, t:] = x[:, -1:] if how == "pad_last" else 0.0
    return out


def to_arrays(X_train: Series, X_test: Series, how: str) -> tuple[np.ndarray, np.ndarray]:
    """Both splits as float32 (N, C, T), with T the longest case of either split."""
    length = max(x.shape[1] for x in [*X_train, *X_test])
    return equal_length(X_train, length, how), equal_length(X_test, length, how)


def ts_task(name: str, train: Path, test: Path, equal: str) -> Task:
    """A Task from a TRAIN and a TEST .ts file, split as the files give it."""
    X_tr, y_tr, head = read_ts(train)
    X_te, y_te, head_te = read_ts(test)
    if X_tr[0].shape[0] != X_te[0].shape[0]:
        raise DatasetError(f"{name}: {train} has {X_tr[0].shape[0]} channels but {test} has {X_te[0].shape[0]}")
    if len(set(y_tr)) < 2:
        raise DatasetError(f"{name}: every case in {train} has the label {y_tr[0]!r}; nothing to classify")
    declared = head["class_values"] if head["class_values"] == head_te["class_values"] else None
    y_tr, y_te, classes = encode_labels(y_tr, y_te, declared)
    X_tr, X_te = to_arrays(X_tr, X_te, equal)
    return Task(name, "classification", X_tr, y_tr, X_te, y_te, "sequence", classes, f"{train} + {test.name}")


def find_ts_pair(folder: Path, problem: str) -> tuple[Path, Path] | None:
    pair = folder / f"{problem}_TRAIN.ts", folder / f"{problem}_TEST.ts"
    return pair if all(p.is_file() for p in pair) else None


def load_ucr(problem: str, name: str | None = None, seed: int = 0, data_dir: str | None = None,
             equal: str = "pad_last") -> Task:
    """A UCR/UEA archive problem with its official train/test split (the seed does not change it).

    Looks for `<problem>_TRAIN.ts` and `<problem>_TEST.ts` in `data_dir/<problem>`, in `data_dir`,
    in the archive zips' layout (`data_dir/Univariate_ts/<problem>`, `data_dir/Multivariate_ts/<problem>`),
    then in the copy inside the installed aeon package (the seven problems of AEON_BUNDLED).
    Nothing is downloaded.
    """
    folders = []
    if data_dir:
        root = Path(data_dir).expanduser()
        folders += [root / problem, root, root / "Univariate_ts" / problem, root / "Multivariate_ts" / problem]
    bundled = aeon_data_dir()
    if bundled is not None:
        folders.append(bundled / problem)
    for folder in folders:
        pair = find_ts_pair(folder, problem)
        if pair:
            return ts_task(name or problem, *pair, equal)
    looked = "\n  ".join(str(f) for f in folders) or "(no data_dir given and aeon is not installed)"
    how = (f"{problem} ships inside the aeon package: `pip install aeon`." if problem in AEON_BUNDLED else
           f"aeon ships only {', '.join(AEON_BUNDLED)}. For {problem}, download the archive's .ts files "
           f"(timeseriesclassification.com, 'Univariate_ts' / 'Multivariate_ts' zips) and put "
           f"{problem}_TRAIN.ts and {problem}_TEST.ts in <data_dir>/{problem}/, with paths.data_dir=<data_dir>.")
    raise DatasetError(f"{name or problem}: no folder holds {problem}_TRAIN.ts and {problem}_TEST.ts. "
                       f"Looked in:\n  {looked}\n{how}")


def load_ts_file(path: str, test_path: str | None = None, name: str | None = None, seed: int = 0,
                 equal: str = "pad_last") -> Task:
    """Your own .ts problem, split as its files give it: `path` is a folder holding one
    `<X>_TRAIN.ts` and its `<X>_TEST.ts`, or the train file itself (its test file is `test_path`, or
    the `_TEST.ts` beside it)."""
    p = Path(path).expanduser()
    if p.is_dir():
        trains = sorted(p.glob("*_TRAIN.ts"))
        pairs = [pair for t in trains if (pair := find_ts_pair(p, t.name[: -len("_TRAIN.ts")]))]
        if len(pairs) != 1:
            found = ", ".join(t.name for t in trains) or "none"
            raise DatasetError(f"{path}: a .ts folder needs exactly one <name>_TRAIN.ts with its <name>_TEST.ts "
                               f"(TRAIN files found: {found}); or pass the two files as path= and test_path=")
        train, test = pairs[0]
    else:
        train = p
        test = Path(test_path).expanduser() if test_path else p.with_name(p.name.replace("_TRAIN", "_TEST"))
        for role, f in (("train", train), ("test", test)):
            if not f.is_file():
                hint = "" if test_path or role == "train" else " (give it with test_path=)"
                raise DatasetError(f"{name or 'ts_file'}: the {role} file {f} does not exist{hint}")
        if train == test:
            raise DatasetError(f"{path}: cannot tell the test file; name it *_TEST.ts or pass test_path=")
    return ts_task(name or train.name.removesuffix("_TRAIN.ts").removesuffix(".ts"), train, test, equal)


def read_series_csv(path: Path, label_column: str | int, header: bool, sep: str, n_channels: int):
    """A CSV file with one case per row: its series (trailing blanks end a shorter case) and labels."""
    import pandas as pd

    if not path.is_file():
        raise DatasetError(f"CSV file {path} does not exist")
    try:
        # labels in a legacy encoding read with U+FFFD for the bytes that are not UTF-8, as text CSVs are
        df = pd.read_csv(path, header=0 if header else None, sep=sep, encoding_errors="replace")
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as e:
        raise DatasetError(f"cannot parse {path} as CSV: {e}".splitlines()[0]) from e
    if df.empty:
        raise DatasetError(f"{path} holds no rows")
    if isinstance(label_column, int) and not header:
        if not -df.shape[1] <= label_column < df.shape[1]:
            raise DatasetError(f"{path}: label column {label_column} is out of range ({df.shape[1]} columns)")
        label_column = df.columns[label_column]
    if label_column not in df.columns:
        raise DatasetError(f"{path}: no column {label_column!r} for the labels (columns: "
                           f"{', '.join(map(str, df.columns[:8]))}{', ...' if df.shape[1] > 8 else ''})")
    labels = df.pop(label_column)
    if labels.isna().any():
        raise DatasetError(f"{path}: {int(labels.isna().sum())} rows have no label")
    try:
        values = df.to_numpy(dtype=np.float64)
    except ValueError as e:
        raise DatasetError(f"{path}: a value column holds text, not numbers ({e})") from e
    if np.isinf(values).any():
        row = int(np.isinf(values).any(axis=1).argmax())
        raise DatasetError(f"{path}: row {row + 1 + header} has infinite values; bench's models need finite ones")
    if values.shape[1] == 0 or values.shape[1] % n_channels:
        raise DatasetError(f"{path}: {values.shape[1]} value columns do not split into {n_channels} channels")
    X = []
    for row, v in enumerate(values.reshape(len(values), n_channels, -1)):  # v: (C, T)
        observed = ~np.isnan(v)
        t = int(observed.all(axis=0).sum())
        if t == 0 or not observed[:, :t].all() or observed[:, t:].any():
            raise DatasetError(f"{path}: row {row + 1 + header} has gaps or no values; only a shorter "
                               "series (blank cells at the end) is allowed")
        X.append(v[:, :t])
    return X, labels.astype(str).str.strip().tolist()


def load_timeseries_csv(path: str, label_column: str | int = "label", test_path: str | None = None,
                        test_fraction: float = 0.25, name: str = "timeseries_csv", seed: int = 0,
                        header: bool = True, sep: str = ",", n_channels: int = 1, equal: str = "pad_last") -> Task:
    """Series in a CSV file, one case per row: a label column and the values in time order (with
    n_channels > 1, channel after channel). With `test_path` the split is the files'; without it a
    stratified `test_fraction` of the rows, drawn by the seed. UCR's own .tsv files read with
    `label_column=0, header=False, sep="\\t"`."""
    X, y = read_series_csv(Path(path).expanduser(), label_column, header, sep, n_channels)
    if test_path is not None:
        X_te, y_te = read_series_csv(Path(test_path).expanduser(), label_column, header, sep, n_channels)
        source = f"{path} + {test_path}"
    else:
        counts = {c: y.count(c) for c in set(y)}
        if len(counts) < 2:
            raise DatasetError(f"{name}: {path} holds a single class ({next(iter(counts))!r}); nothing to classify")
        rare = sorted(c for c, n in counts.items() if n < 2)
        if rare:
            raise DatasetError(f"{name}: classes {rare} have a single row in {path}; a stratified split "
                               "needs two per class (or give test_path=)")
        idx_tr, idx_te = train_test_split(np.arange(len(y)), test_size=test_fraction, stratify=y, random_state=seed)
        X, X_te = [X[i] for i in idx_tr], [X[i] for i in idx_te]
        y, y_te = [y[i] for i in idx_tr], [y[i] for i in idx_te]
        source = str(path)
    y_tr, y_te, classes = encode_labels(y, y_te)
    X_tr, X_te = to_arrays(X, X_te, equal)
    return Task(name, "classification", X_tr, y_tr, X_te, y_te, "sequence", classes, source)
