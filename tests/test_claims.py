"""Each implemented claim rule on synthetic result frames built to support, contradict or leave it open."""
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.claims import RULES, VERDICTS, cmd_claims, evaluate_claims, load_registry
from harness.claims.rules import IMPLEMENTED, PLANNED

CLAIMS_MD = Path("/work/shared/CLAIMS.md")
SEEDS = (0, 1, 2)


def cell(dataset="digits", model="cnn", family="deep", seed=0, n_train=1000, accuracy=0.9, suite="vision", **extra):
    """One result row as the runner writes it; `extra` overrides any column."""
    row = dict(suite=suite, dataset=dataset, model=model, family=family, params="{}", params_id="p", variant="",
               seed=seed, n_train=n_train, n_test=500, profile="default", tuned=False,
               device="cpu", cpu_model="Test CPU", gpu_name=None, torch_threads=4, git_commit="abc", job="0",
               status="ok", error=None, accuracy=accuracy, f1_macro=accuracy, train_seconds=1.0, train_cpu_seconds=1.0,
               predict_seconds_per_1k=0.01, peak_memory_mb=10.0, n_parameters=1000, epochs=None,
               final_train_loss=np.nan, best_params=None, cell_started="t", cell_seconds=1.0, run="results/vision/r1")
    row.update(extra)
    return row


def duel(deep_acc, classical_acc, seeds=SEEDS, datasets=("digits", "mnist5k"), suite="vision", **deep_extra):
    """Best deep (cnn) vs best classical (rbf_svm) plus a weak model of each family, per dataset and seed.
    Accuracies may be callables of the seed to add noise."""
    rows = []
    for ds in datasets:
        for s in seeds:
            at = lambda v: v(s) if callable(v) else v  # noqa: E731
            rows += [cell(ds, "cnn", "deep", s, accuracy=at(deep_acc), suite=suite, **deep_extra),
                     cell(ds, "perceptron", "deep", s, accuracy=0.5, suite=suite),
                     cell(ds, "rbf_svm", "classical", s, accuracy=at(classical_acc), suite=suite),
                     cell(ds, "gaussian_nb", "classical", s, accuracy=0.4, suite=suite)]
    return pd.DataFrame(rows)


def noisy(base, spread=0.05):
    """Seed-dependent scores whose mean is `base` but that swing by `spread` either way."""
    return lambda s: base + spread * (1, -1, 0.2)[s % 3]


REGISTRY = {e["id"]: e for e in load_registry()}


def verdict_of(claim_id, df):
    (v,) = evaluate_claims(df, registry=[REGISTRY[claim_id]])
    return v


# ---------------------------------------------------------------- registry

@pytest.mark.skipif(not CLAIMS_MD.exists(), reason="the shared claims list is not beside this checkout")
def test_every_claims_md_id_has_a_registry_entry():
    ids = set(re.findall(r"^\|\s*([A-Z]\d+-[a-z0-9-]+)\s*\|", CLAIMS_MD.read_text(), re.M))
    assert len(ids) >= 25
    assert ids <= {e["id"] for e in load_registry()}


def test_registry_entries_are_complete_and_rules_exist():
    entries = load_registry()
    assert len({e["id"] for e in entries}) == len(entries)
    for e in entries:
        assert {"id", "claim", "hypothesis", "evidence", "rule", "decision", "produce"} <= set(e), e["id"]
        if e["rule"] == "definitional":
            assert e["why"].strip()
        else:
            assert e["rule"] in RULES, e["rule"]
            assert e["produce"].startswith("bench run "), e["id"]
    assert {r.__name__ for r in IMPLEMENTED}.isdisjoint(PLANNED)


def test_no_rows_means_not_run_with_the_command():
    empty = pd.DataFrame([cell(suite="elsewhere")])
    for v in evaluate_claims(empty):
        assert v.verdict in ("not-run", "definitional"), v.id
        if v.verdict == "not-run":
            assert "`bench run " in v.evidence
    assert verdict_of("T5-end-to-end", empty).verdict == "definitional"


def test_unimplemented_rule_with_rows_is_inconclusive_not_guessed():
    from harness.claims.rules import pending, prepare

    df = pd.DataFrame([cell(suite="rl", model="dqn")])
    v = pending(prepare(df), dict(REGISTRY["A12-rl"], rule="not_written_yet"))
    assert v.verdict == "inconclusive" and "not implemented" in v.evidence


def test_only_failed_cells_are_inconclusive():
    df = duel(0.95, 0.9).assign(status="error", accuracy=np.nan)
    assert verdict_of("D1-accuracy", df).verdict == "inconclusive"


def test_all_verdicts_are_valid_on_a_full_vision_frame():
    df = duel(0.95, 0.90)
    for v in evaluate_claims(df):
        assert v.verdict in VERDICTS and v.evidence and v.scope, v.id


# ---------------------------------------------------------------- D1, T2: best deep vs best classical

def test_d1_supported_contradicted_inconclusive():
    assert verdict_of("D1-accuracy", duel(0.95, 0.90)).verdict == "supported"
    assert verdict_of("D1-accuracy", duel(0.88, 0.93)).verdict == "contradicted"
    assert verdict_of("D1-accuracy", duel(noisy(0.90), 0.90)).verdict == "inconclusive"


def test_d1_one_seed_small_gap_is_inconclusive_large_gap_counts():
    small = verdict_of("D1-accuracy", duel(0.91, 0.90, seeds=(0,)))
    assert small.verdict == "inconclusive" and "1 seed" in small.scope
    assert verdict_of("D1-accuracy", duel(0.95, 0.90, seeds=(0,))).verdict == "supported"


def test_d1_mixed_across_datasets():
    df = pd.concat([duel(0.95, 0.90, datasets=("digits",)), duel(0.85, 0.90, datasets=("mnist5k",))])
    v = verdict_of("D1-accuracy", df)
    assert v.verdict == "mixed" and "digits" in v.evidence and "mnist5k" in v.evidence


def test_t2_vision_only_is_partial():
    v = verdict_of("T2-complexity", duel(0.95, 0.90))
    assert v.verdict == "mixed" and "not run" in v.evidence
    assert verdict_of("T2-complexity", duel(0.88, 0.93)).verdict == "contradicted"
    assert verdict_of("T2-complexity", duel(noisy(0.9), 0.9)).verdict == "inconclusive"


def test_t2_supported_when_every_domain_goes_the_expected_way():
    df = pd.concat([duel(0.95, 0.90, suite="vision"), duel(0.95, 0.90, suite="text", datasets=("imdb",)),
                    duel(0.80, 0.85, suite="tabular", datasets=("adult",))])
    assert verdict_of("T2-complexity", df).verdict == "supported"


# ---------------------------------------------------------------- T1, D3, D2: learning curves

def curves(deep: dict, classical: dict, seeds=SEEDS, noise=0.003):
    """Learning curves of cnn (deep) and rbf_svm (classical) plus a weaker model of each family."""
    rows = []
    for s in seeds:
        jitter = noise * (s - 1)
        for n in deep:
            rows += [cell("digits", "cnn", "deep", s, n, deep[n] + jitter),
                     cell("digits", "mlp", "deep", s, n, deep[n] - 0.1),
                     cell("digits", "rbf_svm", "classical", s, n, classical[n] + jitter / 2),
                     cell("digits", "gaussian_nb", "classical", s, n, 0.5)]
    return pd.DataFrame(rows)


SIZES = (100, 300, 1000, 3000)
CLASSICAL = dict(zip(SIZES, (0.80, 0.85, 0.88, 0.90)))
CROSSING = dict(zip(SIZES, (0.70, 0.82, 0.91, 0.96)))       # overtakes between 300 and 1000
DEEP_AHEAD = {n: a + 0.05 for n, a in CLASSICAL.items()}
DEEP_FLAT_TOP = dict(zip(SIZES, (0.70, 0.82, 0.91, 0.91)))
CLASSICAL_RISING_TOP = dict(zip(SIZES, (0.80, 0.85, 0.86, 0.92)))


def test_t1_supported_with_crossover_between_grid_points():
    v = verdict_of("T1-data", curves(CROSSING, CLASSICAL))
    assert v.verdict == "supported"
    n_star = float(re.search(r"n\* ≈ (\d+)", v.evidence).group(1))
    assert 300 < n_star < 1000


def test_t1_contradicted_when_deep_leads_at_small_n():
    assert verdict_of("T1-data", curves(DEEP_AHEAD, CLASSICAL)).verdict == "contradicted"


def test_t1_inconclusive_when_noise_dominates():
    flat = dict.fromkeys(SIZES, 0.85)
    assert verdict_of("T1-data", curves(flat, flat, noise=0.05)).verdict == "inconclusive"


def test_t1_d3_d2_not_run_with_one_size():
    for claim in ("T1-data", "D3-data-hunger", "D2-scalability"):
        v = verdict_of(claim, duel(0.95, 0.9))
        assert v.verdict == "not-run" and "scaling=on" in v.evidence


def test_d3_supported_contradicted_inconclusive():
    v = verdict_of("D3-data-hunger", curves(CROSSING, CLASSICAL))
    assert v.verdict == "supported" and "n deep needs" in v.detail
    assert verdict_of("D3-data-hunger", curves(DEEP_AHEAD, CLASSICAL)).verdict == "contradicted"
    flat = dict.fromkeys(SIZES, 0.85)
    assert verdict_of("D3-data-hunger", curves(flat, flat, noise=0.05)).verdict == "inconclusive"


def test_d2_supported_contradicted_inconclusive():
    assert verdict_of("D2-scalability", curves(CROSSING, CLASSICAL)).verdict == "supported"
    assert verdict_of("D2-scalability", curves(DEEP_FLAT_TOP, CLASSICAL_RISING_TOP)).verdict == "contradicted"
    flat = dict.fromkeys(SIZES, 0.85)
    assert verdict_of("D2-scalability", curves(flat, flat, noise=0.05)).verdict == "inconclusive"


def test_d2_reports_power_law_with_four_sizes():
    assert "b" in verdict_of("D2-scalability", curves(CROSSING, CLASSICAL)).detail


# ---------------------------------------------------------------- T3, T8, D4: time, hardware, cost

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
    v = verdict_of("T8-hardware", duel(0.95, 0.9, train_seconds=30.0))
    assert v.verdict == "contradicted" and "within 10 min" in v.evidence


def test_t8_supported_when_deep_times_out_past_budget_on_cpu():
    df = duel(0.95, 0.9)
    deep = df["family"] == "deep"
    df.loc[deep, ["status", "accuracy", "train_seconds", "cell_seconds"]] = ["timeout", np.nan, np.nan, 700.0]
    assert verdict_of("T8-hardware", df).verdict == "supported"


def test_t8_mixed_and_inconclusive():
    df = duel(0.95, 0.9)
    df.loc[df["model"] == "cnn", "train_seconds"] = 900.0
    assert verdict_of("T8-hardware", df).verdict == "mixed"
    short_limit = duel(0.95, 0.9)
    deep = short_limit["family"] == "deep"
    short_limit.loc[deep, ["status", "accuracy", "cell_seconds"]] = ["timeout", np.nan, 60.0]
    assert verdict_of("T8-hardware", short_limit).verdict == "inconclusive"


def test_t8_not_run_without_cpu_deep_rows_and_reports_gpu_speedup():
    gpu = duel(0.95, 0.9, train_seconds=2.0).assign(run="results/vision/gpu")
    gpu.loc[gpu["family"] == "deep", ["device", "gpu_name"]] = ["cuda", "H100"]
    v = verdict_of("T8-hardware", gpu)
    assert v.verdict == "not-run" and "hardware=cpu" in v.evidence
    both = pd.concat([duel(0.95, 0.9, train_seconds=20.0), gpu])
    v = verdict_of("T8-hardware", both)
    assert v.verdict == "contradicted" and "speedup" in v.evidence and "10.0x" in v.detail


def test_d4_parts_combine():
    expensive_but_cpu_ok = duel(0.95, 0.9, train_cpu_seconds=100.0, train_seconds=30.0)
    assert verdict_of("D4-compute", expensive_but_cpu_ok).verdict == "mixed"
    cheap = duel(0.95, 0.9, train_cpu_seconds=0.01, train_seconds=0.01)
    assert verdict_of("D4-compute", cheap).verdict == "contradicted"
    expensive_and_slow = duel(0.95, 0.9, train_cpu_seconds=5000.0, train_seconds=900.0)
    expensive_and_slow.loc[expensive_and_slow["family"] == "deep", "train_seconds"] = 900.0
    assert verdict_of("D4-compute", expensive_and_slow).verdict == "supported"


# ---------------------------------------------------------------- T6, A2: sizes and architectures

def test_t6_supported_contradicted_inconclusive():
    assert verdict_of("T6-model-complexity", duel(0.95, 0.9, n_parameters=1_000_000)).verdict == "supported"
    big_classical = duel(0.95, 0.9, n_parameters=10)
    big_classical.loc[big_classical["family"] == "deep", "n_parameters"] = 10
    big_classical.loc[big_classical["family"] == "classical", "n_parameters"] = 1_000_000
    assert verdict_of("T6-model-complexity", big_classical).verdict == "contradicted"
    assert verdict_of("T6-model-complexity", duel(0.95, 0.9)).verdict == "inconclusive"


def cnn_mlp(cnn_acc, mlp_acc, cnn_params=60_000, mlp_params=200_000, seeds=SEEDS):
    rows = []
    for ds in ("digits", "mnist5k"):
        for s in seeds:
            at = lambda v: v(s) if callable(v) else v  # noqa: E731
            rows += [cell(ds, "cnn", "deep", s, accuracy=at(cnn_acc), n_parameters=cnn_params),
                     cell(ds, "mlp", "deep", s, accuracy=at(mlp_acc), n_parameters=mlp_params),
                     cell(ds, "rbf_svm", "classical", s, accuracy=0.9)]
    return pd.DataFrame(rows)


def test_a2_supported_contradicted_inconclusive():
    assert verdict_of("A2-cnn-params", cnn_mlp(0.98, 0.95)).verdict == "supported"
    assert verdict_of("A2-cnn-params", cnn_mlp(0.93, 0.96)).verdict == "contradicted"
    assert verdict_of("A2-cnn-params", cnn_mlp(0.98, 0.95, cnn_params=300_000)).verdict == "contradicted"
    assert verdict_of("A2-cnn-params", cnn_mlp(noisy(0.95), 0.95)).verdict == "inconclusive"


def depth_rows(plain: dict, residual: dict, seeds=SEEDS, status_at=None):
    """Depth suite rows: {depth: (accuracy, final_train_loss)} per architecture."""
    rows = []
    for arch, curve in (("plain_net", plain), ("resnet", residual)):
        for depth, (accuracy, loss) in curve.items():
            for s in seeds:
                status = (status_at or {}).get((arch, depth), "ok")
                rows.append(cell("digits", arch, "deep", s, accuracy=accuracy + 0.002 * s, suite="depth",
                                 variant=f"depth={depth}", final_train_loss=loss + 0.001 * s, status=status))
    return pd.DataFrame(rows)


HEALTHY = {1: (0.95, 0.05), 4: (0.96, 0.03), 24: (0.96, 0.02)}
DEGRADED = {1: (0.95, 0.05), 4: (0.93, 0.10), 24: (0.70, 0.90)}


def test_a9_supported_contradicted_mixed():
    v = verdict_of("A9-depth", depth_rows(DEGRADED, HEALTHY))
    assert v.verdict == "supported" and "1→24" in v.evidence
    v = verdict_of("A9-depth", depth_rows(HEALTHY, HEALTHY))
    assert v.verdict == "contradicted" and "no degradation" in v.evidence
    assert verdict_of("A9-depth", depth_rows(DEGRADED, DEGRADED)).verdict == "mixed"


def test_a9_diverged_plain_cells_count_as_degradation():
    df = depth_rows(HEALTHY, HEALTHY, status_at={("plain_net", 24): "diverged"})
    df.loc[df["status"] == "diverged", ["accuracy", "final_train_loss"]] = np.nan
    v = verdict_of("A9-depth", df)
    assert v.verdict == "supported" and "diverged" in v.evidence


def test_a9_inconclusive_with_one_depth_and_not_run_without_rows():
    assert verdict_of("A9-depth", depth_rows({4: (0.9, 0.1)}, {4: (0.9, 0.1)})).verdict == "inconclusive"
    assert verdict_of("A9-depth", duel(0.95, 0.9)).verdict == "not-run"


def test_a9_judges_highway_beside_residual_where_the_suite_ran_it():
    def with_highway(plain, residual, highway):
        rows = depth_rows(plain, residual).assign(suite="foundations")
        extra = depth_rows(highway, {}).assign(suite="foundations")
        return pd.concat([rows, extra[extra["model"] == "plain_net"].assign(model="highway_net")])

    v = verdict_of("A9-depth", with_highway(DEGRADED, HEALTHY, HEALTHY))
    assert v.verdict == "supported" and "highway no degradation" in v.evidence and "highway accuracy" in v.detail
    v = verdict_of("A9-depth", with_highway(DEGRADED, HEALTHY, DEGRADED))
    assert v.verdict == "mixed" and "highway accuracy" in v.evidence
    assert verdict_of("A9-depth", with_highway(HEALTHY, HEALTHY, HEALTHY)).verdict == "contradicted"
    # Each suite is judged on its own: depth (no highway) supports, foundations (highway degrades) does not.
    both = pd.concat([depth_rows(DEGRADED, HEALTHY), with_highway(DEGRADED, HEALTHY, DEGRADED)])
    v = verdict_of("A9-depth", both)
    assert v.verdict == "mixed" and "depth digits" in v.evidence and "foundations digits" in v.evidence
    # other experiments of the suite (XOR) do not enter the verdict
    xor = xor_rows({"perceptron": [0.5] * 3, "mlp[hidden=[8]]": [1.0] * 3})
    v = verdict_of("A9-depth", pd.concat([with_highway(DEGRADED, HEALTHY, HEALTHY), xor]))
    assert v.verdict == "supported" and "xor" not in v.scope


def xor_rows(acc_by_model: dict, dataset="xor", status_at=None):
    """Foundations rows on an XOR set: {model[variant]: [accuracy per seed]}."""
    rows = []
    for key, accs in acc_by_model.items():
        model, _, variant = key.partition("[")
        family = "classical" if model == "perceptron_sklearn" else "deep"
        for s, a in enumerate(accs):
            status = (status_at or {}).get((key, s), "ok")
            rows.append(cell(dataset, model, family, s, n_train=4, accuracy=a if status == "ok" else np.nan,
                             suite="foundations", variant=variant[:-1], status=status, n_test=4))
    return pd.DataFrame(rows)


SOLVES = {"perceptron": [0.5, 0.75, 0.5], "perceptron_sklearn": [0.5, 0.5, 0.25],
          "mlp[hidden=[2]]": [1.0, 0.5, 1.0], "mlp[hidden=[8]]": [1.0, 1.0, 1.0]}


def test_a1_supported_when_perceptrons_stay_at_the_ceiling_and_an_mlp_learns_every_seed():
    v = verdict_of("A1-xor", xor_rows(SOLVES))
    assert v.verdict == "supported"
    assert "perceptron best 75.0%" in v.evidence and "mlp[hidden=[2]] learned it on 2/3 seeds" in v.evidence
    assert "| mlp[hidden=[2]] | 3 | 100 50 100 |" in v.detail  # every seed is reported, the stuck one too
    cloud = xor_rows({"perceptron": [0.73, 0.76], "mlp[hidden=[8]]": [0.995, 0.98]}, dataset="xor_cloud")
    assert verdict_of("A1-xor", pd.concat([xor_rows(SOLVES), cloud])).verdict == "supported"


def test_a1_contradicted_mixed_inconclusive_and_not_run():
    beaten = {"perceptron": [1.0, 0.5, 0.5], "mlp[hidden=[2]]": [0.5, 0.75, 0.5]}
    assert verdict_of("A1-xor", xor_rows(beaten)).verdict == "contradicted"
    stuck = {"perceptron": [0.5, 0.75, 0.5], "mlp[hidden=[2]]": [1.0, 0.5, 1.0]}
    v = verdict_of("A1-xor", xor_rows(stuck))
    assert v.verdict == "mixed" and "2/3 seeds" in v.evidence
    above = {"perceptron": [0.5, 0.8], "mlp[hidden=[8]]": [1.0, 1.0]}  # beyond the slack on a sampled test set
    assert verdict_of("A1-xor", xor_rows(above, dataset="xor_cloud")).verdict == "mixed"
    failed = xor_rows(SOLVES, status_at={("mlp[hidden=[8]]", 1): "error"})
    assert verdict_of("A1-xor", failed).verdict == "mixed"  # a failed cell is a seed not learned
    assert verdict_of("A1-xor", xor_rows({"perceptron": [0.5] * 3})).verdict == "inconclusive"
    assert verdict_of("A1-xor", duel(0.95, 0.9)).verdict == "not-run"


# ---------------------------------------------------------------- the command

def write_run(folder: Path, df: pd.DataFrame) -> None:
    (folder / "cells").mkdir(parents=True)
    df.to_parquet(folder / "cells" / "all.parquet", index=False)


def test_cmd_claims_prints_scorecard(tmp_path, capsys):
    write_run(tmp_path / "vision" / "r1", duel(0.95, 0.9))
    assert cmd_claims([str(tmp_path)]) == 0
    out = capsys.readouterr().err
    assert "D1-accuracy" in out and "supported" in out


def test_cmd_claims_missing_results(tmp_path, capsys, monkeypatch):
    assert cmd_claims([str(tmp_path / "nowhere")]) == 2
    assert "error" in capsys.readouterr().err
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").mkdir()
    assert cmd_claims(["results"]) == 2
    assert "bench run suite=vision" in capsys.readouterr().err


def test_a9_unknown_when_residual_cells_failed():
    df = depth_rows(DEGRADED, HEALTHY, status_at={("resnet", 24): "error"})
    v = verdict_of("A9-depth", df)
    assert v.verdict == "inconclusive" and "no finished cells" in v.evidence


def test_tuned_and_untuned_runs_stay_apart():
    df = pd.concat([duel(0.95, 0.90), duel(0.80, 0.90, datasets=("digits", "mnist5k")).assign(tuned=True)])
    v = verdict_of("D1-accuracy", df)
    assert v.verdict == "supported" and "cnn · not tuned" in v.evidence


# ---------------------------------------------------------------- sequences (A3, A5, A6, T4)

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


def sequence_accuracy_rows(acc_by_model: dict, datasets=("gunpoint", "arrowhead"), suite="sequence", seeds=SEEDS):
    rows = []
    for ds in datasets:
        for model, a in acc_by_model.items():
            family = "classical" if model in ("minirocket", "random_forest", "nn_dtw") else "deep"
            features = "crafted" if model == "minirocket" else "raw"
            for s in seeds:
                rows.append(cell(ds, model, family, s, suite=suite, accuracy=a + 0.001 * s, features=features))
    return pd.DataFrame(rows)


QUADRATIC = {"transformer": (1.9, 2.0), "lstm": (1.0, 1.0), "mamba": (1.0, 0.9)}


def test_a5_supported_near_top_but_beaten_and_steepest_cost():
    accuracy = {"minirocket": 0.99, "transformer": 0.95, "lstm": 0.90, "mamba": 0.94, "rnn": 0.70}
    df = pd.concat([sequence_accuracy_rows(accuracy),
                    memory_rows({"lstm": 100, "transformer": 100, "mamba": 100}, VANISHING | {"transformer": 1,
                                                                                            "mamba": 1}, QUADRATIC)])
    v = verdict_of("A5-transformer", df)
    assert v.verdict == "supported", v.evidence
    assert "T^1.90" in v.evidence


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
    assert v.verdict == "supported", v.evidence
    behind = pd.concat([sequence_accuracy_rows(accuracy | {"mamba": 0.80}),
                        memory_rows({"mamba": 100, "transformer": 100}, {"mamba": 1, "transformer": 1},
                                    {"mamba": (2.0, 2.0), "transformer": (2.0, 2.0)})])
    assert verdict_of("A6-mamba", behind).verdict == "contradicted"


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


# ---------------------------------------------------------------- generative (A7, A8)

GENERATORS = {"gmm": "classical", "kde": "classical", "pca_gaussian": "classical", "gan": "deep", "vae": "deep",
              "ddpm": "deep"}


def generation_rows(fd, precision=None, recall=None, seeds=SEEDS, datasets=("digits", "mnist5k")):
    """Rows of suite=generative: per model a Fréchet distance, precision and recall (each a value or a
    callable of the seed); models left out of `fd` did not run."""
    precision, recall = precision or {}, recall or {}
    at = lambda v, s: v(s) if callable(v) else v  # noqa: E731
    return pd.DataFrame([cell(ds, model, GENERATORS[model], s, accuracy=np.nan, suite="generative",
                              frechet_distance=at(value, s), precision=at(precision.get(model, 0.7), s),
                              recall=at(recall.get(model, 0.5), s), cas_accuracy=0.8)
                         for ds in datasets for s in seeds for model, value in fd.items()])


def test_a7_supported_when_the_gan_beats_gmm_and_kde_on_distance_and_precision_recall():
    df = generation_rows({"gmm": noisy(30, 1), "kde": noisy(25, 1), "gan": noisy(10, 1)},
                         precision={"gan": 0.8}, recall={"gan": 0.6})
    v = verdict_of("A7-gan", df)
    assert v.verdict == "supported", v.evidence
    assert "gmm FD / GAN FD" in v.evidence and "digits" in v.detail


def test_a7_contradicted_mixed_and_inconclusive():
    worse = generation_rows({"gmm": noisy(10, 1), "kde": noisy(12, 1), "gan": noisy(30, 1)},
                            precision={"gan": 0.5}, recall={"gan": 0.3})
    assert verdict_of("A7-gan", worse).verdict == "contradicted"
    # lower distance but worse recall than the rivals: only part of the claim holds
    split = generation_rows({"gmm": noisy(30, 1), "kde": noisy(25, 1), "gan": noisy(10, 1)},
                            precision={"gan": 0.8}, recall={"gan": 0.2})
    assert verdict_of("A7-gan", split).verdict == "mixed"
    # one seed and gaps below 1.25x and 5 points: no verdict
    close = generation_rows({"gmm": 11.0, "kde": 11.5, "gan": 10.0}, precision={"gan": 0.72}, seeds=(0,))
    assert verdict_of("A7-gan", close).verdict == "inconclusive"
    assert verdict_of("A7-gan", generation_rows({"vae": 10.0, "gmm": 12.0})).verdict == "inconclusive"
    assert verdict_of("A7-gan", pd.DataFrame([cell()])).verdict == "not-run"


def test_a8_supported_when_diffusion_matches_the_gan_and_varies_no_more_than_the_vae():
    seeds = (0, 1, 2, 3, 4)
    steady = lambda base, spread: lambda s: base * (1 + spread * (1, -1, 0.5, -0.5, 0)[s])  # noqa: E731
    df = generation_rows({"gan": steady(20, 0.3), "vae": steady(40, 0.3), "ddpm": steady(15, 0.05)}, seeds=seeds)
    v = verdict_of("A8-diffusion", df)
    assert v.verdict == "supported", v.evidence
    worse = generation_rows({"gan": steady(10, 0.05), "vae": steady(40, 0.3), "ddpm": steady(30, 0.05)}, seeds=seeds)
    assert verdict_of("A8-diffusion", worse).verdict == "mixed"  # steadier than the VAE, but behind the GAN
    shaky = generation_rows({"gan": steady(10, 0.05), "vae": steady(40, 0.01), "ddpm": steady(30, 0.8)}, seeds=seeds)
    assert verdict_of("A8-diffusion", shaky).verdict == "contradicted"
    # one seed: the quality part may hold, but a spread over seeds cannot be measured
    one = generation_rows({"gan": 20.0, "vae": 40.0, "ddpm": 15.0}, seeds=(0,))
    v = verdict_of("A8-diffusion", one)
    assert v.verdict == "inconclusive" and "spread not measured" in v.evidence
    behind_one = generation_rows({"gan": 10.0, "vae": 40.0, "ddpm": 30.0}, seeds=(0,))
    assert verdict_of("A8-diffusion", behind_one).verdict == "contradicted"


# ---------------------------------------------------------------- unsupervised (A4, A10)

def unsupervised_rows(ae_mse=0.01, rival_mse=0.02, ae_knn=0.95, rival_knn=0.93, ae_roc=0.9, rival_roc=0.85,
                      seeds=SEEDS, classes=(0, 1, 2), codes=(2, 8)):
    """Reconstruction rows (autoencoder, pca, kernel_pca at each code size) and held-out-class anomaly rows
    (autoencoder_detector against isolation forest, one-class SVM, LOF); seeds and classes shift both sides alike."""
    rows = []
    for s in seeds:
        for d in codes:
            for model, mse, knn in (("autoencoder", ae_mse, ae_knn), ("pca", rival_mse, rival_knn),
                                    ("kernel_pca", rival_mse, rival_knn)):
                rows.append(cell("digits_reconstruction", model, "deep" if model == "autoencoder" else "classical", s,
                                 suite="unsupervised", accuracy=np.nan, variant=f"code_size={d}", code_size=float(d),
                                 reconstruction_mse=mse * (1 + 0.02 * s) * 8 / d, knn_accuracy=knn + 0.002 * s))
        for c in classes:
            for model, roc in (("autoencoder_detector", ae_roc), ("isolation_forest", rival_roc),
                               ("one_class_svm", rival_roc), ("lof", rival_roc)):
                rows.append(cell(f"digits_anomaly[anomaly_class={c}]", model,
                                 "deep" if model == "autoencoder_detector" else "classical", s, suite="unsupervised",
                                 accuracy=np.nan, roc_auc=roc - 0.01 * ((s + c) % 3), pr_auc=roc / 2,
                                 anomaly_rate=0.1))
    return pd.DataFrame(rows)


def test_a4_supported_when_the_autoencoder_wins_or_ties_everywhere():
    v = verdict_of("A4-autoencoder", unsupervised_rows())
    assert v.verdict == "supported", v.evidence
    assert "anomaly ROC-AUC: autoencoder ahead in 3" in v.evidence and "kernel_pca" in v.detail
    ties = unsupervised_rows(ae_mse=0.02, ae_knn=0.93, ae_roc=0.85)  # level with every rival on every seed
    assert verdict_of("A4-autoencoder", ties).verdict == "supported"


def test_a4_contradicted_mixed_and_inconclusive():
    worse = unsupervised_rows(ae_mse=0.04, ae_knn=0.80, ae_roc=0.70)
    assert verdict_of("A4-autoencoder", worse).verdict == "contradicted"
    reconstructs_but_misses_anomalies = unsupervised_rows(ae_roc=0.70)
    assert verdict_of("A4-autoencoder", reconstructs_but_misses_anomalies).verdict == "mixed"
    one_seed_small_gaps = unsupervised_rows(ae_mse=0.0199, ae_knn=0.935, ae_roc=0.855, seeds=(0,), classes=(0,))
    v = verdict_of("A4-autoencoder", one_seed_small_gaps)
    assert v.verdict == "inconclusive" and "undecided in" in v.evidence
    rows = unsupervised_rows()
    no_autoencoder = rows[~rows["model"].str.contains("autoencoder")]
    assert verdict_of("A4-autoencoder", no_autoencoder).verdict == "inconclusive"


def few_label_rows(gain_all, gain_labelled, seeds=SEEDS, sizes=(50, 100)):
    """dbn_classifier at pretrain none / all / labelled on few-label digits; accuracy of `none` varies by seed."""
    rows = []
    for n in sizes:
        for s in seeds:
            base = 0.70 + 0.01 * s + 0.0005 * n
            for pretrain, gain in (("none", 0.0), ("all", gain_all), ("labelled", gain_labelled)):
                rows.append(cell(f"digits_few_labels[n_labelled={n}]", "dbn_classifier", "deep", s, n_train=n,
                                 suite="unsupervised", accuracy=base + gain, variant=f"pretrain={pretrain}"))
    return pd.DataFrame(rows)


def test_a10_pretraining_supported_mixed_contradicted_inconclusive():
    v = verdict_of("A10-dbn", few_label_rows(0.05, 0.04))
    assert v.verdict == "supported", v.evidence
    assert "ahead of random init in 4" in v.evidence and "RBMs on labelled images" in v.detail
    assert verdict_of("A10-dbn", few_label_rows(0.05, 0.0)).verdict == "mixed"
    assert verdict_of("A10-dbn", few_label_rows(-0.05, -0.03)).verdict == "contradicted"
    assert verdict_of("A10-dbn", few_label_rows(0.005, 0.005, seeds=(0,))).verdict == "inconclusive"
    nothing = few_label_rows(0.05, 0.05).query("variant != 'pretrain=none'")
    assert verdict_of("A10-dbn", nothing).verdict == "inconclusive"


def test_a10_counts_dbn_samples_only_where_the_generative_suite_ran_them():
    pretraining = few_label_rows(0.05, 0.04)
    samples = lambda dbn, gmm: pd.DataFrame([  # noqa: E731 - suite=generative rows of a DBN and a GMM
        cell("mnist5k", model, family, s, suite="generative", accuracy=np.nan, frechet_distance=noisy(fd, 1)(s))
        for s in SEEDS for model, family, fd in (("dbn", "deep", dbn), ("gmm", "classical", gmm))])
    usable = verdict_of("A10-dbn", pd.concat([pretraining, samples(30, 60)]))
    assert usable.verdict == "supported" and "generation: DBN's Fréchet distance not worse than GMM's on 1/1" in \
        usable.evidence
    poor = verdict_of("A10-dbn", pd.concat([pretraining, samples(200, 60)]))
    assert poor.verdict == "mixed" and "0/1" in poor.evidence
    assert verdict_of("A10-dbn", samples(30, 60)).verdict == "supported"  # generative rows alone


def test_a3_underflowed_gradient_counts_as_vanished():
    df = memory_rows({"rnn": 25, "lstm": 100, "gru": 200}, VANISHING)
    df.loc[(df["model"] == "rnn") & (df["dataset"] == "adding[length=200]"), "grad_ratio_init"] = 0.0
    v = verdict_of("A3-rnn-vanishing", df)
    assert v.verdict == "supported" and "T=200: rnn 1.2e-38" in v.evidence
