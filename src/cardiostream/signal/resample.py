"""Polyphase resampling between any two rates (offline and streaming).

The rate ratio ``fs_out / fs_in`` is approximated by a fraction ``up / down`` whose denominator is
at most ``max_denominator`` (:func:`resample_ratio`): 130 → 360 Hz is exactly 36/13, 360 → 130 Hz
13/36, 500 → 100 Hz 1/5, and 130.16 → 360 Hz becomes 2752/995 (actual output rate
360.00032 Hz, 0.9 ppm off) with the default limit of 1000.

Offline: :func:`scipy.signal.resample_poly` with its default anti-aliasing filter (Kaiser window,
beta 5, ``20 * max(up, down) + 1`` taps, cut-off at the lower Nyquist rate) and zero padding.

Streaming: :class:`StreamingResampler` runs the same taps as a causal polyphase FIR. Output
``delay_samples + m`` of the stream equals output ``m`` of ``resample_poly`` up to float rounding
(the sums run in another order; tested to 1e-12 relative), and the first ``delay_samples`` outputs
are pre-roll zeros (the stream assumes silence before its first sample, as ``resample_poly``'s
zero padding does).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scipy.signal import firwin, resample_poly

from ..errors import InvalidParameterError
from ._base import StreamingStep, preroll
from ._validation import as_signal, check_fs, check_int

_KAISER = ("kaiser", 5.0)  # resample_poly's default window
_BLOCK = 8192  # outputs computed per vectorised step


@dataclass(frozen=True)
class ResampleRatio:
    """A rational resampling ratio ``up / down`` chosen for ``fs_in → fs_out``.

    Attributes
    ----------
    up, down : int
        Coprime up- and down-sampling factors.
    fs_in : float
        Input rate in Hz.
    fs_out_requested : float
        The rate asked for.
    """

    up: int
    down: int
    fs_in: float
    fs_out_requested: float

    @property
    def fs_out(self) -> float:
        """The rate actually produced: ``fs_in * up / down``."""
        return self.fs_in * self.up / self.down

    @property
    def relative_error(self) -> float:
        """``(fs_out - fs_out_requested) / fs_out_requested``."""
        return (self.fs_out - self.fs_out_requested) / self.fs_out_requested


def resample_ratio(fs_in: float, fs_out: float, max_denominator: int = 1000) -> ResampleRatio:
    """Closest fraction ``up / down`` to ``fs_out / fs_in`` with ``down <= max_denominator``.

    Uses :meth:`fractions.Fraction.limit_denominator` on the exact ratio of the two floats.
    """
    fs_in = check_fs(fs_in, "fs_in")
    fs_out = check_fs(fs_out, "fs_out")
    max_denominator = check_int("max_denominator", max_denominator, 1, 100_000)
    ratio = (Fraction(fs_out) / Fraction(fs_in)).limit_denominator(max_denominator)
    if ratio.numerator == 0:
        raise InvalidParameterError(
            f"The 'max_denominator' parameter must be large enough to express {fs_in:g} → "
            f"{fs_out:g} Hz, got {max_denominator} instead."
        )
    return ResampleRatio(ratio.numerator, ratio.denominator, fs_in, fs_out)


def resample(x: object, fs_in: float, fs_out: float, *, max_denominator: int = 1000) -> np.ndarray:
    """Resample ``x`` from ``fs_in`` to (approximately) ``fs_out`` with a polyphase FIR.

    Parameters
    ----------
    x : array_like, 1-D
        Input samples.
    fs_in, fs_out : float
        Input and requested output rates in Hz.
    max_denominator : int
        Largest ``down`` factor of the rational approximation (see :func:`resample_ratio`,
        whose ``fs_out`` is the rate actually produced).

    Returns
    -------
    ndarray
        ``ceil(len(x) * up / down)`` samples; sample ``m`` is at time ``m / ratio.fs_out``.
        Zero-phase (output sample times coincide with input times).
    """
    x = as_signal(x)
    r = resample_ratio(fs_in, fs_out, max_denominator)
    return resample_poly(x, r.up, r.down)


@dataclass(frozen=True)
class _PolyphaseDesign:
    bank: np.ndarray  # (n_taps, up): bank[i, p] = h_full[p + i * up]
    delay: int  # output samples the causal FIR lags resample_poly


def _design(up: int, down: int) -> _PolyphaseDesign:
    """The taps of ``resample_poly(x, up, down)`` laid out as a causal polyphase bank."""
    max_rate = max(up, down)
    half_len = 10 * max_rate
    h = firwin(2 * half_len + 1, 1.0 / max_rate, window=_KAISER) * up
    n_pre_pad = down - half_len % down  # resample_poly's alignment padding
    h_full = np.concatenate((np.zeros(n_pre_pad), h))
    n_taps = -(-h_full.size // up)
    h_full = np.concatenate((h_full, np.zeros(n_taps * up - h_full.size)))
    bank = h_full.reshape(n_taps, up)
    return _PolyphaseDesign(bank, (half_len + n_pre_pad) // down)


class StreamingResampler(StreamingStep):
    """Causal polyphase resampler with the taps of :func:`resample`.

    Parameters
    ----------
    fs_in, fs_out : float
        Input and requested output rates in Hz.
    max_denominator : int
        As for :func:`resample`; ``ratio`` holds the chosen ``up / down``.

    Notes
    -----
    After ``n`` input samples the stream has produced ``ceil(n * up / down)`` outputs: output
    ``m`` is the FIR evaluated at upsampled position ``m * down``, which needs inputs up to
    ``floor(m * down / up)`` only. ``delay_samples`` is ``(10 * max(up, down) + pad) // down``
    (28 samples = 78 ms for 130 → 360 Hz). Every output is summed tap by tap in a fixed order,
    so chunking never changes a bit.
    """

    def __init__(self, fs_in: float, fs_out: float, *, max_denominator: int = 1000) -> None:
        self.ratio = resample_ratio(fs_in, fs_out, max_denominator)
        self._identity = self.ratio.up == self.ratio.down == 1
        self._design = (
            _PolyphaseDesign(np.ones((1, 1)), 0)
            if self._identity
            else _design(self.ratio.up, self.ratio.down)
        )
        self.reset()

    def __repr__(self) -> str:
        r = self.ratio
        return (
            f"StreamingResampler(fs_in={r.fs_in:g}, fs_out={r.fs_out_requested:g}, "
            f"up={r.up}, down={r.down})"
        )

    @property
    def delay_samples(self) -> int:
        return self._design.delay

    @property
    def rate_ratio(self) -> Fraction:
        return Fraction(self.ratio.up, self.ratio.down)

    def reset(self) -> None:
        n_taps = self._design.bank.shape[0]
        self._hist = np.zeros(n_taps - 1)  # last inputs, zeros before the stream
        self._n_in = 0
        self._n_out = 0

    def _push(self, x: np.ndarray) -> np.ndarray:
        if self._identity:
            return x.copy()
        return self._advance(x, -(-(self._n_in + x.size) * self.ratio.up // self.ratio.down))

    def _flush(self) -> np.ndarray:
        if self._identity or self._n_in == 0:
            return np.empty(0)
        up, down = self.ratio.up, self.ratio.down
        target = -(-self._n_in * up // down) + self.delay_samples
        n_zeros = max(0, -(-target * down // up) - self._n_in)
        return self._advance(np.zeros(n_zeros), target)

    def _advance(self, x: np.ndarray, n_out_end: int) -> np.ndarray:
        """Append ``x`` and compute outputs ``self._n_out .. n_out_end - 1``."""
        up, down = self.ratio.up, self.ratio.down
        bank = self._design.bank
        n_taps = bank.shape[0]
        buf = np.concatenate((self._hist, x))
        buf_start = self._n_in - (n_taps - 1)  # absolute index of buf[0]
        back = np.arange(n_taps)[:, None]
        y = np.empty(n_out_end - self._n_out)
        for lo in range(0, y.size, _BLOCK):  # bounded memory on large pushes
            pos = np.arange(self._n_out + lo, min(self._n_out + lo + _BLOCK, n_out_end)) * down
            taps = bank[:, pos % up]  # (n_taps, n): the phase of each output
            samples = buf[pos // up - buf_start - back]  # samples[i] = x[floor(pos / up) - i]
            # Sum over taps in a fixed sequential order (accumulate never reassociates), so an
            # output is bit-for-bit the same whatever chunk computes it.
            y[lo : lo + pos.size] = np.add.accumulate(taps * samples, axis=0)[-1]
        y[: preroll(self._n_out, y.size, self.delay_samples)] = 0.0
        self._hist = buf[buf.size - (n_taps - 1) :]
        self._n_in += x.size
        self._n_out = n_out_end
        return y
