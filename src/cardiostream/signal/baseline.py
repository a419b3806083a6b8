"""Baseline-wander removal by a cascade of median filters (offline and streaming).

The baseline is ``median_600ms(median_200ms(x))`` and the output is ``x - baseline``, the method
of de Chazal, O'Dwyer & Reilly, "Automatic classification of heartbeats using ECG morphology and
heartbeat interval features", IEEE Trans. Biomed. Eng. 51(7):1196-1206, 2004, used again by
Pramukantoro et al., Sensors 25(19):6116, 2025 (../shared/papers/001: windows of 71 and 215
samples at 360 Hz). The 200 ms stage removes the QRS complex and P/T waves, the 600 ms stage
smooths what is left into the baseline. Window lengths are rounded to the nearest odd number of
samples, ties going down (72 → 71, 216 → 215 at 360 Hz; 26 → 25, 78 → 77 at 130 Hz), so every
median is one sample of the window and both forms agree bit for bit.

Offline: :func:`scipy.ndimage.median_filter` with ``mode="nearest"``, i.e. each stage repeats its
first and last input sample beyond the edges. ``scipy.signal.medfilt`` pads with zeros instead,
which drags the baseline toward 0 mV near both ends of any record with a DC offset.

Streaming: :class:`StreamingBaseline` runs the same cascade causally, each stage emitting the
median of a window as soon as the window's last sample arrives. Stream output ``n`` equals offline
output ``n - delay_samples`` exactly, for every ``n >= delay_samples`` (edges included: the stream
pads its start and, at :meth:`flush`, its end as ``mode="nearest"`` does), with
``delay_samples = sum((w - 1) // 2)``, 35 + 107 = 142 samples (394 ms) at 360 Hz.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.ndimage import median_filter

from ..errors import InvalidParameterError
from ._base import StreamingStep, preroll
from ._validation import as_signal, check_float, check_fs

#: Window lengths of de Chazal et al. 2004, in seconds.
DEFAULT_WINDOWS_S: tuple[float, float] = (0.2, 0.6)
_MAX_WINDOW_S = 10.0


def odd_window(seconds: float, fs: float) -> int:
    """Window of ``seconds`` at ``fs`` Hz as the nearest odd sample count (ties go down), >= 3."""
    n = seconds * fs
    lo = 2 * math.floor((n - 1) / 2) + 1  # largest odd <= n
    w = lo + 2 if (lo + 2 - n) < (n - lo) else lo
    return max(3, w)


def _windows(fs: float, windows_s: Sequence[float]) -> tuple[int, ...]:
    fs = check_fs(fs)
    if isinstance(windows_s, np.ndarray) and windows_s.ndim == 1:
        windows_s = windows_s.tolist()
    if isinstance(windows_s, str | bytes) or not isinstance(windows_s, Sequence) or not windows_s:
        raise InvalidParameterError(
            "The 'windows_s' parameter must be a non-empty sequence of window lengths in seconds, "
            f"got {windows_s!r} instead."
        )
    secs = [check_float("windows_s", w, 0.0, _MAX_WINDOW_S, hi_open=False) for w in windows_s]
    return tuple(odd_window(s, fs) for s in secs)


def remove_baseline(
    x: object, fs: float, windows_s: Sequence[float] = DEFAULT_WINDOWS_S
) -> np.ndarray:
    """Subtract the double-median baseline (de Chazal et al. 2004) from ``x``.

    Parameters
    ----------
    x : array_like, 1-D
        ECG samples.
    fs : float
        Sampling rate in Hz.
    windows_s : sequence of float
        Median window lengths in seconds, applied in order (each rounded to an odd sample count,
        see :func:`odd_window`).

    Returns
    -------
    ndarray
        ``x - baseline``, same length.
    """
    windows = _windows(fs, windows_s)
    x = as_signal(x)
    return x - baseline_of(x, windows)


def baseline_of(x: np.ndarray, windows: Sequence[int]) -> np.ndarray:
    """The cascaded centred median of ``x`` (edge mode ``nearest``), for odd ``windows``."""
    b = x
    for w in windows:
        b = median_filter(b, size=w, mode="nearest")
    return b


class _RunningMedian:
    """Causal median of the last ``w`` inputs, starting as if the first input had been seen
    ``(w - 1) // 2`` extra times (the left edge of ``mode="nearest"``).

    Each push runs :func:`scipy.ndimage.median_filter` over the ``w - 1`` kept inputs plus the
    chunk and keeps the centres whose whole window lies inside that buffer: those medians are the
    same sample of the same window whatever the chunking, so the stream is exact.
    """

    def __init__(self, w: int) -> None:
        self.w = w
        self.half = (w - 1) // 2
        self._buf: np.ndarray | None = None

    def push(self, x: np.ndarray) -> np.ndarray:
        if x.size == 0:
            return x
        if self._buf is None:
            self._buf = np.full(self.half, x[0])
        buf = np.concatenate((self._buf, x))
        n_win = buf.size - self.w + 1
        if n_win <= 0:
            self._buf = buf
            return np.empty(0)
        out = median_filter(buf, size=self.w, mode="nearest")[self.half : self.half + n_win]
        self._buf = buf[n_win:]
        return out

    def finish(self) -> np.ndarray:
        """Outputs for the last ``half`` inputs, repeating the last one (right ``nearest`` edge)."""
        if self._buf is None:
            return np.empty(0)
        return self.push(np.full(self.half, self._buf[-1]))


class StreamingBaseline(StreamingStep):
    """Causal double-median baseline removal; same parameters as :func:`remove_baseline`.

    Output ``n`` is ``x[n - d] - baseline[n - d]`` with ``d = delay_samples``; the first ``d``
    outputs are pre-roll zeros. Each push runs one :func:`scipy.ndimage.median_filter` call per
    stage over the chunk and the last ``w - 1`` inputs, with no per-sample Python loop.
    """

    def __init__(self, fs: float, windows_s: Sequence[float] = DEFAULT_WINDOWS_S) -> None:
        self.windows = _windows(fs, windows_s)
        self.fs = float(fs)
        self.reset()

    def __repr__(self) -> str:
        return f"StreamingBaseline(fs={self.fs:g}, windows={self.windows})"

    @property
    def delay_samples(self) -> int:
        return sum((w - 1) // 2 for w in self.windows)

    def reset(self) -> None:
        self._stages = [_RunningMedian(w) for w in self.windows]
        self._pending = np.empty(0)  # inputs whose baseline is not known yet
        self._n_in = 0
        self._n_out = 0

    def _push(self, x: np.ndarray) -> np.ndarray:
        b = x
        for stage in self._stages:
            b = stage.push(b)
        self._n_in += x.size
        return self._emit(x, b, x.size)

    def _flush(self) -> np.ndarray:
        b = np.empty(0)
        for stage in self._stages:
            b = np.concatenate((stage.push(b), stage.finish()))
        owed = self._n_in + self.delay_samples - self._n_out if self._n_in else 0
        return self._emit(np.empty(0), b, owed)

    def _emit(self, x: np.ndarray, b: np.ndarray, n_new: int) -> np.ndarray:
        """``n_new`` outputs: pre-roll zeros, then ``x - b`` for the oldest pending inputs."""
        pending = np.concatenate((self._pending, x))
        self._pending = pending[b.size :]
        n_zero = preroll(self._n_out, n_new, self.delay_samples)
        self._n_out += n_new
        return np.concatenate((np.zeros(n_zero), pending[: b.size] - b))
