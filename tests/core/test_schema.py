"""The suite schema (harness/core/schema.py): every suite file fits it, and a key it does not know
is one line that names the suite, its file, the key and the valid keys."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hydra.core.config_store import ConfigStore
from omegaconf import OmegaConf

from harness.core.config import ConfigError, compose_config, group_options, resolve_plan, validate_overrides
from harness.core.schema import PROFILE_KEYS, SUITE_KEYS, Suite, SuiteError, validate_suite
from suites import CONFIG_DIR

SUITE_FILES = sorted((CONFIG_DIR / "suite").glob("*.yaml"))


@pytest.mark.parametrize("path", SUITE_FILES, ids=lambda p: p.stem)
def test_every_suite_file_validates(path):
    validate_suite(OmegaConf.load(path), f"suite {path.stem}", path, group_options("profile"))


def test_the_schema_covers_every_key_a_suite_file_uses():
    used = {key for p in SUITE_FILES for key in OmegaConf.load(p)}
    in_profiles = {key for p in SUITE_FILES for tweaks in (OmegaConf.load(p).get("profiles") or {}).values()
                   for key in (tweaks or {})}
    assert used <= set(SUITE_KEYS), used - set(SUITE_KEYS)
    assert in_profiles <= set(PROFILE_KEYS), in_profiles - set(PROFILE_KEYS)


def test_every_field_is_documented_with_an_example():
    # The dataclasses are the one place a suite's keys are explained: comments above each field,
    # with an example in backticks.
    import harness.core.schema as schema

    source = Path(schema.__file__).read_text()
    lines = source.splitlines()
    classes = [n for n in ast.parse(source).body if isinstance(n, ast.ClassDef) and n.name in ("Suite", "SuiteProfile")]
    for cls in classes:
        for node in (n for n in cls.body if isinstance(n, ast.AnnAssign)):
            i, comment = node.lineno - 2, []
            while lines[i].strip().startswith("#"):
                comment.insert(0, lines[i].strip())
                i -= 1
            assert comment and "`" in " ".join(comment), f"{cls.name}.{node.target.id} has no comment with an example"


def test_the_schema_is_in_hydras_config_store():
    assert ConfigStore.instance().load("schema/suite.yaml").node._metadata.object_type is Suite


def test_a_misspelt_key_in_a_suite_file_names_file_key_and_valid_keys(config_copy):
    path = config_copy / "suite" / "depth.yaml"
    path.write_text(path.read_text().replace("\nvariants:", "\nvariant:"))
    with pytest.raises(ConfigError) as err:
        resolve_plan(compose_config(["suite=depth", "profile=smoke"]))
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("suite depth (suites/suite/depth.yaml): unknown key 'variant'")
    assert "did you mean 'variants'?" in message
    assert all(key in message for key in SUITE_KEYS)


def test_a_misspelt_key_in_a_profile_and_an_unknown_profile(config_copy):
    path = config_copy / "suite" / "rl.yaml"
    path.write_text(path.read_text().replace("    dataset_seeds:", "    dataset_seed:"))
    with pytest.raises(ConfigError, match=r"suite rl \(suites/suite/rl.yaml\): unknown key 'dataset_seed' in "
                                          r"profiles.default \(did you mean 'dataset_seeds'\?\); a profile's keys"):
        resolve_plan(compose_config(["suite=rl", "profile=smoke"]))
    path = config_copy / "suite" / "vision.yaml"
    path.write_text(path.read_text().replace("  full:", "  ful:"))
    with pytest.raises(ConfigError, match=r"unknown profile 'ful' in profiles \(did you mean 'full'\?\)"):
        resolve_plan(compose_config(["suite=vision"]))


def test_bench_run_prints_the_error_as_one_line_and_exits_2(config_copy, capsys, monkeypatch):
    from harness.cli import main

    monkeypatch.setenv("COLUMNS", "1000")

    path = config_copy / "suite" / "vision.yaml"
    path.write_text(path.read_text() + "n_config: 3\n")
    assert main(["run", "suite=vision", "profile=smoke"]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: suite vision (suites/suite/vision.yaml): unknown key "
                                                   "'n_config' (did you mean 'n_configs'?)"), err


@pytest.mark.parametrize("overrides,words", [
    (["+suite.variant={}"], ["suite vision (as overridden)", "unknown key 'variant'", "did you mean 'variants'?"]),
    (["suite.variant={}"], ["Could not override 'suite.variant'", "did you mean 'variants'?", "dataset_variants"]),
    (["suite=tabular", "suite.tune=maybe"], ["suite tabular (as overridden)", "tune", "not a valid bool"]),
    (["suite.models=null"], ["models"]),
])
def test_overrides_that_break_the_schema(overrides, words):
    with pytest.raises(ConfigError) as err:
        validate_overrides(overrides)
    assert "\n" not in str(err.value) and all(w in str(err.value) for w in words), str(err.value)


def test_a_suite_needs_a_name_datasets_and_models():
    with pytest.raises(SuiteError, match="suite x: needs datasets and models"):
        validate_suite({"name": "x"}, "suite x")


def test_a_profile_can_still_be_added_from_the_command_line():
    plan = resolve_plan(compose_config(["+suite.profiles.smoke.datasets=[digits]", "profile=smoke"]))
    assert list(plan.datasets) == ["digits"]
