"""Time-series loaders and baselines: official UCR/UEA splits, label mapping, equal lengths, .ts and CSV
round trips, readable failures, and the archive's published 1-NN figures reproduced on GunPoint.

The first run on a machine compiles aeon's numba functions (DTW about 25 s, MiniRocket about 90 s on
2 cores) and caches them beside aeon's sources; later runs load the cache in seconds.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_classifier

from harness.data import DatasetError
from harness.data import timeseries
from harness.data.timeseries import (AEON_BUNDLED, equal_length, load_timeseries_csv, load_ts_file, load_ucr,
                                     read_ts)

pytest.importorskip("aeon")

# problem: (n_train, n_test, channels, length, classes), the archive's official splits
OFFICIAL = {
    "ACSF1": (100, 100, 1, 1460, 10),
    "ArrowHead": (36, 175, 1, 251, 3),
    "BasicMotions": (40, 40, 6, 100, 4),
    "GunPoint": (50, 150, 1, 150, 2),
    "ItalyPowerDemand": (67, 1029, 1, 24, 2),
    "JapaneseVowels": (270, 370, 12, 29, 9),
    "OSULeaf": (200, 242, 1, 427, 6),
}


def write_ts(path: Path, cases: list[np.ndarray], labels: list[str], classes: list[str]) -> Path:
    """A classification .ts file; cases are (C, T_i) arrays."""
    equal = len({c.shape[1] for c in cases}) == 1
    lines = ["# written by a test", f"@problemName {path.stem}", "@timeStamps false", "@missing false",
             f"@univariate {'true' if cases[0].shape[0] == 1 else 'false'}", f"@dimensions {cases[0].shape[0]}",
             f"@equalLength {'true' if equal else 'false'}", f"@classLabel true {' '.join(classes)}", "@data"]
    lines += [":".join(",".join(f"{v:.6g}" for v in ch) for ch in case) + f":{label}"
              for case, label in zip(cases, labels)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def gunpoint():
    return load_ucr("GunPoint", name="gunpoint")


# --- loaders ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("problem", AEON_BUNDLED)
def test_bundled_problem_has_its_official_split(problem):
    n_train, n_test, channels, length, k = OFFICIAL[problem]
    task = load_ucr(problem)
    assert task.X_train.shape == (n_train, channels, length) and task.X_test.shape == (n_test, channels, length)
    assert task.X_train.dtype == np.float32 and task.y_train.dtype == np.int64 == task.y_test.dtype
    assert set(np.unique(task.y_train)) == set(range(k)) and task.n_classes == k == len(task.class_names)
    assert task.input_kind == "sequence" and task.kind == "classification"
    assert "aeon" in task.source and np.isfinite(task.X_train).all()


def test_seed_leaves_the_official_split_alone(gunpoint):
    other = load_ucr("GunPoint", name="gunpoint", seed=7)
    np.testing.assert_array_equal(gunpoint.X_train, other.X_train)
    np.testing.assert_array_equal(gunpoint.y_test, other.y_test)
    assert gunpoint.name == "gunpoint"


def test_labels_keep_their_text_and_the_declared_order():
    task = load_ucr("BasicMotions")
    assert task.class_names == ["Standing", "Running", "Walking", "Badminton"]  # @classLabel order, case kept
    folder = timeseries.aeon_data_dir() / "BasicMotions"
    for split, y in (("TRAIN", task.y_train), ("TEST", task.y_test)):
        _, written, _ = read_ts(folder / f"BasicMotions_{split}.ts")
        assert [task.class_names[k] for k in y] == written  # one mapping for both splits


@pytest.mark.parametrize("problem", ["GunPoint", "JapaneseVowels"])
def test_reader_matches_aeons(problem):
    # aeon's reader lower-cases labels; values must be identical.
    from aeon.datasets import load_from_ts_file

    path = timeseries.aeon_data_dir() / problem / f"{problem}_TEST.ts"
    ours, labels, _ = read_ts(path)
    theirs, their_labels = load_from_ts_file(str(path))
    assert len(ours) == len(theirs) and all(np.array_equal(a, b) for a, b in zip(ours, theirs))
    assert [v.lower() for v in labels] == list(their_labels)


def test_japanese_vowels_is_padded_with_each_series_last_frame():
    task = load_ucr("JapaneseVowels")
    raw, _, _ = read_ts(timeseries.aeon_data_dir() / "JapaneseVowels" / "JapaneseVowels_TEST.ts")
    lengths = [x.shape[1] for x in raw]
    assert (min(lengths), max(lengths)) == (7, 29)
    for x, padded in zip(raw, task.X_test):
        t = x.shape[1]
        np.testing.assert_allclose(padded[:, :t], x, rtol=1e-6)
        np.testing.assert_array_equal(padded[:, t:], np.repeat(padded[:, t - 1:t], 29 - t, axis=1))


def test_equal_length_choices():
    short, long = np.array([[1.0, 2.0]]), np.array([[0.0, 1.0, 2.0, 3.0]])
    assert equal_length([short, long], 4, "pad_last")[0].tolist() == [[1, 2, 2, 2]]
    assert equal_length([short, long], 4, "pad_zero")[0].tolist() == [[1, 2, 0, 0]]
    np.testing.assert_allclose(equal_length([short, long], 4, "resample")[0], [[1, 4 / 3, 5 / 3, 2]])
    np.testing.assert_array_equal(equal_length([short, long], 4, "resample")[1], long)  # full length untouched
    with pytest.raises(DatasetError, match="pad_last"):
        equal_length([short], 4, "stretch")


def test_ts_files_round_trip_in_both_forms(tmp_path):
    rng = np.random.default_rng(0)
    classes = ["walk", "run", "10"]
    cases = [rng.normal(size=(2, t)) for t in (5, 7, 6, 7, 5, 6)]
    labels = ["walk", "run", "10", "run", "walk", "10"]
    write_ts(tmp_path / "Toy_TRAIN.ts", cases, labels, classes)
    write_ts(tmp_path / "Toy_TEST.ts", cases[:3], labels[:3], classes)
    from_folder = load_ts_file(str(tmp_path))
    from_file = load_ts_file(str(tmp_path / "Toy_TRAIN.ts"), name="toy")
    assert from_folder.name == "Toy" and from_file.name == "toy"
    for task in (from_folder, from_file):
        assert task.X_train.shape == (6, 2, 7) and task.X_test.shape == (3, 2, 7)
        assert task.class_names == classes and task.y_train.tolist() == [0, 1, 2, 1, 0, 2]
        np.testing.assert_allclose(task.X_train[1], cases[1], atol=1e-5)  # %.6g in the file
        np.testing.assert_allclose(task.X_train[0, :, 5:], np.repeat(cases[0][:, -1:], 2, axis=1), atol=1e-5)


def test_csv_round_trip_with_a_test_file_and_with_a_seeded_split(tmp_path):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(40, 12)), columns=[f"t{i}" for i in range(12)])
    frame.insert(0, "label", ["b", "a"] * 20)
    frame.iloc[3, 10:] = np.nan  # row 3 is a shorter series
    frame.to_csv(tmp_path / "train.csv", index=False)
    frame.iloc[:10].to_csv(tmp_path / "test.csv", index=False)
    task = load_timeseries_csv(str(tmp_path / "train.csv"), test_path=str(tmp_path / "test.csv"))
    assert task.X_train.shape == (40, 1, 12) and task.X_test.shape == (10, 1, 12)
    assert task.class_names == ["a", "b"] and task.y_train[:2].tolist() == [1, 0]
    np.testing.assert_allclose(task.X_train[3, 0, 9:], frame.iloc[3, 9])  # padded with its last value
    frame.iloc[3, 10:] = 1.0
    frame.to_csv(tmp_path / "all.csv", index=False)  # t0-t5 are channel 0, t6-t11 channel 1
    a, b, c = (load_timeseries_csv(str(tmp_path / "all.csv"), seed=s, n_channels=2) for s in (0, 0, 1))
    assert a.X_train.shape == (30, 2, 6) and a.X_test.shape == (10, 2, 6)
    np.testing.assert_array_equal(a.X_test, b.X_test)
    assert not np.array_equal(a.X_test, c.X_test)
    assert np.bincount(a.y_test).tolist() == [5, 5]  # stratified


def test_ucr_tsv_reads_with_positional_label(tmp_path):
    rows = np.column_stack([[1, 2, 1, 2], np.arange(12.0).reshape(4, 3)])
    np.savetxt(tmp_path / "Toy_TRAIN.tsv", rows, delimiter="\t")
    np.savetxt(tmp_path / "Toy_TEST.tsv", rows, delimiter="\t")
    task = load_timeseries_csv(str(tmp_path / "Toy_TRAIN.tsv"), label_column=0, header=False, sep="\t",
                               test_path=str(tmp_path / "Toy_TEST.tsv"))
    assert task.class_names == ["1.0", "2.0"] and task.X_train[1, 0].tolist() == [3, 4, 5]


# --- failures say where and what -------------------------------------------------------------------

def test_missing_problem_says_where_it_looked_and_how_to_get_it(tmp_path):
    with pytest.raises(DatasetError) as err:
        load_ucr("Coffee", data_dir=str(tmp_path))
    message = str(err.value)
    assert str(tmp_path / "Coffee") in message and "timeseriesclassification.com" in message
    assert "paths.data_dir" in message


def test_bundled_problem_without_aeon_says_pip_install(tmp_path, monkeypatch):
    monkeypatch.setattr(timeseries, "aeon_data_dir", lambda: None)
    with pytest.raises(DatasetError, match="pip install aeon"):
        load_ucr("GunPoint", data_dir=str(tmp_path))


def test_user_data_dir_comes_before_the_bundled_copy(tmp_path):
    cases = [np.full((1, 4), float(i)) for i in range(4)]
    (tmp_path / "GunPoint").mkdir()
    for split in ("TRAIN", "TEST"):
        write_ts(tmp_path / "GunPoint" / f"GunPoint_{split}.ts", cases, ["1", "2", "1", "2"], ["1", "2"])
    task = load_ucr("GunPoint", data_dir=str(tmp_path))
    assert task.X_train.shape == (4, 1, 4) and str(tmp_path) in task.source


def test_ts_file_without_its_test_file(tmp_path):
    write_ts(tmp_path / "Toy_TRAIN.ts", [np.zeros((1, 3)), np.ones((1, 3))], ["a", "b"], ["a", "b"])
    with pytest.raises(DatasetError, match=r"Toy_TEST\.ts does not exist.*test_path="):
        load_ts_file(str(tmp_path / "Toy_TRAIN.ts"))
    with pytest.raises(DatasetError, match="exactly one"):
        load_ts_file(str(tmp_path))


@pytest.mark.parametrize("data_lines,expected", [
    (None, "no @data line"),
    (["1,2,3:a", "1,2,x:b"], r"Toy_TRAIN\.ts:\d+: a value is not a number"),
    (["1,2,3:a", "1,2,3:4,5,6:b"], r"Toy_TRAIN\.ts:\d+: 2 channels where the file has 1"),
    (["1,2,3:a", "1,2,3:c"], r"label 'c' is not among the declared classes"),
    (["1,2,3:a", "1,?,3:b"], r"Toy_TRAIN\.ts:\d+: missing or infinite values"),
    (["1,2,3:a", "1,2,3:a"], "every case .* has the label 'a'; nothing to classify"),
])
def test_malformed_ts_file_names_the_line(tmp_path, data_lines, expected):
    header = ["@problemName Toy", "@univariate true", "@classLabel true a b"]
    body = header if data_lines is None else [*header, "@data", *data_lines]
    (tmp_path / "Toy_TRAIN.ts").write_text("\n".join(body) + "\n")
    (tmp_path / "Toy_TEST.ts").write_text("\n".join([*header, "@data", "1,2,3:a", "1,2,3:b"]) + "\n")
    with pytest.raises(DatasetError, match=expected):
        load_ts_file(str(tmp_path))


def test_csv_failures(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_timeseries_csv(str(tmp_path / "nope.csv"))
    pd.DataFrame({"y": ["a", "a", "a"], "t0": [1.0, 2, 3]}).to_csv(tmp_path / "one.csv", index=False)
    with pytest.raises(DatasetError, match="no column 'label'.*y, t0"):
        load_timeseries_csv(str(tmp_path / "one.csv"))
    with pytest.raises(DatasetError, match="single class"):
        load_timeseries_csv(str(tmp_path / "one.csv"), label_column="y")
    pd.DataFrame({"label": ["a", "b"], "t0": [1.0, np.nan], "t1": [1.0, 2.0]}).to_csv(tmp_path / "gap.csv",
                                                                                    index=False)
    with pytest.raises(DatasetError, match="row 3 has gaps"):
        load_timeseries_csv(str(tmp_path / "gap.csv"), test_path=str(tmp_path / "gap.csv"))


# --- baselines: the archive's published figures ----------------------------------------------------

def errors(est, task) -> int:
    return int((est.fit(task.X_train, task.y_train).predict(task.X_test) != task.y_test).sum())


def test_nn_euclidean_reproduces_the_archive_on_gunpoint(gunpoint):
    from baselines.neighbors import knn

    assert errors(knn(n_neighbors=1, scale=False), gunpoint) == 13  # 13/150 = 0.0867, "ED (w=0)"


def test_nn_dtw_full_window_reproduces_the_archive_on_gunpoint(gunpoint):
    from baselines.timeseries import NearestNeighbourDTW

    assert errors(NearestNeighbourDTW(window=1.0), gunpoint) == 14  # 14/150 = 0.0933, "DTW (w=100)"


def test_nn_dtw_without_warping_is_nn_euclidean(gunpoint):
    from baselines.neighbors import knn
    from baselines.timeseries import NearestNeighbourDTW

    dtw = NearestNeighbourDTW(window=0.0).fit(gunpoint.X_train, gunpoint.y_train).predict(gunpoint.X_test)
    ed = knn(n_neighbors=1, scale=False).fit(gunpoint.X_train, gunpoint.y_train).predict(gunpoint.X_test)
    np.testing.assert_array_equal(dtw, ed)


def test_minirocket_on_gunpoint_is_near_the_paper(gunpoint):
    from baselines.timeseries import minirocket

    # The paper's first (official) split: 0.993; ours with seed 0 should make at most a few errors.
    assert errors(minirocket(random_state=0), gunpoint) <= 3


def test_any_input_reads_as_series():
    from baselines.timeseries import to_series

    images = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)  # (N, C, H, W): 5 columns of 3*4 values
    series = to_series(images)
    assert series.shape == (2, 12, 5) and series[0, :, 0].tolist() == images[0, :, :, 0].ravel().tolist()
    assert to_series(np.ones((4, 6))).shape == (4, 1, 6)
    padded = to_series(np.ones((4, 1, 6)), min_length=9)
    assert padded.shape == (4, 1, 9) and padded[:, :, 6:].sum() == 0


def test_baselines_take_multichannel_series_and_follow_the_contract():
    from baselines.timeseries import NearestNeighbourDTW, minirocket

    task = load_ucr("BasicMotions")
    for est in (NearestNeighbourDTW(window=0.1), minirocket(n_kernels=1000)):
        assert is_classifier(est)
        fitted = clone(est).fit(task.X_train, task.y_train)
        accuracy = float((fitted.predict(task.X_test) == task.y_test).mean())
        assert accuracy >= 0.9, f"{est}: {accuracy}"
    assert "transform__random_state" in minirocket().get_params()  # the runner seeds it
