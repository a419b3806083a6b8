"""Patient context of a beat: its running template and rhythm-normalised RR features.

Inter-patient beat classifiers fail mostly because every patient's normal beat looks different
(lead placement, QRS axis, amplitude). What separates an ectopic beat from a normal one *in the
same patient* is its difference from that patient's usual beat and its timing relative to the
patient's usual rhythm. Both can be measured without any label:

* the **running template** of beat ``i`` is the sample-wise median of the windows of the ``k``
  beats before it in the same record (causal, so a monitor knows it when beat ``i`` arrives);
  most beats of most patients are normal, so the median is the patient's normal beat, as in
  template-matching beat classifiers (e.g. Krasteva & Jekova, Physiol. Meas. 28, 2007);
* the **scale** is the template's QRS peak-to-peak amplitude, dividing out electrode gain;
* **rhythm context**: the RR ratios of paper 001 (Table 1) on a log scale (symmetric for early
  and late beats) and the clipped tRR0, normalised to the local average rhythm as de Chazal et al.
  (IEEE TBME 51(7), 2004) recommend for inter-patient work.

:class:`StreamingTemplate` gives the same template beat by beat; tests prove it equal to
:func:`running_templates`.
"""

from __future__ import annotations

import itertools

import numpy as np

from .._rowstats import row_median
from ..errors import InvalidSignalError, check_param

__all__ = [
    "CONTEXT_FEATURE_NAMES",
    "DEFAULT_TEMPLATE_BEATS",
    "StreamingTemplate",
    "context_features",
    "running_templates",
    "template_scale",
]

#: Beats in the running template (≈ 25 s at 75 bpm).
DEFAULT_TEMPLATE_BEATS = 32
#: Columns of :func:`context_features`.
CONTEXT_FEATURE_NAMES: tuple[str, ...] = (
    "log RR0/avgRR",
    "log RR-1/avgRR",
    "log RR-1/RR0",
    "log RR+1/avgRR",
    "log RR+1/RR0",
    "tRR0/3 (clipped to ±10/3)",
)
_SCALE_FLOOR_MV = 0.05
#: Half-width of the QRS span the scale is measured on, in seconds around the R-peak.
_QRS_HALF_S = 0.075


def _check_windows(windows: np.ndarray) -> np.ndarray:
    w = np.asarray(windows, dtype=np.float64)
    if w.ndim != 2 or w.shape[1] < 2 or not np.all(np.isfinite(w)):
        raise InvalidSignalError(
            "The 'windows' parameter must be a finite 2-D array (beats, samples), got shape "
            f"{w.shape} instead."
        )
    return w


def running_templates(
    windows: np.ndarray, record_ids: np.ndarray, k: int = DEFAULT_TEMPLATE_BEATS
) -> np.ndarray:
    """Median of the ``k`` previous windows of the same record, per beat (causal).

    Parameters
    ----------
    windows : ndarray, shape (n, m)
        Beat windows in time order within each record (records may be interleaved only as
        contiguous blocks, as :class:`~cardiostream.types.Beats` stores them).
    record_ids : ndarray, shape (n,)
        Record of each beat.
    k : int
        Template length in beats.

    Returns
    -------
    ndarray, shape (n, m)
        The first beat of a record is its own template; beat ``j < k`` uses the ``j`` beats
        before it.
    """
    w = _check_windows(windows)
    rid = np.asarray(record_ids)
    check_param("record_ids", rid.shape, rid.shape == (w.shape[0],), f"shape ({w.shape[0]},)")
    check_param("k", k, isinstance(k, int) and not isinstance(k, bool) and k >= 1, "an int >= 1")
    out = np.empty_like(w)
    starts = np.flatnonzero(np.r_[True, rid[1:] != rid[:-1]]) if rid.size else np.zeros(0, int)
    bounds = np.r_[starts, rid.size]
    for a, b in itertools.pairwise(bounds):
        block = w[a:b]
        out[a] = block[0]
        for j in range(1, b - a):
            out[a + j] = np.median(block[max(0, j - k) : j], axis=0)
    return out


def template_scale(templates: np.ndarray, fs: float) -> np.ndarray:
    """QRS peak-to-peak amplitude of each template (mV, floored at 0.05), shape ``(n, 1)``.

    Measured over ±75 ms around the window centre, which is the R-peak for windows centred
    on it (the ``window`` input puts the R-peak at sample 128 of 256).
    """
    t = _check_windows(templates)
    centre = t.shape[1] // 2
    half = max(1, round(_QRS_HALF_S * fs))
    span = t[:, max(0, centre - half) : centre + half + 1]
    return np.maximum(np.ptp(span, axis=1, keepdims=True), _SCALE_FLOOR_MV)


def context_features(rr: np.ndarray) -> np.ndarray:
    """Rhythm context ``(n, 6)`` from paper 001's nine RR features (:data:`CONTEXT_FEATURE_NAMES`).

    NaN where the RR features are undefined (the first 43 beats of a record).
    """
    f = np.asarray(rr, dtype=np.float64)
    if f.ndim != 2 or f.shape[1] != 9:
        raise InvalidSignalError(
            f"The 'rr' parameter must have shape (n, 9) (paper 001's RR features), got {f.shape}."
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.log(f[:, [3, 5, 6, 7, 8]])
    t = np.clip(f[:, 4:5], -10.0, 10.0) / 3.0
    return np.concatenate([ratios, t], axis=1)


class StreamingTemplate:
    """The running template of one stream, beat by beat (equal to :func:`running_templates`).

    Parameters
    ----------
    k : int
        Template length in beats.
    """

    def __init__(self, k: int = DEFAULT_TEMPLATE_BEATS) -> None:
        ok = isinstance(k, int) and not isinstance(k, bool) and k >= 1
        check_param("k", k, ok, "an int >= 1")
        self._k = k
        # the last k windows as columns of a (samples, k) ring: the median runs along the
        # contiguous last axis, and the order of the columns does not change a median
        self._ring: np.ndarray | None = None
        self._count = 0
        self._next = 0

    def push(self, window: np.ndarray) -> np.ndarray:
        """Template for ``window`` (from the beats before it), then remember ``window``."""
        w = _check_windows(np.asarray(window, dtype=np.float64)[None, :])[0]
        if self._ring is None or self._count == 0:
            self._ring = np.empty((w.size, self._k))
        elif self._ring.shape[0] != w.size:
            raise InvalidSignalError(
                f"The 'window' parameter must have {self._ring.shape[0]} samples like the "
                f"previous windows, got {w.size} instead."
            )
        tmpl = row_median(self._ring[:, : self._count]) if self._count else w.copy()
        self._ring[:, self._next] = w
        self._next = (self._next + 1) % self._k
        self._count = min(self._count + 1, self._k)
        return tmpl

    def reset(self) -> None:
        """Forget every beat (after a gap or a lead change)."""
        self._count = 0
        self._next = 0
