"""T1, D3 and D2 on learning curves: crossover, the gap at small n, the gain per doubling at the top."""
import re

import pandas as pd

from tests.claims.cells import SEEDS, cell, duel, verdict_of


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


SIZES = (10_000, 30_000, 100_000, 300_000)  # every claim's regime reached at the top (D2's: 10^5)
SMALL = (100, 300, 1000, 3000)
CLASSICAL = dict(zip(SIZES, (0.80, 0.85, 0.88, 0.90)))
CROSSING = dict(zip(SIZES, (0.70, 0.82, 0.91, 0.96)))       # overtakes between 300 and 1000
DEEP_AHEAD = {n: a + 0.05 for n, a in CLASSICAL.items()}
DEEP_FLAT_TOP = dict(zip(SIZES, (0.70, 0.82, 0.91, 0.91)))
CLASSICAL_RISING_TOP = dict(zip(SIZES, (0.80, 0.85, 0.86, 0.92)))


def test_t1_supported_with_crossover_between_grid_points():
    v = verdict_of("T1-data", curves(CROSSING, CLASSICAL))
    assert v.verdict == "supported"
    n_star = float(re.search(r"n\* ≈ (\d+)", v.evidence).group(1))
    assert 30_000 < n_star < 100_000


def test_curves_that_stop_below_the_claims_scale_are_out_of_regime():
    small = curves(dict(zip(SMALL, CROSSING.values())), dict(zip(SMALL, CLASSICAL.values())))
    for claim in ("T1-data", "D3-data-hunger", "D2-scalability"):
        v = verdict_of(claim, small)
        assert v.verdict == "out-of-regime" and v.rule_verdict == "supported" and "3,000 <" in v.evidence, v


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
    flat = dict.fromkeys(SIZES, 0.85)  # both gain exactly nothing on every seed: an equality, decided
    assert verdict_of("D2-scalability", curves(flat, flat, noise=0.05)).verdict == "no-difference"


def test_d2_reports_power_law_with_four_sizes():
    assert "b" in verdict_of("D2-scalability", curves(CROSSING, CLASSICAL)).detail
