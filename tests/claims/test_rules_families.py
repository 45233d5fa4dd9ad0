"""D1 and T2 (best deep against best classical, per dataset and per domain) and T4 (hand-made features)."""
import pandas as pd

from tests.claims.cells import AT_SCALE, duel, noisy, sequence_accuracy_rows, verdict_of


def test_d1_supported_contradicted_inconclusive():
    assert verdict_of("D1-accuracy", duel(0.95, 0.90).assign(n_train=AT_SCALE)).verdict == "supported"
    assert verdict_of("D1-accuracy", duel(0.88, 0.93).assign(n_train=AT_SCALE)).verdict == "contradicted"
    assert verdict_of("D1-accuracy", duel(noisy(0.90), 0.90).assign(n_train=AT_SCALE)).verdict == "inconclusive"


def test_d1_one_seed_is_indicative_whatever_the_gap():
    for gap in (0.01, 0.05):
        v = verdict_of("D1-accuracy", duel(0.90 + gap, 0.90, seeds=(0,)).assign(n_train=AT_SCALE))
        assert v.verdict == "indicative" and "1 seed" in v.scope and "ahead on 2 more" in v.evidence, v


def test_d1_mixed_across_datasets():
    df = pd.concat([duel(0.95, 0.90, datasets=("digits",)), duel(0.85, 0.90, datasets=("mnist5k",))])
    v = verdict_of("D1-accuracy", df.assign(n_train=AT_SCALE))
    assert v.verdict == "mixed" and "digits" in v.evidence and "mnist5k" in v.evidence


def test_d1_below_its_scale_is_out_of_regime_and_says_what_it_would_read():
    v = verdict_of("D1-accuracy", duel(0.88, 0.93))  # 1,000 training examples: a small dataset's duel
    assert v.verdict == "out-of-regime" and v.rule_verdict == "contradicted"
    assert "largest image/text training set 1,000 < 10,000" in v.evidence


def test_d1_judges_only_the_datasets_at_its_scale_and_reports_the_others():
    small_loss = duel(0.88, 0.93, datasets=("fortunes",), suite="text")
    v = verdict_of("D1-accuracy", pd.concat([duel(0.95, 0.90).assign(n_train=AT_SCALE), small_loss]))
    assert v.verdict == "supported", v.evidence
    assert "2/2 image/text datasets" in v.evidence and "below the claim's scale" in v.evidence
    assert "text/fortunes classical" in v.evidence
    assert v.counts["contradict"] == 0


def test_t2_vision_only_is_out_of_regime_and_says_what_the_rows_alone_give():
    v = verdict_of("T2-complexity", duel(0.95, 0.90))
    assert v.verdict == "out-of-regime" and v.rule_verdict == "mixed" and "not run" in v.evidence
    assert "1 of the 3 suites" in v.evidence
    assert verdict_of("T2-complexity", duel(0.88, 0.93)).rule_verdict == "contradicted"
    assert verdict_of("T2-complexity", duel(noisy(0.9), 0.9)).verdict == "inconclusive"  # nothing to scope


def three_domains(deep, classical, tabular=(0.80, 0.85)):
    return pd.concat([duel(deep, classical, suite="vision"), duel(deep, classical, suite="text", datasets=("imdb",)),
                      duel(*tabular, suite="tabular", datasets=("adult",))])


def test_t2_contradicted_when_every_domain_goes_against_it():
    assert verdict_of("T2-complexity", three_domains(0.88, 0.93, tabular=(0.90, 0.85))).verdict == "contradicted"
    assert verdict_of("T2-complexity", three_domains(0.88, 0.93)).verdict == "mixed"


def test_t2_supported_when_every_domain_goes_the_expected_way():
    df = pd.concat([duel(0.95, 0.90, suite="vision"), duel(0.95, 0.90, suite="text", datasets=("imdb",)),
                    duel(0.80, 0.85, suite="tabular", datasets=("adult",))])
    assert verdict_of("T2-complexity", df).verdict == "supported"


def test_t4_crafted_features_help_and_deep_matches():
    good = sequence_accuracy_rows({"minirocket": 0.95, "random_forest": 0.85, "transformer": 0.95})
    v = verdict_of("T4-features", good)
    assert v.verdict == "supported", v.evidence
    no_help = sequence_accuracy_rows({"minirocket": 0.85, "random_forest": 0.95, "transformer": 0.80})
    assert verdict_of("T4-features", no_help).verdict == "contradicted"
    deep_behind = sequence_accuracy_rows({"minirocket": 0.95, "random_forest": 0.85, "transformer": 0.80})
    assert verdict_of("T4-features", deep_behind).verdict == "mixed"
    no_crafted = sequence_accuracy_rows({"random_forest": 0.85, "transformer": 0.80})
    assert verdict_of("T4-features", no_crafted).verdict == "inconclusive"
