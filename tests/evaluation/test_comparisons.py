"""Paired comparisons over seeds and within one test set: error rates by simulation, answers known by hand."""
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from harness.evaluation import comparisons
from harness.evaluation.comparisons import (BETTER, EQUIVALENT, INDICATIVE_BETTER, INDICATIVE_WORSE, UNDECIDED, WORSE,
                                            bootstrap_examples, compare_paired, decide, mcnemar, sign_flip_intervals,
                                            t_intervals, test_set_margin)
from harness.evaluation.stats import mean_ci

REPS = 2000
INTERVALS = {"t": t_intervals, "permutation": sign_flip_intervals}


def seeds_of_two_models(n_seeds: int, gap: float = 0.0, reps: int = REPS, seed: int = 0):
    """(reps, n_seeds) accuracies of two models: 0.9 plus a per-seed part both share (the split, the data
    order) plus each model's own N(0, 0.01) per seed; a is `gap` better on average."""
    rng = np.random.default_rng(seed)
    shared = rng.normal(0, 0.01, (reps, n_seeds))
    a = 0.9 + gap + shared + rng.normal(0, 0.01, (reps, n_seeds))
    b = 0.9 + shared + rng.normal(0, 0.01, (reps, n_seeds))
    return a, b


def decisions_of(a, b, method: str, rope: float = 0.0, alpha: float = 0.05) -> np.ndarray:
    """compare_paired's decision for every row at once, through the same functions it calls."""
    mean, lo, hi, _ = INTERVALS[method](a - b, alpha)
    return decide(mean, lo, hi, a.shape[1], rope)


def consistent_with_at_most(count: int, reps: int, rate: float) -> bool:
    """False only when `count` of `reps` is clearly above `rate` (one-sided binomial test at 0.1%):
    a simulation of an exact 5% test lands above 5% as often as below."""
    return stats.binomtest(count, reps, rate, alternative="greater").pvalue > 0.001


# ---------------------------------------------------------------- error rates by simulation

@pytest.mark.parametrize("method", ["t", "permutation"])
@pytest.mark.parametrize("n_seeds", [3, 5, 10])
def test_equal_models_get_a_winner_at_most_alpha_of_the_time(method, n_seeds):
    """The paired t-test's level is exactly 5% here, so a finite simulation lands either side of it; the
    t-test is cheap, so it gets ten times the repetitions and the check can tell 5% from 6%. (Measured
    with 50,000: 4.9%, 5.0%, 5.1% for t and 0%, 0%, 4.9% for the sign flips at 3, 5, 10 seeds; the
    percentile bootstrap of `paired_difference` gave about 25% and 15% at 3 and 5.)"""
    reps = 10 * REPS if method == "t" else REPS
    a, b = seeds_of_two_models(n_seeds, reps=reps, seed=n_seeds)
    decided = decisions_of(a, b, method, rope=0.0)  # rope 0: every interval that excludes 0 is decisive
    decisive = int(np.isin(decided, [BETTER, WORSE]).sum())
    assert consistent_with_at_most(decisive, reps, 0.05), f"{decisive / reps:.2%} decisive"


@pytest.mark.parametrize("method", ["t", "permutation"])
def test_equal_models_near_the_ceiling_where_noise_is_not_normal(method):
    """Accuracies clipped at 1 and noise with heavy tails: the per-seed differences are not normal, but
    two equal models are exchangeable, so the sign-flip test stays exact and the t-test close."""
    rng = np.random.default_rng(7)
    shared = rng.normal(0, 0.01, (REPS, 8))
    a = np.minimum(0.99 + shared + 0.005 * rng.standard_t(3, (REPS, 8)), 1.0)
    b = np.minimum(0.99 + shared + 0.005 * rng.standard_t(3, (REPS, 8)), 1.0)
    decisive = int(np.isin(decisions_of(a, b, method), [BETTER, WORSE]).sum())
    assert consistent_with_at_most(decisive, REPS, 0.05), f"{decisive / REPS:.1%} decisive"


@pytest.mark.parametrize("method", ["t", "permutation"])
@pytest.mark.parametrize("gap", [0.0, 0.05])
def test_two_seeds_never_give_a_decisive_verdict(method, gap):
    a, b = seeds_of_two_models(2, gap=gap)
    decided = decisions_of(a, b, method, rope=0.005)
    assert set(decided) <= {INDICATIVE_BETTER, INDICATIVE_WORSE, UNDECIDED}
    if gap:  # a gap of 3.5 sd of the difference still shows its direction
        assert (decided == INDICATIVE_BETTER).mean() > 0.9


@pytest.mark.parametrize("method, n_seeds", [("t", 5), ("t", 10), ("permutation", 10)])
def test_a_real_gap_is_found_most_of_the_time(method, n_seeds):
    # 0.04 is 2.8 standard deviations of the per-seed difference (0.01 * sqrt 2).
    a, b = seeds_of_two_models(n_seeds, gap=0.04, seed=100 + n_seeds)
    decided = decisions_of(a, b, method, rope=0.01)
    assert (decided == BETTER).mean() > 0.8
    assert not (decided == WORSE).any()


def test_the_sign_flip_test_cannot_reject_below_six_pairs():
    """Its smallest p-value is 2 / 2^n: 0.0625 at n=5, so its interval is unbounded there."""
    c = compare_paired([0.95] * 5, [0.80, 0.81, 0.82, 0.80, 0.79], rope=0.01, method="permutation")
    assert c.p_value == pytest.approx(2 / 32) and (c.lo, c.hi) == (-np.inf, np.inf) and c.decision == UNDECIDED
    c6 = compare_paired([0.95] * 6, [0.80, 0.81, 0.82, 0.80, 0.79, 0.8], rope=0.01, method="permutation")
    assert c6.p_value == pytest.approx(2 / 64) and c6.decision == BETTER


def test_the_simulation_decides_as_compare_paired_does():
    a, b = seeds_of_two_models(5, gap=0.01, reps=40)
    for method in ("t", "permutation"):
        batch = decisions_of(a, b, method, rope=0.005)
        one_by_one = [compare_paired(x, y, rope=0.005, method=method).decision for x, y in zip(a, b)]
        assert list(batch) == one_by_one


# ---------------------------------------------------------------- known answers

def test_t_interval_and_p_are_mean_ci_and_the_paired_t_test():
    a, b = [0.91, 0.93, 0.90, 0.94, 0.92], [0.90, 0.90, 0.91, 0.91, 0.90]
    c = compare_paired(a, b, rope=0.0)
    mean, lo, hi, n = mean_ci(np.subtract(a, b))
    assert (c.difference, c.lo, c.hi, c.n_pairs) == pytest.approx((mean, lo, hi, n))
    assert c.p_value == pytest.approx(stats.ttest_rel(a, b).pvalue)
    assert c.test == "paired t" and not c.indicative


def test_an_interval_inside_the_rope_is_equivalent():
    a = [0.900, 0.910, 0.920, 0.905, 0.915]
    b = [0.901, 0.909, 0.921, 0.904, 0.916]
    c = compare_paired(a, b, rope=0.01)
    assert -0.01 <= c.lo and c.hi <= 0.01 and c.decision == EQUIVALENT
    # The same data with a margin too tight to call them equivalent: neither is shown better.
    assert compare_paired(a, b, rope=0.0).decision == UNDECIDED


def test_a_clear_gap_points_the_right_way_for_either_direction_of_metric():
    accuracy_a, accuracy_b = [0.92, 0.93, 0.91, 0.94], [0.85, 0.86, 0.84, 0.85]
    assert compare_paired(accuracy_a, accuracy_b, rope=0.01).decision == BETTER
    assert compare_paired(accuracy_b, accuracy_a, rope=0.01).decision == WORSE
    mse_a, mse_b = [0.20, 0.21, 0.19, 0.22], [0.40, 0.42, 0.41, 0.39]  # a's error is lower: a is better
    c = compare_paired(mse_a, mse_b, rope=0.01, higher_is_better=False)
    assert c.decision == BETTER and c.difference == pytest.approx(0.2) and c.lo > 0
    assert compare_paired(mse_a, mse_b, rope=0.01, higher_is_better=False, method="permutation").difference > 0


def test_a_gap_inside_the_rope_is_equivalent_even_when_real():
    """The rule puts equivalence first: a consistent gap of 0.1 points is real but does not matter."""
    a = np.array([0.900, 0.910, 0.920, 0.905, 0.915, 0.930])
    c = compare_paired(a + 0.001, a, rope=0.01)
    assert c.lo > 0 and c.decision == EQUIVALENT


def test_missing_pairs_are_dropped_and_few_pairs_are_indicative():
    c = compare_paired([0.9, np.nan, 0.92, 0.93], [0.8, 0.8, np.inf, 0.81], rope=0.01)
    assert c.n_pairs == 2 and c.indicative and c.decision == INDICATIVE_BETTER and not c.decisive
    one = compare_paired([0.8], [0.9], rope=0.01)
    assert one.n_pairs == 1 and one.decision == INDICATIVE_WORSE and np.isnan(one.p_value) and np.isnan(one.lo)
    assert compare_paired([0.9], [0.905], rope=0.01).decision == UNDECIDED  # inside the margin: not even a lean
    none = compare_paired([np.nan], [0.9], rope=0.01)
    assert none.n_pairs == 0 and none.decision == UNDECIDED and np.isnan(none.difference)


def test_identical_scores_are_equivalent():
    c = compare_paired([0.9, 0.8, 0.85], [0.9, 0.8, 0.85], rope=0.0)
    assert (c.difference, c.lo, c.hi, c.p_value) == (0.0, 0.0, 0.0, 1.0) and c.decision == EQUIVALENT


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="method"):
        compare_paired([1, 2, 3], [1, 2, 3], rope=0.0, method="bootstrap")
    with pytest.raises(ValueError, match="aligned"):
        compare_paired([1, 2, 3], [1, 2], rope=0.0)
    with pytest.raises(ValueError, match="rope"):
        compare_paired([1, 2, 3], [1, 2, 3], rope=-1.0)


scores = st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=0, max_size=12)
MIRROR = {BETTER: WORSE, WORSE: BETTER, INDICATIVE_BETTER: INDICATIVE_WORSE, INDICATIVE_WORSE: INDICATIVE_BETTER}


@settings(max_examples=40, deadline=None)
@given(pairs=scores, method=st.sampled_from(["t", "permutation"]), rope=st.sampled_from([0.0, 0.01, 0.1]))
def test_swapping_the_models_mirrors_everything(pairs, method, rope):
    a, b = np.array(pairs, dtype=float).reshape(-1, 2).T
    ab, ba = (compare_paired(x, y, rope=rope, method=method) for x, y in ((a, b), (b, a)))
    np.testing.assert_allclose([ab.difference, ab.lo, ab.hi, ab.p_value], [-ba.difference, -ba.hi, -ba.lo, ba.p_value],
                               atol=1e-12)
    assert ab.decision == MIRROR.get(ba.decision, ba.decision)
    lower = compare_paired(a, b, rope=rope, method=method, higher_is_better=False)
    assert (lower.difference, lower.decision) == (ba.difference, ba.decision) or np.isnan(lower.difference)
    if ab.decisive:  # the decision and the interval beside it never disagree
        assert ab.p_value <= ab.alpha and (ab.lo > 0 if ab.decision == BETTER else ab.hi < 0)


def sign_flip_p_by_enumeration(d, delta: float = 0.0) -> float:
    """The definition, flip by flip: the share of the 2^n sign flips of d - delta whose mean is at least
    as far from 0 as the observed one. Slow; it pins the fast version."""
    x = np.asarray(d, dtype=float) - delta
    flips = np.array(list(itertools.product([1.0, -1.0], repeat=len(x))))
    return float(np.mean(np.abs(flips @ x) >= np.abs(x.sum()) - 1e-12))


@settings(max_examples=40, deadline=None)
@given(d=st.lists(st.floats(-1, 1).map(lambda v: round(v, 3)), min_size=2, max_size=8))
def test_sign_flip_p_value_and_interval_match_the_definition(d):
    mean, lo, hi, p = (float(v[0]) for v in sign_flip_intervals(np.array([d]), 0.05))
    assert p == pytest.approx(sign_flip_p_by_enumeration(d))
    if np.isfinite(lo):  # the interval's ends are accepted shifts, and just past them is rejected
        step = 1e-7 * max(1.0, abs(lo), abs(hi))
        assert sign_flip_p_by_enumeration(d, lo) > 0.05 >= sign_flip_p_by_enumeration(d, lo - step)
        assert sign_flip_p_by_enumeration(d, hi) > 0.05 >= sign_flip_p_by_enumeration(d, hi + step)
        assert lo <= mean <= hi
    assert (p > 0.05) == (lo <= 0 <= hi)


def test_monte_carlo_flips_agree_with_all_flips(monkeypatch):
    d = np.random.default_rng(3).normal(0.004, 0.01, 12)
    exact = compare_paired(d, np.zeros(12), rope=0.0, method="permutation")
    monkeypatch.setattr(comparisons, "EXACT_FLIPS_UP_TO", 10)
    sampled = compare_paired(d, np.zeros(12), rope=0.0, method="permutation", seed=1)
    assert exact.test == "sign-flip exact" and sampled.test == "sign-flip monte carlo"
    assert sampled.p_value == pytest.approx(exact.p_value, abs=0.01)
    assert (sampled.lo, sampled.hi) == pytest.approx((exact.lo, exact.hi), abs=0.001)
    assert sampled == compare_paired(d, np.zeros(12), rope=0.0, method="permutation", seed=1)  # seeded


# ---------------------------------------------------------------- one seed: the test set's own noise

def test_mcnemar_exact_below_25_discordant_examples():
    # 10 examples only a gets right, 2 only b does, 88 both or neither: two-sided binomial on 12.
    a = np.array([1] * 10 + [0] * 2 + [1] * 80 + [0] * 8, dtype=bool)
    b = np.array([0] * 10 + [1] * 2 + [1] * 80 + [0] * 8, dtype=bool)
    statistic, p = mcnemar(a, b)
    assert statistic == 2 and p == pytest.approx(2 * (1 + 12 + 66) / 2 ** 12)
    assert p == pytest.approx(stats.binomtest(2, 12, 0.5).pvalue)
    assert mcnemar(b, a) == (statistic, p)


def test_mcnemar_chi_square_with_continuity_correction():
    a = np.array([1] * 40 + [0] * 20 + [1] * 900, dtype=bool)
    b = np.array([0] * 40 + [1] * 20 + [1] * 900, dtype=bool)
    statistic, p = mcnemar(a, b)
    assert statistic == pytest.approx(19 ** 2 / 60)
    assert p == pytest.approx(math.erfc(math.sqrt(statistic / 2)))  # chi-square, 1 df
    assert mcnemar(a, a) == (0.0, 1.0)


def test_bootstrap_examples_brackets_the_gap_of_any_metric():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2000)
    pred_a = np.where(rng.random(2000) < 0.9, y, 1 - y)
    pred_b = np.where(rng.random(2000) < 0.8, y, 1 - y)

    def accuracy(t, p):
        return float(np.mean(t == p))

    lo, hi = bootstrap_examples(accuracy, y, pred_a, pred_b, n_boot=500, seed=0)
    gap = accuracy(y, pred_a) - accuracy(y, pred_b)
    assert 0 < lo < gap < hi and hi - lo < 0.06
    assert bootstrap_examples(accuracy, y, pred_a, pred_a, n_boot=50) == (0.0, 0.0)
    # A loss: a's squared error is lower, so with higher_is_better=False a is better.
    target = rng.normal(0, 1, 500)
    lo, hi = bootstrap_examples(lambda t, p: float(np.mean((t - p) ** 2)), target, target + rng.normal(0, 0.5, 500),
                                target + rng.normal(0, 1.0, 500), n_boot=300, higher_is_better=False)
    assert lo > 0


def test_test_set_margin_scales_with_the_test_set():
    assert test_set_margin(0.9, 1000) == pytest.approx(1.959964 * math.sqrt(2 * 0.09 / 1000))
    assert test_set_margin(0.9, 4000) == pytest.approx(test_set_margin(0.9, 1000) / 2)
    assert test_set_margin(0.5, 1000) > test_set_margin(0.99, 1000)
    np.testing.assert_allclose(test_set_margin(np.array([0.9, 0.9]), np.array([1000, 4000])),
                               [test_set_margin(0.9, 1000), test_set_margin(0.9, 4000)])


def test_test_set_margin_is_what_two_equal_models_differ_by_5_percent_of_the_time():
    rng = np.random.default_rng(0)
    n_test, p = 2000, 0.9
    gaps = (rng.binomial(n_test, p, 20_000) - rng.binomial(n_test, p, 20_000)) / n_test
    assert np.mean(np.abs(gaps) > test_set_margin(p, n_test)) == pytest.approx(0.05, abs=0.01)
