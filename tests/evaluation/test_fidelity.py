"""Published-figure fidelity: the registry is checked against suites/, and the table sets bench's rows
beside each figure with the difference signed by the metric's direction and the 1.5-point flag."""
from __future__ import annotations

import math

import pandas as pd
import pytest
import yaml

from harness.evaluation.fidelity import (
    FLAG_POINTS,
    REGISTRY,
    PublishedFiguresError,
    fidelity_table,
    load_published,
    not_run_text,
)
from harness.report.sections.fidelity import fidelity_blocks
from suites import CONFIG_DIR

SOURCE = {"citation": "A. Author (2020), A Paper", "table": "Table 1", "read_in": "owner/repo, table.csv at commit abc"}


def entry(**change) -> dict:
    base = {"suite": "sequence", "dataset": "gunpoint", "model": "nn_dtw", "n_train": 50, "metric": "error_rate",
            "figure": 0.0933, "source": "paper", "setting": "1-NN DTW", "bench_setting": "1-NN DTW"}
    return {**base, **change}


def registry_file(tmp_path, figures: list[dict], sources: dict | None = None):
    path = tmp_path / "published_figures.yaml"
    path.write_text(yaml.safe_dump({"sources": {"paper": SOURCE} if sources is None else sources, "figures": figures}))
    return path


def rows(dataset: str, model: str, n_train: int, values: list[float], column: str = "accuracy", suite: str = "sequence",
         **extra) -> pd.DataFrame:
    return pd.DataFrame({"suite": suite, "dataset": dataset, "model": model, "n_train": n_train, "seed": range(len(values)),
                         "variant": "", "tuned": False, "status": "ok", column: values, **extra})


def test_the_committed_registry_names_only_what_suites_run():
    table = load_published()
    assert len(table) >= 20 and not table.duplicated(["suite", "dataset", "model"]).any()
    for group in ("suite", "dataset", "model"):
        assert all((CONFIG_DIR / group / f"{name}.yaml").is_file() for name in table[group])
    assert table["citation"].str.len().gt(0).all() and table["read_in"].str.len().gt(0).all()
    assert "/work/" not in REGISTRY.read_text() and "/tmp/" not in REGISTRY.read_text()


@pytest.mark.parametrize("change, says", [
    ({"model": "nn_banana"}, "no model named nn_banana"),
    ({"dataset": "mnist60k"}, "no dataset named mnist60k"),
    ({"model": "cnn"}, "suite sequence runs no model cnn"),            # a model bench has, not in this suite
    ({"dataset": "fashion_mnist"}, "suite sequence runs no dataset fashion_mnist"),
    ({"metric": "f1"}, "metric 'f1' is not one of"),
    ({"figure": 93.3}, "is not a fraction"),
    ({"metric": "mean_return", "figure": 500.0}, "needs return_range"),
    ({"n_train": 0}, "n_train must be a positive"),
    ({"source": "another_paper"}, "source 'another_paper' is not among"),
    ({"setting": ""}, "missing setting"),
])
def test_the_loader_names_each_fault(tmp_path, change, says):
    with pytest.raises(PublishedFiguresError, match=says):
        load_published(registry_file(tmp_path, [entry(**change)]))


def test_the_loader_rejects_a_figure_listed_twice_and_a_source_without_citation(tmp_path):
    with pytest.raises(PublishedFiguresError, match="appears 2 times"):
        load_published(registry_file(tmp_path, [entry(), entry(figure=0.1)]))
    with pytest.raises(PublishedFiguresError, match="source paper: missing citation"):
        load_published(registry_file(tmp_path, [entry()], {"paper": {**SOURCE, "citation": ""}}))


def test_a_profile_only_dataset_is_accepted(tmp_path):
    """OSULeaf runs only in profile=full: its figure belongs in the registry all the same."""
    assert load_published(registry_file(tmp_path, [entry(dataset="osuleaf", n_train=200)]))["dataset"].tolist() == ["osuleaf"]


@pytest.fixture
def registry(tmp_path):
    return load_published(registry_file(tmp_path, [
        entry(),                                                                   # error rate 0.0933
        entry(model="minirocket", metric="accuracy", figure=0.90),
        entry(dataset="italy_power_demand", model="nn_euclidean", n_train=67, figure=0.0447),
        entry(suite="rl", dataset="acrobot", model="dqn", n_train=100000, metric="mean_return", figure=-80.0,
              return_range=[-500, 0]),
    ]))


def by_model(table: pd.DataFrame) -> dict:
    return {r["model"]: r for _, r in table.iterrows()}


def test_accuracy_below_by_more_than_the_margin_is_flagged_and_within_it_is_not(registry):
    flagged = by_model(fidelity_table(rows("gunpoint", "minirocket", 50, [0.88, 0.88]), registry))["minirocket"]
    assert flagged["flag"] and flagged["difference_points"] == pytest.approx(-2.0)
    assert flagged["bench_mean"] == pytest.approx(0.88) and flagged["n_seeds"] == 2 and flagged["bench_std"] == 0.0
    close = by_model(fidelity_table(rows("gunpoint", "minirocket", 50, [0.89, 0.88]), registry))["minirocket"]
    assert not close["flag"] and close["difference_points"] == pytest.approx(-1.5)  # at the margin: not more than it
    assert close["bench_std"] == pytest.approx(pd.Series([0.89, 0.88]).std())


def test_an_error_rate_is_compared_the_other_way_round(registry):
    """Bench's accuracy 0.88 is an error of 0.12, 2.67 points above the published 0.0933: worse, flagged;
    accuracy 0.95 is an error 4.3 points below it: better, a positive difference."""
    worse = by_model(fidelity_table(rows("gunpoint", "nn_dtw", 50, [0.88]), registry))["nn_dtw"]
    assert worse["flag"] and worse["difference_points"] == pytest.approx(-(0.12 - 0.0933) * 100)
    better = by_model(fidelity_table(rows("gunpoint", "nn_dtw", 50, [0.95]), registry))["nn_dtw"]
    assert not better["flag"] and better["difference_points"] == pytest.approx((0.0933 - 0.05) * 100)
    assert math.isnan(better["bench_std"]) and better["n_seeds"] == 1


def test_a_return_is_in_points_of_its_range(registry):
    """-100 against -80 on a range of 500 is 4 points below; -85 is 1 point below."""
    table = fidelity_table(rows("acrobot", "dqn", 100000, [-100.0], "mean_return", suite="rl"), registry)
    assert by_model(table)["dqn"]["difference_points"] == pytest.approx(-4.0) and by_model(table)["dqn"]["flag"]
    table = fidelity_table(rows("acrobot", "dqn", 100000, [-85.0], "mean_return", suite="rl"), registry)
    assert by_model(table)["dqn"]["difference_points"] == pytest.approx(-1.0) and not by_model(table)["dqn"]["flag"]


def test_only_default_untuned_finished_rows_at_the_figures_training_size_count(registry):
    other = pd.concat([rows("gunpoint", "minirocket", 25, [0.5]),                 # another training size
                       rows("gunpoint", "minirocket", 50, [0.5], variant="long"),  # a variant
                       rows("gunpoint", "minirocket", 50, [0.5], tuned=True),      # tuned
                       rows("gunpoint", "minirocket", 50, [0.5], status="error"),
                       rows("gunpoint", "minirocket", 50, [0.5], suite="depth")], ignore_index=True)
    table = fidelity_table(other, registry)
    assert (table["status"] == "not run").all() and not table["flag"].any() and (table["n_seeds"] == 0).all()
    assert len(table) == len(registry)
    minirocket = by_model(table)["minirocket"]  # its curve ran to 25 of the figure's 50 examples
    assert minirocket["largest_run"] == 25 and not_run_text(minirocket["largest_run"]) == "not run (its curve stops at n = 25)"
    assert not_run_text(by_model(table)["nn_dtw"]["largest_run"]) == "not run"


def test_the_section_appears_only_where_rows_reach_a_figure(registry, monkeypatch):
    import harness.report.sections.fidelity as section

    monkeypatch.setattr(section, "fidelity_table", lambda d: fidelity_table(d, registry))
    assert fidelity_blocks(rows("gunpoint", "minirocket", 25, [0.5])) == []
    blocks = fidelity_blocks(rows("gunpoint", "minirocket", 50, [0.88]))
    text = "\n".join(b.md() + b.html() for b in blocks)
    assert "Published-figure fidelity" in text and f"more than {FLAG_POINTS} points below" in text
    assert "minirocket on gunpoint" in text and "-2.00" in text and "not run" in text
    assert "acrobot" not in text  # the rl figures stay out of a sequence report


def test_a_flagged_baseline_says_whether_its_second_implementation_closes_the_gap(registry):
    """bench's DQN 4 points below the figure: its guard (suites/guards.yaml: dqn_sb3) below too reads as a
    gap both share; the guard at the figure reads as bench's own implementation being the weaker one."""
    from harness.evaluation.fidelity import second_implementation_text

    ours = rows("acrobot", "dqn", 100000, [-100.0, -110.0], "mean_return", suite="rl")
    shared = fidelity_table(pd.concat([ours, rows("acrobot", "dqn_sb3", 100000, [-95.0, -105.0], "mean_return",
                                                  suite="rl")], ignore_index=True), registry)
    (r,) = [r for r in shared.itertuples() if r.model == "dqn"]
    assert r.second_model == "dqn_sb3" and r.second_difference_points == pytest.approx(-4.0)
    text = second_implementation_text(r)
    assert "seeds from -110.0 to -100.0" in text and "below the figure too" in text
    mine_only = fidelity_table(pd.concat([ours, rows("acrobot", "dqn_sb3", 100000, [-80.0, -80.0], "mean_return",
                                                     suite="rl")], ignore_index=True), registry)
    (r,) = [r for r in mine_only.itertuples() if r.model == "dqn"]
    assert "bench's own implementation is the weaker one" in second_implementation_text(r)
    (r,) = [r for r in fidelity_table(ours, registry).itertuples() if r.model == "dqn"]
    assert "No second implementation" in second_implementation_text(r)
    (r,) = [r for r in fidelity_table(rows("acrobot", "dqn", 100000, [-80.0], "mean_return", suite="rl"),
                                      registry).itertuples() if r.model == "dqn"]
    assert second_implementation_text(r) == ""  # not flagged: nothing to explain

