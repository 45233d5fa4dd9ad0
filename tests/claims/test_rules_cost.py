"""T3, T8 and D4 (time, hardware, cost), T6 and A2 (model size and architecture)."""
import numpy as np
import pandas as pd

from tests.claims.cells import AT_SCALE, SEEDS, cell, duel, noisy, verdict_of



def with_gpu(df, speedup=10.0):
    """`df` plus the same deep cells on a GPU, `speedup` times faster: T8 and D4 need both sides."""
    gpu = df[df["family"] == "deep"].assign(device="cuda", gpu_name="H100", run="results/vision/gpu")
    gpu["train_seconds"] = gpu["train_seconds"] / speedup
    return pd.concat([df, gpu], ignore_index=True)


def test_t8_and_d4_below_their_regime_are_out_of_regime_whatever_the_rule_says():
    small = with_gpu(duel(0.95, 0.9, train_seconds=30.0))
    for claim in ("T8-hardware", "D4-compute"):
        v = verdict_of(claim, small)
        assert v.verdict == "out-of-regime" and "1,000 < 10,000" in v.evidence, v
        assert v.rule_verdict in ("contradicted", "mixed")  # what the rows alone would have said
    cpu_only = duel(0.95, 0.9, train_seconds=30.0).assign(n_train=AT_SCALE)
    v = verdict_of("T8-hardware", cpu_only)
    assert v.verdict == "out-of-regime" and "no GPU rows" in v.evidence


def test_t3_supported_contradicted_inconclusive():
    assert verdict_of("T3-time", duel(0.95, 0.9, train_seconds=100.0)).verdict == "supported"
    slow_classical = duel(0.95, 0.9)
    slow_classical.loc[slow_classical["family"] == "classical", "train_seconds"] = 100.0
    assert verdict_of("T3-time", slow_classical).verdict == "contradicted"
    noisy_time = duel(0.95, 0.9)
    deep = noisy_time["model"] == "cnn"
    noisy_time.loc[deep, "train_seconds"] = noisy_time.loc[deep, "seed"].map({0: 3.0, 1: 0.3, 2: 1.0})
    assert verdict_of("T3-time", noisy_time).verdict == "inconclusive"


def test_t3_per_hardware_and_time_to_reach():
    df = pd.concat([duel(0.95, 0.9, train_seconds=100.0),
                    duel(0.95, 0.9, train_seconds=5.0, device="cuda", gpu_name="H100").assign(run="results/vision/gpu")])
    v = verdict_of("T3-time", df)
    assert v.verdict == "supported" and "on cuda" in v.evidence and "on cpu" in v.evidence
    assert "accuracy both reach" in v.detail


def test_t8_contradicted_when_deep_trains_on_cpu_within_budget():
    v = verdict_of("T8-hardware", with_gpu(duel(0.95, 0.9, train_seconds=30.0).assign(n_train=AT_SCALE)))
    assert v.verdict == "contradicted" and "within 10 min" in v.evidence


def test_t8_supported_when_deep_times_out_past_budget_on_cpu():
    df = duel(0.95, 0.9).assign(n_train=AT_SCALE)
    deep = df["family"] == "deep"
    df.loc[deep, ["status", "accuracy", "train_seconds", "cell_seconds"]] = ["timeout", np.nan, np.nan, 700.0]
    assert verdict_of("T8-hardware", with_gpu(duel(0.95, 0.9).assign(n_train=AT_SCALE)).pipe(
        lambda g: pd.concat([df, g[g["device"] == "cuda"]]))).verdict == "supported"


def test_t8_mixed_and_inconclusive():
    df = duel(0.95, 0.9).assign(n_train=AT_SCALE)
    fast_mlp = df[df["model"] == "cnn"].assign(model="mlp", train_seconds=30.0)
    df.loc[df["model"] == "cnn", "train_seconds"] = 900.0
    assert verdict_of("T8-hardware", with_gpu(pd.concat([df, fast_mlp]))).verdict == "mixed"
    short_limit = duel(0.95, 0.9).assign(n_train=AT_SCALE)
    gpu = with_gpu(short_limit).query("device == 'cuda'")
    deep = short_limit["family"] == "deep"
    short_limit.loc[deep, ["status", "accuracy", "cell_seconds"]] = ["timeout", np.nan, 60.0]
    assert verdict_of("T8-hardware", pd.concat([short_limit, gpu])).verdict == "inconclusive"


def test_t8_not_run_without_cpu_deep_rows_and_reports_gpu_speedup():
    gpu = duel(0.95, 0.9, train_seconds=2.0).assign(run="results/vision/gpu", n_train=AT_SCALE)
    gpu.loc[gpu["family"] == "deep", ["device", "gpu_name"]] = ["cuda", "H100"]
    v = verdict_of("T8-hardware", gpu)
    assert v.verdict == "not-run" and "hardware=cpu" in v.evidence
    both = pd.concat([duel(0.95, 0.9, train_seconds=20.0).assign(n_train=AT_SCALE), gpu])
    v = verdict_of("T8-hardware", both)
    assert v.verdict == "contradicted" and "speedup" in v.evidence and "10.0x" in v.detail


def test_d4_parts_combine():
    expensive_but_cpu_ok = duel(0.95, 0.9, train_cpu_seconds=100.0, train_seconds=30.0).assign(n_train=AT_SCALE)
    assert verdict_of("D4-compute", with_gpu(expensive_but_cpu_ok)).verdict == "mixed"
    cheap = duel(0.95, 0.9, train_cpu_seconds=0.01, train_seconds=0.01).assign(n_train=AT_SCALE)
    assert verdict_of("D4-compute", with_gpu(cheap)).verdict == "contradicted"
    expensive_and_slow = duel(0.95, 0.9, train_cpu_seconds=5000.0, train_seconds=900.0).assign(n_train=AT_SCALE)
    expensive_and_slow.loc[expensive_and_slow["family"] == "deep", "train_seconds"] = 900.0
    assert verdict_of("D4-compute", with_gpu(expensive_and_slow)).verdict == "supported"


def test_t6_supported_contradicted_inconclusive():
    assert verdict_of("T6-model-complexity", duel(0.95, 0.9, n_parameters=1_000_000)).verdict == "supported"
    big_classical = duel(0.95, 0.9, n_parameters=10)
    big_classical.loc[big_classical["family"] == "deep", "n_parameters"] = 10
    big_classical.loc[big_classical["family"] == "classical", "n_parameters"] = 1_000_000
    assert verdict_of("T6-model-complexity", big_classical).verdict == "contradicted"
    # equal parameter counts: a decided equality, not a lack of evidence
    assert verdict_of("T6-model-complexity", duel(0.95, 0.9)).verdict == "no-difference"


def cnn_mlp(cnn_acc, mlp_acc, cnn_params=60_000, mlp_params=200_000, seeds=SEEDS, n_features=3072):
    """A CNN and an MLP on two image datasets of `n_features` pixels (A2's regime starts at 1,000)."""
    rows = []
    for ds in ("digits", "mnist5k"):
        for s in seeds:
            at = lambda v: v(s) if callable(v) else v  # noqa: E731
            rows += [cell(ds, "cnn", "deep", s, accuracy=at(cnn_acc), n_parameters=cnn_params, n_features=n_features),
                     cell(ds, "mlp", "deep", s, accuracy=at(mlp_acc), n_parameters=mlp_params, n_features=n_features),
                     cell(ds, "rbf_svm", "classical", s, accuracy=0.9, n_features=n_features)]
    return pd.DataFrame(rows)


def test_a2_supported_contradicted_inconclusive():
    assert verdict_of("A2-cnn-params", cnn_mlp(0.98, 0.95)).verdict == "supported"
    assert verdict_of("A2-cnn-params", cnn_mlp(0.93, 0.96)).verdict == "contradicted"
    assert verdict_of("A2-cnn-params", cnn_mlp(0.98, 0.95, cnn_params=300_000)).verdict == "contradicted"
    assert verdict_of("A2-cnn-params", cnn_mlp(noisy(0.95), 0.95)).verdict == "inconclusive"
    small_images = verdict_of("A2-cnn-params", cnn_mlp(0.98, 0.95, n_features=64))
    assert small_images.verdict == "out-of-regime" and small_images.rule_verdict == "supported"
