"""Interpretability of any fitted classifier, measured the same way for every family (`interpret=on`).

One entry, `interpret(estimator, task, cfg, seed)`, returns the `interp_` columns of a cell's row.
Every figure comes from the model's own outputs on real test inputs:

- Surrogate fidelity: a depth-3 and a depth-5 decision tree and an L1 (sparse) logistic regression
  learn to imitate the model's predicted labels on test inputs; fidelity is their agreement with the
  model on the half of those inputs they did not see (2-fold: each half fits once, scores once).
- Faithfulness: occlusion attributions (a feature group set to `baseline`; groups are image patches
  or single tabular features) order the groups; the deletion curve removes them most-important
  first, the insertion curve reveals them into an all-baseline input. Each curve is the predicted
  class's probability divided by its probability on the full input, over the fraction of groups
  removed or revealed (0..1); the AUC is the mean over explained points. Lower deletion AUC and
  higher insertion AUC = more faithful. Dividing by the full-input probability puts a sure model
  (k-NN, trees: often 1.0) and a hesitant one (softmax of SVM margins) on one scale, while a model
  whose output hardly depends on its input keeps a flat curve near 1; insertion may pass 1 when the
  top groups alone make the model surer than the whole input. The same deletion curve for a random
  order is the model's own reference: how fast its output falls when the attribution knows nothing.
- Gradients (torch models only): integrated gradients and saliency from captum, summed per group,
  scored by the same deletion curve.
- Stability: Spearman correlation of each point's occlusion map with the map of a noisy copy.
  Between seeds: the test split changes with the seed, so no point is explained twice; instead each
  cell stores its global importance (mean |occlusion| per group, summing to 1) and
  `between_seed_stability` correlates those maps across a model's seeds (report and claim T7).
- Explanation size: the number of groups that carry 90% of the global importance; for glass-box
  models also their own size (tree depth and leaves, non-zero coefficients, stored points).

Scores: `predict_proba` where the model has it; otherwise the softmax of `decision_function` (a
monotone map of the margins: the SVM's ranking of classes is kept, not calibrated); otherwise the
predicted label as a one-hot vector. The row says which (`interp_score`).

Shapes: n explained points, F input features (flattened), G feature groups, S masks per point,
K classes.
"""
from __future__ import annotations

import itertools
import json
import time

import numpy as np
from scipy.stats import rankdata
from sklearn.model_selection import KFold
from sklearn.tree import DecisionTreeClassifier

from harness.data.task import Task, stratified_subset
from harness.core.measure import final_estimator

# Every column interpretation adds, with the value that means "not measured".
COLUMNS = {
    "interp_score": None, "interp_points": None, "interp_groups": None,
    "interp_fidelity_tree3": np.nan, "interp_fidelity_tree5": np.nan, "interp_fidelity_linear": np.nan,
    "interp_deletion_auc": np.nan, "interp_deletion_auc_random": np.nan, "interp_insertion_auc": np.nan,
    "interp_ig_deletion_auc": np.nan, "interp_saliency_deletion_auc": np.nan,
    "interp_stability_noise": np.nan, "interp_mass90_features": np.nan, "interp_importance": None,
    "interp_glassbox_size": None, "interp_error": None,
}
MASS = 0.9  # share of the global importance that `interp_mass90_features` counts groups up to


# ---------------------------------------------------------------- the model's outputs

def score_function(est):
    """(X -> (n, K) class scores summing to 1, how they were obtained)."""
    if hasattr(est, "predict_proba"):
        return est.predict_proba, "predict_proba"
    if hasattr(est, "decision_function"):
        def softmax_margins(X):
            d = np.asarray(est.decision_function(X), dtype=np.float64)
            if d.ndim == 1:  # binary: one margin for the positive class
                d = np.column_stack([np.zeros_like(d), d])
            e = np.exp(d - d.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
        return softmax_margins, "softmax of decision_function"

    def label_indicator(X):
        return (np.asarray(est.predict(X))[:, None] == np.asarray(est.classes_)[None, :]).astype(np.float64)
    return label_indicator, "predicted label (one-hot)"


def chunked(score, X: np.ndarray, chunk_rows: int) -> np.ndarray:
    return np.concatenate([score(X[i:i + chunk_rows]) for i in range(0, len(X), chunk_rows)])


def masked_scores(score, X: np.ndarray, target: np.ndarray, keep: np.ndarray, groups: np.ndarray,
                  baseline: float, chunk_rows: int) -> np.ndarray:
    """Score of class `target[i]` for every masked copy of X[i]: (n, S).

    keep: (S, G) masks shared by every point, or (n, S, G) per point; True keeps a group, False
    sets its features to `baseline`. Copies are built a chunk of points at a time and scored in one
    model call per chunk (kNN and SVMs pay per call, not per row)."""
    n, shape = len(X), X.shape[1:]
    flat = X.reshape(n, -1)
    n_masks = keep.shape[-2]
    out = np.empty((n, n_masks))
    step = max(1, chunk_rows // n_masks)
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        k = keep[lo:hi] if keep.ndim == 3 else np.broadcast_to(keep, (hi - lo, *keep.shape))
        copies = np.where(k[..., groups], flat[lo:hi, None, :], np.asarray(baseline, X.dtype))  # (b, S, F)
        p = score(copies.reshape(-1, *shape)).reshape(hi - lo, n_masks, -1)                      # (b, S, K)
        out[lo:hi] = np.take_along_axis(p, target[lo:hi, None, None], axis=2)[..., 0]
    return out


# ---------------------------------------------------------------- feature groups

def patch_side(side: int, requested) -> int:
    """`auto`: the smallest patch side that cuts an image side into at most 7 patches (2 on 8x8, 4 on 28x28)."""
    if requested not in (None, "auto"):
        return max(1, int(requested))
    return next(p for p in range(1, side + 1) if -(-side // p) <= 7)


def feature_groups(input_shape: tuple[int, ...], input_kind: str, patch="auto") -> np.ndarray:
    """The group of every flattened input feature: (F,) ints in 0..G-1. Images: square patches over
    (H, W), all channels of a patch together; any other input: one group per feature."""
    if input_kind != "image" or len(input_shape) != 3:
        return np.arange(int(np.prod(input_shape)))
    c, h, w = input_shape
    ph, pw = patch_side(h, patch), patch_side(w, patch)
    rows, cols = np.arange(h)[:, None] // ph, np.arange(w)[None, :] // pw
    per_pixel = rows * -(-w // pw) + cols                 # (H, W)
    return np.broadcast_to(per_pixel, (c, h, w)).ravel()  # (C*H*W,)


def group_sums(attr: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """(n, F) per-feature attributions -> (n, G) per-group sums."""
    onehot = np.zeros((len(groups), n_groups))
    onehot[np.arange(len(groups)), groups] = 1
    return attr.reshape(len(attr), -1) @ onehot


# ---------------------------------------------------------------- attributions and curves

def occlusion_masks(n_groups: int) -> np.ndarray:
    """(G+1, G): the full input, then each group occluded alone."""
    return np.vstack([np.ones((1, n_groups), bool), ~np.eye(n_groups, dtype=bool)])


def occlusion_from_scores(s: np.ndarray) -> np.ndarray:
    """Scores on `occlusion_masks` (n, G+1) -> attributions (n, G): how much the class score drops
    when a group is occluded (negative: the group argues against the class)."""
    return s[:, :1] - s[:, 1:]


def ranks_of(attr: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each group's position when the point's groups are sorted most-attributed first; ties in random order."""
    order = np.lexsort((rng.random(attr.shape), -attr), axis=-1)
    return np.argsort(order, axis=-1)


def curve_steps(n_groups: int, steps: int) -> np.ndarray:
    """How many groups are removed (or revealed) at each point of a curve, 0..G."""
    return np.unique(np.round(np.linspace(0, n_groups, min(steps, n_groups) + 1)).astype(int))


def deletion_masks(ranks: np.ndarray, ks: np.ndarray) -> np.ndarray:
    """(n, G) ranks -> (n, S, G): at step s the ks[s] top-ranked groups are removed."""
    return ranks[:, None, :] >= ks[None, :, None]


def insertion_masks(ranks: np.ndarray, ks: np.ndarray) -> np.ndarray:
    """(n, G) ranks -> (n, S, G): at step s only the ks[s] top-ranked groups are shown."""
    return ranks[:, None, :] < ks[None, :, None]


def curve_auc(scores: np.ndarray, full: np.ndarray, ks: np.ndarray, n_groups: int) -> float:
    """Mean over points of the area under score / full-input score, over the fraction of groups 0..1."""
    relative = scores / full[:, None]
    return float(np.mean(np.trapezoid(relative, ks / n_groups, axis=1)))


def spearman_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman correlation of each row of a with the same row of b; NaN where a row is constant."""
    ra, rb = rankdata(a, axis=1), rankdata(b, axis=1)
    ra, rb = ra - ra.mean(axis=1, keepdims=True), rb - rb.mean(axis=1, keepdims=True)
    denom = np.sqrt((ra ** 2).sum(axis=1) * (rb ** 2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (ra * rb).sum(axis=1) / np.where(denom > 0, denom, 1), np.nan)


def global_importance(attr: np.ndarray) -> np.ndarray | None:
    """Mean |attribution| per group over the points, summing to 1 (None when no group moves the model)."""
    mass = np.abs(attr).mean(axis=0)
    return mass / mass.sum() if mass.sum() > 0 else None


def mass_features(importance: np.ndarray, mass: float = MASS) -> int:
    """How many groups, largest first, it takes to hold `mass` of the importance."""
    return int(np.searchsorted(np.cumsum(np.sort(importance)[::-1]), mass - 1e-12) + 1)


def between_seed_stability(importances) -> float:
    """Mean Spearman correlation between the global importance maps of one model's seeds, over all
    pairs of seeds; NaN with fewer than two maps. Maps are JSON lists or arrays of equal length."""
    maps = [np.asarray(json.loads(m) if isinstance(m, str) else m, float) for m in importances
            if m is not None and not (isinstance(m, float) and np.isnan(m))]
    pairs = [(a, b) for a, b in itertools.combinations(maps, 2) if len(a) == len(b)]
    if not pairs:
        return np.nan
    return float(np.nanmean(spearman_rows(np.array([a for a, _ in pairs]), np.array([b for _, b in pairs]))))


# ---------------------------------------------------------------- gradients (torch models)

def gradient_attributions(model, X: np.ndarray, target: np.ndarray, ig_steps: int) -> dict[str, np.ndarray]:
    """Integrated gradients (baseline 0) and saliency (|gradient|) of the predicted class's logit,
    per input feature (n, F), for a fitted TorchClassifier; empty for any other model."""
    module = getattr(model, "module_", None)
    if module is None:
        return {}
    import torch
    from captum.attr import IntegratedGradients, Saliency

    module.eval()
    x = torch.as_tensor(np.asarray(X, np.float32), device=model.device).requires_grad_()
    t = torch.as_tensor(target, dtype=torch.long, device=model.device)
    ig = IntegratedGradients(module).attribute(x, baselines=torch.zeros_like(x), target=t, n_steps=ig_steps,
                                               internal_batch_size=1024)
    saliency = Saliency(module).attribute(x, target=t, abs=True)
    return {name: a.detach().cpu().numpy().reshape(len(X), -1) for name, a in
            (("ig", ig), ("saliency", saliency))}


# ---------------------------------------------------------------- surrogates and glass boxes

def surrogate_fidelity(X: np.ndarray, y_model: np.ndarray, seed: int, linear_C: float) -> dict[str, float]:
    """Agreement of each surrogate with the model's labels on the half of X it was not fitted on."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    surrogates = {
        "tree3": lambda: DecisionTreeClassifier(max_depth=3, random_state=seed),
        "tree5": lambda: DecisionTreeClassifier(max_depth=5, random_state=seed),
        # liblinear one-vs-rest: the multinomial L1 solver (saga) takes 30x longer for the same fit
        "linear": lambda: make_pipeline(StandardScaler(), OneVsRestClassifier(
            LogisticRegression(C=linear_C, l1_ratio=1.0, solver="liblinear", random_state=seed))),
    }
    X = X.reshape(len(X), -1)
    agree = {name: [] for name in surrogates}
    for fit_idx, score_idx in KFold(2, shuffle=True, random_state=seed).split(X):
        labels = np.unique(y_model[fit_idx])
        for name, make in surrogates.items():
            if len(labels) == 1:  # the model gave one label here: the surrogate is that constant
                guess = np.full(len(score_idx), labels[0])
            else:
                guess = make().fit(X[fit_idx], y_model[fit_idx]).predict(X[score_idx])
            agree[name].append(np.mean(guess == y_model[score_idx]))
    return {f"interp_fidelity_{name}": float(np.mean(v)) for name, v in agree.items()}


def glassbox_size(est) -> str | None:
    """The fitted model's own size as a reader would count it; None for deep models."""
    m = final_estimator(est)
    if hasattr(m, "module_"):
        return None
    if hasattr(m, "tree_"):
        return f"depth {m.get_depth()}, {m.get_n_leaves()} leaves"
    if hasattr(m, "estimators_") and hasattr(m.estimators_[0], "tree_"):
        depth = max(t.get_depth() for t in m.estimators_)
        return f"{len(m.estimators_)} trees, {sum(t.get_n_leaves() for t in m.estimators_)} leaves, depth ≤ {depth}"
    if hasattr(m, "_predictors"):
        trees = [p for it in m._predictors for p in it]
        return f"{len(trees)} trees, {sum(p.get_n_leaf_nodes() for p in trees)} leaves"
    if hasattr(m, "support_vectors_"):
        return f"{len(m.support_vectors_)} support vectors (kernel)"
    if hasattr(m, "coef_"):
        return f"{int(np.count_nonzero(m.coef_))} non-zero coefficients of {np.size(m.coef_)}"
    if hasattr(m, "theta_"):
        return f"naive Bayes: {m.theta_.size} means + {m.var_.size} variances"
    if hasattr(m, "n_samples_fit_"):
        return f"k-NN: {m.n_samples_fit_} stored points, k={m.n_neighbors}"
    return None


# ---------------------------------------------------------------- the entry

def interpret(estimator, task: Task, cfg, seed: int) -> dict:
    """The interp_ columns for a fitted estimator on its task (see the module docstring). `cfg` is
    the `interpret` config node."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    score, how = score_function(estimator)
    chunk_rows = int(cfg.get("chunk_rows", 4096))
    baseline = float(cfg.get("baseline", 0.0))
    groups = feature_groups(task.input_shape, task.input_kind, cfg.get("patch", "auto"))
    n_groups = int(groups.max()) + 1
    row = dict(COLUMNS, interp_score=how, interp_groups=n_groups)

    # Surrogates imitate the model on test inputs; the explained points are a stratified sample of them.
    n_test = len(task.y_test)
    surrogate_idx = rng.permutation(n_test)[:int(cfg.get("surrogate_points", 1000))]
    X_s = task.X_test[surrogate_idx]
    y_model = chunked(score, X_s, chunk_rows).argmax(axis=1)
    row.update(surrogate_fidelity(X_s, y_model, seed, float(cfg.get("linear_C", 0.1))))

    sample = int(cfg.get("sample", 200))
    idx = stratified_subset(task.y_test, sample, seed) if sample < n_test else np.arange(n_test)
    X = task.X_test[idx]
    n = len(X)
    row["interp_points"] = n

    # Phase 1: occlusion maps of each point and of a noisy copy, for the class predicted on the clean point.
    spread = np.ptp(task.X_train) if task.input_kind == "image" else task.X_train.std(axis=0)
    noisy = X + rng.normal(0.0, 1.0, X.shape).astype(X.dtype) * float(cfg.get("noise_sigma", 0.02)) * spread
    if task.input_kind == "image":  # a noisy image is still an image
        noisy = np.clip(noisy, task.X_train.min(), task.X_train.max())
    target = chunked(score, X, chunk_rows).argmax(axis=1)
    s = masked_scores(score, np.concatenate([X, noisy]), np.concatenate([target, target]),
                      occlusion_masks(n_groups), groups, baseline, chunk_rows)
    attr, attr_noisy = occlusion_from_scores(s[:n]), occlusion_from_scores(s[n:])
    full = s[:n, 0]
    per_point = spearman_rows(attr, attr_noisy)  # NaN where a map is flat: nothing to rank
    row["interp_stability_noise"] = float(np.nanmean(per_point)) if np.isfinite(per_point).any() else np.nan
    importance = global_importance(attr)
    if importance is not None:
        row["interp_importance"] = json.dumps([round(float(v), 6) for v in importance])
        row["interp_mass90_features"] = mass_features(importance)

    # Phase 2: every curve of every attribution in one batched pass.
    ks = curve_steps(n_groups, int(cfg.get("curve_steps", 16)))
    deletion_orders = {"interp_deletion_auc": attr, "interp_deletion_auc_random": rng.random(attr.shape)}
    gradients = gradient_attributions(final_estimator(estimator), X, target, int(cfg.get("ig_steps", 16)))
    deletion_orders |= {f"interp_{name}_deletion_auc": group_sums(a, groups, n_groups) for name, a in gradients.items()}
    masks = {name: deletion_masks(ranks_of(a, rng), ks) for name, a in deletion_orders.items()}
    masks["interp_insertion_auc"] = insertion_masks(ranks_of(attr, rng), ks)
    curves = masked_scores(score, X, target, np.concatenate(list(masks.values()), axis=1), groups, baseline, chunk_rows)
    for name, c in zip(masks, np.split(curves, len(masks), axis=1)):
        row[name] = curve_auc(c, full, ks, n_groups)

    row["interp_glassbox_size"] = glassbox_size(estimator)
    row["interpret_seconds"] = time.perf_counter() - t0
    return row
