"""Is model a better than model b? Paired comparisons over seeds, and the test set's own noise within one seed.

Two sources of noise stand between a score and a verdict. Over seeds (`compare_paired`): each seed
draws a split, an initialisation and a data order, and both models see the same seed, so the
per-seed differences are the sample. Within one seed (`mcnemar`, `bootstrap_examples`,
`test_set_margin`): the test set is itself a sample of examples, and a gap of a few examples is noise.

Vocabulary
    difference  how much better a is than b, in the metric's units: positive means a is better,
                whatever the metric's direction (`higher_is_better=False` for a loss, an FD, an MSE)
    rope        region of practical equivalence, [-rope, +rope] around 0 (Kruschke 2018, "Rejecting
                or accepting parameter values in Bayesian estimation"): gaps this small do not matter
    alpha       the test's level; every interval here is a (1 - alpha) interval
    decisive    a decision of "better" or "worse"

`compare_paired` decides by one rule, from the interval alone (so the decision and the interval shown
beside it never disagree):
    fewer than 3 pairs     never decisive: "indicative-better" / "indicative-worse" when the mean gap
                           lies beyond the ROPE, else "undecided" (`indicative` is set)
    CI inside the ROPE     "equivalent": whatever the difference is, it is too small to matter (this
                           comes first, so a real but negligible gap reads as equivalent, not better)
    CI above 0 / below 0   "better" / "worse": the test rejects "no difference" at alpha
    otherwise              "undecided"
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import stats

BETTER, WORSE, EQUIVALENT, UNDECIDED = "better", "worse", "equivalent", "undecided"
INDICATIVE_BETTER, INDICATIVE_WORSE = "indicative-better", "indicative-worse"
DECISIONS = (BETTER, WORSE, EQUIVALENT, UNDECIDED, INDICATIVE_BETTER, INDICATIVE_WORSE)
MIN_PAIRS = 3           # below this no decision is decisive: two seeds say nothing about the spread
EXACT_FLIPS_UP_TO = 16  # all 2^n sign flips up to here (65,536); a seeded Monte Carlo beyond
METHODS = ("t", "permutation")


@dataclass(frozen=True)
class Comparison:
    """a against b over paired seeds. `difference`, `lo` and `hi` are oriented so positive = a better.

    `test` names what made the interval and p-value: "paired t", "sign-flip exact" or "sign-flip monte
    carlo". `lo`/`hi` are nan with fewer than 2 pairs, and infinite when the test cannot reject at
    alpha with so few pairs (the sign-flip test below 6 pairs at alpha=0.05). `decision` is one of
    DECISIONS; `indicative` is set when there are fewer than MIN_PAIRS pairs, and then the decision is
    never better, worse or equivalent.
    """
    difference: float
    lo: float
    hi: float
    p_value: float
    test: str
    n_pairs: int
    decision: str
    indicative: bool
    rope: float
    alpha: float

    @property
    def decisive(self) -> bool:
        return self.decision in (BETTER, WORSE)


def compare_paired(a, b, *, rope: float, higher_is_better: bool = True, alpha: float = 0.05, method: str = "t",
                   n_resamples: int = 20_000, seed: int = 0) -> Comparison:
    """Compare two models' scores aligned per seed (a[i] and b[i] come from seed i).

    Pairs where either score is missing (nan, inf, None) are dropped. `rope` is the practical-equivalence
    margin in the metric's units and has no default: no one margin fits accuracy, FD and MSE alike
    (0 means "never call equivalent").

    method="t": Student-t interval of the mean paired difference with n-1 degrees of freedom and the
    paired t-test; exact when the per-seed differences are normal. With two equal models it names a
    winner 5% of the time at alpha=0.05, whatever the number of seeds (3 or more).
    method="permutation": the sign-flip test of the mean difference (under "no difference" each
    seed's difference is as likely to have either sign): all 2^n flips for n <= 16, else
    `n_resamples` random flips from `seed`, with p = (1 + hits) / (1 + n_resamples). Its interval is
    the set of shifts the test does not reject, so the two agree. It assumes only symmetry, but it
    is discrete: its smallest p-value is 2 / 2^n, so at alpha=0.05 it cannot reject below 6 pairs
    and its interval is then unbounded.
    The decision follows the rule in the module docstring.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    if rope < 0 or not 0 < alpha < 1:
        raise ValueError(f"need rope >= 0 and 0 < alpha < 1 (got rope={rope}, alpha={alpha})")
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"a and b must be 1-D and aligned per seed (shapes {a.shape} and {b.shape})")
    keep = np.isfinite(a) & np.isfinite(b)
    d = (a - b if higher_is_better else b - a)[keep]
    n = len(d)
    if n < 2:  # no spread, no interval: the sign of a single gap is all there is
        mean = float(d[0]) if n else np.nan
        test = "none (one pair)" if n else "none (no pairs)"
        return Comparison(mean, np.nan, np.nan, np.nan, test, n, str(decide(mean, np.nan, np.nan, n, rope)), True,
                          rope, alpha)
    if method == "t":
        mean, lo, hi, p = t_intervals(d[None, :], alpha)
        test = "paired t"
    else:
        mean, lo, hi, p = sign_flip_intervals(d[None, :], alpha, n_resamples, seed)
        test = "sign-flip exact" if n <= EXACT_FLIPS_UP_TO else "sign-flip monte carlo"
    mean, lo, hi, p = float(mean[0]), float(lo[0]), float(hi[0]), float(p[0])
    return Comparison(mean, lo, hi, p, test, n, str(decide(mean, lo, hi, n, rope)), n < MIN_PAIRS, rope, alpha)


def decide(difference, lo, hi, n_pairs, rope: float):
    """The decision (see the module docstring) from an oriented mean difference and its interval;
    elementwise over arrays, so a simulation can decide thousands of comparisons at once."""
    difference, lo, hi, n_pairs = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (difference, lo, hi, n_pairs)))
    few = n_pairs < MIN_PAIRS
    with np.errstate(invalid="ignore"):
        beyond = np.abs(difference) > rope
        out = np.select(
            [few & beyond & (difference > 0), few & beyond & (difference < 0), few,
             (lo >= -rope) & (hi <= rope), lo > 0, hi < 0],
            [INDICATIVE_BETTER, INDICATIVE_WORSE, UNDECIDED, EQUIVALENT, BETTER, WORSE], default=UNDECIDED)
    return out[()] if out.ndim == 0 else out


def t_intervals(d: np.ndarray, alpha: float) -> tuple[np.ndarray, ...]:
    """Row by row of d (R, n) with n >= 2: (mean, lo, hi, p) of the one-sample t-test of mean 0."""
    n = d.shape[1]
    mean = d.mean(axis=1)
    se = d.std(axis=1, ddof=1) / np.sqrt(n)
    half = stats.t.ppf(1 - alpha / 2, n - 1) * se
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * stats.t.sf(np.abs(mean / se), n - 1)
    # No spread: every seed gave the same gap. Zero is no difference at all; anything else is as sure as it gets.
    p = np.where(se > 0, p, np.where(mean == 0, 1.0, 0.0))
    return mean, mean - half, mean + half, p


@lru_cache(maxsize=4)
def all_flips(n: int) -> np.ndarray:
    """Every subset of n seeds as a 0/1 row, (2^n, n): the seeds whose difference changes sign."""
    return ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1).astype(float)


def sign_flip_intervals(d: np.ndarray, alpha: float, n_resamples: int = 20_000, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Row by row of d (R, n): (mean, lo, hi, p) of the sign-flip test of the mean and its inverted interval.

    Testing a shift delta flips the signs of d - delta. A flip of the subset F reaches a mean at
    least as far from 0 as the observed one exactly when delta lies between mean(d[F]) and mean(d[not F])
    (factor |S_F - k_F delta| >= |S - n delta| into two linear terms), and every such interval holds
    mean(d). So p(delta) counts the intervals holding delta, the accepted shifts form one interval, and
    its ends are order statistics of the intervals' ends, with no search. The empty and the full flip
    reach it for every delta. Exact over all 2^n flips for n <= EXACT_FLIPS_UP_TO, else random flips
    plus the observed one, p = (1 + hits) / (1 + n_resamples) (Phipson & Smyth 2010).
    """
    n_rows, n = d.shape
    if n <= EXACT_FLIPS_UP_TO:
        flips, observed = all_flips(n), 0
    else:
        flips, observed = np.random.default_rng(seed).integers(0, 2, size=(n_resamples, n)).astype(float), 1
    k = flips.sum(axis=1)                                                  # (B,) how many seeds flip
    flipped = d @ flips.T                                                  # (R, B) sum of the flipped differences
    total = d.sum(axis=1, keepdims=True)
    trivial = (k == 0) | (k == n)
    with np.errstate(divide="ignore", invalid="ignore"):
        m_flip, m_keep = flipped / k, (total - flipped) / (n - k)
    # An end that is 0 up to rounding is 0: a subset summing to 0 (a seed where both models tie) reaches
    # the observed mean exactly, and rounding must not decide whether it counts.
    tiny = 1e-12 * np.abs(d).max(axis=1, keepdims=True)
    low = np.where(trivial, -np.inf, snap(np.minimum(m_flip, m_keep), tiny))  # (R, B)
    high = np.where(trivial, np.inf, snap(np.maximum(m_flip, m_keep), tiny))
    n_total = len(flips) + observed
    p = (observed + ((low <= 0) & (0 <= high)).sum(axis=1)) / n_total
    # delta is accepted when observed + #(intervals holding it) > alpha * n_total.
    need = int(np.floor(alpha * n_total - observed)) + 1
    if need <= 0:
        lo, hi = np.full(n_rows, -np.inf), np.full(n_rows, np.inf)
    else:
        lo = np.partition(low, need - 1, axis=1)[:, need - 1]
        hi = -np.partition(-high, need - 1, axis=1)[:, need - 1]
    return d.mean(axis=1), lo, hi, p


def snap(x: np.ndarray, tiny: np.ndarray) -> np.ndarray:
    return np.where(np.abs(x) <= tiny, 0.0, x)


# ---------------------------------------------------------------- one seed: the test set's own noise

def mcnemar(correct_a, correct_b, *, exact_below: int = 25) -> tuple[float, float]:
    """McNemar's test on paired per-example correctness of two models on one test set: (statistic, p).

    Only discordant examples count: n_ab where a is right and b wrong, n_ba the reverse. Under "equally
    accurate" each is Binomial(n_ab + n_ba, 1/2). Below `exact_below` discordant examples the test is
    that exact two-sided binomial test and the statistic is min(n_ab, n_ba); from there on the
    chi-square approximation with continuity correction, (|n_ab - n_ba| - 1)^2 / (n_ab + n_ba) on 1
    degree of freedom (Edwards 1948). No discordant example: (0.0, 1.0).
    """
    a, b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    if a.shape != b.shape:
        raise ValueError(f"correct_a and correct_b must be aligned per example (shapes {a.shape} and {b.shape})")
    n_ab, n_ba = int(np.sum(a & ~b)), int(np.sum(~a & b))
    discordant = n_ab + n_ba
    if discordant == 0:
        return 0.0, 1.0
    if discordant < exact_below:
        return float(min(n_ab, n_ba)), float(stats.binomtest(min(n_ab, n_ba), discordant, 0.5).pvalue)
    statistic = (abs(n_ab - n_ba) - 1) ** 2 / discordant
    return float(statistic), float(stats.chi2.sf(statistic, 1))


def bootstrap_examples(metric_fn, y_true, pred_a, pred_b, n_boot: int = 2000, seed: int = 0, *,
                       higher_is_better: bool = True, alpha: float = 0.05) -> tuple[float, float]:
    """(1 - alpha) percentile-bootstrap interval of metric_fn(y_true, pred_a) - metric_fn(y_true, pred_b),
    oriented so positive = a better, resampling test examples with replacement.

    Both models are scored on the same resample, so the interval is of the paired difference. Any
    metric works (`metric_fn(y_true, pred) -> float`, e.g. sklearn's accuracy_score, or an F1 over
    the resample); predictions may be labels, scores or rows of probabilities (indexed along axis 0).
    It measures one seed's test-set noise only, not the spread over seeds.
    """
    y_true, pred_a, pred_b = np.asarray(y_true), np.asarray(pred_a), np.asarray(pred_b)
    if not len(y_true) == len(pred_a) == len(pred_b):
        raise ValueError(f"y_true, pred_a, pred_b must have one entry per test example "
                         f"({len(y_true)}, {len(pred_a)}, {len(pred_b)})")
    sign = 1.0 if higher_is_better else -1.0
    picks = np.random.default_rng(seed).integers(0, len(y_true), size=(n_boot, len(y_true)))
    diffs = np.array([metric_fn(y_true[i], pred_a[i]) - metric_fn(y_true[i], pred_b[i]) for i in picks]) * sign
    lo, hi = np.quantile(diffs, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def test_set_margin(accuracy, n_test, alpha: float = 0.05):
    """The accuracy gap that test-set sampling alone produces between two equally good models, scaled
    to the test set: z_(1 - alpha/2) * sqrt(2 p (1 - p) / n_test) at accuracy p.

    Each measured accuracy is a Binomial(n_test, p) count over n_test; the difference of two, taken as
    independent, has that standard deviation. This is the conservative side: two models that err on
    the same examples differ less, and `mcnemar` measures that when per-example correctness is kept.
    At p=0.9 it is 2.6 points for 1,000 test examples, 0.83 for 10,000. Works elementwise on arrays.
    """
    p = np.clip(np.asarray(accuracy, dtype=float), 0.0, 1.0)
    margin = stats.norm.ppf(1 - alpha / 2) * np.sqrt(2 * p * (1 - p) / np.asarray(n_test, dtype=float))
    return float(margin) if np.ndim(margin) == 0 else margin


test_set_margin.__test__ = False  # a statistics helper, not a pytest test, whatever its name
