"""RR irregularity statistics for atrial-fibrillation suspicion.

The three statistics combined by Dash S, Chon KH, Lu S, Raeder EA, "Automatic real time detection
of atrial fibrillation", Ann Biomed Eng 37(9):1701-1709 (2009):

- the normalised root mean square of successive differences, RMSSD / mean RR (AF is variable);
- the turning-point count (AF is *random*: the turning points of an i.i.d. sequence of ``n``
  values have mean ``(2n - 4) / 3`` and variance ``(16n - 29) / 90``; smooth sinus arrhythmia
  has too few, bigeminy too many);
- the Shannon entropy of the RR histogram over 16 equal bins between the window's smallest and
  largest interval, divided by ``log 16`` (AF spreads over the bins; the two clusters of
  intermittent 2:1 block or of sinus rhythm with pauses do not).

As in Dash et al., the largest and smallest intervals of the window are dropped first so that an
isolated ectopic beat does not look like AF. The thresholds are :class:`EventConfig`'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidSignalError, check_param

__all__ = ["N_BINS", "Irregularity", "rr_irregularity"]

#: Histogram bins of the entropy (Dash et al. 2009).
N_BINS = 16


@dataclass(frozen=True)
class Irregularity:
    """Irregularity statistics of one RR window.

    Attributes
    ----------
    nrmssd : float
        RMSSD / mean RR of the trimmed window.
    tpr : float
        Turning points / (n - 2) of the trimmed window (about 2/3 for a random sequence).
    tpr_z : float
        Turning-point count minus its expectation for a random sequence, in standard deviations.
    entropy : float
        Shannon entropy of the 16-bin RR histogram / log 16, in [0, 1].
    n : int
        Intervals left after trimming.
    """

    nrmssd: float
    tpr: float
    tpr_z: float
    entropy: float
    n: int

    def is_irregular(self, min_nrmssd: float, max_abs_z: float, min_entropy: float) -> bool:
        """Variable (``nrmssd > min_nrmssd``), random (``|tpr_z| <= max_abs_z``) and spread
        out (``entropy >= min_entropy``)."""
        return (
            self.nrmssd > min_nrmssd
            and abs(self.tpr_z) <= max_abs_z
            and self.entropy >= min_entropy
        )


def rr_irregularity(rr_s: np.ndarray, trim: int = 0) -> Irregularity:
    """Irregularity statistics of a window of RR intervals, in their order.

    Parameters
    ----------
    rr_s : array of float, shape (n,)
        Positive RR intervals in seconds, in time order.
    trim : int
        The ``trim`` largest and ``trim`` smallest intervals are removed (the rest keep their
        order) before the statistics; at least 3 must remain.

    Returns
    -------
    Irregularity
    """
    rr = np.asarray(rr_s, dtype=np.float64)
    if rr.ndim != 1 or not np.all(np.isfinite(rr)) or np.any(rr <= 0):
        raise InvalidSignalError(
            "The 'rr_s' parameter must be a 1-D array of positive finite RR intervals, got "
            f"shape {rr.shape} instead."
        )
    ok = isinstance(trim, int) and not isinstance(trim, bool) and trim >= 0
    check_param("trim", trim, ok and rr.size - 2 * trim >= 3,
                f"an integer >= 0 leaving at least 3 of the {rr.size} intervals")
    x, lo, hi = trimmed(rr, trim)
    tpr, tpr_z, entropy = shape_stats(x, lo, hi)
    return Irregularity(nrmssd=nrmssd(x), tpr=tpr, tpr_z=tpr_z, entropy=entropy, n=int(x.size))


# The pieces below are what the detector calls on every window (inputs already valid), so that
# it can stop after the cheap variability test in regular rhythm; results are identical to
# :func:`rr_irregularity`.


def trimmed(rr: np.ndarray, trim: int) -> tuple[np.ndarray, float, float]:
    """The window without its ``trim`` largest and smallest values (order kept), min and max."""
    n = rr.size
    order = np.argsort(rr, kind="stable")
    lo, hi = float(rr[order[trim]]), float(rr[order[n - 1 - trim]])
    if trim:
        keep = np.ones(n, dtype=bool)
        keep[order[:trim]] = False
        keep[order[n - trim:]] = False
        rr = rr[keep]
    return rr, lo, hi


def nrmssd(x: np.ndarray) -> float:
    """RMSSD / mean of ``x``."""
    d = x[1:] - x[:-1]
    return math.sqrt(float(d @ d) / d.size) / (float(x.sum()) / x.size)


def shape_stats(x: np.ndarray, lo: float, hi: float) -> tuple[float, float, float]:
    """Turning-point ratio, its z score against a random sequence, and normalised entropy."""
    n = x.size
    d = x[1:] - x[:-1]
    turning = int(np.count_nonzero(d[:-1] * d[1:] < 0))
    z = (turning - (2.0 * n - 4.0) / 3.0) / math.sqrt((16.0 * n - 29.0) / 90.0)
    entropy = 0.0
    if hi > lo:
        bins = np.minimum(((x - lo) * (N_BINS / (hi - lo))).astype(np.int64), N_BINS - 1)
        counts = np.bincount(bins, minlength=N_BINS)
        p = counts[counts > 0] / n
        entropy = float(-(p * np.log(p)).sum() / math.log(N_BINS))
    return turning / (n - 2), z, entropy
