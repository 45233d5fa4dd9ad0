"""`bench run suite=all`: every suite of suites/all.yaml, one stamp, one combined report."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from harness import all_suites, app
from harness.cli import main
from harness.core.config import ConfigError, group_options
from harness.results.store import ResultsError, load_results, run_folders


def write_members(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "all.yaml"
    path.write_text(text)
    return path


def test_every_suite_is_a_member_so_none_misses_the_scorecard():
    members = all_suites.load_members()
    assert [m.suite for m in members if m.suite in group_options("suite")] == [m.suite for m in members]
    assert {m.suite for m in members} == set(group_options("suite"))
    vision = next(m for m in members if m.suite == "vision")
    # the learning curves (T1, D2, D3) and interpretability (T7) the claims read
    assert {"scaling=on", "interpret=on"} <= set(vision.overrides)


def test_an_unknown_or_repeated_member_is_a_config_error_naming_the_suites(tmp_path):
    with pytest.raises(ConfigError, match="unknown suite 'visoin'.*vision"):
        all_suites.load_members(write_members(tmp_path, "members: [{suite: visoin}]"))
    with pytest.raises(ConfigError, match="'text' is a member twice"):
        all_suites.load_members(write_members(tmp_path, "members: [text, {suite: text}]"))
    with pytest.raises(ConfigError, match="needs `members:`"):
        all_suites.load_members(write_members(tmp_path, "description: none"))


@pytest.mark.parametrize("override", ["model=cnn", "dataset=digits", "suite=all,vision"])
def test_per_suite_choices_are_bad_input_before_anything_runs(override, tmp_results, capsys):
    args = ["suite=all", override] if not override.startswith("suite") else [override]
    assert main(["run", *args, f"paths.results={tmp_results}"]) == 2
    err = capsys.readouterr().err
    assert "error" in err and "suite=" in err
    assert not (tmp_results / "all").exists()


def test_a_bad_override_for_any_member_stops_the_run_before_any_member_runs(tmp_results, monkeypatch):
    calls = fake_members(monkeypatch, {})
    assert app.run(["suite=all", "profile=smok", f"paths.results={tmp_results}"]) == 2
    assert not calls and not (tmp_results / "all").exists()


def fake_members(monkeypatch, codes: dict[str, int]) -> list[tuple[list[str], str]]:
    """Replace each member's run with one that records its overrides and stamp and returns `codes`."""
    calls = []
    real_run = app.run

    def run(overrides, *, force=False, split=None, stamp=None, report=True):
        if stamp is None:  # the outer `suite=all` call
            return real_run(overrides, force=force, split=split)
        assert not report  # suite=all writes the members' reports itself, side by side, after the last
        calls.append((list(overrides), stamp))
        suite = overrides[0].split("=", 1)[1]
        results = Path(next(o for o in overrides if o.startswith("paths.results=")).split("=", 1)[1])
        (results / suite / stamp / "cells").mkdir(parents=True)
        return codes.get(suite, 0)

    monkeypatch.setattr(app, "run", run)
    return calls


def test_members_share_one_stamp_and_take_the_users_overrides_before_their_own(tmp_path, tmp_results, monkeypatch):
    members = write_members(tmp_path, "members: [{suite: vision, overrides: [scaling=on]}, {suite: text}, rl]")
    monkeypatch.setattr(all_suites, "MEMBERS_FILE", members)
    calls = fake_members(monkeypatch, {"text": 1})
    code = app.run(["suite=all", "profile=smoke", f"paths.results={tmp_results}"])
    assert code == 1  # the worst member's
    assert [c[0][0] for c in calls] == ["suite=vision", "suite=text", "suite=rl"]
    assert calls[0][0][1:] == ["profile=smoke", f"paths.results={tmp_results}", "scaling=on"]
    stamp = calls[0][1]
    assert {c[1] for c in calls} == {stamp}
    index = json.loads((tmp_results / "all" / stamp / "all.json").read_text())
    assert [(m["suite"], m["exit_code"], m["folder"]) for m in index["members"]] == [
        ("vision", 0, f"vision/{stamp}"), ("text", 1, f"text/{stamp}"), ("rl", 0, f"rl/{stamp}")]
    assert index["ended"] is not None and index["overrides"] == ["profile=smoke", f"paths.results={tmp_results}"]
    # bench report / bench claims given the all folder read the members' run folders
    assert run_folders(tmp_results / "all" / stamp) == [tmp_results / s / stamp for s in ("vision", "text", "rl")]


def test_an_interrupted_member_stops_the_rest_and_keeps_what_finished(tmp_path, tmp_results, monkeypatch):
    monkeypatch.setattr(all_suites, "MEMBERS_FILE", write_members(tmp_path, "members: [vision, text, rl]"))
    calls = fake_members(monkeypatch, {"text": 130})
    assert app.run(["suite=all", f"paths.results={tmp_results}"]) == 130
    assert [c[0][0] for c in calls] == ["suite=vision", "suite=text"]
    stamp = calls[0][1]
    index = json.loads((tmp_results / "all" / stamp / "all.json").read_text())
    assert [m["suite"] for m in index["members"]] == ["vision", "text"]


def test_an_all_folder_whose_members_are_gone_is_a_results_error(tmp_path):
    folder = tmp_path / "all" / "stamp"
    folder.mkdir(parents=True)
    (folder / "all.json").write_text(json.dumps({"members": [{"suite": "vision", "folder": "vision/stamp"}]}))
    with pytest.raises(ResultsError, match="names no run folder"):
        run_folders(folder)
    (folder / "all.json").write_text("{not json")
    with pytest.raises(ResultsError, match="cannot read"):
        run_folders(folder)


def test_two_real_members_give_one_report_over_both(tmp_path, tmp_results, monkeypatch):
    """End to end: two small members run for real; the combined report and scorecard read both."""
    members = write_members(tmp_path, """
members:
  - {suite: foundations, overrides: [dataset=xor, model=perceptron]}
  - {suite: vision, overrides: [dataset=digits, model=gaussian_nb, scaling=on, "scaling.sizes=[50,100]",
                                interpret=on, interpret.sizes=largest, interpret.sample=20,
                                interpret.surrogate_points=40]}
""")
    monkeypatch.setattr(all_suites, "MEMBERS_FILE", members)
    code = main(["run", "suite=all", "profile=smoke", "seed=0", "hardware.threads=1", f"paths.results={tmp_results}"])
    assert code == 0
    (out,) = list((tmp_results / "all").iterdir())
    assert (out / "report.md").is_file() and (out / "report.html").is_file()
    for suite in ("foundations", "vision"):  # each member's own report too, written beside the combined one
        member = tmp_results / suite / out.name
        assert (member / "report.md").is_file() and (member / "report.html").is_file()
        assert "report:" in (member / "bench.log").read_text()
    df = load_results([out])
    assert set(df["suite"]) == {"foundations", "vision"}
    vision = df[df["suite"] == "vision"].sort_values("n_train")
    assert list(vision["n_train"]) == [50, 100]
    # interpret.sizes=largest: only the full point of the learning curve was interpreted
    assert pd.isna(vision["interp_fidelity_tree3"].iloc[0]) and pd.notna(vision["interp_fidelity_tree3"].iloc[1])
    assert main(["claims", str(out)]) == 0
