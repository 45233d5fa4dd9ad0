"""How generated images are measured: the evaluator of the task kind `generation`, one for every model.

`evaluate_generation(est, task)` draws as many images as the test split holds (a conditional
model draws them with the test split's labels, so each class gets as many as the test set has)
and measures them against the real test images:

- Features: the 84-d penultimate layer (second dense layer, after its ReLU) of one fixed classifier,
  LeNet-5 of harness/models/cnn.py with LeNet-5's own 6 and 16 channels, trained on the real training split only
  (`RECIPE`: Adam at 1e-3, batches of 64, RECIPE_STEPS steps, seed 0, no augmentation). It plays the
  part of FID's Inception network for small grey images, and is the same for every model of a
  (dataset, seed): one per training split, cached in the process and on disk under `cache_dir`
  (`feature_classifiers/<dataset>-<hash>.npz`: arrays only, read without pickle), keyed by a hash of
  the recipe and the split's images and labels. Its test accuracy is in every row
  (`feature_classifier_accuracy`): the features are only as telling as that classifier. A generator
  that measures its Fréchet distance while it trains (`frechet_to`, harness/deep/generative.py
  `fd_every`) gets the same classifier: the recipe on the same training split, shared in the process.
- `frechet_distance`: ||mu_g - mu_r||^2 + tr(S_g + S_r - 2 (S_g S_r)^1/2) between Gaussians fitted to
  the generated and the real test features (Heusel et al., 2017); lower is better. It is biased
  upward at small sample sizes, so `frechet_distance_real` holds the same distance from as many real
  training images (a stratified sample) to the test images: what a perfect generator would score here.
- `precision`, `recall`: improved precision and recall (Kynkäänniemi et al., 2019) with k = PR_K
  neighbours, in the same features: precision is the share of generated samples inside the real
  manifold (the union of balls around each real test feature, of radius its distance to its k-th
  nearest real neighbour), recall the share of real test samples inside the generated manifold.
  `precision_real`, `recall_real`: the real training sample in place of the generated one.
- `cas_accuracy` (conditional models only): classification accuracy score (Ravuri & Vinyals, 2019):
  the same recipe trained on the generated labelled images instead of real ones, tested on the real
  test images. `feature_classifier_accuracy` is the recipe trained on the real training split: the
  score a generator that gave back the real data would approach (it had more images: the whole
  training split, where CAS gets as many as the test split).
- `nn_distance_ratio`: median pixel distance from a generated image to its nearest training image
  over the same for the real test images. About 1: samples are as far from the training images as
  fresh real images are; well below 1: samples copy training images (a KDE does, by construction).
- `sample_grid`: a PNG (base64) of up to ten samples of each of the first ten classes, a row per
  class (an unconditional model: its first 100 samples), shown in the report.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
from pathlib import Path

import numpy as np
import torch
from torch import nn

from harness.data import Task
from harness.data.task import stratified_subset
from harness.core.measure import Measurement, final_estimator, measure
from harness.models.cnn import LeNet5
from harness.deep.training import train_module

RECIPE_STEPS = 500
RECIPE = {"network": "harness.models.cnn.LeNet5", "channels": [6, 16], "optimizer": "adam", "lr": 1e-3,
          "batch_size": 64, "steps": RECIPE_STEPS, "seed": 0, "version": 1}
PR_K = 3
log = logging.getLogger("bench")
GRID_CLASSES, GRID_PER_CLASS = 10, 10
_classifiers: dict[str, tuple[LeNet5, float]] = {}  # this process's feature classifiers, by cache key
_recipes: dict[str, LeNet5] = {}  # this process's recipe classifiers, by their training split alone


# ---------------------------------------------------------------- the fixed classifier

def train_recipe(X: np.ndarray, y: np.ndarray, n_classes: int, device: str = "cpu") -> LeNet5:
    """The LeNet-5 of RECIPE trained on (X, y): seeded, a fixed number of steps, no validation split."""
    torch.manual_seed(RECIPE["seed"])
    module = LeNet5(tuple(X.shape[1:]), n_classes, channels=tuple(RECIPE["channels"])).to(device)
    optimizer = torch.optim.Adam(module.parameters(), lr=RECIPE["lr"])
    train_module(module, nn.functional.cross_entropy, torch.as_tensor(X, dtype=torch.float32, device=device),
                 torch.as_tensor(y, dtype=torch.long, device=device), None, None, optimizer=optimizer,
                 batch_size=RECIPE["batch_size"], max_epochs=1, patience=0,
                 generator=torch.Generator().manual_seed(RECIPE["seed"]), min_steps_per_epoch=RECIPE["steps"])
    return module.eval()


def recipe_classifier(X: np.ndarray, y: np.ndarray, n_classes: int, device: str = "cpu") -> LeNet5:
    """`train_recipe` on (X, y), on the CPU, trained once per process for one training split."""
    h = hashlib.sha1(json.dumps([RECIPE, int(n_classes)], sort_keys=True).encode())
    for a in (X, y):
        a = np.ascontiguousarray(a)
        h.update(str((a.shape, a.dtype.str)).encode())
        h.update(a.tobytes())
    key = h.hexdigest()
    if key not in _recipes:
        _recipes[key] = train_recipe(X, y, n_classes, device).cpu()
    return _recipes[key]


def frechet_to(reference: np.ndarray, classifier: LeNet5):
    """A scorer: images -> their Fréchet distance to the `reference` images in the classifier's
    features (the reference's features computed once)."""
    real = features(classifier, reference)
    return lambda X: frechet_distance(features(classifier, np.asarray(X, dtype=np.float32)), real)


def predict_classes(module: LeNet5, X: np.ndarray, batch: int = 1000) -> np.ndarray:
    with torch.inference_mode():
        device = next(module.parameters()).device
        return torch.cat([module(torch.as_tensor(X[i:i + batch], device=device)).argmax(1)
                          for i in range(0, len(X), batch)]).cpu().numpy()


def features(module: LeNet5, X: np.ndarray, batch: int = 1000) -> np.ndarray:  # (N, C, H, W) -> (N, 84)
    penultimate = module.classifier[:-1]  # everything but the last dense layer
    with torch.inference_mode():
        device = next(module.parameters()).device
        return torch.cat([penultimate(module.features(torch.as_tensor(X[i:i + batch], device=device)))
                          for i in range(0, len(X), batch)]).double().cpu().numpy()


def cache_key(task: Task) -> str:
    h = hashlib.sha1(json.dumps(RECIPE, sort_keys=True).encode())
    for a in (task.X_train, task.y_train, task.X_test, task.y_test):
        a = np.ascontiguousarray(a)
        h.update(str((a.shape, a.dtype.str)).encode())
        h.update(a.tobytes())
    name = "".join(c if c.isalnum() or c in "-_=" else "-" for c in task.name)[:80]
    return f"{name}-{h.hexdigest()[:16]}"


def feature_classifier(task: Task, cache_dir: str | Path | None = None, device: str = "cpu") -> tuple[LeNet5, float]:
    """The fixed classifier of this task's training split and its test accuracy (module docstring)."""
    key = cache_key(task)
    if key in _classifiers:
        return _classifiers[key]
    path = Path(cache_dir).expanduser() / "feature_classifiers" / f"{key}.npz" if cache_dir else None
    module = LeNet5(task.input_shape, task.n_classes, channels=tuple(RECIPE["channels"]))
    loaded = None
    if path is not None and path.is_file():
        try:
            with np.load(path, allow_pickle=False) as f:
                state = {k: torch.from_numpy(f[k]) for k in f.files if k != "test_accuracy"}
                module.load_state_dict(state)
                loaded = float(f["test_accuracy"])
        except Exception as e:  # noqa: BLE001 - truncated, empty, corrupt (BadZipFile...) or another recipe's: rebuild
            log.warning("cached feature classifier %s is unreadable (%s: %s); training it again", path,
                        type(e).__name__, e)
            path.unlink(missing_ok=True)
            loaded = None
    if loaded is None:
        module = recipe_classifier(task.X_train, task.y_train, task.n_classes, device)
        accuracy = float(np.mean(predict_classes(module, task.X_test) == task.y_test))
        if path is not None:
            from harness.results.store import atomic_write_bytes

            buf = io.BytesIO()
            np.savez(buf, test_accuracy=np.array(accuracy), **{k: v.cpu().numpy() for k, v in module.state_dict().items()})
            atomic_write_bytes(path, buf.getvalue())
    else:
        accuracy = loaded
    _classifiers[key] = (module.eval(), accuracy)
    return _classifiers[key]


# ---------------------------------------------------------------- the measures

def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to feature sets a (N, F) and b (M, F).
    tr (S_a S_b)^1/2 is taken as the sum of the square roots of the eigenvalues of the symmetric
    S_a^1/2 S_b S_a^1/2, which has the same spectrum and needs no complex matrix square root."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    s_a, s_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    w, V = np.linalg.eigh(s_a)
    root = (V * np.sqrt(np.clip(w, 0, None))) @ V.T
    m = root @ s_b @ root
    tr_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0, None)).sum()
    return float(max(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * tr_sqrt, 0.0))


def kth_neighbour_radii(F: np.ndarray, k: int = PR_K) -> np.ndarray:
    """Each point's distance to its k-th nearest other point of F."""
    from sklearn.neighbors import NearestNeighbors

    k = min(k, len(F) - 1)
    if k < 1:
        return np.zeros(len(F))
    dist, _ = NearestNeighbors(n_neighbors=k + 1).fit(F).kneighbors(F)
    return dist[:, k]  # column 0 is the point itself


def inside_manifold(reference: np.ndarray, radii: np.ndarray, queries: np.ndarray, chunk: int = 1000) -> np.ndarray:
    """For each query, whether it lies within some reference point's radius (Kynkäänniemi et al., 2019)."""
    from scipy.spatial.distance import cdist

    return np.concatenate([(cdist(queries[i:i + chunk], reference) <= radii[None]).any(axis=1)
                           for i in range(0, len(queries), chunk)])


def precision_recall(real: np.ndarray, generated: np.ndarray, k: int = PR_K) -> tuple[float, float]:
    """(precision, recall) of generated features against real ones, with k-NN manifolds."""
    precision = inside_manifold(real, kth_neighbour_radii(real, k), generated).mean()
    recall = inside_manifold(generated, kth_neighbour_radii(generated, k), real).mean()
    return float(precision), float(recall)


def nn_distance_ratio(train: np.ndarray, generated: np.ndarray, test: np.ndarray) -> float:
    """Median distance of generated images to their nearest training image, over the same for test images."""
    from sklearn.neighbors import NearestNeighbors

    flat = lambda X: np.asarray(X, dtype=np.float32).reshape(len(X), -1)  # noqa: E731
    nn_train = NearestNeighbors(n_neighbors=1).fit(flat(train))
    gen = np.median(nn_train.kneighbors(flat(generated))[0])
    real = np.median(nn_train.kneighbors(flat(test))[0])
    return float(gen / real) if real > 0 else float("nan")


def sample_grid_png(X: np.ndarray, labels: np.ndarray | None) -> str:
    """Base64 PNG of up to GRID_PER_CLASS samples of each of the first GRID_CLASSES classes, a row per
    class (no labels: the first 100 samples, ten to a row), grey lines between, each image enlarged to
    at least 28 pixels a side."""
    from matplotlib.image import imsave

    if labels is not None:
        rows = [X[labels == k][:GRID_PER_CLASS] for k in np.unique(labels)[:GRID_CLASSES]]
    else:
        rows = [X[i:i + GRID_PER_CLASS] for i in range(0, min(len(X), GRID_CLASSES * GRID_PER_CLASS), GRID_PER_CLASS)]
    c, h, w = X.shape[1:]
    scale = max(1, -(-28 // max(h, w)))
    h, w = h * scale, w * scale
    canvas = np.full((len(rows) * (h + 1) + 1, GRID_PER_CLASS * (w + 1) + 1, 3), 0.5, dtype=np.float32)
    for r, images in enumerate(rows):
        for j, img in enumerate(images):
            img = np.kron(img, np.ones((1, scale, scale), dtype=np.float32))  # (C, h, w)
            img = np.repeat(img, 3, axis=0) if c == 1 else img[:3]
            canvas[1 + r * (h + 1):1 + r * (h + 1) + h, 1 + j * (w + 1):1 + j * (w + 1) + w] = img.transpose(1, 2, 0)
    buf = io.BytesIO()
    imsave(buf, np.clip(canvas, 0, 1), format="png")
    return base64.b64encode(buf.getvalue()).decode()


def generation_scores(task: Task, X_gen: np.ndarray, y_gen: np.ndarray | None, cache_dir: str | Path | None = None,
                      device: str = "cpu") -> dict:
    """The metric columns of generated images X_gen (labels y_gen, None when unconditional) against the
    task's real test images (module docstring)."""
    classifier, accuracy = feature_classifier(task, cache_dir, device)
    real, fake = features(classifier, task.X_test), features(classifier, X_gen)
    n = len(task.X_test)
    ref_idx = np.arange(task.n_train) if n >= task.n_train else stratified_subset(task.y_train, n, seed=0)
    reference = features(classifier, task.X_train[ref_idx])
    precision, recall = precision_recall(real, fake)
    precision_real, recall_real = precision_recall(real, reference)
    row = {"frechet_distance": frechet_distance(fake, real), "frechet_distance_real": frechet_distance(reference, real),
           "precision": precision, "recall": recall, "precision_real": precision_real, "recall_real": recall_real,
           "cas_accuracy": float("nan"), "feature_classifier_accuracy": accuracy,
           "nn_distance_ratio": nn_distance_ratio(task.X_train, X_gen, task.X_test), "n_generated": len(X_gen)}
    if y_gen is not None:
        cas = train_recipe(X_gen, y_gen, task.n_classes, device).cpu()
        row["cas_accuracy"] = float(np.mean(predict_classes(cas, task.X_test) == task.y_test))
    return row


def evaluate_generation(est, task: Task, device: str = "cpu", cache_dir: str | Path | None = None
                        ) -> tuple[dict, Measurement, int]:
    """The evaluator of task kind `generation`: (metric columns, the cost of sampling, samples drawn)."""
    model = final_estimator(est)
    if not callable(getattr(model, "sample", None)):
        raise TypeError(f"{type(model).__name__} draws no images (it has no sample method); a generation task needs "
                        "a generator, a model whose config says `task: generation`")
    conditional = bool(getattr(model, "conditional_", False))
    labels = task.y_test if conditional else None
    with measure(device) as cost:
        X_gen = model.sample(len(task.y_test), labels=labels)
    X_gen = np.asarray(X_gen, dtype=np.float32)
    if X_gen.shape != task.X_test.shape:
        raise ValueError(f"the model drew images of shape {X_gen.shape[1:]} ({len(X_gen)} of them); the task's are "
                         f"{task.X_test.shape[1:]} ({len(task.X_test)} asked for)")
    if not np.isfinite(X_gen).all():
        raise ValueError("the model drew images with non-finite pixels")
    row = generation_scores(task, X_gen, labels, cache_dir, device)
    row.update(conditional=conditional, sample_grid=sample_grid_png(X_gen, labels))
    return row, cost, len(X_gen)
