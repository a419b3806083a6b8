"""The nine RR-interval features of Pramukantoro et al. 2025 (../shared/papers/001, Table 1).

Reading of the paper used here (beat ``i`` at R-peak ``R[i]``, intervals in seconds):

* ``RR0``  = ``R[i] - R[i-1]``, the interval *ending* at the beat (de Chazal et al. 2004's pre-RR);
  ``RR-1`` = ``R[i-1] - R[i-2]``, the interval before it; ``RR+1`` = ``R[i+1] - R[i]``, the
  interval after it (post-RR). Eq. 1 of the paper indexes ``RRi[i] = R[i+1] - R[i]``; read
  literally that would make RR0 the *following* interval and put a premature beat's short
  coupling interval in RR-1. We take the physiological reading, in which RR0 is short for a
  premature beat and RR+1 holds its compensatory pause.
* ``avgRR`` and ``stddevRR`` (eqs. 2-3) are the mean and the population standard deviation (1/42)
  of the 42 intervals *preceding* RR0 (Table 1: "the average of the previous 42 RRi values"),
  i.e. ``R[i-k] - R[i-k-1]`` for ``k = 1..42``. They need beats ``i-43 .. i``.
* ``tRR0`` = ``(RR0 - avgRR) / stddevRR``. ``stddevRR`` is floored at one sampling period
  ``1/fs`` (the RR resolution), so a perfectly regular rhythm gives finite values.

Columns in order: RR0, RR-1, RR+1, RR0/avgRR, tRR0, RR-1/avgRR, RR-1/RR0, RR+1/avgRR, RR+1/RR0.
A feature that needs a beat the sequence does not have is NaN and the row is marked invalid: the
first 43 beats (the paper drops them) and, offline, the last beat (no RR+1).

The causal variant uses no beat after ``i``, so its value is known when beat ``i`` is detected
(the streaming service needs this): RR+1 is replaced by ``RR-2 = R[i-2] - R[i-3]`` and the two
RR+1 ratios by RR-2/avgRR and RR-2/RR0, keeping nine columns. Sums run on integer sample counts
(int64 cumulative sums are exact), so offline, causal and streaming values agree bit for bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidSignalError, check_param
from ..types import _frozen

__all__ = [
    "CAUSAL_RR_FEATURE_NAMES",
    "N_AVG_BEATS",
    "RR_FEATURE_NAMES",
    "RRFeatures",
    "StreamingRRFeatures",
    "rr_features",
]

#: Window of eqs. 2-3 of paper 001.
N_AVG_BEATS = 42
RR_FEATURE_NAMES: tuple[str, ...] = (
    "RR0",
    "RR-1",
    "RR+1",
    "RR0/avgRR",
    "tRR0",
    "RR-1/avgRR",
    "RR-1/RR0",
    "RR+1/avgRR",
    "RR+1/RR0",
)
CAUSAL_RR_FEATURE_NAMES: tuple[str, ...] = (
    "RR0",
    "RR-1",
    "RR-2",
    "RR0/avgRR",
    "tRR0",
    "RR-1/avgRR",
    "RR-1/RR0",
    "RR-2/avgRR",
    "RR-2/RR0",
)


@dataclass(frozen=True, eq=False)
class RRFeatures:
    """RR features of a beat sequence.

    Attributes
    ----------
    values : ndarray, shape (n, 9), float64
        Features per beat (seconds or ratios); NaN where a needed beat is missing.
    valid : ndarray of bool, shape (n,)
        True where all nine features are defined.
    names : tuple of str
        Column names (:data:`RR_FEATURE_NAMES` or :data:`CAUSAL_RR_FEATURE_NAMES`).
    causal : bool
    n_avg : int
        Number of preceding intervals in avgRR / stddevRR.
    """

    values: np.ndarray
    valid: np.ndarray
    names: tuple[str, ...]
    causal: bool
    n_avg: int = N_AVG_BEATS

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", _frozen(self.values))
        object.__setattr__(self, "valid", _frozen(self.valid))

    def __len__(self) -> int:
        return int(self.valid.size)


def rr_features(
    r_peaks: np.ndarray,
    fs: float,
    causal: bool = False,
    n_avg: int = N_AVG_BEATS,
    min_avg: int | None = None,
) -> RRFeatures:
    """Compute the nine RR features of paper 001 Table 1 for every beat.

    Parameters
    ----------
    r_peaks : array of int, shape (n,)
        Strictly increasing R-peak sample indices of consecutive beats (all beats of the record,
        including ones later excluded, so neighbours are right).
    fs : float
        Sampling rate in Hz.
    causal : bool
        Use no future beat (RR+1 columns replaced by RR-2 ones; see the module docstring).
    n_avg : int
        Intervals averaged for avgRR / stddevRR (42 in the paper).
    min_avg : int, optional
        Warm-up for inference: beats with at least ``min_avg`` (but fewer than ``n_avg``)
        earlier intervals get avgRR / stddevRR over those they have instead of NaN, so only
        the first ``min_avg + 1`` beats of a recording stay undefined. None (the paper's rule):
        ``n_avg``.

    Returns
    -------
    RRFeatures
        ``values`` (n, 9) with NaN where undefined, and the ``valid`` row mask.
    """
    check_param("fs", fs, np.isfinite(fs) and fs > 0, "a positive sampling rate in Hz")
    check_param("n_avg", n_avg, isinstance(n_avg, int) and n_avg >= 2, "an integer >= 2")
    ok = min_avg is None or (isinstance(min_avg, int) and 2 <= min_avg <= n_avg)
    check_param("min_avg", min_avg, ok, f"None or an integer in [2, n_avg={n_avg}]")
    r = _as_increasing(r_peaks)
    values = _features(r, float(fs), bool(causal), n_avg, n_avg if min_avg is None else min_avg)
    return RRFeatures(
        values=values,
        valid=np.all(np.isfinite(values), axis=1),
        names=CAUSAL_RR_FEATURE_NAMES if causal else RR_FEATURE_NAMES,
        causal=bool(causal),
        n_avg=n_avg,
    )


class StreamingRRFeatures:
    """Causal RR features beat by beat, equal bit for bit to ``rr_features(causal=True)``.

    Parameters
    ----------
    fs : float
        Sampling rate in Hz.
    n_avg : int
        Intervals averaged for avgRR / stddevRR.
    """

    def __init__(self, fs: float, n_avg: int = N_AVG_BEATS) -> None:
        check_param("fs", fs, np.isfinite(fs) and fs > 0, "a positive sampling rate in Hz")
        check_param("n_avg", n_avg, isinstance(n_avg, int) and n_avg >= 2, "an integer >= 2")
        self.fs = float(fs)
        self.n_avg = n_avg
        self._tail = np.zeros(0, dtype=np.int64)  # the last n_avg + 1 peaks seen
        #: Features of a beat are final when it is pushed: no delay.
        self.delay_beats = 0

    def push(self, r_peaks: np.ndarray) -> RRFeatures:
        """Add new peaks (absolute indices, after all earlier ones); return their feature rows."""
        new = _as_increasing(r_peaks)
        if new.size and self._tail.size and new[0] <= self._tail[-1]:
            raise InvalidSignalError(
                "The 'r_peaks' parameter must continue the stream: first peak "
                f"{int(new[0])} is not after the previous peak {int(self._tail[-1])}."
            )
        buf = np.concatenate([self._tail, new])
        values = _features(buf, self.fs, True, self.n_avg)[self._tail.size :]
        self._tail = buf[-(self.n_avg + 1) :]
        return RRFeatures(
            values=values,
            valid=np.all(np.isfinite(values), axis=1),
            names=CAUSAL_RR_FEATURE_NAMES,
            causal=True,
            n_avg=self.n_avg,
        )

    def flush(self) -> RRFeatures:
        """Nothing is held back (causal features are final at once); returns an empty result."""
        return self.push(np.zeros(0, dtype=np.int64))


def _features(
    r: np.ndarray, fs: float, causal: bool, n_avg: int, min_avg: int | None = None
) -> np.ndarray:
    """Feature matrix from int64 peaks; exact integer sums, then one float division each."""
    n = r.size
    out = np.full((n, 9), np.nan)
    if n < 2:
        return out
    rr = np.diff(r)  # rr[j] = R[j+1] - R[j], samples; RR0 of beat i is rr[i-1]

    def shifted(lag: int) -> np.ndarray:
        """Interval ending at beat i - lag (lag=0: RR0, 1: RR-1, -1: RR+1), NaN where missing."""
        v = np.full(n, np.nan)
        j = np.arange(n) - 1 - lag
        ok = (j >= 0) & (j < rr.size)
        v[ok] = rr[j[ok]]
        return v

    rr0, rr_m1 = shifted(0), shifted(1)
    rr_third = shifted(2) if causal else shifted(-1)  # RR-2 (causal) or RR+1

    # avgRR / stddevRR of beat i from intervals rr[i-1-n_avg .. i-2] (the n_avg before RR0).
    c1 = np.concatenate([[0], np.cumsum(rr)])
    c2 = np.concatenate([[0], np.cumsum(rr * rr)])
    # With a warm-up (min_avg < n_avg) beat i averages its m = min(n_avg, i - 1) intervals.
    s1 = np.full(n, np.nan)
    sd = np.full(n, np.nan)
    m = np.full(n, float(n_avg))
    i = np.arange((n_avg if min_avg is None else min_avg) + 1, n)
    if i.size:
        cnt = np.minimum(n_avg, i - 1)
        lo, hi = i - 1 - cnt, i - 1
        sum1 = c1[hi] - c1[lo]
        sum2 = c2[hi] - c2[lo]
        num = cnt * sum2 - sum1 * sum1  # cnt^2 * variance, exact integer
        s1[i] = sum1
        m[i] = cnt
        sd[i] = np.maximum(np.sqrt(num.astype(np.float64)) / cnt, 1.0)  # floor: 1 sample
    avg = s1 / m

    out[:, 0] = rr0 / fs
    out[:, 1] = rr_m1 / fs
    out[:, 2] = rr_third / fs
    out[:, 3] = rr0 * m / s1
    out[:, 4] = (rr0 - avg) / sd
    out[:, 5] = rr_m1 * m / s1
    out[:, 6] = rr_m1 / rr0
    out[:, 7] = rr_third * m / s1
    out[:, 8] = rr_third / rr0
    return out


def _as_increasing(r_peaks: np.ndarray) -> np.ndarray:
    r = np.asarray(r_peaks)
    if r.ndim != 1 or (r.size and not np.issubdtype(r.dtype, np.integer)):
        raise InvalidSignalError(
            "The 'r_peaks' parameter must be a 1-D array of integer sample indices, got "
            f"dtype {r.dtype} and shape {r.shape} instead."
        )
    r = r.astype(np.int64)
    if r.size > 1 and np.any(np.diff(r) <= 0):
        raise InvalidSignalError(
            "The 'r_peaks' parameter must be strictly increasing, got a non-increasing step at "
            f"index {int(np.flatnonzero(np.diff(r) <= 0)[0])} instead."
        )
    return r


def _feature_row(
    r: np.ndarray, fs: float, i: int, causal: bool, n_avg: int, min_avg: int | None = None
) -> np.ndarray:
    """Row ``i`` of :func:`_features` alone, bit for bit (same integer sums, same divisions).

    A live pipeline needs the features of one new beat at a time; computing the whole matrix
    of its peak history for each beat costs far more than the beat's nine numbers.
    """
    n = r.size
    out = np.full(9, np.nan)
    if n < 2:
        return out
    nan = float("nan")

    def interval(lag: int) -> float:
        j = i - 1 - lag
        return float(r[j + 1] - r[j]) if 0 <= j < n - 1 else nan

    rr0, rr_m1 = interval(0), interval(1)
    rr_third = interval(2) if causal else interval(-1)
    s1 = sd = nan
    m = float(n_avg)
    if i >= (n_avg if min_avg is None else min_avg) + 1:
        cnt = min(n_avg, i - 1)
        d = np.diff(r[i - 1 - cnt : i])  # the cnt intervals before RR0, exact integers
        sum1 = int(d.sum())
        num = cnt * int((d * d).sum()) - sum1 * sum1
        s1 = float(sum1)
        m = float(cnt)
        sd = max(math.sqrt(float(num)) / cnt, 1.0)
    avg = s1 / m
    out[:] = (
        rr0 / fs,
        rr_m1 / fs,
        rr_third / fs,
        rr0 * m / s1,
        (rr0 - avg) / sd,
        rr_m1 * m / s1,
        rr_m1 / rr0,
        rr_third * m / s1,
        rr_third / rr0,
    )
    return out
