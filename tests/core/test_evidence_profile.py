"""profile=evidence: what each suite changes for the scorecard, and the mechanisms it uses (a profile's
own variants and size caps, a model's own tuning budget, per-profile overrides of suite=all's members)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from omegaconf import OmegaConf

from harness import all_suites
from harness.core.config import ConfigError, compose_config, group_options, resolve_plan
from harness.core.runner import Runner


@pytest.mark.parametrize("suite", group_options("suite"))
def test_every_suite_runs_at_least_three_seeds_on_every_dataset(suite):
    plan = resolve_plan(compose_config([f"suite={suite}", "profile=evidence"]))
    assert plan.datasets, suite
    assert all(len(plan.seeds_for(name)) >= 3 for name in plan.datasets), {
        name: plan.seeds_for(name) for name in plan.datasets}


def test_vision_reaches_all_of_fashion_mnist_with_the_classical_models_but_the_kernel_svm_and_the_cnn():
    plan = resolve_plan(compose_config(["suite=vision", "profile=evidence", "scaling=on"]))
    assert "fashion_mnist" in plan.datasets
    assert plan.size_caps["resnet"] < 60000 and "cnn" not in plan.size_caps
    # the kernel method stops where it stops being practical (its cost grows with the square of n)
    assert plan.size_caps["rbf_svm"] == 15000
    classical = [n for n, m in plan.models.items() if m.get("family") == "classical" and n != "rbf_svm"]
    assert "hist_gradient_boosting" in classical and not set(classical) & set(plan.size_caps)


def test_the_tuning_budget_is_an_axis_of_the_tabular_evidence():
    plan = resolve_plan(compose_config(["suite=tabular", "profile=evidence"]))
    budgets = {name: node.get("n_configs") for name, node in plan.models.items()}
    assert {budgets[f"random_forest[n_configs={n}]"] for n in (1, 4, 16)} == {1, 4, 16}
    assert {n for name, n in budgets.items() if name.startswith("ft_transformer[")} == {1, 4}
    # the default profile is untouched: one entry per model, the suite's budget
    default = resolve_plan(compose_config(["suite=tabular", "profile=default"]))
    assert "random_forest" in default.models and not any("[" in name for name in default.models)


def test_a_models_own_budget_wins_over_the_runs():
    runner = SimpleNamespace(n_configs=3)
    assert Runner.budget_of(runner, OmegaConf.create({"name": "rf"})) == 3
    assert Runner.budget_of(runner, OmegaConf.create({"name": "rf", "n_configs": 16})) == 16


def add_smoke_tweak(root, suite: str, text: str) -> None:
    path = root / "suite" / f"{suite}.yaml"
    lines = path.read_text().splitlines(keepends=True)
    smoke = [i for i, line in enumerate(lines) if line.startswith("  smoke:")]
    if smoke:  # the suite has a smoke block: the tweak goes first in it
        lines.insert(smoke[0] + 1, text)
    else:
        if "profiles:\n" not in lines:
            lines.append("profiles:\n")
        lines.insert(lines.index("profiles:\n") + 1, "  smoke:\n" + text)
    path.write_text("".join(lines))


@pytest.mark.parametrize("cap", [0, -5, "big", True])
def test_a_size_cap_that_is_not_a_positive_count_is_a_config_error(config_copy, cap):
    add_smoke_tweak(config_copy, "vision", f"    size_caps: {{knn: {str(cap).lower() if cap is True else cap}}}\n")
    with pytest.raises(ConfigError, match="size_caps of knn must be a positive number"):
        resolve_plan(compose_config(["suite=vision", "profile=smoke"]))


def test_a_capped_model_stops_in_the_learning_curve_and_the_others_go_on(config_copy, monkeypatch, run_bench):
    import suites

    add_smoke_tweak(config_copy, "vision", "    size_caps: {knn: 60}\n")
    monkeypatch.setattr(suites, "CONFIG_DIR", config_copy)
    code, folder = run_bench("suite=vision", "profile=smoke", "dataset=digits", "suite.models=[knn,gaussian_nb]",
                             "scaling=on", "scaling.sizes=[40,120]", "scaling.seeds=[0]", "isolation=none")
    assert code == 0
    import pandas as pd

    rows = pd.read_parquet(folder / "results.parquet")
    sizes = rows.groupby("model")["n_train"].apply(lambda s: sorted(set(s))).to_dict()
    assert sizes == {"knn": [40], "gaussian_nb": [40, 120]}


def test_a_members_profile_overrides_apply_under_that_profile_only(tmp_path):
    path = tmp_path / "all.yaml"
    path.write_text("members:\n  - {suite: tabular, overrides: [tune=true], profiles: {evidence: [interpret=on]}}\n")
    (member,) = all_suites.load_members(path)
    assert member.overrides_for("evidence") == ["tune=true", "interpret=on"]
    assert member.overrides_for("default") == ["tune=true"]
    path.write_text("members:\n  - {suite: tabular, profiles: {evidense: [interpret=on]}}\n")
    with pytest.raises(ConfigError, match="unknown profiles \\['evidense'\\]"):
        all_suites.load_members(path)
    path.write_text("members:\n  - {suite: tabular, profiles: {evidence: interpret=on}}\n")
    with pytest.raises(ConfigError, match="must map a profile name to a list"):
        all_suites.load_members(path)


def test_suite_all_under_evidence_gives_tabular_its_interpretability():
    tabular = next(m for m in all_suites.load_members() if m.suite == "tabular")
    assert "interpret=on" in tabular.overrides_for("evidence")


def test_a_profiles_dataset_models_replace_the_suites_for_the_datasets_it_names():
    evidence = resolve_plan(compose_config(["suite=rl", "profile=evidence"]))
    assert "dqn_sb3" in {m.name for m in evidence.models_for("cartpole")}
    assert "dqn_sb3" not in {m.name for m in evidence.models_for("acrobot")}
    full = resolve_plan(compose_config(["suite=rl", "profile=full"]))
    assert "dqn_sb3" in {m.name for m in full.models_for("acrobot")}


def test_the_guards_run_in_the_evidence_beside_the_models_they_guard():
    tabular = resolve_plan(compose_config(["suite=tabular", "profile=evidence"]))
    assert {"ft_transformer_rtdl", "resnet_rtdl"} <= set(tabular.models)
    # the second FT-Transformer searches the same narrowed space as bench's own
    assert (tabular.models["ft_transformer_rtdl"].random_search == tabular.models["ft_transformer[n_configs=1]"].random_search)
