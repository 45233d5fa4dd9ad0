"""A3 (recurrent memory), A5 (transformer rank and cost) and A6 (Mamba) on sequence and memory rows."""
import numpy as np
import pandas as pd

from tests.claims.cells import SEEDS, cell, sequence_accuracy_rows, verdict_of

LENGTHS = (25, 50, 100, 200)


def memory_rows(longest: dict, ratio_per_step: dict, cost: dict | None = None, seeds=SEEDS, task="adding"):
    """Memory-suite rows: a model solves every length up to longest[model]; its initial gradient ratio is
    ratio_per_step[model] ** T; cost[model] = (time exponent, memory exponent) of its cost curve."""
    rows = []
    for model, top in longest.items():
        t_exp, m_exp = (cost or {}).get(model, (1.0, 1.0))
        for T in LENGTHS:
            for s in seeds:
                steps = 500
                rows.append(cell(f"{task}[length={T}]", model, "deep", s, suite="memory", n_train=2000,
                                 accuracy=np.nan, r2=0.99 if T <= top else 0.1, solved=float(T <= top),
                                 grad_ratio_init=ratio_per_step[model] ** T, train_steps=steps,
                                 train_seconds=steps * 1e-4 * T ** t_exp * (1 + 0.01 * s),
                                 peak_memory_mb=0.05 * T ** m_exp + 0.1 * s))
    return pd.DataFrame(rows)


VANISHING = {"rnn": 0.9, "lstm": 0.99, "gru": 0.99}


def test_a3_supported_when_gates_solve_longer_and_rnn_gradient_vanishes():
    v = verdict_of("A3-rnn-vanishing", memory_rows({"rnn": 25, "lstm": 100, "gru": 200}, VANISHING))
    assert v.verdict == "supported", v.evidence
    assert "rnn 25, gru 200, lstm 100" in v.evidence and "T=200" in v.evidence


def test_a3_contradicted_tie_unknown_and_mixed():
    same_gradients = {"rnn": 0.99, "lstm": 0.99, "gru": 0.99}
    assert verdict_of("A3-rnn-vanishing", memory_rows({"rnn": 100, "lstm": 50, "gru": 25}, same_gradients)).verdict \
        == "contradicted"
    assert verdict_of("A3-rnn-vanishing", memory_rows({"rnn": 200, "lstm": 200, "gru": 200}, VANISHING)).verdict \
        == "inconclusive"  # every length solved by all: the lengths run never reached the RNN's limit
    nothing = verdict_of("A3-rnn-vanishing", memory_rows({"rnn": 0, "lstm": 0, "gru": 0}, VANISHING))
    assert nothing.verdict == "inconclusive" and "none" in nothing.evidence
    # the gated cells solve longer, but the RNN's gradient does not vanish faster than theirs: mixed
    rnn_keeps = {"rnn": 0.999, "lstm": 0.9, "gru": 0.9}
    assert verdict_of("A3-rnn-vanishing", memory_rows({"rnn": 25, "lstm": 100, "gru": 100}, rnn_keeps)).verdict \
        == "mixed"


def test_a3_failed_cell_counts_as_unsolved():
    df = memory_rows({"rnn": 25, "lstm": 200, "gru": 200}, VANISHING)
    timed_out = (df["model"] == "lstm") & (df["dataset"] == "adding[length=200]")
    df.loc[timed_out, "status"] = "timeout"
    assert "lstm 100" in verdict_of("A3-rnn-vanishing", df).evidence


def test_a3_underflowed_gradient_counts_as_vanished():
    df = memory_rows({"rnn": 25, "lstm": 100, "gru": 200}, VANISHING)
    df.loc[(df["model"] == "rnn") & (df["dataset"] == "adding[length=200]"), "grad_ratio_init"] = 0.0
    v = verdict_of("A3-rnn-vanishing", df)
    assert v.verdict == "supported" and "T=200: rnn 1.2e-38" in v.evidence


QUADRATIC = {"transformer": (1.9, 2.0), "lstm": (1.0, 1.0), "mamba": (1.0, 0.9)}


def test_a5_supported_near_top_but_beaten_and_steepest_cost():
    accuracy = {"minirocket": 0.99, "transformer": 0.95, "lstm": 0.90, "mamba": 0.94, "rnn": 0.70}
    df = pd.concat([sequence_accuracy_rows(accuracy),
                    memory_rows({"lstm": 100, "transformer": 100, "mamba": 100}, VANISHING | {"transformer": 1,
                                                                                            "mamba": 1}, QUADRATIC)])
    v = verdict_of("A5-transformer", df)
    assert v.verdict == "supported", v.evidence
    assert "T^1.90" in v.evidence


def test_a5_counts_only_the_datasets_the_transformer_ran_on():
    """A suite may run only its baselines on some sets (sequence's evidence: OSULeaf for the published
    figures): "beaten on 0/N datasets" must not count those among the transformer's."""
    accuracy = {"minirocket": 0.99, "transformer": 0.95, "lstm": 0.90, "mamba": 0.94, "rnn": 0.70}
    df = pd.concat([sequence_accuracy_rows(accuracy),
                    sequence_accuracy_rows({"minirocket": 0.95, "nn_dtw": 0.6, "random_forest": 0.7}, ("osuleaf",))])
    v = verdict_of("A5-transformer", df)
    assert "/2 datasets" in v.evidence and "/3 datasets" not in v.evidence, v.evidence


def test_a5_contradicted_when_last_and_cost_flat_mixed_when_only_one_part():
    accuracy = {"minirocket": 0.99, "transformer": 0.60, "lstm": 0.90, "mamba": 0.94, "rnn": 0.95}
    flat = {"transformer": (1.0, 1.0), "lstm": (1.0, 1.0), "mamba": (1.0, 1.0)}
    ratios = {"lstm": 1, "transformer": 1, "mamba": 1}
    memory = lambda cost: memory_rows({"lstm": 100, "transformer": 100, "mamba": 100}, ratios, cost)  # noqa: E731
    one_dataset = ("gunpoint",)
    low = pd.concat([sequence_accuracy_rows(accuracy, one_dataset), memory(flat)])
    assert verdict_of("A5-transformer", low).verdict == "contradicted"  # last on accuracy, cost level with the rest
    assert verdict_of("A5-transformer", pd.concat([sequence_accuracy_rows(accuracy, one_dataset),
                                                   memory(QUADRATIC)])).verdict == "mixed"


def test_a6_supported_when_mamba_matches_and_scales_linearly():
    accuracy = {"minirocket": 0.99, "transformer": 0.95, "lstm": 0.90, "mamba": 0.955}
    df = pd.concat([sequence_accuracy_rows(accuracy),
                    memory_rows({"lstm": 100, "transformer": 100, "mamba": 100},
                                {"lstm": 1, "transformer": 1, "mamba": 1}, QUADRATIC)])
    v = verdict_of("A6-mamba", df)
    assert v.reproduction.startswith("reproduction: supported"), v.evidence
    behind = pd.concat([sequence_accuracy_rows(accuracy | {"mamba": 0.80}),
                        memory_rows({"mamba": 100, "transformer": 100}, {"mamba": 1, "transformer": 1},
                                    {"mamba": (2.0, 2.0), "transformer": (2.0, 2.0)})])
    assert verdict_of("A6-mamba", behind).reproduction.startswith("reproduction: contradicted")


def test_a5_and_a6_judge_text_rows_alone_without_the_memory_suites_step_counts():
    """The text suite's rows have no train_steps (only the memory suite counts steps): the cost part is
    simply unmeasured, never a KeyError (the text evidence alone made both rules fail)."""
    df = sequence_accuracy_rows({"transformer_text": 0.55, "lstm_text": 0.53, "mamba_text": 0.52,
                                 "char_tfidf_svm": 0.68}, datasets=("fortunes",), suite="text")
    df.loc[df["model"] == "char_tfidf_svm", "family"] = "classical"
    assert "train_steps" not in df
    for claim in ("A5-transformer", "A6-mamba"):
        assert verdict_of(claim, df).verdict != "error", claim
