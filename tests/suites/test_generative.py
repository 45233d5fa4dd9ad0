"""suite=generative: the sample-quality measures on sets whose answer is known, the feature
classifier's cache, the RBM/DBN and DDIM pieces, the task kind, and a smoke run end to end."""
from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd
import pytest
import torch

from harness.evaluation import generative_metrics as gm
from harness.data import DatasetError, Task
from harness.data.task import as_kind
from harness.data.vision import load_digits
from harness.tasks.generation import GenerativeModel
from harness.models.diffusion import Diffusion, cosine_schedule
from harness.deep.contrastive_divergence import CDConfig, pretrain_dbn, train_rbm
from harness.models.rbm import DBN, RBM, gibbs_sample


@pytest.fixture(scope="module")
def digits_generation() -> Task:
    task = as_kind(load_digits(seed=0), "generation").subsample_train(400, seed=0)
    idx = np.sort(np.random.default_rng(0).permutation(len(task.y_test))[:200])
    task.X_test, task.y_test = task.X_test[idx], task.y_test[idx]
    return task


# --- the measures --------------------------------------------------------------------------------------

def test_frechet_distance_is_zero_for_a_set_with_itself_and_grows_with_a_mean_shift():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 12)) @ rng.normal(size=(12, 12))  # correlated features
    assert gm.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    shifts = [0.5, 1.0, 2.0]
    distances = [gm.frechet_distance(a, a + s) for s in shifts]
    # same covariance: the distance is exactly the squared shift of the mean, 12 s^2
    assert distances == pytest.approx([12 * s ** 2 for s in shifts], rel=1e-6)
    assert distances == sorted(distances)


def test_frechet_distance_matches_the_matrix_square_root_formula():
    from scipy import linalg

    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(300, 6)), 2 * rng.normal(size=(300, 6)) + 1
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    expected = (((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(s_a + s_b)
                - 2 * np.trace(linalg.sqrtm(s_a @ s_b).real))
    assert gm.frechet_distance(a, b) == pytest.approx(expected, rel=1e-6)


def test_precision_and_recall_of_the_real_set_against_itself_are_one_and_fall_with_distance():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(400, 8))
    assert gm.precision_recall(real, real) == (1.0, 1.0)
    assert gm.precision_recall(real, real + 100.0) == (0.0, 0.0)
    fresh = gm.precision_recall(real, rng.normal(size=(400, 8)))  # another sample of the same distribution
    assert 0.6 < fresh[0] <= 1.0 and 0.6 < fresh[1] <= 1.0
    collapsed = gm.precision_recall(real, np.zeros((400, 8)) + rng.normal(scale=0.01, size=(400, 8)))
    assert collapsed[0] > 0.9 and collapsed[1] < 0.2  # mode collapse: precise, no recall


class Copier(GenerativeModel):
    """A 'generator' that hands back training images of the asked class: perfect quality, no novelty."""

    def __init__(self, noise: float = 0.0, conditional: bool = True, random_state: int = 0):
        self.noise = noise
        self.conditional = conditional
        self.random_state = random_state

    def fit_images(self, X, y, on_epoch=None):
        self.X_, self.y_ = X, y

    def draw(self, n, y, seed):
        rng = np.random.default_rng(seed)
        pool = [np.flatnonzero(self.y_ == k) for k in range(len(self.classes_))] if y is not None else None
        idx = (np.array([rng.choice(pool[k]) for k in y]) if y is not None else rng.integers(len(self.X_), size=n))
        return self.X_[idx] + self.noise * rng.normal(size=self.X_[idx].shape)


def test_evaluator_tells_copies_from_noise_and_records_what_it_used(digits_generation, tmp_path):
    task = digits_generation
    copies, _, n = gm.evaluate_generation(Copier().fit(task.X_train, task.y_train), task, cache_dir=tmp_path)
    noise, _, _ = gm.evaluate_generation(Copier(noise=0.5).fit(task.X_train, task.y_train), task, cache_dir=tmp_path)
    assert n == len(task.y_test) and copies["n_generated"] == n and copies["conditional"]
    assert copies["frechet_distance"] < noise["frechet_distance"] / 5
    assert copies["precision"] > 0.8 and noise["precision"] < copies["precision"]
    assert copies["nn_distance_ratio"] == 0.0  # every sample is a training image
    assert copies["cas_accuracy"] > 0.8 and copies["feature_classifier_accuracy"] > 0.85
    assert copies["frechet_distance_real"] == noise["frechet_distance_real"]  # the floor is the model's neighbour
    png = base64.b64decode(copies["sample_grid"])
    assert png.startswith(b"\x89PNG")
    unconditional, _, _ = gm.evaluate_generation(Copier(conditional=False).fit(task.X_train, task.y_train), task,
                                                 cache_dir=tmp_path)
    assert not unconditional["conditional"] and np.isnan(unconditional["cas_accuracy"])


def test_feature_classifier_is_cached_in_the_process_and_on_disk(digits_generation, tmp_path):
    task = digits_generation
    gm._classifiers.clear()
    first, accuracy = gm.feature_classifier(task, tmp_path)
    assert gm.feature_classifier(task, tmp_path)[0] is first  # the same object within a process
    files = list((tmp_path / "feature_classifiers").glob("*.npz"))
    assert len(files) == 1 and files[0].name.startswith("digits-")
    gm._classifiers.clear()
    again, accuracy_again = gm.feature_classifier(task, tmp_path)  # read back from disk, not trained
    assert again is not first and accuracy_again == accuracy
    for (k, v), (_, w) in zip(first.state_dict().items(), again.state_dict().items()):
        assert torch.equal(v, w), k
    other = task.subsample_train(300, seed=1)  # another training split: another classifier
    assert gm.cache_key(other) != gm.cache_key(task)


@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage", "wrong_keys"])
def test_a_damaged_cached_classifier_is_rebuilt_with_a_warning_naming_it(digits_generation, tmp_path, damage, caplog):
    task = digits_generation
    gm._classifiers.clear()
    _, accuracy = gm.feature_classifier(task, tmp_path)
    (path,) = (tmp_path / "feature_classifiers").glob("*.npz")
    data = path.read_bytes()
    path.write_bytes({"truncated": data[: len(data) // 2], "empty": b"", "garbage": b"\x00not a zip" * 50,
                      "wrong_keys": _npz(other=np.zeros(3))}[damage])
    gm._classifiers.clear()
    with caplog.at_level("WARNING", logger="bench"):
        rebuilt, accuracy_again = gm.feature_classifier(task, tmp_path)  # trained again, not an error
    assert accuracy_again == pytest.approx(accuracy, abs=0.05)
    assert str(path) in caplog.text and "training it again" in caplog.text
    gm._classifiers.clear()
    assert gm.feature_classifier(task, tmp_path)[1] == accuracy_again  # the rebuilt file reads back


def _npz(**arrays) -> bytes:
    import io

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_generation_view_takes_labelled_images_only():
    digits = load_digits(seed=0)
    task = as_kind(digits, "generation")
    assert task.kind == "generation" and task.X_train is digits.X_train
    assert as_kind(digits, "classification") is digits and as_kind(digits, None) is digits
    texts = Task("t", "classification", np.array(["a", "b"], dtype=object), np.array([0, 1]),
                 np.array(["c"], dtype=object), np.array([0]), input_kind="text")
    with pytest.raises(DatasetError, match="labelled images"):
        as_kind(texts, "generation")


# --- RBM, DBN, diffusion ---------------------------------------------------------------------------------

def bars(n: int = 600, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """4x4 images, each one full horizontal (label 0) or vertical (label 1) bar: (n, 16), (n,)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    where = rng.integers(0, 4, n)
    X = np.zeros((n, 4, 4), dtype=np.float32)
    for i in range(n):
        if y[i] == 0:
            X[i, where[i], :] = 1
        else:
            X[i, :, where[i]] = 1
    return torch.from_numpy(X.reshape(n, 16)), torch.from_numpy(y)


def test_rbm_contrastive_divergence_lowers_the_reconstruction_error():
    X, _ = bars()
    torch.manual_seed(0)
    errors = train_rbm(RBM(16, 16), X, CDConfig(epochs=15, lr=0.1), torch.Generator().manual_seed(0))
    assert errors[-1] < 0.5 * errors[0]
    persistent = train_rbm(RBM(16, 16), X, CDConfig(epochs=3, persistent=True), torch.Generator().manual_seed(0))
    assert all(np.isfinite(persistent))


def test_dbn_with_labels_samples_the_clamped_class_and_its_encoder_is_the_up_pass():
    X, y = bars()
    torch.manual_seed(0)
    dbn = DBN(16, [32, 32], n_labels=2)
    errors = pretrain_dbn(dbn, X, y, CDConfig(epochs=20, lr=0.1), torch.Generator().manual_seed(0))
    assert len(errors) == 2 and all(len(e) == 20 for e in errors)
    with torch.no_grad():
        np.testing.assert_allclose(dbn.encoder()(X[:5]).numpy(), dbn.up(X[:5]).numpy(), rtol=1e-5, atol=1e-6)
    labels = torch.tensor([0] * 50 + [1] * 50)
    samples = gibbs_sample(dbn, 100, 200, torch.Generator().manual_seed(1), labels).view(100, 4, 4)
    assert samples.min() >= 0 and samples.max() <= 1
    rows, cols = samples.mean(dim=2), samples.mean(dim=1)  # (n, 4): how full each row / column is
    horizontal = rows.max(dim=1).values - cols.max(dim=1).values  # > 0 when a row is fuller than any column
    assert (horizontal[:50] > 0).float().mean() > 0.7 and (horizontal[50:] < 0).float().mean() > 0.7
    with pytest.raises(ValueError, match="label units"):
        pretrain_dbn(DBN(16, [8], n_labels=2), X, None, CDConfig(epochs=1), torch.Generator())


def test_ddim_with_the_true_noise_recovers_the_image_in_any_number_of_steps():
    """A denoiser that knows x0 predicts the exact noise; every sampler must then land on x0."""
    diffusion = Diffusion(1000)
    x0 = torch.rand(3, 1, 8, 8) * 2 - 1

    def oracle(x, t, y):
        a = diffusion.alpha_bar[t][:, None, None, None]
        return (x - a.sqrt() * x0) / (1 - a).sqrt()

    for steps, eta in ((1, 0.0), (10, 0.0), (50, 1.0)):
        out = diffusion.sample(oracle, x0.shape, None, steps, torch.Generator().manual_seed(0), eta)
        # float32: at the noisiest step sqrt(alpha_bar) is ~1e-3, so x0 comes back to ~1e-3, not exactly
        torch.testing.assert_close(out, x0, atol=5e-3, rtol=0)
    alpha_bar = cosine_schedule(1000)
    assert alpha_bar[0] > 0.99 and alpha_bar[-1] < 1e-3 and (alpha_bar[1:] < alpha_bar[:-1]).all()


# --- the suite ---------------------------------------------------------------------------------------------

SMOKE = ["suite=generative", "profile=smoke", "dataset=digits", "hardware.threads=1", "profile.max_train=200",
         "profile.max_test=100"]


@pytest.fixture(scope="module")
def smoke_run(bench, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    code, folder = bench(tmp_path_factory.mktemp("results"), *SMOKE, f"paths.cache={cache}")
    assert code == 0
    return folder, cache


def test_generative_suite_writes_rows_with_finite_metrics_and_a_sample_grid_in_the_report(smoke_run):
    folder, cache = smoke_run
    df = pd.read_parquet(folder / "results.parquet").set_index("model")
    assert sorted(df.index) == ["dbn", "ddpm", "gan", "gmm", "kde", "pca_gaussian", "vae"]
    assert (df["status"] == "ok").all(), df["error"].to_dict()
    metrics = ["frechet_distance", "frechet_distance_real", "precision", "recall", "cas_accuracy",
               "feature_classifier_accuracy", "nn_distance_ratio", "train_seconds", "predict_seconds_per_1k"]
    assert np.isfinite(df[metrics].to_numpy(dtype=float)).all()
    assert df["conditional"].all() and (df["n_generated"] == 100).all() and df["accuracy"].isna().all()
    assert df["feature_classifier_accuracy"].nunique() == 1  # one fixed classifier for every model
    assert len(list((cache / "feature_classifiers").glob("digits-*.npz"))) == 1
    report = (folder / "report.md").read_text()
    assert "| model | family | conditional | FD |" in report
    for model in df.index:
        assert (folder / "plots" / f"generative-digits-{model}-samples.png").is_file()
        assert f"plots/generative-digits-{model}-samples.png" in report
    assert report.count("data:image/png") == 0 and (folder / "report.html").read_text().count("data:image/png") >= 7


def test_compare_reads_a_rise_of_the_frechet_distance_relative_to_the_base(tmp_path):
    from harness.results.compare import Thresholds, compare
    from harness.results.store import RunStore

    def side(folder, fd):
        store = RunStore(folder)
        store.write_row({"suite": "generative", "dataset": "digits", "model": "gan", "variant": "", "params_id": "p",
                         "n_train": 300, "n_test": 100, "seed": 0, "status": "ok", "error": None, "accuracy": np.nan,
                         "frechet_distance": fd, "train_seconds": 1.0, "predict_seconds_per_1k": 0.01,
                         "cell_started": "0"})
        return store.consolidate().assign(calibration=0.1, run=str(folder))

    base = side(tmp_path / "base", 40.0)
    small, large = (compare(base, side(tmp_path / name, fd), Thresholds()).iloc[0]
                    for name, fd in (("small", 46.0), ("large", 60.0)))  # +15% is inside the 25% floor, +50% not
    assert small["metric"] == "frechet_distance" and small["verdict"] == "unchanged"
    assert large["verdict"] == "regression" and "frechet_distance" in large["reasons"]


# --- the Fréchet distance along training (fd_every) -----------------------------------------------------

def smoke_generators() -> dict:
    """Each deep generator at a smoke size, checked every 5 steps on 40 drawn images."""
    from harness.deep.generative import DCGAN, DDPM, DeepBeliefNet, VariationalAutoencoder

    fd = dict(fd_every=5, fd_samples=40, fd_patience=2)
    return {"gan": DCGAN(width=8, max_steps=20, **fd), "vae": VariationalAutoencoder(width=8, max_steps=20, **fd),
            "ddpm": DDPM(width=8, timesteps=100, max_steps=20, sampling_steps=5, fd_sampling_steps=3, **fd),
            "dbn": DeepBeliefNet(hidden=[32, 32], rbm_steps=20, batch_size=16, gibbs_steps=10, fd_gibbs_steps=5, **fd)}


@pytest.mark.parametrize("name", ["gan", "vae", "ddpm", "dbn"])
def test_each_deep_generator_checks_its_frechet_distance_on_held_out_training_images(digits_generation, name):
    task = digits_generation
    model = smoke_generators()[name].fit(task.X_train, task.y_train)
    row = model.diagnostics(task.X_test, task.y_test)
    curve = json.loads(row["fd_curve"])
    assert curve["steps"] and len(curve["steps"]) == len(curve["frechet_distance"]) == row["fd_checks"]
    assert all(np.isfinite(curve["frechet_distance"])) and row["fd_best"] == pytest.approx(min(curve["frechet_distance"]), abs=1e-4)
    assert row["fd_best_step"] in curve["steps"] and row["fd_seconds"] > 0
    assert model.stop_reason_ in ("plateau", "steps", "epochs")
    assert row["fd_held_out"] == row["fd_reference"] == 40  # 10% of 400, stratified, not learned from
    assert model.class_prior_.sum() == pytest.approx(1) and len(model.classes_) == 10
    scores, _, _ = gm.evaluate_generation(model, task)
    assert np.isfinite(scores["frechet_distance"])
    assert not hasattr(model, "fd_score_") and model.fd_tracker_ is None  # no closure over the images is kept


def test_checks_leave_the_gans_training_as_it_was_and_keep_the_generator_of_the_lowest_distance(digits_generation):
    """With nothing held out and no patience, a checked GAN takes the same steps as an unchecked one
    (a check draws in eval mode and from its own random generator); its generator is then the one of
    the best check, which scores the same distance again."""
    from harness.deep.generative import DCGAN

    task = digits_generation
    plain = DCGAN(width=8, max_steps=20).fit(task.X_train, task.y_train)
    checked = DCGAN(width=8, max_steps=20, fd_every=4, fd_samples=60, fd_patience=0, fd_holdout=0.0)
    checked.fit(task.X_train, task.y_train)
    assert checked.losses_ == plain.losses_ and checked.stop_reason_ == "steps"
    assert checked.fd_held_out_ == 0 and checked.fd_reference_ == 60
    record = checked.fd_record_
    assert record["steps"] == [4, 8, 12, 16, 20] and record["best"] == min(record["scores"])
    reference = gm.stratified_subset(task.y_train, 60, seed=0)
    scorer = gm.frechet_to(task.X_train[reference], gm.recipe_classifier(task.X_train, task.y_train, 10))
    labels = task.y_train[np.random.default_rng(0).permutation(reference)]
    assert checked.frechet_check(scorer, labels) == pytest.approx(record["best"], rel=1e-6)


def test_frechet_checks_need_labels_and_sensible_settings(digits_generation):
    from harness.deep.generative import VariationalAutoencoder

    task = digits_generation
    with pytest.raises(ValueError, match="needs the labels"):
        VariationalAutoencoder(max_steps=2, fd_every=1).fit(task.X_train)
    with pytest.raises(ValueError, match="fd_holdout"):
        VariationalAutoencoder(max_steps=2, fd_every=1, fd_holdout=1.0).fit(task.X_train, task.y_train)


FD_SMOKE = [*SMOKE, "suite.models=[gan,vae,ddpm,dbn]",
            *(f"+suite.profiles.smoke.overrides.{m}.estimator.fd_every=5" for m in ("gan", "vae", "ddpm", "dbn"))]


def test_a_smoke_run_with_frechet_checks_records_the_curve_and_the_stop_in_each_row(bench, tmp_path):
    code, folder = bench(tmp_path / "results", *FD_SMOKE, f"paths.cache={tmp_path / 'cache'}")
    assert code == 0
    df = pd.read_parquet(folder / "results.parquet").set_index("model")
    assert sorted(df.index) == ["dbn", "ddpm", "gan", "vae"] and (df["status"] == "ok").all(), df["error"].to_dict()
    for model, row in df.iterrows():
        curve = json.loads(row["fd_curve"])
        assert curve["steps"][0] == 5 and row["fd_best_step"] in curve["steps"], model
        assert row["stop_reason"] in ("plateau", "steps", "epochs") and row["fd_seconds"] < row["train_seconds"]
