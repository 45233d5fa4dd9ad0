"""Compose and validate bench's Hydra config before anything runs.

Hydra reports a bad override as a multi-line exception; bench turns every such mistake (unknown
suite, model, dataset, profile or key; a bad value) into one line that names the valid choices,
and checks sweep values too, so a typo in job 7 of a sweep fails before job 1 starts.
"""
from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, OmegaConf

from harness.core import memo
from harness.core.memo import memoized
from harness.core.safety import UntrustedTarget, check_targets
from harness.core.schema import SUITE_KEYS, SuiteError, did_you_mean, validate_suite
from suites import CONFIG_DIR

GROUPS = ("suite", "profile", "hardware", "dataset", "model", "scaling", "interpret")
SCOPED = ("dataset", "model")  # groups whose unknown names are answered with the suite's own choices


class ConfigError(Exception):
    """A config or override that cannot be used; the message is one line for the user."""


def group_options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml"))


def check_choice(group: str, name: str, suites: list[str] = ()) -> None:
    """An unknown name is an error with the nearest name; for a model or dataset, the choices of the
    suites the run uses (a suite's dozen, not all ninety), else every one."""
    options = group_options(group)
    if name in options:
        return
    scoped = list(dict.fromkeys(n for s in suites for n in suite_choices(s, group))) if group in SCOPED else []
    hint = did_you_mean(name, scoped) or did_you_mean(name, options)
    if scoped:
        raise ConfigError(f"unknown {group} {name!r}{hint}; suite {', '.join(suites)} runs the {group}s "
                          f"{', '.join(scoped)} (any of `bench list {group}s` runs with {group}=NAME)")
    raise ConfigError(f"unknown {group} {name!r}{hint}; valid {group}s: {', '.join(options)}")


def suite_choices(suite: str, group: str) -> dict[str, list[str]]:
    """A suite's models or datasets (group "model" or "dataset"), each with the profiles that alone add
    it ([]: the suite's own list, every profile)."""
    node = OmegaConf.load(CONFIG_DIR / "suite" / f"{suite}.yaml")
    key = f"{group}s"
    chosen: dict[str, list[str]] = {str(n): [] for n in node.get(key) or []}
    for profile, tweaks in (node.get("profiles") or {}).items():
        for name in map(str, (tweaks or {}).get(key) or []):
            if name not in chosen:
                chosen[name] = [profile]
            elif chosen[name] and profile not in chosen[name]:
                chosen[name].append(profile)
    return chosen


def chosen_suites(parsed) -> list[str]:
    """The suites a command runs: its suite= values (a sweep's too), else the default suite."""
    for o in parsed:
        if o.key_or_group == "suite":
            values = list(o.sweep_string_iterator()) if o.is_sweep_override() else [o.get_value_element_as_str()]
            return [v for v in values if v in group_options("suite")]
    defaults = OmegaConf.load(CONFIG_DIR / "config.yaml").defaults
    return [str(d["suite"]) for d in defaults if isinstance(d, DictConfig) and "suite" in d]


def load_item(group: str, name: str) -> DictConfig:
    """One dataset or model config file, by name."""
    check_choice(group, name)
    return OmegaConf.load(CONFIG_DIR / group / f"{name}.yaml")


def compose_config(overrides: list[str]) -> DictConfig:
    """The root config with these overrides, outside any Hydra app (tests, `bench list`, checks)."""
    def compose_now():
        GlobalHydra.instance().clear()
        with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
            return compose(config_name="config", overrides=overrides, return_hydra_config=True)

    return memoized(("compose", str(CONFIG_DIR), tuple(overrides)), compose_now)


def validate_overrides(overrides: list[str]) -> None:
    """Raise ConfigError (one line) for any override that would fail, sweep values included."""
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except Exception as e:  # Hydra's grammar errors
        raise ConfigError(f"cannot parse overrides {' '.join(overrides)}: {str(e).splitlines()[0]}") from e
    slots: list[list[str]] = []  # per override, the values a job may get (one unless swept)
    suites = chosen_suites(parsed)
    for o in parsed:
        key = o.key_or_group
        values = list(o.sweep_string_iterator()) if o.is_sweep_override() else [o.get_value_element_as_str()]
        if key in GROUPS and o.type.name != "DEL":
            for v in values:
                if v not in ("null", "None"):
                    check_choice(key, v, suites)
        if o.is_sweep_override():
            slots.append([f"{o.input_line.split('=', 1)[0]}={v}" for v in values])
        elif not key.startswith("hydra") or key.startswith("hydra/"):  # launchers and sweepers are checked too
            slots.append([o.input_line])
    # Compose with the first value of each sweep, then with each other value of one sweep at a time:
    # catches unknown keys and wrong types in any job without composing the whole product.
    firsts = [s[0] for s in slots]
    candidates = [firsts] + [firsts[:i] + [v] + firsts[i + 1:] for i, s in enumerate(slots) for v in s[1:]]
    if any(o.is_sweep_override() for o in parsed):
        # Hydra's sweeper first composes the overrides that are not swept, on their own: a key inside
        # a swept group (model=a,b model.estimator.lr=0.1) fails there, before any job.
        fixed = [o.input_line for o in parsed if not o.is_sweep_override() and not o.key_or_group.startswith("hydra")]
        swept = [o.key_or_group for o in parsed if o.is_sweep_override()]
        try:
            compose_config(fixed)
        except Exception as e:
            raise ConfigError(f"{hydra_error_line(e, overrides).split(' (top-level')[0]} Hydra sets the overrides that "
                              f"are not swept before it sweeps {', '.join(swept)}: a key inside a swept group cannot "
                              f"be set; run one value at a time instead") from e
    for chosen in candidates:
        try:
            cfg = compose_config(chosen)
            resolve_plan(cfg)
        except ConfigError:
            raise
        except Exception as e:
            raise ConfigError(hydra_error_line(e, overrides)) from e


def command_line_keys(cfg: DictConfig, group: str) -> list[str]:
    """The keys inside `group` that the command line set (`model.estimator.lr=0.5` -> "estimator.lr"),
    from the run's Hydra overrides (composed configs carry them under `hydra`; a running app has them
    in HydraConfig)."""
    try:
        overrides = list(cfg.hydra.overrides.task) if "hydra" in cfg else []
        if not overrides:
            from hydra.core.hydra_config import HydraConfig

            overrides = list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []
    except Exception:  # noqa: BLE001 - no Hydra context: nothing was set on a command line
        return []
    keys = []
    for text in overrides:
        key = text.lstrip("+~").split("=", 1)[0].strip()
        if key.startswith(f"{group}.") and "=" in text and not text.startswith("~"):
            keys.append(key[len(group) + 1:])
    return keys


def hydra_error_line(e: Exception, overrides: list[str]) -> str:
    """Hydra's and OmegaConf's messages, first line, with the valid keys where a key was unknown."""
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    failed = text.split("'")[1] if text.startswith("Could not override '") else ""
    if failed.count(".") == 1 and failed.startswith("suite."):  # a key the suite lacks: the schema's keys
        key = failed.split(".")[1]
        return (f"{text.rstrip('.')}{did_you_mean(key, SUITE_KEYS)}; a suite's keys: {', '.join(SUITE_KEYS)} "
                f"(one this suite leaves out is set with +suite.KEY=value)")
    if "not in struct" in text or "Could not override" in text or "Key '" in text:
        root = compose_config([])
        keys = ", ".join(k for k in root if k != "hydra")
        return f"{text} (top-level keys: {keys}; add a new key with +key=value)"
    return text


@dataclass
class Plan:
    """What one job runs: datasets x models x seeds, each item's config resolved. A dataset in
    `dataset_seeds` runs its own seeds instead (a suite's profile may give a noisy task more); one in
    `dataset_models` runs only the models it lists (a suite of several experiments, each with its
    own models on its own data)."""

    suite: str
    datasets: dict[str, DictConfig]
    models: dict[str, DictConfig]
    seeds: list[int]
    dataset_seeds: dict[str, list[int]] = field(default_factory=dict)
    dataset_models: dict[str, list[str]] = field(default_factory=dict)  # by names before variants
    size_caps: dict[str, int] = field(default_factory=dict)  # model (name before variants) -> largest curve size

    def seeds_for(self, dataset: str) -> list[int]:
        return self.dataset_seeds.get(dataset, self.seeds)

    def runs_at(self, model: DictConfig, size: int, sizes: list[int]) -> bool:
        """Whether `model` runs at `size` of a learning curve over `sizes`: within its size cap (a run of
        one size runs every model)."""
        return len(sizes) == 1 or size <= self.size_caps.get(str(model.name), size)

    def models_for(self, dataset: str) -> list[DictConfig]:
        """The models (every variant) that run on this dataset (or dataset variant)."""
        wanted = self.dataset_models.get(dataset.split("[", 1)[0])
        return [m for m in self.models.values() if wanted is None or str(m.name) in wanted]


def resolve_plan(cfg: DictConfig) -> Plan:
    """Apply the suite's profile tweaks and the dataset/model/seed restrictions to the suite lists."""
    key = ()
    if memo.active():  # of Hydra's own node, only what the plan reads (a launcher does not change it)
        tree = OmegaConf.to_container(cfg, resolve=False)
        hydra = tree.pop("hydra", None) or {}
        read = (hydra.get("runtime", {}).get("choices", {}).get("suite"), hydra.get("overrides", {}).get("task"))
        key = ("plan", str(CONFIG_DIR), str(tree), str(read))
    return memoized(key, lambda: plan_of(cfg))


def plan_of(cfg: DictConfig) -> Plan:
    suite = cfg.suite
    try:  # every key of the suite (file and overrides) is one harness/core/schema.py knows
        validate_suite(suite, f"suite {suite.get('name')}", suite_file(cfg), group_options("profile"))
    except SuiteError as e:
        raise ConfigError(str(e)) from e
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", str(suite.name)):  # it names the run's folder
        raise ConfigError(f"suite.name must be a plain folder name (letters, digits, _ . -), got {suite.name!r}")
    profile_name = cfg.profile.name
    tweaks = (suite.get("profiles") or {}).get(profile_name) or {}
    dataset_names = list(tweaks.get("datasets", suite.datasets))
    model_names = list(tweaks.get("models", suite.models))

    def items(group: str, names: list[str], chosen) -> dict[str, DictConfig]:
        # The suite's settings per model (`overrides`) or dataset (`dataset_overrides`), then its
        # profile's (e.g. a shorter epoch budget, a smaller sample of a large table)
        key = "overrides" if group == "model" else "dataset_overrides"
        layers = [OmegaConf.to_container(node) for node in (suite.get(key), tweaks.get(key)) if node]
        suite_tweaks = OmegaConf.to_container(OmegaConf.merge({}, *layers)) if layers else {}
        if chosen is not None:  # dataset=NAME / model=NAME: that one, as composed (with its overrides)
            if chosen.name in suite_tweaks:  # the suite's settings win over the file, as for a listed model,
                node = OmegaConf.merge(OmegaConf.to_container(chosen), suite_tweaks[chosen.name])
                for path in command_line_keys(cfg, group):  # and the command line's over both
                    OmegaConf.update(node, path, OmegaConf.select(chosen, path), merge=False)
                chosen = OmegaConf.merge(OmegaConf.masked_copy(cfg, ["profile", "paths", "hardware"]),
                                         {"item": node}).item
            return {chosen.name: chosen}
        out = {}
        for name in names:
            node = load_item(group, name)
            if name in suite_tweaks:  # the suite's own settings for this model (e.g. a fixed epoch budget)
                node = OmegaConf.merge(node, suite_tweaks[name])
            # Resolve interpolations like ${profile.max_epochs} against the root config.
            merged = OmegaConf.merge(OmegaConf.masked_copy(cfg, ["profile", "paths", "hardware"]), {"item": node})
            out[name] = merged.item
        return out

    datasets = expand_variants(items("dataset", dataset_names, cfg.get("dataset")),
                               suite.get("dataset_variants") or {})
    # The profile's variants replace the suite's for the models it names (resolved in place: grids
    # pick their values by the profile's name)
    variants = {str(k): OmegaConf.to_container(v, resolve=True) if isinstance(v, DictConfig) else v
                for node in (suite.get("variants"), tweaks.get("variants")) if node for k, v in node.items()}
    models = expand_variants(items("model", model_names, cfg.get("model")), variants)
    check_types(cfg)
    for what, chosen in (("datasets", datasets), ("models", models)):
        if not chosen:
            raise ConfigError(f"suite {suite.name} runs no {what} (suite.{what} is empty)")
    scaling_seeds = cfg.scaling.get("seeds") if cfg.scaling.enabled else None
    seeds = ([cfg.seed] if cfg.get("seed") is not None else
             list(scaling_seeds) if scaling_seeds else list(cfg.profile.seeds))
    # A suite's profile may give some datasets other seeds (`dataset_seeds: {name: [0, 1, 2]}`, by the
    # dataset's name before variants); seed=N and scaling's seeds still win.
    per_dataset = {}
    if cfg.get("seed") is None and not scaling_seeds:
        node = tweaks.get("dataset_seeds")
        wanted = OmegaConf.to_container(node, resolve=True) if node else {}
        for name in datasets:
            chosen = wanted.get(name.split("[", 1)[0])
            if chosen is not None:
                if not chosen or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in chosen):
                    raise ConfigError(f"dataset_seeds of {name} must be non-negative integers, got {chosen!r}")
                per_dataset[name] = list(chosen)
    # a profile's dataset_models replace the suite's for the datasets they name
    dataset_models = suite_dataset_models(suite) | suite_dataset_models(suite, tweaks.get("dataset_models") or {})
    for group, chosen in (("dataset", datasets), ("model", models)):
        for name, node in chosen.items():
            try:
                check_targets(OmegaConf.to_container(node, resolve=True), f"{group} {name}",
                              bool(cfg.get("allow_any_target", False)))
            except UntrustedTarget as e:
                raise ConfigError(str(e)) from e
            needed = "load" if group == "dataset" else "estimator"
            if not isinstance(node.get(needed), DictConfig):
                raise ConfigError(f"{group} {name} needs its {needed}: settings (got {node.get(needed)!r})")
            if not str(node.get("name") or "").strip():
                raise ConfigError(f"{group} {name} needs a name (got {node.get('name')!r})")
            if group == "model" and node.get("family", "deep") not in FAMILIES:
                raise ConfigError(f"model {name}: family must be one of {', '.join(FAMILIES)}, got {node.get('family')!r}")
            missing = sorted(OmegaConf.missing_keys(node))
            if missing:
                key = missing[0].removeprefix(f"{group}.")
                raise ConfigError(f"{group} {name} needs a value for {key} (set it with {group}.{key}=...)")
    caps = OmegaConf.to_container(tweaks.get("size_caps") or OmegaConf.create({}), resolve=True)
    for name, cap in caps.items():
        if not isinstance(cap, int) or isinstance(cap, bool) or cap < 1:
            raise ConfigError(f"size_caps of {name} must be a positive number of training examples, got {cap!r}")
    return Plan(suite.name, datasets, models, seeds, per_dataset, dataset_models, caps)


def suite_file(cfg: DictConfig) -> Path | None:
    """The file the suite was composed from: Hydra's choice (suite=NAME), else the suite's name."""
    from hydra.core.hydra_config import HydraConfig

    choice = OmegaConf.select(cfg, "hydra.runtime.choices.suite", default=None)
    if choice is None and HydraConfig.initialized():
        choice = HydraConfig.get().runtime.choices.get("suite")
    path = CONFIG_DIR / "suite" / f"{choice or cfg.suite.get('name')}.yaml"
    return path if path.is_file() else None


def suite_dataset_models(suite: DictConfig, node=None) -> dict[str, list[str]]:
    """A suite's `dataset_models: {dataset: [model, ...]}` (or a profile's, `node`): which of its models
    run on which of its datasets (names before variants; a dataset it does not name runs every model).
    Names the suite does not list, in any profile, are an error that lists the ones it does."""
    node = suite.get("dataset_models") if node is None else node
    if not node:
        return {}
    mapping = OmegaConf.to_container(node, resolve=True)
    profiles = [t or {} for t in (suite.get("profiles") or {}).values()]
    known = {"dataset": {*suite.datasets, *(d for t in profiles for d in t.get("datasets", []))},
             "model": {*suite.models, *(m for t in profiles for m in t.get("models", []))}}
    if not isinstance(mapping, dict):
        raise ConfigError(f"dataset_models of suite {suite.name} must map datasets to lists of models")
    for dataset, names in mapping.items():
        if dataset not in known["dataset"]:
            raise ConfigError(f"dataset_models of suite {suite.name} names dataset {dataset!r}, which the suite "
                              f"does not run; its datasets: {', '.join(sorted(known['dataset']))}")
        if not isinstance(names, list) or not names:
            raise ConfigError(f"dataset_models of suite {suite.name}: {dataset} needs a list of models, got {names!r}")
        for name in names:
            if name not in known["model"]:
                raise ConfigError(f"dataset_models of suite {suite.name} names model {name!r} for {dataset}, which "
                                  f"the suite does not run; its models: {', '.join(sorted(known['model']))}")
    return {str(k): [str(n) for n in v] for k, v in mapping.items()}


def expand_variants(models: dict[str, DictConfig], variants) -> dict[str, DictConfig]:
    """A suite's `variants: {model: {dotted.key: [values]}}` turns one model into one entry per value
    (the product over keys), keyed `model[key=value]`, each with its `variant` label. The same for
    datasets with `dataset_variants:` (e.g. a synthetic task over sequence lengths); a dataset
    variant's `name` becomes `name[key=value]`, which is how its rows are told apart."""
    out = {}
    for name, node in models.items():
        grid = variants.get(name)
        if not grid:
            out[name] = node
            continue
        keys = list(grid)
        for values in itertools.product(*(grid[k] for k in keys)):
            variant = OmegaConf.create(OmegaConf.to_container(node, resolve=True))
            for key, value in zip(keys, values):
                OmegaConf.update(variant, key, value, merge=False)
            variant.variant = ",".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in zip(keys, values))
            out[f"{name}[{variant.variant}]"] = variant
            if "load" in variant:  # a dataset: the variant is part of its name in every row
                variant.name = f"{name}[{variant.variant}]"
    return out


ISOLATION = ("process", "none")
FAMILIES = ("classical", "deep")
INTERPRET_SIZES = ("all", "largest")

MAX_SEED = 2**32 - 1
# Upper bounds that keep a typo from exhausting the machine (threadpoolctl runs out of memory at 100,000 threads).
MAXIMUM = {"hardware.threads": 1024}
# Scalar settings: (allowed types, smallest allowed value). None in the types means the key may be null.
SETTINGS = {
    "seed": ((int, None), 0),
    "tune": ((bool,), None),
    "n_configs": ((int, None), 1),
    "time_limit": ((int, float, None), 0),
    "resume": ((bool,), None),
    "allow_any_target": ((bool,), None),
    "profile.max_epochs": ((int,), 1),
    "profile.patience": ((int,), 0),
    "profile.max_train": ((int, None), 2),
    "profile.max_test": ((int, None), 1),
    "hardware.threads": ((int, None), 1),
    # interpret=on only (absent, so null, when off)
    "interpret.sample": ((int, None), 2),
    "interpret.surrogate_points": ((int, None), 4),
    "interpret.curve_steps": ((int, None), 1),
    "interpret.noise_sigma": ((int, float, None), 0),
    "interpret.linear_C": ((int, float, None), 1e-9),
    "interpret.ig_steps": ((int, None), 2),
    "interpret.chunk_rows": ((int, None), 1),
}


def check_types(cfg: DictConfig) -> None:
    for key, (types, minimum) in SETTINGS.items():
        value = OmegaConf.select(cfg, key)
        allowed = tuple(t for t in types if t is not None)
        ok = (value is None and None in types) or (
            isinstance(value, allowed) and not (isinstance(value, bool) and bool not in allowed))
        if not ok:
            names = " or ".join("null" if t is None else t.__name__ for t in types)
            raise ConfigError(f"{key} must be {names}, got {value!r}")
        if minimum is not None and value is not None and value < minimum:
            raise ConfigError(f"{key} must be at least {minimum}, got {value}")
    if cfg.get("isolation", "process") not in ISOLATION:
        raise ConfigError(f"isolation must be one of {', '.join(ISOLATION)}, got {cfg.get('isolation')!r}")
    workers = cfg.hardware.get("workers", 1)
    if workers != "auto" and not (isinstance(workers, int) and not isinstance(workers, bool) and workers >= 1):
        raise ConfigError(f"hardware.workers must be auto or a whole number of at least 1, got {workers!r}")
    if cfg.interpret.get("sizes", "all") not in INTERPRET_SIZES:
        raise ConfigError(f"interpret.sizes must be one of {', '.join(INTERPRET_SIZES)}, got {cfg.interpret.get('sizes')!r}")
    if cfg.profile.seeds is None or not len(cfg.profile.seeds):
        raise ConfigError(f"profile.seeds must list at least one seed, got {cfg.profile.seeds!r}")
    for s in [*cfg.profile.seeds, *([cfg.seed] if cfg.get("seed") is not None else [])]:
        if not isinstance(s, int) or isinstance(s, bool) or s < 0:
            raise ConfigError(f"profile.seeds must be non-negative integers, got {s!r}")
        if s > MAX_SEED:  # numpy and scikit-learn take 32-bit seeds; a larger one fails deep inside a loader
            raise ConfigError(f"seeds must be at most {MAX_SEED}, got {s}")
    limit = cfg.get("time_limit")
    if limit is not None and not math.isfinite(limit):
        raise ConfigError(f"time_limit must be a finite number of seconds (null for none), got {limit}")
    for key, most in MAXIMUM.items():
        value = OmegaConf.select(cfg, key)
        if isinstance(value, int) and value > most:
            raise ConfigError(f"{key} must be at most {most}, got {value}")
    check_scaling(cfg.scaling)


def check_scaling(scaling: DictConfig) -> None:
    """scaling=on's sizes, points and smallest size per class: whole numbers a learning curve can use."""
    if not scaling.get("enabled"):
        return
    whole = lambda v, least: isinstance(v, int) and not isinstance(v, bool) and v >= least  # noqa: E731
    sizes = scaling.get("sizes")
    if sizes is not None and (not len(sizes) or not all(whole(v, 2) for v in sizes)):
        raise ConfigError(f"scaling.sizes must be null or a list of training sizes of at least 2, got {list(sizes)!r}")
    for key, least in (("points", 1), ("min_per_class", 1)):
        if scaling.get(key) is not None and not whole(scaling.get(key), least):
            raise ConfigError(f"scaling.{key} must be a whole number of at least {least}, got {scaling.get(key)!r}")
