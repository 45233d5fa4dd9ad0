"""Known answers for the rules of issue 15: existence readings (D1, A12), shallow models off the deep
side, T9's use cases, T4's untestable part, and leave-one-seed-out selection."""
import pandas as pd

from harness.claims.rules.kinds import kind_of, without_shallow
from harness.claims.rules.selection import loso_pick
from harness.claims.rows import prepare

from .cells import AT_SCALE, cell, duel, verdict_of

SEEDS = (0, 1, 2)


def test_models_without_hidden_layers_are_shallow():
    assert kind_of("perceptron") == kind_of("fasttext") == kind_of("perceptron_sklearn", "classical") == "shallow"
    assert kind_of("cnn") == "deep" and kind_of("rbf_svm", "classical") == "classical"
    rows = prepare(duel(0.9, 0.8))
    kept, dropped = without_shallow(rows)
    assert dropped == ["perceptron"] and "perceptron" not in set(kept["arch"])


def test_loso_never_uses_the_test_score_of_the_same_seed():
    # "lucky" is best only on seed 0; "steady" is best on seeds 1 and 2.
    lucky = {0: 0.99, 1: 0.50, 2: 0.50}
    steady = {0: 0.80, 1: 0.80, 2: 0.80}
    rows = prepare(pd.DataFrame([cell(model=m, seed=s, accuracy=v[s]) for m, v in (("lucky", lucky), ("steady", steady))
                                 for s in SEEDS]))
    pick = loso_pick(rows, "deep")
    # Seed 0: chosen on seeds 1, 2 (steady wins there), so lucky's 0.99 at seed 0 is never reported.
    assert pick.keys == {0: "steady", 1: "steady", 2: "steady"}
    assert pick.scores(rows, "accuracy").tolist() == [0.8, 0.8, 0.8]
    # Change only seed 0's scores: seed 0's choice must not move.
    rows.loc[(rows["key"] == "steady") & (rows["seed"] == 0), "accuracy"] = 0.01
    assert loso_pick(rows, "deep").keys[0] == "steady"


def test_d1_existence_supported_when_deep_reaches_or_ties_the_best():
    df = pd.concat([duel(lambda s: 0.90 + 0.001 * s, lambda s: 0.85 + 0.002 * s),
                    duel(lambda s: 0.800 + 0.001 * s, lambda s: 0.801 + 0.001 * s, datasets=("fortunes",), suite="text")])
    v = verdict_of("D1-accuracy", df.assign(n_train=AT_SCALE))
    assert v.verdict == "supported", v.evidence
    assert "3/3 image/text datasets" in v.evidence
    assert v.curves and all(isinstance(y, float) for s in v.curves[0].series.values() for _, y in s)


def test_d1_existence_contradicted_and_tabular_not_judged():
    df = pd.concat([duel(lambda s: 0.70 + 0.001 * s, lambda s: 0.90 + 0.002 * s),
                    duel(lambda s: 0.99 + 0.001 * s, lambda s: 0.5, datasets=("wine",), suite="tabular")])
    v = verdict_of("D1-accuracy", df.assign(n_train=AT_SCALE))
    assert v.verdict == "contradicted", v.evidence
    assert "not judged" in v.evidence and "tabular/wine" in v.evidence
    assert v.counts["support"] == 0 and v.counts["contradict"] == 2


def rl_rows(dqn_solved, datasets=("cartpole", "taxi"), seeds=SEEDS, steps=50000):
    rows = []
    for ds in datasets:
        threshold = 475.0 if ds == "cartpole" else 8.0
        for s in seeds:
            hit = dqn_solved(ds, s)
            rows.append(cell(ds, "dqn", "deep", s, suite="rl", accuracy=None, n_train=steps, env_steps=steps,
                             mean_return=threshold + 5 if hit else threshold - 100, reward_threshold=threshold,
                             solved=hit, steps_to_threshold=1000.0 if hit else float("inf")))
            rows.append(cell(ds, "q_learning", "classical", s, suite="rl", accuracy=None, n_train=steps,
                             env_steps=steps, mean_return=threshold + 10, reward_threshold=threshold, solved=True,
                             steps_to_threshold=500.0))
    return pd.DataFrame(rows)


def test_a12_supported_when_dqn_reaches_the_control_threshold_grid_not_judged():
    v = verdict_of("A12-rl", rl_rows(lambda ds, s: ds == "cartpole"))
    assert v.verdict == "supported", v.evidence
    assert "not judged" in v.evidence and "taxi" in v.evidence
    assert v.counts["support"] == 1 and sum(v.counts.values()) == 1  # taxi does not vote


def test_a12_contradicted_when_dqn_never_reaches_it_and_budget_below_regime_is_out_of_regime():
    assert verdict_of("A12-rl", rl_rows(lambda ds, s: False)).verdict == "contradicted"
    small = verdict_of("A12-rl", rl_rows(lambda ds, s: False, steps=2000))
    assert small.verdict == "out-of-regime" and small.rule_verdict == "contradicted"
    assert verdict_of("A12-rl", rl_rows(lambda ds, s: True, seeds=(0,))).verdict == "indicative"


def test_t6_leaves_shallow_models_off_the_deep_side():
    # Without the perceptron the deep median is the cnn's: 10x the classical median (1000).
    df = duel(0.9, 0.8)
    df.loc[df["model"] == "cnn", "n_parameters"] = 10000
    df.loc[df["model"] == "perceptron", "n_parameters"] = 10
    v = verdict_of("T6-model-complexity", df)
    assert v.verdict == "supported", v.evidence
    assert "kind: shallow" in v.evidence and "perceptron" in v.evidence


def test_t8_leaves_shallow_models_off_the_deep_side():
    df = duel(0.9, 0.8)
    df.loc[df["model"] == "perceptron", "train_seconds"] = 5.0
    v = verdict_of("T8-hardware", df)
    assert "2/2 deep model-dataset pairs" in v.evidence and "kind: shallow" in v.evidence, v.evidence
    assert v.curves and v.curves[0].x == "train_cpu_seconds"


def test_t9_judges_vision_and_text_and_names_the_use_cases_without_a_suite():
    df = pd.concat([duel(lambda s: 0.95 + 0.001 * s, lambda s: 0.80 + 0.001 * s),
                    duel(lambda s: 0.70 + 0.001 * s, lambda s: 0.90 + 0.001 * s, datasets=("wine",), suite="tabular")])
    v = verdict_of("T9-use-cases", df)
    assert v.verdict == "supported", v.evidence
    for case in ("speech recognition", "spam filtering", "recommendation"):
        assert case in v.evidence
    assert "not-run" in v.evidence and "tabular: wine classical" in v.evidence
    assert v.counts["support"] == 2 and sum(v.counts.values()) == 2


def text_features_rows(raw_classical: bool):
    rows = []
    for s in SEEDS:
        rows += [cell("fortunes", "char_tfidf_svm", "classical", s, suite="text", accuracy=0.80 + 0.001 * s,
                      features="crafted"),
                 cell("fortunes", "textcnn", "deep", s, suite="text", accuracy=0.60 + 0.001 * s)]
        if raw_classical:
            rows.append(cell("fortunes", "raw_logreg", "classical", s, suite="text", accuracy=0.50 + 0.002 * s))
    return pd.DataFrame(rows)


def test_t4_features_part_untestable_without_a_raw_classical_model():
    v = verdict_of("T4-features", text_features_rows(raw_classical=False))
    assert v.verdict == "out-of-regime", v.evidence
    assert "untestable" in v.evidence and "learning part alone reads contradicted" in v.evidence
    # With all three sides the dataset is judged on both parts: features hold, learning fails -> mixed.
    assert verdict_of("T4-features", text_features_rows(raw_classical=True)).verdict == "mixed"


def test_linked_claims_say_they_are_counted_once():
    df = duel(0.9, 0.8)
    v = verdict_of("D4-compute", df)
    assert v.linked == "T8-hardware" and "same comparison as T8-hardware; counted once" in v.evidence


def test_descriptive_claims_carry_a_reproduction():
    df = duel(0.9, 0.8, datasets=("diabetes",), suite="tabular")
    v = verdict_of("A11-gmdh", df)
    assert v.verdict in ("definitional", "not-run", "inconclusive")
    rows = []
    for s in SEEDS:
        for model, r2, layers in (("gmdh", 0.80 + 0.001 * s, 3), ("mlp", 0.80 + 0.001 * s, None),
                                  ("ridge", 0.79 + 0.001 * s, None)):
            rows.append(cell("diabetes", model, "classical" if model != "mlp" else "deep", s, suite="tabular",
                             accuracy=None, r2=r2, n_layers=layers))
    v = verdict_of("A11-gmdh", pd.DataFrame(rows))
    assert v.verdict == "definitional" and v.reproduction.startswith("reproduction: supported"), v.evidence
