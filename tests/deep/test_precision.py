"""Mixed precision (`precision=32|bf16|16|auto`, harness/deep/precision.py): the deep estimators' forward
passes really run in the low precision, weights stay float32, the models still learn, "auto" takes
bfloat16 only where the device multiplies it in hardware, a model's own precision holds unless the
command line overrides it, and the rows and the resume key say which precision a cell used
(`compute_precision`)."""
from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from harness.data.vision import load_digits
from harness.deep import precision as precision_module
from harness.deep.classifier import TorchClassifier
from harness.deep.precision import autocast, check_precision, grad_scaler, resolve_precision


@pytest.mark.parametrize("given, expected", [("32", "32"), (32, "32"), ("bf16", "bf16"), (16, "16")])
def test_precisions_read_as_the_command_line_gives_them(given, expected):
    assert check_precision(given) == expected


def test_an_unknown_precision_names_the_valid_ones():
    with pytest.raises(ValueError, match="choose one of 32, bf16, 16, auto"):
        check_precision("fp8")


def test_only_float16_scales_the_loss():
    assert grad_scaler("cpu", "32") is None and grad_scaler("cpu", "bf16") is None
    assert isinstance(grad_scaler("cpu", "16"), torch.amp.GradScaler)
    x = torch.randn(3, 4)
    with autocast("cpu", "bf16"):
        assert nn.Linear(4, 2)(x).dtype == torch.bfloat16
    with autocast("cpu", "32"):
        assert nn.Linear(4, 2)(x).dtype == torch.float32


@pytest.mark.parametrize("native, expected", [(True, "bf16"), (False, "32")])
def test_auto_takes_bfloat16_only_where_the_device_has_units_for_it(monkeypatch, native, expected):
    monkeypatch.setattr(precision_module, "native_bf16", lambda device_type: native)
    assert resolve_precision("cpu", "auto") == expected
    assert resolve_precision("cpu", "16") == "16" and resolve_precision("cpu", 32) == "32"  # the others as given
    est = TorchClassifier(module="harness.models.mlp.MLP", precision="auto")
    assert est.precision_ == expected and ("bfloat16 autocast" in est.recipe_) == native
    from harness.core.cell import trained_precision

    assert trained_precision(est, "deep") == expected  # the row says what ran, not "auto"
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    assert trained_precision(make_pipeline(StandardScaler(), est), "deep") == expected  # a pipeline's deep step
    assert trained_precision(StandardScaler(), "classical") is None


def test_the_device_check_matches_the_cpu_flags():
    if not os.path.exists("/proc/cpuinfo"):
        pytest.skip("no /proc/cpuinfo to compare with")
    flags = open("/proc/cpuinfo").read().split()
    assert precision_module.native_bf16("cpu") == ("amx_tile" in flags)
    assert precision_module.native_bf16("meta") is False


def test_a_models_own_precision_holds_unless_one_is_given():
    from harness.core.cell import build_estimator

    model = {"name": "m", "estimator": {"_target_": "harness.deep.classifier.TorchClassifier",
                                        "module": "harness.models.mlp.MLP", "precision": "auto"}}
    assert build_estimator(model, seed=0, device="cpu", time_limit=None).precision == "auto"
    assert build_estimator(model, seed=0, device="cpu", time_limit=None, precision="32").precision == "32"


@pytest.mark.parametrize("model", ["fcn", "resnet1d"])
def test_the_wide_series_convolutions_take_bfloat16_where_it_is_native(model):
    import yaml

    # measured by benchmarks/precision_speed.py; their yaml says why
    assert yaml.safe_load(open(f"suites/model/{model}.yaml"))["estimator"]["precision"] == "auto"


@pytest.fixture(scope="module")
def digits():
    return load_digits(seed=0).subsample_train(400, seed=0)


def dtypes_seen(layer: type[nn.Module], run) -> set[torch.dtype]:
    """The dtypes of every `layer` output (nn.Linear, nn.Conv2d) while `run()` runs."""
    seen: set[torch.dtype] = set()
    original = layer.forward

    def spy(self, x):
        out = original(self, x)
        seen.add(out.dtype)
        return out

    layer.forward = spy
    try:
        run()
    finally:
        layer.forward = original
    return seen


@pytest.mark.parametrize("precision, dtype", [("32", torch.float32), ("bf16", torch.bfloat16), ("16", torch.float16)])
def test_a_classifier_trains_and_predicts_in_its_precision_and_still_learns(digits, precision, dtype):
    est = TorchClassifier(module="harness.models.mlp.MLP", module_params={"hidden": [64]}, max_epochs=15,
                          patience=0, precision=precision)
    assert dtypes_seen(nn.Linear, lambda: est.fit(digits.X_train, digits.y_train)) == {dtype}
    assert dtypes_seen(nn.Linear, lambda: est.predict(digits.X_test)) == {dtype}
    assert all(p.dtype == torch.float32 for p in est.module_.parameters())  # the weights stay float32
    accuracy = float(np.mean(est.predict(digits.X_test) == digits.y_test))
    assert accuracy > 0.85, f"{precision}: {accuracy:.3f}"
    assert ("autocast" in est.recipe_) == (precision != "32")
    proba = est.predict_proba(digits.X_test[:20])
    assert proba.dtype == np.float32 and np.allclose(proba.sum(axis=1), 1, atol=1e-5)


def test_rows_and_resume_keys_tell_precisions_apart(run_bench, tmp_results):
    # the perceptron trains in its own float32 (the vision suite's other networks take "auto")
    net = "perceptron"
    args = ["suite=vision", "profile=smoke", "dataset=digits", "suite.models=[perceptron,gaussian_nb]", "seed=0",
            "hardware.threads=1"]
    code, first = run_bench(*args)
    assert code == 0
    code, second = run_bench(*args, "precision=bf16")
    assert code == 0
    a, b = (pd.read_parquet(f / "results.parquet").set_index("model") for f in (first, second))
    assert a.loc[net, "compute_precision"] == "32" and b.loc[net, "compute_precision"] == "bf16"
    assert pd.isna(a.loc["gaussian_nb", "compute_precision"]) and pd.isna(b.loc["gaussian_nb", "compute_precision"])
    reused = lambda v: isinstance(v, str) and bool(v)  # noqa: E731
    assert a.loc[net, "cell_key"] != b.loc[net, "cell_key"] and not reused(b.loc[net, "reused_from"])
    assert reused(b.loc["gaussian_nb", "reused_from"])  # a classical cell does not depend on it: reused
    code, third = run_bench(*args, "precision=32")  # given, even as the model's own: its own key
    assert code == 0
    c = pd.read_parquet(third / "results.parquet").set_index("model")
    assert c.loc[net, "compute_precision"] == "32" and c.loc[net, "cell_key"] not in (a.loc[net, "cell_key"],
                                                                                      b.loc[net, "cell_key"])


@pytest.mark.parametrize("given", ["precision=fp8", "precision=32,fp8"])
def test_an_unknown_precision_is_refused_before_anything_runs(run_bench, capsys, given):
    code, folder = run_bench("suite=vision", "profile=smoke", given, "-m")
    assert code == 2 and folder is None
    assert "precision must be one of 32, bf16, 16, auto, got 'fp8'" in " ".join(capsys.readouterr().err.split())


def test_verdict_conditions_name_a_precision_below_float32():
    from harness.claims.conditions import mixed_precisions

    assert mixed_precisions(pd.DataFrame({"compute_precision": ["32", None, "bf16", "bf16"]})) == ["precision bf16"]
    assert mixed_precisions(pd.DataFrame({"compute_precision": ["32", None]})) == []
    # rows from before the column, and the generative suite's metric of the same name, are not it
    assert mixed_precisions(pd.DataFrame({"model": ["gan"], "precision": [0.65]})) == []


@pytest.mark.parametrize("precision", ["bf16", "16"])
def test_mamba_trains_under_autocast(precision):
    # its stepwise scan writes into preallocated states: it computes in float32 whatever arrives
    from harness.models.mamba import Mamba

    torch.manual_seed(0)
    model = Mamba((2, 30), 3, d_model=16, d_state=4)
    with autocast("cpu", precision):
        out = model(torch.randn(4, 2, 30))
    out.float().sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())


@pytest.mark.parametrize("precision, dtype", [("32", torch.float32), ("bf16", torch.bfloat16), ("16", torch.float16)])
def test_the_ddpm_trains_and_samples_in_its_precision(digits, precision, dtype):
    # the U-Net's convolutions run in the precision, training and sampling; the weights and images stay float32
    from harness.core.cell import trained_precision
    from harness.deep.generative import DDPM

    est = DDPM(width=8, timesteps=100, max_steps=4, batch_size=16, sampling_steps=3, precision=precision)
    trained = dtypes_seen(nn.Conv2d, lambda: est.fit(digits.X_train[:64], digits.y_train[:64]))
    sampled = dtypes_seen(nn.Conv2d, lambda: est.sample(6, digits.y_train[:6], random_state=0))
    images = est.sample(6, digits.y_train[:6], random_state=0)
    assert trained == {dtype} and sampled == {dtype}
    assert all(p.dtype == torch.float32 for p in est.denoiser_.parameters())
    assert images.dtype == np.float32 and np.isfinite(images).all()
    assert trained_precision(est, "deep") == precision
