"""Models on tables: the preprocessing each kind of model gets, fitted on its training data only, and
the estimators that put it in front of a classical model (`TabularModel`) or a torch network
(`TabularNet`, trained by the shared loop of harness/training.py).

Inputs are what harness/data/tabular.py loads (a DataFrame of float and `category` columns) or any
array (flattened to numeric columns, so every model also runs on images). What a model decides is
how categorical columns reach it and how numeric ones are scaled:

  categorical  onehot    one 0/1 column per category (linear models, GMDH, MLP, ResNet)
               ordinal   one column of category indices (random forests)
               native    indices, flagged as categorical to a model that splits on sets of them
                         (histogram gradient boosting)
               codes     indices + 1 (0: a category not seen in training), looked up in an
                         embedding table (FT-Transformer)
  numeric      standard  median-imputed, standardised
               quantile  median-imputed, mapped to a normal distribution by quantiles (Gorishniy
                         et al., 2021 do this for their deep models)
               none      as they are (trees; missing values left to the model, which handles them)

Categorical missing values are a category of their own. What is learned is a classifier or a
regressor by the targets: float targets make a regression, any other a classification.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, QuantileTransformer, StandardScaler
from sklearn.utils.metaestimators import available_if
from torch import nn

from harness.training import batched_logits, import_object, make_optimizer, train_module

CATEGORICAL = ("onehot", "ordinal", "native", "codes")
NUMERIC = ("standard", "quantile", "none")


def target_kind(y) -> str:
    """"regression" for float targets, "classification" for any other."""
    return "regression" if np.issubdtype(np.asarray(y).dtype, np.floating) else "classification"


def as_frame(X) -> pd.DataFrame:
    """A table as it is; an array (images, series) as numeric columns x0, x1, ... of its flattened rows."""
    if isinstance(X, pd.DataFrame):
        return X
    X = np.asarray(X)
    return pd.DataFrame(X.reshape(len(X), -1), columns=[f"x{i}" for i in range(int(np.prod(X.shape[1:])))])


def categorical_columns(X: pd.DataFrame) -> list[str]:
    return [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c]) or pd.api.types.is_bool_dtype(X[c])]


def _as_text(X):
    """Categories as strings, a missing one as the category "(missing)" (encoders need one type per
    column; pandas 3's `astype(str)` would keep a missing value missing, and an ordinal encoder would
    pass it on as NaN)."""
    table = pd.DataFrame(X).astype(object)
    return table.where(table.notna(), "(missing)").astype(str)


def numeric_steps(numeric: str, seed: int, n_rows: int):
    if numeric == "none":
        return "passthrough"
    impute = SimpleImputer(strategy="median", keep_empty_features=True)
    if numeric == "standard":
        return make_pipeline(impute, StandardScaler())
    return make_pipeline(impute, QuantileTransformer(output_distribution="normal", n_quantiles=min(1000, n_rows), subsample=10**9,
                                                     random_state=seed))


def categorical_steps(categorical: str):
    text = FunctionTransformer(_as_text, feature_names_out="one-to-one")
    if categorical == "onehot":
        return make_pipeline(text, OneHotEncoder(handle_unknown="ignore", sparse_output=False))
    # -1 for a category unseen in training (the test split can hold one where a file gives its own)
    return make_pipeline(text, OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                                              dtype=np.float64))


class TableEncoder(BaseEstimator):
    """The preprocessing of one kind of model: numeric columns first, then categorical ones, as one
    float array. After fit: `n_numeric_`, `cardinalities_` (categories per categorical column, + 1
    for the unseen one, with `codes`) and `categorical_mask_` (which output columns hold categories,
    with `native`)."""

    def __init__(self, categorical: str = "onehot", numeric: str = "standard", random_state: int = 0):
        self.categorical = categorical
        self.numeric = numeric
        self.random_state = random_state

    def fit(self, X, y=None):
        if self.categorical not in CATEGORICAL:
            raise ValueError(f"unknown categorical encoding {self.categorical!r}; choose {', '.join(CATEGORICAL)}")
        if self.numeric not in NUMERIC:
            raise ValueError(f"unknown numeric scaling {self.numeric!r}; choose {', '.join(NUMERIC)}")
        X = as_frame(X)
        cats = categorical_columns(X)
        nums = [c for c in X.columns if c not in cats]
        parts = []
        if nums:
            parts.append(("numeric", numeric_steps(self.numeric, self.random_state, len(X)), nums))
        if cats:
            parts.append(("categorical", categorical_steps(self.categorical), cats))
        self.columns_ = ColumnTransformer(parts, sparse_threshold=0.0).fit(X)
        self.n_numeric_ = len(nums)
        if cats and self.categorical != "onehot":
            encoder = self.columns_.named_transformers_["categorical"][-1]
            self.cardinalities_ = [len(c) + 1 for c in encoder.categories_]
        else:
            self.cardinalities_ = []
        n_out = self.columns_.transform(X.iloc[:1]).shape[1]
        self.categorical_mask_ = np.arange(n_out) >= self.n_numeric_ if self.categorical == "native" else None
        return self

    def transform(self, X) -> np.ndarray:
        Z = np.asarray(self.columns_.transform(as_frame(X)), dtype=np.float64)
        if self.categorical == "codes" and self.cardinalities_:
            Z[:, self.n_numeric_:] += 1  # 0 is the unseen category, 1.. the training ones
        return Z


class TabularModel(BaseEstimator):
    """A scikit-learn model behind the preprocessing it needs (class attributes `categorical` and
    `numeric`, see the module docstring). A subclass stores its hyperparameters in `__init__` and
    builds the model in `build(kind)`, kind being "classification" or "regression"."""

    categorical = "onehot"
    numeric = "standard"

    def build(self, kind: str):
        raise NotImplementedError

    def fit(self, X, y):
        y = np.asarray(y)
        self.kind_ = target_kind(y)
        self.encoder_ = TableEncoder(self.categorical, self.numeric, getattr(self, "random_state", 0)).fit(X)
        self.model_ = self.build(self.kind_)
        self.model_.fit(self.encoder_.transform(X), y)
        if self.kind_ == "classification":
            self.classes_ = self.model_.classes_
        return self

    def predict(self, X) -> np.ndarray:
        return self.model_.predict(self.encoder_.transform(X))

    @available_if(lambda self: hasattr(self.model_, "predict_proba"))
    def predict_proba(self, X) -> np.ndarray:
        return self.model_.predict_proba(self.encoder_.transform(X))

    @property
    def n_parameters_(self) -> int | None:
        from harness.metrics import count_parameters

        return count_parameters(self.model_)

    @available_if(lambda self: hasattr(self.model_, "diagnostics"))
    def diagnostics(self, X, y) -> dict:
        return self.model_.diagnostics(self.encoder_.transform(X), y)


def _mse(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:  # (B, 1), (B,) -> ()
    return nn.functional.mse_loss(out.squeeze(-1), y)


class TabularNet(BaseEstimator):
    """A `harness.models` network on a table, trained by `train_module`: a classifier on class
    targets (cross-entropy), a regressor on float ones (one output, MSE on targets standardised
    with the training mean and deviation; predictions are mapped back).

    The network is `module(input_shape, n_outputs, **module_params)`. A module class with
    `categorical_embeddings = True` (FT-Transformer) gets categorical columns as codes after the
    numeric ones and `cardinalities=[...]`; any other gets them one-hot. Numeric columns are
    quantile-normalised (`numeric`). Early stopping and the learning-rate plateau read a validation
    split of the training data (`val_fraction`, stratified for classes), as TorchClassifier does;
    the parameters are TorchClassifier's, so a model config written for it runs here too
    (`augment_shift` shifts images and does nothing to a table).
    """

    def __init__(self, module: str = "harness.models.mlp.MLP", module_params: dict | None = None,
                 optimizer: str = "adamw", lr: float = 1e-3, weight_decay: float = 1e-5, momentum: float = 0.9,
                 batch_size: int = 256, max_epochs: int = 30, patience: int = 5, val_fraction: float = 0.1,
                 lr_plateau_factor: float | None = None, augment_shift: float = 0.0, min_steps_per_epoch: int = 10,
                 numeric: str = "quantile", device: str = "cpu", random_state: int = 0,
                 time_limit: float | None = None):
        self.module = module
        self.module_params = module_params
        self.optimizer = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        self.momentum = momentum
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.val_fraction = val_fraction
        self.lr_plateau_factor = lr_plateau_factor
        self.augment_shift = augment_shift
        self.min_steps_per_epoch = min_steps_per_epoch
        self.numeric = numeric
        self.device = device
        self.random_state = random_state
        self.time_limit = time_limit

    def _tensor(self, Z: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.asarray(Z, dtype=np.float32), device=self.device)

    def fit(self, X, y, on_epoch: Callable[[int, int, float], None] | None = None):
        y = np.asarray(y)
        self.kind_ = target_kind(y)
        module_cls = import_object(self.module)
        embed = bool(getattr(module_cls, "categorical_embeddings", False))
        self.encoder_ = TableEncoder("codes" if embed else "onehot", self.numeric, self.random_state).fit(X)
        Z = self.encoder_.transform(X).astype(np.float32)
        if self.kind_ == "regression":
            self.y_mean_, self.y_std_ = float(y.mean()), float(y.std()) or 1.0
            targets, n_outputs, criterion = ((y - self.y_mean_) / self.y_std_).astype(np.float32), 1, _mse
        else:
            self.classes_, targets = np.unique(y, return_inverse=True)
            n_outputs, criterion = len(self.classes_), nn.functional.cross_entropy
        torch.manual_seed(self.random_state)
        generator = torch.Generator().manual_seed(self.random_state)
        extra = {"cardinalities": self.encoder_.cardinalities_} if embed else {}
        self.module_ = module_cls((Z.shape[1],), n_outputs, **(self.module_params or {}), **extra).to(self.device)

        val = None
        n_val = int(round(self.val_fraction * len(Z)))
        if self.kind_ == "classification":
            enough = n_val >= n_outputs and len(Z) - n_val >= n_outputs
            stratify = targets if enough and np.bincount(targets).min() >= 2 else None
        else:
            enough, stratify = n_val >= 2 and len(Z) - n_val >= 2, None
        if enough:
            tr, va = train_test_split(np.arange(len(Z)), test_size=n_val, stratify=stratify,
                                      random_state=self.random_state)
            val, Z, targets = (Z[va], targets[va]), Z[tr], targets[tr]
        as_targets = (lambda a: torch.as_tensor(a, dtype=torch.float32, device=self.device)) \
            if self.kind_ == "regression" else (lambda a: torch.as_tensor(a, dtype=torch.long, device=self.device))
        opt = make_optimizer(self.optimizer, self.module_.parameters(), self.lr, self.weight_decay, self.momentum)
        scheduler = (torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=self.lr_plateau_factor, patience=2)
                     if self.lr_plateau_factor else None)
        self.history_ = train_module(
            self.module_, criterion, self._tensor(Z), as_targets(targets),
            None if val is None else self._tensor(val[0]), None if val is None else as_targets(val[1]),
            optimizer=opt, batch_size=self.batch_size, max_epochs=self.max_epochs, patience=self.patience,
            generator=generator, time_limit=self.time_limit, on_epoch=on_epoch, scheduler=scheduler,
            min_steps_per_epoch=self.min_steps_per_epoch)
        self.n_epochs_ = len(self.history_.train_loss)
        return self

    def _outputs(self, X) -> np.ndarray:
        return batched_logits(self.module_, self._tensor(self.encoder_.transform(X)), 1024).float().cpu().numpy()

    def predict(self, X) -> np.ndarray:
        out = self._outputs(X)
        if self.kind_ == "regression":
            return out[:, 0].astype(np.float64) * self.y_std_ + self.y_mean_
        return self.classes_[out.argmax(1)]

    @available_if(lambda self: getattr(self, "kind_", None) == "classification")
    def predict_proba(self, X) -> np.ndarray:
        return torch.softmax(torch.from_numpy(self._outputs(X)), dim=1).numpy()

    @property
    def n_parameters_(self) -> int:
        return sum(p.numel() for p in self.module_.parameters() if p.requires_grad)
