"""Deep models on CUDA: the row says where the model ran. Skipped where there is no CUDA device."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from harness.data.vision import load_digits
from harness.deep.training import TorchClassifier

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


def test_cnn_trains_on_cuda_and_its_row_says_so(run_bench):
    code, folder = run_bench("profile=smoke", "dataset=digits", "model=cnn", "hardware=cuda",
                             "profile.max_epochs=1", "seed=0")
    assert code == 0
    row = pd.read_parquet(folder / "results.parquet").iloc[0]
    assert row["status"] == "ok" and row["device"] == "cuda" and row["epochs"] == 1
    assert row["gpu_name"] == torch.cuda.get_device_name(0)
    assert row["peak_memory_mb"] > 0  # the CUDA allocator's peak, not the process's RSS


def test_classical_rows_stay_on_cpu_under_hardware_cuda(run_bench):
    code, folder = run_bench("profile=smoke", "dataset=digits", "suite.models=[gaussian_nb,cnn]", "hardware=cuda",
                             "profile.max_epochs=1", "seed=0")
    assert code == 0
    df = pd.read_parquet(folder / "results.parquet").set_index("model")
    assert df.loc["gaussian_nb", "device"] == "cpu" and df.loc["cnn", "device"] == "cuda"


def test_cuda_and_cpu_models_agree_on_easy_data():
    task = load_digits(seed=0).subsample_train(300, seed=0)
    accuracy = {}
    for device in ("cpu", "cuda"):
        est = TorchClassifier(module="harness.models.mlp.MLP", max_epochs=20, patience=0, device=device,
                              random_state=0).fit(task.X_train, task.y_train)
        assert next(est.module_.parameters()).device.type == device
        proba = est.predict_proba(task.X_test)
        np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-5)
        accuracy[device] = float(np.mean(est.predict(task.X_test) == task.y_test))
    assert accuracy["cuda"] > 0.7 and abs(accuracy["cuda"] - accuracy["cpu"]) < 0.1


def test_interpretation_of_a_cuda_model_matches_its_cpu_twin():
    """Occlusion runs through predict_proba, gradients through captum on the model's own device: the
    same fitted network, moved between devices, gets the same figures."""
    from harness.evaluation.interpret import interpret

    task = load_digits(seed=0).subsample_train(300, seed=0)
    est = TorchClassifier(module="harness.models.cnn.LeNet5", max_epochs=3, patience=0, device="cuda",
                          random_state=0).fit(task.X_train, task.y_train)
    cfg = {"sample": 60, "surrogate_points": 200}
    on_cuda = interpret(est, task, cfg, seed=0)
    est.module_.to("cpu")
    est.device = "cpu"
    on_cpu = interpret(est, task, cfg, seed=0)
    assert on_cuda["interp_error"] is None and np.isfinite(on_cuda["interp_ig_deletion_auc"])
    for col in ("interp_deletion_auc", "interp_insertion_auc", "interp_ig_deletion_auc",
                "interp_saliency_deletion_auc", "interp_fidelity_tree5"):
        assert abs(on_cuda[col] - on_cpu[col]) < 0.02, col
