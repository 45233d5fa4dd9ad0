"""The config tree: every file composes and instantiates; every mistake is one line naming the fix."""
from __future__ import annotations

import inspect
import re

import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf
from sklearn.base import is_classifier

from harness.cli import main
from harness.core.config import (
    GROUPS,
    SCOPED,
    ConfigError,
    compose_config,
    group_options,
    resolve_plan,
    suite_choices,
    validate_overrides,
)
from harness.core.memo import composed_once
from harness.core.tuning import check_space
from suites import CONFIG_DIR

NEEDS_PATH = {"idx", "image_folder", "ts_file", "timeseries_csv",
              "imdb_folder", "text_csv", "hf_text", "table_file"}  # dataset files whose load.path is ??? (the user's folder)
CONFIG_FILES = [(g, n) for g in GROUPS for n in group_options(g)]


def test_the_folder_is_the_registry():
    # A group whose folder is empty would silently make every choice of it "unknown".
    for group in GROUPS:
        assert group_options(group), f"no {group} configs in {CONFIG_DIR / group}"
    assert set(group_options("model")) >= {"perceptron", "mlp", "cnn", "resnet", "random_forest"}


@pytest.mark.parametrize("group,name", [c for c in CONFIG_FILES if not (c[0] == "dataset" and c[1] in NEEDS_PATH)],
                         ids=lambda v: str(v))
def test_every_config_file_composes_and_resolves(group, name):
    validate_overrides([f"{group}={name}"])
    cfg = compose_config([f"{group}={name}"])
    plan = resolve_plan(cfg)
    assert plan.datasets and plan.models and plan.seeds
    if group == "suite":
        assert plan.suite == OmegaConf.load(CONFIG_DIR / "suite" / f"{name}.yaml").name
    if group == "dataset":
        assert list(plan.datasets) == [name]
    if group == "model":
        # one model, or its variants when the suite declares some (model[key=value])
        assert {k.split("[")[0] for k in plan.models} == {name}
        assert OmegaConf.to_container(plan.models[next(iter(plan.models))], resolve=True)  # no dangling ${...}
    if group == "profile":
        assert plan.seeds == list(cfg.profile.seeds)


@pytest.mark.parametrize("name", sorted(NEEDS_PATH))
def test_dataset_that_needs_a_path_says_which_key(name):
    with pytest.raises(ConfigError) as err:
        validate_overrides([f"dataset={name}"])
    message = str(err.value)
    assert "\n" not in message
    assert name in message and "dataset.load.path=" in message
    # ... and composes once the path is given
    validate_overrides([f"dataset={name}", "dataset.load.path=/some/folder"])


@pytest.mark.parametrize("name", group_options("model"))
def test_every_model_config_instantiates(name):
    cfg = compose_config([f"model={name}", "profile=smoke"])
    est = instantiate(cfg.model.estimator, _convert_="all")
    assert callable(est.fit)
    assert callable(getattr(est, "sample" if cfg.model.get("task") == "generation" else "predict", None))
    assert est.get_params(deep=True)
    assert cfg.model.name == name, "the name in the file must be the name of the file"
    assert cfg.model.family in ("classical", "deep")
    if cfg.model.get("task") == "language_model":  # texts in, bits per text out (harness/deep/charlm.py)
        assert not is_classifier(est) and callable(est.diagnostics)
    elif cfg.model.get("task") == "generation":  # images in, images out (harness/deep/generative.py)
        assert not is_classifier(est) and "random_state" in est.get_params() and "conditional" in est.get_params()
    elif "control" in str(cfg.model.get("task")):  # an environment in, greedy actions out (harness/deep/rl.py)
        assert not is_classifier(est) and "random_state" in est.get_params() and "env_params" in est.get_params()
    elif cfg.model.get("task") in ("reconstruction", "anomaly"):  # reconstructions or anomaly scores out
        assert not is_classifier(est)
        if cfg.model.family == "deep":
            assert est.max_epochs == cfg.profile.max_epochs and est.patience == cfg.profile.patience
    else:
        kinds = cfg.model.get("task") or ["classification"]
        if "regression" in ([kinds] if isinstance(kinds, str) else list(kinds)):  # a table model (harness/deep/tabular.py)
            assert callable(est.predict) and not hasattr(est, "classes_")
        else:
            assert is_classifier(est), f"{name} is not a scikit-learn classifier"
        if cfg.model.family == "deep" and "max_epochs" in est.get_params():
            assert est.max_epochs == cfg.profile.max_epochs and est.patience == cfg.profile.patience
    # the declared search grid and random-search space name real parameters of the estimator
    # (`param.key`: a key inside a dict parameter, harness/core/tuning.py)
    for key in [*(cfg.model.get("search") or {}), *(cfg.model.get("random_search") or {})]:
        assert key.split(".")[0] in est.get_params(deep=True), f"{name}: search key {key} is not a parameter"
    if cfg.model.get("random_search"):
        check_space(OmegaConf.to_container(cfg.model.random_search))


@pytest.mark.parametrize("name", group_options("dataset"))
def test_every_dataset_config_instantiates(name):
    overrides = [f"dataset={name}"] + (["dataset.load.path=/some/folder"] if name in NEEDS_PATH else [])
    cfg = compose_config(overrides)
    assert cfg.dataset.name == name
    loader = instantiate(cfg.dataset.load, _partial_=True, _convert_="all")
    # The runner calls load(seed=...): the file's arguments plus the seed must bind (nothing is read yet).
    inspect.signature(loader.func).bind(*loader.args, **loader.keywords, seed=0)


def test_suite_lists_name_existing_files():
    for suite in group_options("suite"):
        node = OmegaConf.load(CONFIG_DIR / "suite" / f"{suite}.yaml")
        assert set(node.datasets) <= set(group_options("dataset"))
        assert set(node.models) <= set(group_options("model"))
        for tweaks in (node.get("profiles") or {}).values():
            assert set(tweaks.get("datasets", [])) <= set(group_options("dataset"))
            assert set(tweaks.get("models", [])) <= set(group_options("model"))


@pytest.mark.parametrize("group", ["suite", "model", "dataset", "profile", "hardware", "scaling"])
def test_unknown_choice_lists_the_valid_names(group):
    """Every name of a small group; for a model or dataset, the suite's own (the default suite here),
    not all ninety."""
    with pytest.raises(ConfigError) as err:
        validate_overrides([f"{group}=nope"])
    message = str(err.value)
    assert "'nope'" in message and "\n" not in message
    names = suite_choices("vision", group) if group in SCOPED else group_options(group)
    for name in names:
        assert name in message
    if group in SCOPED:
        assert "suite vision" in message and not {"ddpm", "cartpole"} & set(re.findall(r"\w+", message))


def test_unknown_key_names_the_top_level_keys():
    with pytest.raises(ConfigError) as err:
        validate_overrides(["epochs=3"])
    message = str(err.value)
    assert "epochs" in message and "\n" not in message
    for key in ("seed", "paths", "suite", "profile", "hardware", "scaling"):
        assert key in message
    assert "+key=value" in message


@pytest.mark.parametrize("override,key", [
    ("tune=maybe", "tune"),
    ("tune=1", "tune"),
    ("seed=a", "seed"),
    ("seed=-1", "seed"),
    ("seed=1.5", "seed"),
    ("seed=true", "seed"),
    ("profile.max_train=-5", "profile.max_train"),
    ("profile.max_test=0", "profile.max_test"),
    ("profile.max_epochs=0", "profile.max_epochs"),
    ("profile.patience=-1", "profile.patience"),
    ("profile.seeds=[0,-1]", "profile.seeds"),
    ("time_limit=-1", "time_limit"),
    ("time_limit=soon", "time_limit"),
    ("hardware.threads=0", "hardware.threads"),
])
def test_wrong_type_or_negative_size_is_rejected(override, key):
    with pytest.raises(ConfigError) as err:
        validate_overrides([override])
    message = str(err.value)
    assert message.startswith(key) and "\n" not in message


@pytest.mark.parametrize("override", ["seed=3", "tune=true", "profile.max_train=null", "time_limit=10.5",
                                      "hardware.threads=1", "profile.seeds=[0,1]"])
def test_valid_values_pass(override):
    validate_overrides([override])


@pytest.mark.parametrize("overrides,culprit", [
    (["model=cnn,nope"], "'nope'"),
    (["dataset=digits,nope"], "'nope'"),
    (["seed=0,a"], "seed"),  # the second job's value, not only the first, is checked
    (["seed=0,1", "profile.max_train=100,-5"], "profile.max_train"),
    (["model=mlp,cnn", "tune=false,maybe"], "tune"),
])
def test_every_sweep_value_is_checked_before_any_job(overrides, culprit):
    with pytest.raises(ConfigError) as err:
        validate_overrides(overrides)
    assert culprit in str(err.value)


def test_valid_sweep_passes():
    validate_overrides(["model=mlp,cnn", "seed=0,1,2", "profile=smoke,default"])


def test_restrictions_pick_one_dataset_model_and_seed():
    plan = resolve_plan(compose_config(["dataset=digits", "model=knn", "seed=7"]))
    assert list(plan.datasets) == ["digits"] and list(plan.models) == ["knn"] and plan.seeds == [7]
    plan = resolve_plan(compose_config(["profile=full"]))
    assert "fashion_mnist" in plan.datasets and plan.seeds == [0, 1, 2, 3, 4]
    plan = resolve_plan(compose_config(["scaling=on"]))
    assert plan.seeds == [0, 1, 2]


def test_model_options_reach_the_estimator():
    plan = resolve_plan(compose_config(["model=mlp", "profile=smoke", "model.estimator.lr=0.5"]))
    est = OmegaConf.to_container(plan.models["mlp"].estimator, resolve=True)
    assert est["lr"] == 0.5 and est["max_epochs"] == 2


def test_suite_overrides_apply_to_a_chosen_model():
    # The depth suite fixes every network's budget; `model=resnet` must keep that budget (it used to
    # fail with "Key 'name' is not in struct").
    plan = resolve_plan(compose_config(["suite=depth", "model=resnet"]))
    assert list(plan.models) == [f"resnet[depth={d}]" for d in (1, 4, 12, 24)]
    for node in plan.models.values():
        est = OmegaConf.to_container(node.estimator, resolve=True)
        assert est["max_epochs"] == 15 and est["patience"] == 0 and est["val_fraction"] == 0.0
    smoke = resolve_plan(compose_config(["suite=depth", "model=resnet", "profile=smoke"]))  # the profile's on top
    assert {OmegaConf.to_container(n.estimator, resolve=True)["max_epochs"] for n in smoke.models.values()} == {5}
    listed = resolve_plan(compose_config(["suite=depth"]))
    assert (OmegaConf.to_container(listed.models["resnet[depth=4]"], resolve=True)
            == OmegaConf.to_container(plan.models["resnet[depth=4]"], resolve=True))
    plan = resolve_plan(compose_config(["model=mlp", "profile=smoke", "++suite.overrides.mlp.estimator.lr=0.25"]))
    assert plan.models["mlp"].estimator.lr == 0.25 and plan.models["mlp"].estimator.max_epochs == 2


def test_a_profile_overrides_model_settings_only_in_that_profile():
    # memory.yaml: every model gets budget_seconds 20 and max_steps 3000; profile=full raises both
    default = resolve_plan(compose_config(["suite=memory", "profile=default"]))
    full = resolve_plan(compose_config(["suite=memory", "profile=full"]))
    for name in ("rnn", "transformer"):
        d, f = (OmegaConf.to_container(p.models[name].estimator, resolve=True) for p in (default, full))
        assert (d["budget_seconds"], d["max_steps"]) == (20, 3000)
        assert (f["budget_seconds"], f["max_steps"]) == (600, 10000)
        assert d["module_params"]["pooling"] == f["module_params"]["pooling"] == "last"  # the rest is kept
    chosen = resolve_plan(compose_config(["suite=memory", "profile=full", "model=lstm"]))
    assert chosen.models["lstm"].estimator.budget_seconds == 600


@pytest.mark.parametrize("overrides,words", [
    (["model=nope"], ["unknown model 'nope'", "cnn", "random_forest"]),
    (["suite=nope"], ["unknown suite", "vision"]),
    (["epochs=3"], ["epochs", "top-level keys"]),
    (["tune=maybe"], ["tune must be bool"]),
    (["profile.max_train=-5"], ["profile.max_train must be at least"]),
    (["seed=a"], ["seed must be int"]),
    (["dataset=idx"], ["dataset.load.path="]),
    (["-m", "model=cnn,nope"], ["unknown model 'nope'"]),
    (["-m", "seed=0,a"], ["seed must be int"]),
    (["model=cnn model=mlp"], ["cannot parse"]),
])
def test_cli_bad_input_is_exit_2_and_one_line(overrides, words, capsys, monkeypatch, tmp_results):
    monkeypatch.setenv("COLUMNS", "1000")  # rich wraps at the console width; one line means one line
    code = main(["run", *overrides, f"paths.results={tmp_results}"])
    out, err = capsys.readouterr()
    lines = [line for line in (out + err).splitlines() if line.strip()]
    assert code == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith("error:")
    assert "Traceback" not in out + err
    for w in words:
        assert w in lines[0]
    assert not tmp_results.exists(), "bad input must not start a run"


def test_a_key_inside_a_swept_group_is_refused_before_any_job():
    """Hydra composes the un-swept overrides first, where model.estimator does not exist yet."""
    with pytest.raises(ConfigError, match="swept|sweeps"):
        validate_overrides(["model=mlp,cnn", "model.estimator.lr=0.1"])


def test_one_command_composes_each_override_list_and_plan_once_and_hands_out_copies(monkeypatch):
    from harness.core import config

    made = {"compose": 0, "plan": 0}
    real_plan = config.plan_of
    monkeypatch.setattr(config, "plan_of", lambda cfg: made.__setitem__("plan", made["plan"] + 1) or real_plan(cfg))
    real_compose = config.compose

    def counting_compose(**kw):
        made["compose"] += 1
        return real_compose(**kw)

    monkeypatch.setattr(config, "compose", counting_compose)
    with composed_once():
        a = compose_config(["suite=vision", "profile=smoke"])
        a.profile.name = "changed"  # a caller's change stays its own
        b = compose_config(["suite=vision", "profile=smoke"])
        assert b.profile.name == "smoke" and made["compose"] == 1
        first, second = resolve_plan(b), resolve_plan(compose_config(["suite=vision", "profile=smoke"]))
        assert made["plan"] == 1 and first is not second and list(first.models) == list(second.models)
        with pytest.raises(ConfigError):  # a failure is raised every time, never remembered as a config
            validate_overrides(["suite=vision", "model=nope"])
        with pytest.raises(ConfigError):
            validate_overrides(["suite=vision", "model=nope"])
    compose_config(["suite=vision", "profile=smoke"])  # outside: composed afresh
    assert made["compose"] == 2

