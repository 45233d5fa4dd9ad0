"""Statistics every figure in bench carries: means with intervals over seeds, paired comparisons."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import optimize, stats
from scipy.optimize import OptimizeWarning


def mean_ci(values, confidence: float = 0.95) -> tuple[float, float, float, int]:
    """Mean and Student-t interval over seeds: (mean, low, high, n). One value: the interval is the point."""
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=float)
    n = len(v)
    if n == 0:
        return (np.nan, np.nan, np.nan, 0)
    m = float(v.mean())
    if n == 1:
        return (m, m, m, 1)
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * v.std(ddof=1) / np.sqrt(n)
    return (m, m - half, m + half, n)


@dataclass(frozen=True)
class PairedDifference:
    """a - b over aligned seeds, with a Student-t interval. `winner` is 'tie' when the interval holds 0.
    With one seed there is no interval and no test: `single_seed` is set (lo = hi = the point).
    `a_cells`/`b_cells` name the (dataset, configuration) cells behind each side, where known;
    `higher_is_better` says which side of a decided difference lost (False for a Fréchet distance)."""
    mean: float
    lo: float
    hi: float
    p_value: float
    test: str
    n: int
    winner: str
    single_seed: bool
    confidence: float = 0.95
    a_cells: tuple = ()
    b_cells: tuple = ()
    higher_is_better: bool = True


def paired_difference(a, b, confidence: float = 0.95) -> PairedDifference:
    """Mean of a - b with the paired Student-t interval and test over seeds (n - 1 degrees of freedom).

    A percentile bootstrap over 2-5 seeds is far too narrow (with two equal models it names a winner
    about half the time at 2 seeds, a quarter at 3); the t-interval keeps that at 1 - confidence for any n
    when the per-seed differences are roughly normal. Pairs with a missing value are dropped. With no
    spread the interval is the point (every seed agrees exactly). n == 1: winner by sign, `single_seed`.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    keep = np.isfinite(a) & np.isfinite(b)
    d = a[keep] - b[keep]
    n = len(d)
    if n == 0:
        return PairedDifference(np.nan, np.nan, np.nan, np.nan, "none", 0, "tie", False, confidence)
    m = float(d.mean())
    if n == 1:
        return PairedDifference(m, m, m, np.nan, "none (one seed)", 1, sign_winner(m), True, confidence)
    if np.allclose(d, d[0], rtol=0, atol=1e-12):  # no spread: the test is undefined, and the sign is all there is
        lo = hi = m
        p = 1.0 if d[0] == 0 else 0.0
    else:
        half = stats.t.ppf(0.5 + confidence / 2, n - 1) * d.std(ddof=1) / np.sqrt(n)
        lo, hi = m - half, m + half
        p = float(stats.ttest_1samp(d, 0.0).pvalue)
    winner = "tie" if lo <= 0 <= hi else sign_winner(m)
    return PairedDifference(m, float(lo), float(hi), p, "paired t", n, winner, False, confidence)


def sign_winner(difference: float) -> str:
    return "a" if difference > 0 else "b" if difference < 0 else "tie"


def average_ranks(table: pd.DataFrame) -> pd.Series:
    """Average rank of each model (columns) over datasets (rows); scores are higher-better, rank 1 is
    best, ties share their mean rank. Datasets missing any model's score are dropped, since the
    Friedman/Nemenyi analysis (Demsar 2006) needs every model on every dataset."""
    complete = table.dropna()
    return complete.rank(axis=1, ascending=False, method="average").mean().sort_values()


def nemenyi_cd(k_models: int, n_datasets: int, alpha: float = 0.05) -> float | None:
    """Critical difference of average ranks (Demsar 2006): q_alpha * sqrt(k(k+1) / 6N), where q_alpha is
    the studentized range quantile over sqrt(2). None with fewer than 2 datasets or models."""
    if n_datasets < 2 or k_models < 2:
        return None
    q = stats.studentized_range.ppf(1 - alpha, k_models, np.inf) / np.sqrt(2)
    return float(q * np.sqrt(k_models * (k_models + 1) / (6 * n_datasets)))


@dataclass(frozen=True)
class PowerLawFit:
    """error(n) = a * n^-b + c; `*_se` are standard errors from the fit's covariance (nan if undefined)."""
    a: float
    b: float
    c: float
    a_se: float
    b_se: float
    c_se: float
    success: bool
    message: str = ""

    def predict(self, n) -> np.ndarray:
        return self.a * np.asarray(n, dtype=float) ** -self.b + self.c


def fit_power_law(n, error) -> PowerLawFit:
    """Least-squares fit of error = a * n^-b + c with a > 0, 0 < b <= 2, 0 <= c <= 1.

    Needs 4 distinct sizes (3 parameters plus one degree of freedom); with fewer, `success` is False.
    Repeated sizes (one point per seed) are fine and give the standard errors their spread.
    """
    n, error = np.asarray(n, dtype=float), np.asarray(error, dtype=float)
    keep = np.isfinite(n) & np.isfinite(error) & (n > 0)
    n, error = n[keep], error[keep]
    failed = PowerLawFit(np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, False)
    if len(np.unique(n)) < 4:
        return replace(failed, message=f"{len(np.unique(n))} distinct sizes; a power law needs at least 4")
    # Fit in units of the largest size so a stays near the error's scale whatever b is.
    n_ref = n.max()
    c0 = float(np.clip(error.min() / 2, 0, 1))
    b0 = 0.5
    a0 = max(float(error[np.argmin(n)]) - c0, 1e-3) * (n.min() / n_ref) ** b0

    def curve(x, a, b, c):
        return a * x ** -b + c

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            (a_s, b, c), cov = optimize.curve_fit(curve, n / n_ref, error, p0=[a0, b0, c0],
                                                  bounds=([1e-12, 1e-6, 0.0], [np.inf, 2.0, 1.0]), maxfev=20000)
    except (RuntimeError, ValueError) as e:
        return replace(failed, message=str(e))
    # Back to a for n in samples: a = a_s * n_ref^b; its standard error by the delta method.
    scale = n_ref ** b
    grad = np.array([scale, a_s * scale * np.log(n_ref)])
    var_a = float(grad @ cov[:2, :2] @ grad) if np.all(np.isfinite(cov[:2, :2])) else np.nan
    se = np.sqrt(np.clip(np.diag(cov), 0, None)) if np.all(np.isfinite(np.diag(cov))) else np.full(3, np.nan)
    return PowerLawFit(float(a_s * scale), float(b), float(c), float(np.sqrt(max(var_a, 0))) if np.isfinite(var_a)
                       else np.nan, float(se[1]), float(se[2]), True)


@dataclass(frozen=True)
class Crossover:
    """Where deep's mean accuracy first overtakes classical's along a learning curve.

    `n_star` is None when there is no crossover within the sizes run; `leader` then names the family
    ahead at every size ('deep', 'classical', or 'neither' when deep leads first and falls behind).
    The interval resamples seeds; a resample without a crossover counts as n* at the smallest size if
    deep leads there, else as beyond the largest size (inf), so `hi` may be inf: 'not within sizes run'.
    """
    n_star: float | None
    lo: float
    hi: float
    leader: str | None
    sizes: list[int]
    gap: list[float]            # mean deep - classical accuracy at each size
    n_seeds: int
    crossing_fraction: float    # share of resamples that cross within the sizes run
    models: dict = field(default_factory=dict)


def crossover(curves: pd.DataFrame, n_boot: int = 2000, seed: int = 0, confidence: float = 0.95) -> Crossover:
    """Smallest training size at which deep's mean accuracy overtakes classical's.

    `curves` is long: n_train, seed, family ('deep'|'classical'), accuracy, and optionally model. With
    a `model` column, each family's curve is its model with the best mean accuracy at the largest size,
    followed down to the small sizes: n* is then a property of two real models, not of an envelope
    that switches model from size to size. Only sizes where both families have scores count. Between
    grid points n* is interpolated linearly in log n. Seeds are shared by the families (the same
    seed draws the same training subset), so the bootstrap resamples seeds, keeping pairs together.
    """
    curves = curves[curves["family"].isin(["deep", "classical"])].dropna(subset=["accuracy"])
    models = {}
    if "model" in curves:
        top = curves[curves["n_train"] == curves["n_train"].max()]
        means = top.groupby(["family", "model"])["accuracy"].mean()
        models = {family: model for family, model in means.groupby("family").idxmax().map(lambda t: t[1]).items()}
        curves = curves[curves["model"] == curves["family"].map(models)]
    cube = curves.pivot_table(index=["family", "n_train"], columns="seed", values="accuracy", aggfunc="mean")
    sizes = sorted(set(cube.loc["deep"].index) & set(cube.loc["classical"].index)) if set(
        cube.index.get_level_values(0)) >= {"deep", "classical"} else []
    if len(sizes) < 2:
        return Crossover(None, np.nan, np.nan, None, sizes, [], int(cube.shape[1]), np.nan, models)
    values = np.stack([cube.loc["deep"].loc[sizes].to_numpy(), cube.loc["classical"].loc[sizes].to_numpy()])
    log_n = np.log(np.asarray(sizes, dtype=float))
    gap = np.nanmean(values[0], axis=1) - np.nanmean(values[1], axis=1)
    n_star, leader = first_overtaking(gap, log_n)
    n_seeds = values.shape[2]
    lo = hi = np.nan
    fraction = np.nan
    if n_seeds > 1:
        picks = np.random.default_rng(seed).integers(0, n_seeds, size=(n_boot, n_seeds))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a resample may miss a size's seeds
            boot_gaps = np.nanmean(values[0][:, picks], axis=2) - np.nanmean(values[1][:, picks], axis=2)  # (K, n_boot)
        stars, crossed = [], 0
        for g in boot_gaps.T:
            ok = np.isfinite(g)
            star, lead = first_overtaking(g[ok], log_n[ok]) if ok.sum() >= 2 else (None, None)
            crossed += star is not None
            stars.append(star if star is not None else (sizes[0] if lead == "deep" else np.inf))
        stars = np.asarray(stars, dtype=float)
        fraction = crossed / n_boot
        # No interpolation between order statistics: some of them may be inf.
        lo, hi = (float(q) for q in np.quantile(stars, [(1 - confidence) / 2, (1 + confidence) / 2], method="inverted_cdf"))
    return Crossover(n_star, lo, hi, leader, [int(s) for s in sizes], [float(g) for g in gap], n_seeds, fraction, models)


def first_overtaking(gap: np.ndarray, log_n: np.ndarray) -> tuple[float | None, str | None]:
    """(n*, None) at the first step where gap goes from <= 0 to > 0, else (None, who leads)."""
    for i in range(1, len(gap)):
        if gap[i - 1] <= 0 < gap[i]:
            t = -gap[i - 1] / (gap[i] - gap[i - 1])
            return float(np.exp(log_n[i - 1] + t * (log_n[i] - log_n[i - 1]))), None
    if np.all(gap > 0):
        return None, "deep"
    if np.all(gap <= 0):
        return None, "classical"
    return None, "neither"
