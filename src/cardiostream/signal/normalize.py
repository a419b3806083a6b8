"""z-score normalisation: global (offline) and running (streaming).

Offline: ``(x - mean(x)) / std(x)`` over the whole signal (population std, ``ddof=0``), the
normalisation of Pramukantoro et al. 2025 (../shared/papers/001, Eq. 12). A constant signal maps
to zeros.

Streaming: :class:`RunningZScore` uses exponentially weighted mean and variance with smoothing
factor ``alpha = 2 / (window + 1)`` (the ``span`` convention of pandas: the weights have the centre
of mass of a ``window``-sample moving average) and bias-corrected (``adjust=True``) normalisation,
so the first outputs use the plain mean and variance of the samples seen so far:

    mean_n = sum_i b**(n-i) x_i / sum_i b**(n-i),   var_n = (same weights, (x_i - mean_n)**2),

with ``b = 1 - alpha``. Output ``n`` is ``(x_n - mean_n) / sqrt(var_n)`` (0 where ``var_n`` is 0),
no delay. ``window=None`` gives cumulative statistics (``alpha = 0``): then the last output equals
the last sample of :func:`zscore` of the same signal. The weighted sums run through
:func:`scipy.signal.lfilter` with carried state, so chunking never changes a bit; samples are
taken relative to the first one to keep the variance free of cancellation.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from ._base import StreamingStep
from ._validation import as_signal, check_int


def zscore(x: object) -> np.ndarray:
    """Global z-score of a 1-D signal (population standard deviation); constant input gives 0s."""
    x = as_signal(x)
    if x.min() == x.max():  # the mean of equal floats may round off them: test exactly
        return np.zeros_like(x)
    return (x - x.mean()) / x.std()


class RunningZScore(StreamingStep):
    """Causal z-score with exponentially weighted statistics.

    Parameters
    ----------
    window : int or None
        Span of the exponential weights in samples (``alpha = 2 / (window + 1)``); the default
        10 800 samples is 30 s at 360 Hz. ``None`` uses all samples so far with equal weight.
    """

    def __init__(self, window: int | None = 10_800) -> None:
        self.window = None if window is None else check_int("window", window, 1)
        self._decay = 1.0 if window is None else 1.0 - 2.0 / (self.window + 1)
        self.reset()

    def __repr__(self) -> str:
        return f"RunningZScore(window={self.window})"

    @property
    def delay_samples(self) -> int:
        return 0

    def reset(self) -> None:
        self._ref: float | None = None
        self._zi = np.zeros((3, 1))  # state of the weighted sums of d, d**2 and 1

    def _push(self, x: np.ndarray) -> np.ndarray:
        if self._ref is None:
            self._ref = float(x[0])
        d = x - self._ref
        sums, self._zi = lfilter(
            [1.0], [1.0, -self._decay], np.stack((d, d * d, np.ones_like(d))), axis=1, zi=self._zi
        )
        mean = sums[0] / sums[2]
        var = np.maximum(sums[1] / sums[2] - mean * mean, 0.0)
        sd = np.sqrt(var)
        out = np.zeros_like(d)
        np.divide(d - mean, sd, out=out, where=sd > 0)
        return out

    def _flush(self) -> np.ndarray:
        return np.empty(0)
