"""`bench run / list / report` end to end: the real config, shrunk (profile=smoke: 300 training images,
2 epochs; mostly digits and one or a few models; CPU, one thread), run into a temporary results folder."""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd
import pytest
import torch
from omegaconf import OmegaConf

from harness.cli import main
from harness.core.config import group_options
from harness.core.display import console
from harness.results.store import IDENTITY, STATUSES, load_results
from suites import CONFIG_DIR

SMALL = ["profile=smoke", "dataset=digits", "hardware.threads=1"]
VISION = OmegaConf.load(CONFIG_DIR / "suite" / "vision.yaml")
FAMILY = {m: OmegaConf.load(CONFIG_DIR / "model" / f"{m}.yaml").family for m in VISION.models}

COLUMNS = ["suite", "dataset", "model", "variant", "family", "features", "params", "params_id", "seed", "n_train", "n_test",
           "profile", "tuned", "device", "cpu_model", "gpu_name", "torch_threads", "workers", "cells_alongside", "git_commit", "code_version", "run_id", "job",
           "cell_key", "reused_from", "status",
           "error", "accuracy", "f1_macro", "train_seconds", "train_cpu_seconds", "predict_seconds_per_1k",
           "peak_memory_mb", "n_parameters", "epochs", "final_train_loss", "best_params", "cell_started",
           "cell_seconds", "task_kind", "input_kind", "compute_precision", "stop_reason", "recipe", "loss_still_falling"]


def rows(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder / "results.parquet")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def smoke_run(bench, tmp_path_factory):
    """`bench run profile=smoke`: every model of the vision suite on slivers of both embedded datasets,
    two cells at a time on one thread each (as `hardware.workers=auto` does on two cores); shared by
    the tests below."""
    results = tmp_path_factory.mktemp("smoke") / "results"
    code, folder = bench(results, "profile=smoke", "hardware.threads=1", "hardware.workers=2")
    return code, folder, results


def test_run_exits_0_into_a_new_timestamped_folder(smoke_run):
    code, folder, results = smoke_run
    assert code == 0
    assert folder is not None and folder.parent == results / "vision"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d(-\d+)?", folder.name), folder.name
    assert len(list((folder / "cells").glob("*.parquet"))) == 2 * len(VISION.models)
    for name in ("results.parquet", "run.json", "bench.log"):
        assert (folder / name).is_file(), name


def test_bench_log_holds_what_the_run_printed(smoke_run):
    """Every cell's line, the result tables whole (not `accur…`), the results folder and the report."""
    _, folder, _ = smoke_run
    text = (folder / "bench.log").read_text()
    for model in VISION.models:
        for dataset in ("digits", "mnist5k"):
            assert re.search(rf"✓ {dataset}\s+{model}\s+seed 0 n=300\s+acc 0\.\d{{4}}", text), (dataset, model)
        assert re.search(rf"{model}\s+0\.\d{{4}}\s+0\.\d{{4}}\s", text), model  # its row of a results table
    assert "accuracy  macro-F1" in text and "…" not in text and "\x1b[" not in text
    assert f"results: {folder}" in text and f"report:  {folder / 'report.html'}" in text


def test_run_json_holds_the_provenance(smoke_run):
    _, folder, _ = smoke_run
    info = json.loads((folder / "run.json").read_text())
    assert info["suite"] == "vision"
    assert info["config"]["profile"]["name"] == "smoke" and info["config"]["suite"]["models"] == list(VISION.models)
    assert info["versions"]["torch"] == torch.__version__
    assert info["versions"]["scikit-learn"] and info["versions"]["hydra-core"]
    assert info["machine"]["device"] == "cpu" and info["machine"]["cpu_cores"] >= 1
    assert "git_commit" in info  # None outside a git checkout
    assert info["started"] and info["ended"] and info["started"] <= info["ended"]
    assert set(info["models"]) == set(VISION.models) and set(info["datasets"]) == {"digits", "mnist5k"}
    assert "profile=smoke" in info["overrides"] and any(o.startswith("paths.results=") for o in info["overrides"])


def test_rows_have_the_schema_and_sane_values(smoke_run):
    _, folder, _ = smoke_run
    df = rows(folder)
    assert list(df.columns) == COLUMNS
    assert len(df) == 2 * len(VISION.models) and not df.duplicated(IDENTITY).any()
    assert set(df["dataset"]) == {"digits", "mnist5k"} and set(df["model"]) == set(VISION.models)
    assert (df["suite"] == "vision").all() and (df["profile"] == "smoke").all()
    assert dict(zip(df["model"], df["family"])) == FAMILY
    assert (df["features"] == "raw").all()  # no vision model declares hand-made features (claim T4)
    assert (df["status"] == "ok").all() and df["error"].isna().all()
    assert (df["seed"] == 0).all() and (df["n_train"] == 300).all() and (df["n_test"] == 200).all()
    assert (df["device"] == "cpu").all() and (df["torch_threads"] == 1).all() and not df["tuned"].any()
    assert df["accuracy"].between(0, 1).all() and df["f1_macro"].between(0, 1).all()
    classical = df[df["family"] == "classical"]
    assert (classical["accuracy"] > 0.5).all()  # the weakest, a single tree, gets ~0.6 on these slivers
    for col in ("train_seconds", "train_cpu_seconds", "predict_seconds_per_1k", "cell_seconds"):
        assert (df[col] >= 0).all() and df[col].map(math.isfinite).all(), col
    assert (df["cell_seconds"] >= df["train_seconds"]).all()
    assert df["peak_memory_mb"].notna().all()
    assert (df["n_parameters"] > 0).all()
    deep = df[df["family"] == "deep"]
    assert (deep["epochs"] == 2).all() and deep["final_train_loss"].map(math.isfinite).all()
    for params in df["params"]:
        assert "_target_" in json.loads(params)
    assert df[df["model"] == "mlp"]["params"].str.contains("harness.models.mlp.MLP").all()
    assert df.groupby("model")["params_id"].nunique().eq(1).all()  # same params on both datasets
    cell_files = sorted((folder / "cells").glob("*.parquet"))
    from_cells = pd.concat([pd.read_parquet(f) for f in cell_files], ignore_index=True)
    assert sorted(from_cells["model"]) == sorted(df["model"])


def test_load_results_reads_the_run_back(smoke_run):
    _, folder, results = smoke_run
    df = load_results([results])
    assert len(df) == 2 * len(VISION.models) and set(df["run"]) == {str(folder)}


def test_second_identical_run_reuses_finished_cells_into_a_new_folder(run_bench):
    args = [*SMALL, "model=gaussian_nb"]
    code1, first = run_bench(*args)
    before = snapshot(first)
    code2, second = run_bench(*args)
    assert (code1, code2) == (0, 0)
    assert second is not None and second != first and second.parent == first.parent
    assert snapshot(first) == before  # earlier runs are only read
    reused = rows(second).iloc[0]
    assert reused["reused_from"] == str(first)
    assert reused["run_id"] == f"vision/{second.name}"  # the new run's row now; reused_from says whence
    mine = ["reused_from", "job", "run_id"]
    assert rows(second).drop(columns=mine).equals(rows(first).drop(columns=mine))
    # --force runs the cell again: a fresh measurement, same outcome
    code3, third = run_bench(*args, "--force")
    fresh = rows(third).iloc[0]
    assert code3 == 0 and fresh["reused_from"] is None and fresh["cell_started"] != reused["cell_started"]
    assert fresh["accuracy"] == reused["accuracy"] and fresh["cell_key"] == reused["cell_key"]
    # a changed hyperparameter is another cell; its failure goes to its own bench.log, not to earlier runs'
    before = {f"{i}/{k}": v for i, f in enumerate((first, second, third)) for k, v in snapshot(f).items()}
    code4, fourth = run_bench(*args, "+suite.overrides.gaussian_nb.estimator.var_smoothing=-1")
    assert code4 == 1 and fourth not in (first, second, third)
    assert {f"{i}/{k}": v for i, f in enumerate((first, second, third)) for k, v in snapshot(f).items()} == before
    assert "Traceback" in (fourth / "bench.log").read_text()
    # failed cells are not reused: the same failing command runs the cell again
    code5, fifth = run_bench(*args, "+suite.overrides.gaussian_nb.estimator.var_smoothing=-1")
    assert code5 == 1 and rows(fifth).iloc[0]["reused_from"] is None


def test_failing_model_is_an_error_row_and_the_others_finish(run_bench):
    # lr=-1 makes torch's Adam raise ValueError when the optimiser is built
    code, folder = run_bench(*SMALL, "suite.models=[gaussian_nb,mlp,knn]", "++suite.overrides.mlp.estimator.lr=-1")
    assert code == 1
    df = rows(folder).set_index("model")
    assert df.loc["mlp", "status"] == "error"
    assert "ValueError" in df.loc["mlp", "error"] and "learning rate" in df.loc["mlp", "error"].lower()
    assert math.isnan(df.loc["mlp", "accuracy"])
    assert (df.loc[["gaussian_nb", "knn"], "status"] == "ok").all()
    assert df.loc[["gaussian_nb", "knn"], "accuracy"].notna().all()
    assert set(df["status"]) <= set(STATUSES)


def test_diverging_model_is_recorded_as_diverged(run_bench):
    # Plain SGD with momentum at lr=1e10 overflows to NaN in the first epoch (seed 0: always).
    code, folder = run_bench(*SMALL, "model=mlp", "seed=0", "+model.estimator.optimizer=sgd",
                             "model.estimator.lr=1e10")
    assert code == 1
    row = rows(folder).iloc[0]
    assert row["status"] == "diverged" and "nan" in row["error"].lower()


def test_a_deep_model_that_stops_at_its_time_limit_is_scored_with_what_it_learned(run_bench):
    code, folder = run_bench(*SMALL, "model=mlp", "time_limit=0.000001", "profile.max_epochs=50")
    assert code == 0
    row = rows(folder).iloc[0]
    # it stopped after its first epoch (the limit had passed) and was scored: not a timeout row
    assert row["status"] == "ok" and row["stop_reason"] == "time_limit" and row["budget_hit"] == 1.0
    assert 1 <= row["epochs"] < 50 and 0.1 < row["accuracy"] <= 1.0


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_on_a_machine_without_it_is_bad_input(run_bench, capsys, monkeypatch):
    monkeypatch.setattr(console, "width", 1000)  # rich would cut lines and tables at 80 columns
    code, folder = run_bench(*SMALL, "model=mlp", "hardware=cuda")
    out, err = capsys.readouterr()
    assert code == 2 and folder is None
    lines = [line for line in (out + err).splitlines() if line.strip()]
    assert len(lines) == 1 and "hardware=cuda" in lines[0] and "cpu" in lines[0] and "Traceback" not in err


def test_list_names_every_model_dataset_and_profile(capsys, monkeypatch):
    monkeypatch.setattr(console, "width", 200)  # rich would cut lines and tables at 80 columns
    assert main(["list"]) == 0
    out, err = capsys.readouterr()
    text = out + err
    for group in ("model", "dataset", "profile", "suite", "hardware"):
        for name in group_options(group):
            assert name in text, f"{group} {name}"


def test_report_of_a_run_exits_0(smoke_run, capsys):
    _, folder, _ = smoke_run
    assert main(["report", str(folder)]) == 0
    out, err = capsys.readouterr()
    # harness.report renders the report, or, if it cannot, says so without failing the command
    assert "report:" in err or "report not written" in err
    if "report not written" not in err:
        assert (folder / "report.md").is_file()


def test_report_of_a_missing_folder_is_bad_input(capsys, tmp_path):
    assert main(["report", str(tmp_path / "nonexistent")]) == 2
    assert "no such results folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty")]) == 2


def test_scaling_gives_one_row_per_training_size(run_bench):
    code, folder = run_bench(*SMALL, "model=gaussian_nb", "scaling=on", "scaling.sizes=[50,100]", "seed=0")
    assert code == 0
    df = rows(folder)
    # runner.training_sizes: exactly the listed sizes (capped at the training split), no full-size point
    assert sorted(df["n_train"]) == [50, 100]
    assert (df["n_test"] == 200).all() and (df["status"] == "ok").all()


def test_scaling_sizes_are_capped_at_the_training_split(run_bench):
    code, folder = run_bench(*SMALL, "model=gaussian_nb", "scaling=on", "scaling.sizes=[50,5000]", "seed=0")
    assert code == 0
    assert sorted(rows(folder)["n_train"]) == [50, 300]


def test_seed_sweep_lands_in_one_run_folder(run_bench, tmp_results):
    code, folder = run_bench(*SMALL, "model=gaussian_nb", "seed=0,1", "-m")  # -m last, as users write it
    assert code == 0
    assert [p for p in (tmp_results / "vision").iterdir() if p.is_dir()] == [folder]
    df = rows(folder)
    assert sorted(df["seed"]) == [0, 1] and sorted(df["job"]) == ["0", "1"]
    assert (folder / "run.json").is_file() and (folder / "jobs" / "1" / "run.json").is_file()
    assert len(list((folder / "cells").glob("*.parquet"))) == 2


def test_depth_suite_runs_one_chosen_model(run_bench):
    # `model=NAME` in a suite with overrides and variants (this used to fail before any cell ran)
    code, folder = run_bench("suite=depth", "profile=smoke", "model=resnet", "hardware.threads=1",
                             "suite.variants.resnet={estimator.module_params.depth:[1]}",
                             "suite.profiles.smoke.overrides.resnet.estimator.max_epochs=1")  # the profile's budget
    assert code == 0
    df = rows(folder)
    assert folder.parent.name == "depth"
    assert list(df["model"]) == ["resnet"] and list(df["variant"]) == ["depth=1"] and list(df["epochs"]) == [1]


def test_claims_explain_one_claim(smoke_run, capsys):
    _, folder, _ = smoke_run
    assert main(["claims", "--explain", "T6-model-complexity", str(folder)]) == 0
    out = " ".join(capsys.readouterr().err.split())
    assert "T6-model-complexity:" in out and "What would change the verdict" in out
    assert "no rows read" not in out and "Verdict not-run" not in out and "datasets digits" in out


def test_claims_explain_an_unknown_id_is_bad_input_and_lists_the_ids(capsys, tmp_path):
    assert main(["claims", "--explain", "Z9-nothing", str(tmp_path)]) == 2
    out = " ".join(capsys.readouterr().err.split())
    assert "no claim 'Z9-nothing'" in out and "A8-diffusion" in out and "D4-compute" in out


def test_claims_explain_without_results_is_not_run_with_its_command(capsys, tmp_path):
    assert main(["claims", "--explain", "A1-xor", str(tmp_path / "nowhere")]) == 0
    out = " ".join(capsys.readouterr().err.split())
    assert "Verdict not-run:" in out and "`bench run suite=foundations`" in out
