"""Friedman first, Nemenyi's critical difference only after it rejects, and the diagram."""
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from harness.evaluation.ranking import cd_diagram, cliques, critical_difference, friedman, iman_davenport_f
from harness.evaluation.stats import nemenyi_cd


def table_of(scores) -> pd.DataFrame:
    scores = np.asarray(scores, dtype=float)
    return pd.DataFrame(scores, index=[f"d{i}" for i in range(len(scores))],
                        columns=[f"m{j}" for j in range(scores.shape[1])])


def ordered_table(n_datasets: int = 12, k: int = 4, seed: int = 0) -> pd.DataFrame:
    """m0 best, m(k-1) worst on nearly every dataset."""
    rng = np.random.default_rng(seed)
    return table_of(0.9 - 0.03 * np.arange(k) + rng.normal(0, 0.01, (n_datasets, k)))


@settings(max_examples=40, deadline=None)
@given(arrays(float, st.tuples(st.integers(2, 12), st.integers(3, 6)), elements=st.sampled_from([0.7, 0.8, 0.85, 0.9])))
def test_friedman_is_scipys_with_rows_as_datasets(scores):
    chi2, p = friedman(table_of(scores))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = stats.friedmanchisquare(*scores.T)
    if (scores == scores[:, :1]).all():  # all ties in every row: scipy divides by (about) zero, nan or inf
        assert (chi2, p) == (0.0, 1.0)
    else:
        assert (chi2, p) == pytest.approx((expected.statistic, expected.pvalue))


def test_iman_davenport_on_demsars_example():
    # Demsar (2006), section 3.2.2: four classifiers over 14 data sets, chi2_F = 9.28, F_F = 3.69.
    f, p = iman_davenport_f(9.28, 14, 4)
    assert f == pytest.approx(3.69, abs=0.01) and p < 0.05 and p == pytest.approx(stats.f.sf(f, 3, 39))
    table = ordered_table()
    chi2, _ = friedman(table)
    assert friedman(table, iman_davenport=True) == pytest.approx(iman_davenport_f(chi2, 12, 4))


def test_friedman_drops_incomplete_datasets_and_needs_three_models():
    table = ordered_table()
    with_gap = table.copy()
    with_gap.iloc[0, 1] = np.nan
    assert friedman(with_gap) == pytest.approx(friedman(table.iloc[1:]))
    assert all(np.isnan(friedman(table.iloc[:, :2])))
    assert all(np.isnan(friedman(table.iloc[:1])))


def test_critical_difference_after_friedman_rejects():
    table = ordered_table()
    result = critical_difference(table)
    assert result.p_value < 0.05 and result.rejected
    assert result.cd == pytest.approx(nemenyi_cd(4, 12))
    assert list(result.ranks.index) == ["m0", "m1", "m2", "m3"] and result.ranks.iloc[0] < 1.5
    assert "differ by" in result.note
    # Lower is better (an error): the same table read as errors ranks the other way round.
    assert list(critical_difference(table, higher_is_better=False).ranks.index) == ["m3", "m2", "m1", "m0"]


def test_no_critical_difference_when_friedman_does_not_reject():
    noise = table_of(0.9 + np.random.default_rng(1).normal(0, 0.01, (8, 4)))
    result = critical_difference(noise)
    assert result.p_value > 0.05 and result.cd is None and not result.rejected
    assert "no difference among the 4 models can be claimed" in result.note
    assert len(result.ranks) == 4  # the ranks are still shown
    two = critical_difference(noise.iloc[:, :2])
    assert two.cd is None and "needs 3 models" in two.note


def test_cliques_join_models_closer_than_the_cd():
    ranks = pd.Series({"a": 1.0, "b": 1.5, "c": 3.0, "d": 3.2})
    assert cliques(ranks, 1.0) == [["a", "b"], ["c", "d"]]
    assert cliques(ranks, 1.6) == [["a", "b"], ["b", "c"], ["c", "d"]]
    assert cliques(ranks, 1.8) == [["a", "b"], ["b", "c", "d"]]
    assert cliques(ranks, 2.5) == [["a", "b", "c", "d"]]
    assert cliques(ranks, 0.1) == [] and cliques(ranks, None) == []


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_cd_diagram_writes_a_file(tmp_path, suffix):
    result = critical_difference(ordered_table(k=5))
    path = cd_diagram(result.ranks, result.cd, tmp_path / "figures" / f"cd.{suffix}", title="vision")
    assert path.exists() and path.stat().st_size > 1000
    if suffix == "png":
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    no_cd = cd_diagram(pd.Series({"mlp": 1.4, "rf": 1.6}), None, tmp_path / f"none.{suffix}")
    assert no_cd.stat().st_size > 1000
    with pytest.raises(ValueError, match="no ranks"):
        cd_diagram(pd.Series(dtype=float), None, tmp_path / "empty.png")
