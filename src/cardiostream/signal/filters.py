"""Butterworth band-pass and IIR notch filters in second-order sections (offline and streaming).

Both steps share one SOS design per parameter set. Offline forms run it forward and backward
(:func:`scipy.signal.sosfiltfilt`, odd padding): zero phase, magnitude ``|H(f)|**2`` (so the
band-pass edges sit at -6 dB and the roll-off doubles). Streaming forms run it once, causally
(:func:`scipy.signal.sosfilt` with the section states carried between chunks): magnitude
``|H(f)|`` and the filter's frequency-dependent phase, no structural delay (``delay_samples`` is
0). The stream starts in the steady state of a constant input equal to its first sample
(``sosfilt_zi * x[0]``), so a DC offset causes no start-up transient; its output equals
``sosfilt(sos, x, zi=sosfilt_zi(sos) * x[0])`` exactly.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, iirnotch, sosfilt_zi, sosfiltfilt, tf2sos

from ..errors import InvalidParameterError, InvalidSignalError
from ._base import StreamingStep
from ._sosfilt import sosfilt_1d
from ._validation import as_signal, check_float, check_fs, check_int


def bandpass_sos(fs: float, low: float, high: float, order: int = 4) -> np.ndarray:
    """Butterworth band-pass design (``scipy.signal.butter(order, (low, high), "bandpass")``).

    Parameters
    ----------
    fs : float
        Sampling rate in Hz.
    low, high : float
        -3 dB edges in Hz, ``0 < low < high < fs / 2``.
    order : int
        Butterworth order of the low-pass prototype (1–10); the band-pass has ``2 * order`` poles
        in ``order`` sections.

    Returns
    -------
    ndarray, shape (order, 6)
        Second-order sections.
    """
    fs = check_fs(fs)
    nyq = fs / 2
    low = check_float("low", low, 0.0, nyq)
    high = check_float("high", high, 0.0, nyq)
    if not low < high:
        raise InvalidParameterError(
            f"The 'low' parameter must be below 'high' ({high:g} Hz), got {low:g} Hz instead."
        )
    order = check_int("order", order, 1, 10)
    return butter(order, (low, high), btype="bandpass", output="sos", fs=fs)


def notch_sos(fs: float, freq: float = 50.0, q: float = 30.0) -> np.ndarray:
    """Second-order IIR notch (``scipy.signal.iirnotch``) as one section.

    ``freq`` (Hz, ``0 < freq < fs / 2``) is the mains frequency, 50 or 60 Hz; ``q`` the quality
    factor, so the -3 dB width is ``freq / q`` (1.7 Hz for the defaults).
    """
    fs = check_fs(fs)
    freq = check_float("freq", freq, 0.0, fs / 2)
    q = check_float("q", q, 0.0, 1000.0, hi_open=False)
    b, a = iirnotch(freq, q, fs=fs)
    return tf2sos(b, a)


def _filtfilt(sos: np.ndarray, x: object) -> np.ndarray:
    x = as_signal(x)
    # sosfiltfilt's default odd padding needs more samples than its pad length.
    n_min = 3 * (2 * sos.shape[0] + 1) + 1
    if x.size < n_min:
        raise InvalidSignalError(
            f"The 'x' signal must have at least {n_min} samples for this {sos.shape[0]}-section "
            f"zero-phase filter, got {x.size} instead."
        )
    return sosfiltfilt(sos, x)


def bandpass(x: object, fs: float, low: float, high: float, order: int = 4) -> np.ndarray:
    """Zero-phase Butterworth band-pass (forward-backward SOS filtering).

    Parameters are those of :func:`bandpass_sos`; ``x`` is a 1-D signal. Returns an array of the
    same length.
    """
    return _filtfilt(bandpass_sos(fs, low, high, order), x)


def notch(x: object, fs: float, freq: float = 50.0, q: float = 30.0) -> np.ndarray:
    """Zero-phase mains notch at ``freq`` Hz (see :func:`notch_sos`)."""
    return _filtfilt(notch_sos(fs, freq, q), x)


class _StreamingSOS(StreamingStep):
    """Causal SOS filter whose section states are carried from chunk to chunk."""

    def __init__(self, sos: np.ndarray) -> None:
        self.sos = sos
        self._zi_unit = sosfilt_zi(sos)
        self.reset()

    @property
    def delay_samples(self) -> int:
        return 0

    def reset(self) -> None:
        self._zi: np.ndarray | None = None

    def _push(self, x: np.ndarray) -> np.ndarray:
        zi = self._zi_unit * x[0] if self._zi is None else self._zi
        y, self._zi = sosfilt_1d(self.sos, x, zi)
        return y

    def _flush(self) -> np.ndarray:
        return np.empty(0)


class StreamingBandpass(_StreamingSOS):
    """Causal form of :func:`bandpass` (same design, one forward pass)."""

    def __init__(self, fs: float, low: float, high: float, order: int = 4) -> None:
        super().__init__(bandpass_sos(fs, low, high, order))
        self.fs, self.low, self.high, self.order = float(fs), float(low), float(high), int(order)

    def __repr__(self) -> str:
        return (
            f"StreamingBandpass(fs={self.fs:g}, low={self.low:g}, high={self.high:g}, "
            f"order={self.order})"
        )


class StreamingNotch(_StreamingSOS):
    """Causal form of :func:`notch` (same design, one forward pass)."""

    def __init__(self, fs: float, freq: float = 50.0, q: float = 30.0) -> None:
        super().__init__(notch_sos(fs, freq, q))
        self.fs, self.freq, self.q = float(fs), float(freq), float(q)

    def __repr__(self) -> str:
        return f"StreamingNotch(fs={self.fs:g}, freq={self.freq:g}, q={self.q:g})"
