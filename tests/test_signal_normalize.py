"""z-score: global vs scipy.stats, running (exponentially weighted) vs pandas.ewm."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import zscore as scipy_zscore

from cardiostream.signal import RunningZScore, zscore


def test_global_matches_scipy(rng):
    x = rng.standard_normal(1000) * 3.0 + 7.0
    np.testing.assert_allclose(zscore(x), scipy_zscore(x), rtol=0, atol=1e-12)
    assert np.array_equal(zscore(np.full(10, 4.2)), np.zeros(10))


@pytest.mark.parametrize("window", [1, 50, 2000])
def test_running_matches_pandas_ewm(window, rng):
    # pandas computes the same adjusted weighted moments by its own recursion; 1e-9 covers the
    # variance's E[d^2] - mean^2 rounding on a signal with a large offset.
    x = np.cumsum(rng.standard_normal(3000)) * 0.1 + 50.0
    alpha = 2.0 / (window + 1)
    ew = pd.Series(x).ewm(alpha=alpha, adjust=True)
    mean = ew.mean().to_numpy()
    sd = np.sqrt(ew.var(bias=True).to_numpy())
    expected = np.divide(x - mean, sd, out=np.zeros_like(x), where=sd > 1e-9)
    np.testing.assert_allclose(RunningZScore(window).run(x), expected, rtol=0, atol=1e-9)


def test_cumulative_running_ends_at_global(rng):
    x = rng.standard_normal(5000) + np.linspace(0, 3, 5000)
    y = RunningZScore(window=None).run(x)
    assert y[-1] == pytest.approx(zscore(x)[-1], abs=1e-12)
    assert y[0] == 0.0 and np.all(np.isfinite(y))


def test_running_normalises_a_long_stationary_signal(rng):
    x = rng.standard_normal(20_000) * 0.4 - 1.0
    y = RunningZScore(window=2000).run(x)[2000:]
    assert abs(np.mean(y)) < 0.05
    assert np.std(y) == pytest.approx(1.0, abs=0.05)
