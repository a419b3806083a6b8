"""Public entry points: :func:`detect_rpeaks` (offline) and :class:`StreamingDetector`."""

from __future__ import annotations

import gc
import math

import numpy as np

from ..errors import CardiostreamError, InvalidSignalError, check_param
from ._registry import create_core
from ._stream import StreamEngine

#: Default detection method (the look-ahead detector of :mod:`cardiostream.detect.lookahead`).
DEFAULT_METHOD = "cardiostream"
#: Supported sampling rates in Hz, inclusive.
FS_RANGE = (100.0, 1000.0)
#: Signals (or whole streams) shorter than this hold no detectable beat; no peaks are returned.
MIN_DURATION_S = 0.5


def _check_fs(fs: object) -> float:
    ok = isinstance(fs, int | float | np.integer | np.floating) and not isinstance(fs, bool)
    ok = ok and math.isfinite(float(fs)) and FS_RANGE[0] <= float(fs) <= FS_RANGE[1]  # type: ignore[arg-type]
    check_param(
        "fs", fs, ok, f"a sampling rate in Hz from {FS_RANGE[0]:g} to {FS_RANGE[1]:g}"
    )
    return float(fs)  # type: ignore[arg-type]


def _as_signal(x: object, name: str, offset: int = 0) -> np.ndarray:
    """A 1-D finite float64 view/copy of ``x``; errors name the parameter and the bad sample."""
    a = np.asarray(x)
    if a.ndim != 1:
        raise InvalidSignalError(
            f"The {name!r} parameter must be a 1-D array of samples, got an array of shape "
            f"{a.shape} instead."
        )
    if a.dtype.kind not in "iuf":
        raise InvalidSignalError(
            f"The {name!r} parameter must hold real numbers, got dtype {a.dtype} instead."
        )
    a = a.astype(np.float64, copy=False)
    bad = ~np.isfinite(a)
    if bad.any():
        i = int(np.argmax(bad))
        raise InvalidSignalError(
            f"The {name!r} parameter must be finite, got {float(a[i])!r} at sample index "
            f"{i + offset} instead (interpolate over missing samples or split the signal there)."
        )
    return a


class StreamingDetector:
    """Causal R-peak detector fed chunk by chunk; exactly equal to :func:`detect_rpeaks`.

    Parameters
    ----------
    fs : float
        Sampling rate in Hz, 100 to 1000.
    method : str
        A name from :func:`list_detectors`.

    Notes
    -----
    ``push`` returns the absolute sample indices (counted from the first sample pushed) of the
    R-peaks confirmed by that chunk, refined on the ECG, i.e. the true sample times of the
    input; ``flush`` returns those still pending at the end. Concatenated they equal
    ``detect_rpeaks(whole_signal, fs, method)`` whatever the chunk sizes. A peak at sample ``k``
    is reported at the latest by the push that brings the stream to ``k + ceil(delay_s * fs)``
    samples. Typical delays are much shorter than ``delay_s``, which includes the start-up
    learning phase and beats recovered by search-back.

    Examples
    --------
    >>> import numpy as np
    >>> from cardiostream.detect import StreamingDetector
    >>> det = StreamingDetector(fs=130.0)
    >>> x = np.zeros(1300)
    >>> peaks = [det.push(x[i : i + 73]) for i in range(0, x.size, 73)]
    >>> np.concatenate([*peaks, det.flush()]).size
    0
    """

    def __init__(self, fs: float, method: str = DEFAULT_METHOD) -> None:
        self.fs = _check_fs(fs)
        self._engine = StreamEngine(create_core(method, self.fs))
        self.method = method
        self._min_n = math.ceil(MIN_DURATION_S * self.fs)
        self._held: list[np.ndarray] = []
        self._closed = False

    @property
    def delay_s(self) -> float:
        """Worst-case seconds between an R-peak's sample and the push that reports it."""
        return max(self._engine.core.delay_s, MIN_DURATION_S)

    @property
    def n_samples(self) -> int:
        """Samples pushed so far."""
        return self._engine.n_samples

    def push(self, chunk: np.ndarray) -> np.ndarray:
        """Feed the next samples; return the R-peaks (absolute indices) confirmed by them."""
        if self._closed:
            raise CardiostreamError(
                "This StreamingDetector was flushed; create a new one for a new stream."
            )
        x = _as_signal(chunk, "chunk", offset=self._engine.n_samples)
        return self._release(self._engine.push(x))

    def flush(self) -> np.ndarray:
        """End the stream and return the R-peaks still pending (empty when called again)."""
        if self._closed:
            return np.zeros(0, dtype=np.int64)
        self._closed = True
        peaks = self._engine.flush()
        if self._engine.n_samples < self._min_n:
            return np.zeros(0, dtype=np.int64)
        return self._release(peaks)

    def _release(self, peaks: np.ndarray) -> np.ndarray:
        # Nothing is reported before MIN_DURATION_S of signal, so a too-short stream is empty,
        # exactly like a too-short offline signal.
        if self._engine.n_samples < self._min_n and not self._closed:
            if peaks.size:
                self._held.append(peaks)
            return np.zeros(0, dtype=np.int64)
        if self._held:
            peaks = np.concatenate([*self._held, peaks])
            self._held = []
        return peaks.astype(np.int64, copy=False)


def detect_rpeaks(signal: np.ndarray, fs: float, method: str = DEFAULT_METHOD) -> np.ndarray:
    """Detect R-peaks in a single-lead ECG.

    Parameters
    ----------
    signal : array_like, shape (n,)
        ECG samples (any unit; mV by convention). Must be finite.
    fs : float
        Sampling rate in Hz, 100 to 1000.
    method : str
        A name from :func:`list_detectors`: ``"cardiostream"`` (default; Pan–Tompkins with
        look-ahead decisions, :mod:`cardiostream.detect.lookahead`) or ``"pan_tompkins"``
        (Pan & Tompkins 1985, :mod:`cardiostream.detect.pan_tompkins`).

    Returns
    -------
    ndarray of int64
        Increasing sample indices of the R-peaks, refined on the ECG. Empty for signals shorter
        than 0.5 s. Identical to the concatenated output of :class:`StreamingDetector`.

    Raises
    ------
    InvalidSignalError
        ``signal`` is not 1-D, not real, or holds NaN/inf (the message names the first index).
    InvalidParameterError
        ``fs`` is outside 100–1000 Hz.
    UnknownMethodError
        ``method`` is not registered (the message lists the valid names).
    """
    fs = _check_fs(fs)
    x = _as_signal(signal, "signal")
    det = StreamingDetector(fs, method)
    if x.size < det._min_n:
        return np.zeros(0, dtype=np.int64)
    # The per-candidate decisions allocate thousands of small, acyclic tuples; the cyclic garbage
    # collector's passes over them cost ~30 % of a 30-minute record's run time and free nothing.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        peaks = np.concatenate([det.push(x), det.flush()])
    finally:
        if was_enabled:
            gc.enable()
    return peaks.astype(np.int64, copy=False)
