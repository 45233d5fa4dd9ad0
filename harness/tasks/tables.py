"""Models on tables (classification or regression on harness/data/tabular.py's inputs): the
preprocessing each kind of model gets, fitted on its training data only, and the contract of a
classical table model (`TabularModel`: baselines/tabular.py). The networks on tables
(`TabularNet`) live in harness/deep/tabular.py.

Inputs are a DataFrame of float and `category` columns or any array (flattened to numeric columns,
so every model also runs on images). What a model decides is how categorical columns reach it and
how numeric ones are scaled:

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

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, QuantileTransformer, StandardScaler
from sklearn.utils.metaestimators import available_if


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
        from harness.core.measure import count_parameters

        return count_parameters(self.model_)

    @available_if(lambda self: hasattr(self.model_, "diagnostics"))
    def diagnostics(self, X, y) -> dict:
        return self.model_.diagnostics(self.encoder_.transform(X), y)
