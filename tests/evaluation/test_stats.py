"""Statistics with answers known by hand or by construction."""
import numpy as np
import pandas as pd
import pytest

from harness.evaluation.stats import average_ranks, crossover, fit_power_law, mean_ci, nemenyi_cd, paired_difference


def test_mean_ci_known_values():
    mean, lo, hi, n = mean_ci([1.0, 2.0, 3.0])
    half = 4.302652729911275 * 1.0 / np.sqrt(3)  # t(0.975, df=2) * sd / sqrt(n)
    assert (mean, n) == (2.0, 3)
    assert lo == pytest.approx(2 - half) and hi == pytest.approx(2 + half)


def test_mean_ci_one_value_and_none():
    assert mean_ci([0.7]) == (0.7, 0.7, 0.7, 1)
    assert mean_ci([])[3] == 0
    assert mean_ci([1.0, None, np.nan, 3.0])[:1] == (2.0,)


def test_paired_difference_clear_winner_uses_t_test_below_six():
    d = paired_difference([0.90, 0.91, 0.92], [0.80, 0.81, 0.83])
    assert d.winner == "a" and d.test == "paired t" and d.n == 3
    assert d.mean == pytest.approx(0.0967, abs=1e-3) and 0 < d.lo <= d.mean <= d.hi
    assert d.p_value < 0.01


def test_paired_difference_tie_when_noise_dominates():
    rng = np.random.default_rng(1)
    a = 0.8 + rng.normal(0, 0.05, 10)
    b = a + rng.normal(0, 0.05, 10) * np.resize([1, -1], 10)
    d = paired_difference(a, b)
    assert d.winner == "tie" and d.lo < 0 < d.hi
    assert d.test == "paired t" and d.p_value > 0.05


def test_paired_difference_one_seed_is_flagged():
    d = paired_difference([0.9], [0.8])
    assert d.single_seed and d.winner == "a" and d.n == 1 and np.isnan(d.p_value)
    assert paired_difference([0.8], [0.8]).winner == "tie"


def test_paired_difference_drops_missing_pairs():
    d = paired_difference([0.9, np.nan, 0.9], [0.8, 0.8, np.nan])
    assert d.n == 1 and d.single_seed


def test_average_ranks_hand_table():
    table = pd.DataFrame({"m1": [0.9, 0.8, 0.7], "m2": [0.85, 0.85, 0.6], "m3": [0.9, 0.7, 0.5]},
                         index=["d1", "d2", "d3"])
    # d1: m1 and m3 share ranks 1-2 -> 1.5 each, m2 3; d2: m2 1, m1 2, m3 3; d3: m1 1, m2 2, m3 3.
    ranks = average_ranks(table)
    assert ranks.to_dict() == pytest.approx({"m1": 1.5, "m2": 2.0, "m3": 2.5})
    assert list(ranks.index) == ["m1", "m2", "m3"]


def test_nemenyi_cd_matches_demsar_table():
    # Demsar (2006), Table 5: q_0.05 = 2.343 for k=3; CD = q * sqrt(k(k+1)/(6N)).
    assert nemenyi_cd(3, 10) == pytest.approx(2.343 * np.sqrt(3 * 4 / 60), abs=1e-3)
    assert nemenyi_cd(2, 5) == pytest.approx(1.960 * np.sqrt(2 * 3 / 30), abs=1e-3)
    assert nemenyi_cd(3, 1) is None


def test_power_law_recovers_noiseless_parameters():
    n = np.array([50, 100, 200, 500, 1000, 2000, 5000])
    fit = fit_power_law(n, 2.0 * n ** -0.5 + 0.05)
    assert fit.success
    assert (fit.a, fit.b, fit.c) == pytest.approx((2.0, 0.5, 0.05), rel=1e-3)


def test_power_law_steep_curve_with_seed_noise():
    n = np.repeat([100, 300, 1000, 3000, 10000], 3)
    error = 30 * n ** -0.9 + 0.01 + np.random.default_rng(0).normal(0, 0.001, len(n))
    fit = fit_power_law(n, error)
    assert fit.success and fit.b == pytest.approx(0.9, abs=0.05) and fit.c == pytest.approx(0.01, abs=0.005)
    assert fit.b_se > 0


def test_power_law_needs_four_sizes():
    fit = fit_power_law([100, 100, 200, 400], [0.3, 0.31, 0.2, 0.15])
    assert not fit.success and "3 distinct sizes" in fit.message


def curves(gaps: dict[int, float], seeds=(0, 1, 2)) -> pd.DataFrame:
    rows = []
    for seed in seeds:
        for n, gap in gaps.items():
            rows.append(dict(n_train=n, seed=seed, family="classical", model="rf", accuracy=0.8 + 0.01 * seed))
            rows.append(dict(n_train=n, seed=seed, family="classical", model="nb", accuracy=0.5))
            rows.append(dict(n_train=n, seed=seed, family="deep", model="cnn", accuracy=0.8 + gap + 0.01 * seed))
    return pd.DataFrame(rows)


def test_crossover_between_the_right_grid_points():
    c = crossover(curves({100: -0.05, 200: -0.02, 400: 0.02, 800: 0.05}))
    assert c.models == {"classical": "rf", "deep": "cnn"}
    # gap -0.02 at 200, +0.02 at 400: halfway in log n, i.e. the geometric mean.
    assert c.n_star == pytest.approx(np.sqrt(200 * 400))
    assert 200 <= c.lo <= c.n_star <= c.hi <= 400 and c.crossing_fraction == 1.0


def test_no_crossover_names_the_leader():
    c = crossover(curves({100: -0.05, 1000: -0.01}))
    assert c.n_star is None and c.leader == "classical"
    c = crossover(curves({100: 0.01, 1000: 0.05}))
    assert c.n_star is None and c.leader == "deep"


def test_crossover_one_seed_has_no_interval():
    c = crossover(curves({100: -0.05, 1000: 0.05}, seeds=(0,)))
    assert c.n_star == pytest.approx(np.sqrt(100 * 1000)) and np.isnan(c.lo) and c.n_seeds == 1
