"""What a suite file (suites/suite/NAME.yaml) may say: every key, once, with what it does.

`Suite` is the schema; `validate_suite` checks a suite node against it, so that a misspelt key is
an error that names the suite, its file, the key, the nearest valid key and all of them, instead of
a setting silently ignored. bench validates the composed `cfg.suite` (file plus overrides) when it
resolves the plan (harness/core/config.py), so the check holds for every job of a sweep.

The schema is also registered with Hydra's ConfigStore as `schema/suite`: a config may name it in
its defaults list (`defaults: [/schema/suite@_here_, _self_]`) to have Hydra check it while it
composes. bench's suite files do not: Hydra would then fill every key a suite leaves out into the
composed config and refuse to add a profile from the command line (`+suite.profiles.smoke.datasets=`).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Dict, List, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from harness.core.memo import memoized


@dataclass
class SuiteProfile:
    """What a suite changes under one profile (`profiles: {smoke: {...}}`); each key is optional."""

    # The datasets to run instead of the suite's list: `datasets: [digits, mnist5k, fashion_mnist]`
    datasets: Optional[List[str]] = None
    # The models to run instead of the suite's list: `models: [gaussian_nb, mlp]`
    models: Optional[List[str]] = None
    # Merged over the suite's `overrides` (model name -> settings): `overrides: {gan: {estimator: {max_steps: 20}}}`
    overrides: Dict[str, Any] = field(default_factory=dict)
    # Merged over the suite's `dataset_overrides`: `dataset_overrides: {diamonds: {load: {max_train: 4000}}}`
    dataset_overrides: Dict[str, Any] = field(default_factory=dict)
    # Seeds of some datasets (by name before variants) instead of the profile's seeds; seed=N on the
    # command line and scaling's seeds still win: `dataset_seeds: {xor: [0, 1, 2, 3, 4]}`
    dataset_seeds: Dict[str, Any] = field(default_factory=dict)
    # Merged over the suite's `variants` (e.g. a tuning budget as an axis): `variants: {random_forest: {n_configs: [1, 4, 16]}}`
    variants: Dict[str, Any] = field(default_factory=dict)
    # Merged over the suite's `dataset_models` by dataset: `dataset_models: {acrobot: [q_learning, dqn]}`
    dataset_models: Dict[str, Any] = field(default_factory=dict)
    # With scaling=on, the largest training size a model runs at in a learning curve (by name before
    # variants): kernel methods stop where they stop being practical: `size_caps: {rbf_svm: 4000}`
    size_caps: Dict[str, Any] = field(default_factory=dict)


@dataclass
class Suite:
    """A suite: which datasets and models run together, and how this suite sets them up."""

    # The suite's name, as in `suite=NAME`, the results folder and every row: `name: vision`
    name: str = MISSING
    # One line for `bench list`: `description: image classification on embedded handwritten digits`
    description: Optional[str] = None
    # The task kind the suite reads its datasets as, where that differs from the loader's own
    # (`generation`: labelled images read as a generation task); other values (`classification`,
    # `mixed`, ...) document what the suite holds: `task: generation`
    task: Optional[str] = None
    # Datasets run by every profile that does not list its own (suites/dataset/NAME.yaml): `datasets: [digits, mnist5k]`
    datasets: List[str] = MISSING
    # Models run on every dataset (suites/model/NAME.yaml): `models: [logistic_regression, cnn]`
    models: List[str] = MISSING
    # The suite's own settings per model, merged over the model's file: `overrides: {resnet: {estimator: {max_epochs: 15}}}`
    overrides: Dict[str, Any] = field(default_factory=dict)
    # The same per dataset: `dataset_overrides: {telco_churn: {load: {max_train: 3000}}}`
    dataset_overrides: Dict[str, Any] = field(default_factory=dict)
    # One model becomes one entry per value (the product over keys), keyed `model[key=value]`:
    # `variants: {resnet: {estimator.module_params.depth: [1, 4, 12, 24]}}`
    variants: Dict[str, Any] = field(default_factory=dict)
    # The same for datasets; a variant's name is `dataset[key=value]` in every row:
    # `dataset_variants: {adding: {load.length: [25, 50, 100]}}`
    dataset_variants: Dict[str, Any] = field(default_factory=dict)
    # Which models run on which datasets (names before variants); a dataset not named runs every
    # model: `dataset_models: {xor: [perceptron, mlp], digits: [plain_net, resnet]}`
    dataset_models: Dict[str, Any] = field(default_factory=dict)
    # What changes under each profile (see SuiteProfile), by profile name: `profiles: {full: {datasets: [...]}}`
    profiles: Dict[str, Optional[SuiteProfile]] = field(default_factory=dict)
    # Torch and BLAS threads per cell when hardware.threads is null (suites of small networks): `threads: 1`
    threads: Optional[int] = None
    # The most cells at once (hardware.workers), for a suite whose models must not share the machine
    # (e.g. budgets in wall-clock seconds, where a neighbour's load changes what a budget buys:
    # `workers: 1`; memory and charlm count CPU seconds instead and need no cap)
    workers: Optional[int] = None
    # Tune every model (as tune=true on the command line): `tune: true`
    tune: bool = False
    # With tuning, the random-search budget per model and cell: a number, or one per profile name;
    # n_configs=N on the command line wins: `n_configs: {smoke: 2, default: 3, full: 16}`
    n_configs: Any = None
    # Named values that `variants` and `dataset_variants` pick by interpolation, usually one list
    # per profile: `grids: {lengths: {smoke: [10, 20], default: [25, 50]}}` with
    # `dataset_variants: {adding: {load.length: "${suite.grids.lengths.${profile.name}}"}}`
    grids: Dict[str, Any] = field(default_factory=dict)


ConfigStore.instance().store(group="schema", name="suite", node=Suite)

SUITE_KEYS = [f.name for f in fields(Suite)]
PROFILE_KEYS = [f.name for f in fields(SuiteProfile)]


class SuiteError(ValueError):
    """A suite that does not fit the schema; the message is one line for the user."""


def validate_suite(node: DictConfig | dict, source: str, file: Path | None = None,
                   profile_names: list[str] | None = None) -> None:
    """Raise SuiteError if `node` lacks a required key, has one the schema does not know (at the
    top or in a profile), a profile name not in `profile_names`, or a value of the wrong type.
    `source` names the suite in the message (`suite vision`). Where `file` is given it is checked
    first, on its own, so that the message says whether the mistake is in the file or in an override."""
    if file is not None and file.is_file():
        def check_file():
            raw = OmegaConf.to_container(OmegaConf.load(file), resolve=False)
            raw.pop("defaults", None)  # Hydra's, where a file opts in to the schema at compose time
            check_suite(raw, f"{source} ({shown(file)})", profile_names)

        memoized(("suite file", str(file), source, tuple(profile_names or ())), check_file)
        source = f"{source} (as overridden)"
    data = node if isinstance(node, dict) else OmegaConf.to_container(node, resolve=False)
    check_suite(data, source, profile_names)


def check_suite(data: dict, source: str, profile_names: list[str] | None) -> None:
    check_keys(data, SUITE_KEYS, (), source, "a suite's keys")
    profiles = data.get("profiles") or {}
    if not isinstance(profiles, dict):
        raise SuiteError(f"{source}: profiles must map profile names to settings, got {profiles!r}")
    for name, tweaks in profiles.items():
        if profile_names is not None and name not in profile_names:
            raise SuiteError(f"{source}: unknown profile {name!r} in profiles{did_you_mean(str(name), profile_names)}; "
                             f"profiles: {', '.join(profile_names)}")
        if isinstance(tweaks, dict):
            check_keys(tweaks, PROFILE_KEYS, ("profiles", str(name)), source, "a profile's keys")
    try:
        merged = OmegaConf.merge(OmegaConf.structured(Suite), data)
    except OmegaConfBaseException as e:
        key = getattr(e, "full_key", None) or ""
        text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise SuiteError(f"{source}: {key + ': ' if key else ''}{text}") from e
    missing = [k for k in SUITE_KEYS if OmegaConf.is_missing(merged, k)]
    if missing:
        raise SuiteError(f"{source}: needs {' and '.join(missing)} (e.g. {missing[0]}: ...)")


def check_keys(data: dict, valid: list[str], path: tuple[str, ...], source: str, what: str) -> None:
    for key in data:
        if key not in valid:
            inside = f" in {'.'.join(path)}" if path else ""
            raise SuiteError(f"{source}: unknown key {key!r}{inside}{did_you_mean(str(key), valid)}; "
                             f"{what}: {', '.join(valid)}")


def did_you_mean(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def shown(file: Path) -> str:
    """suites/suite/NAME.yaml, or the whole path where the file is elsewhere."""
    parts = file.resolve().parts
    return "/".join(parts[-3:]) if parts[-3:-1] == ("suites", "suite") else str(file)
