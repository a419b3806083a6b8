"""Wavelet denoising with the VisuShrink universal threshold (offline and streaming).

Donoho & Johnstone, "Ideal spatial adaptation by wavelet shrinkage", Biometrika 81(3):425-455,
1994: decompose with a DWT (PyWavelets, ``symmetric`` extension), estimate the noise level from
the finest detail band as ``sigma = median(|d1|) / 0.6745``, soft-threshold every detail band at
``sigma * sqrt(2 ln N)`` (``N`` = samples transformed) and reconstruct; the approximation band is
kept. Pramukantoro et al. 2025 (../shared/papers/001) use db8 with 10 levels at 360 Hz.

Default depth (:func:`default_level`): the deepest level whose approximation band
``0 .. fs / 2**(level + 1)`` still reaches 10 Hz, so P and T waves and the bulk of the QRS are
never thresholded: 4 at 360 Hz (band below 11.25 Hz), 2 at 130 Hz (16.25 Hz). Soft thresholding
shrinks every detail coefficient, including those of the coarse bands that hold the ECG, and the
MAD of ``d1`` sees little of muscle noise at 360 Hz, so deeper is not better. Measured with
``python benchmarks/wavelet_level.py`` (benchmarks/results/wavelet_level.md): MIT-BIH 100, 103,
115, channel 0, first 5 min, plus nstdb ``ma`` (channels 0 and 1) at 6 and 12 dB nst SNR, both
through the default double-median baseline removal first; SNR improvement of this step in dB,
offline, 6 / 12 dB input (the default is level 4 at 360 Hz, level 2 at 130 Hz):

======  =============  =============  =============  =============  =============
fs      level 2        level 3        level 4        level 6        level 8
======  =============  =============  =============  =============  =============
360 Hz  +0.22 / +0.23  +0.59 / +0.62  +0.76 / +0.79  +0.81 / +0.83  +0.85 / +0.85
130 Hz  +3.46 / +2.77  +3.90 / +2.73  +3.58 / +2.16  +3.62 / +1.89  +3.76 / +1.97
======  =============  =============  =============  =============  =============

On ``ma`` the depth matters little (the rule is within 0.1 dB of the best level at 360 Hz and
within 0.45 dB at 130 Hz); seeded white noise at the same SNRs separates the choices: at 360 Hz
+6.17 / +3.57 dB at level 4 against +4.59 / +1.03 at level 8, at 130 Hz +2.34 / +0.19 at level 2
against +1.34 / -1.39 at level 3 and -3.27 dB at level 8. PyWavelets' maximum level (12 for 5
minutes at 360 Hz) scores like level 8, the 1-2 Hz approximation band (level 7 at 360 Hz) like
level 6-8. The rule never lowered the SNR on average in any measured condition (one of the
three records: -0.39 dB, white noise at 12 dB, 130 Hz).

Offline: :func:`wavelet_denoise` transforms the whole signal (``N = len(x)``; ``level=None``
needs ``fs`` and is lowered to PyWavelets' maximum for signals too short for the default).

Streaming: :class:`StreamingWaveletDenoiser` applies the same rule to fixed blocks at absolute
positions ``k * hop - g .. k * hop - g + block_len`` (``N = block_len``), so the result does not
depend on how the stream is chunked. Each block's
output is used only away from its edges, where the DWT's boundary extension distorts it: its first
``g = (block_len - hop - crossfade) // 2`` samples are dropped (the guard), then the block fades
in over ``crossfade`` samples (raised cosine), is used alone for ``hop - crossfade`` samples and
fades out while the next block fades in; the two weights sum to one, and block ``k`` starts to
count at sample ``k * hop``. The first block counts from sample 0 at full weight. Blocks reaching
before the start or past the end of the signal see it mirrored about that edge (the
``symmetric`` rule); those past the end are computed at
:meth:`~StreamingWaveletDenoiser.flush`. Stream output ``n`` is sample ``n - delay_samples``
of that crossfade, with ``delay_samples = block_len - g - 1`` (the wait for the last block that
covers a sample); it differs from the whole-signal offline result because ``sigma`` and ``N``
are per block.

Default geometry (:func:`default_block_len`): hop ``block_len // 4``, crossfade
``block_len // 8`` and the smallest power-of-two block whose guard (5/16 of it) covers the
deepest wavelet's support, ``15 * (2**level - 1) + 1`` samples for db8. At 360 Hz (level 4) that
is 1024 samples (2.8 s), latency 703 samples (1.95 s); at 130 Hz (level 2) 256 samples, latency
175 (1.35 s). On MIT-BIH record 100 (first 5 min) the stream is within 0.0020 mV RMS of the
whole-signal result at 360 Hz, which removes 0.0119 mV RMS (130 Hz: 0.0043 of 0.0190 mV);
blocks of 512 give 0.0024 mV with 351 samples of latency, 2048 give 0.0016 mV with 1407. In the
noise study above the stream denoises as well as the offline form (360 Hz: +0.71 / +0.72 dB on
``ma``; 130 Hz: +4.17 / +3.32).
"""

from __future__ import annotations

import math

import numpy as np
import pywt

from ..errors import InvalidParameterError, InvalidSignalError, UnknownMethodError
from ._base import StreamingStep, preroll
from ._validation import as_signal, check_fs, check_int

_MAD_TO_SIGMA = 0.6745  # median(|N(0, 1)|)
#: The default depth keeps the approximation band (never thresholded) at least this wide, in Hz.
DEFAULT_APPROX_HZ = 10.0
_MAX_BLOCK = 1 << 20
_MAX_STREAM_LEVEL = 12  # deepest level a derived block length is offered for (2**18 samples)


def default_level(fs: float) -> int:
    """Default VisuShrink depth at ``fs`` Hz: the deepest level (>= 1) whose approximation band
    ``0 .. fs / 2**(level + 1)`` still reaches :data:`DEFAULT_APPROX_HZ` (10 Hz).

    4 at 360 Hz (band below 11.25 Hz), 2 at 130 Hz (16.25 Hz), 3 at 250 Hz, 5 at 1000 Hz. The
    choice and its measurement are in the module docstring.
    """
    fs = check_fs(fs)
    level = 1
    while fs / 2 ** (level + 2) >= DEFAULT_APPROX_HZ:
        level += 1
    return level


def default_block_len(level: int, wavelet: str = "db8") -> int:
    """Default streaming block length for ``level``: the smallest power of two (>= 64) whose
    guard, ``5/16`` of the block with the default hop and crossfade, covers the support of the
    level's wavelet, ``(dec_len - 1) * (2**level - 1) + 1`` samples (226 for db8 at level 4)."""
    w = _wavelet(wavelet)
    level = check_int("level", level, 1, _MAX_STREAM_LEVEL)
    support = (w.dec_len - 1) * (2**level - 1) + 1
    block = 64
    while (block - block // 4 - block // 8) // 2 < support:
        block *= 2
    return block


def _wavelet(name: object) -> pywt.Wavelet:
    names = pywt.wavelist(kind="discrete")
    if not isinstance(name, str) or name not in names:
        raise UnknownMethodError(
            f"The 'wavelet' parameter must be a discrete wavelet known to PyWavelets (families "
            f"{', '.join(pywt.families(short=True)[:7])}; e.g. 'db8', 'sym4'), got {name!r} "
            "instead."
        )
    return pywt.Wavelet(name)


def _max_level(n: int, wavelet: pywt.Wavelet, what: str) -> int:
    max_level = pywt.dwt_max_level(n, wavelet.dec_len)
    if max_level < 1:
        raise InvalidSignalError(
            f"The {what} must have at least {2 * (wavelet.dec_len - 1)} samples for a "
            f"{wavelet.name} transform, got {n} instead."
        )
    return max_level


def _requested_level(level: object, fs: object) -> int:
    """``level`` checked (>= 1), or :func:`default_level` of ``fs`` (one of them is needed)."""
    if level is not None:
        return check_int("level", level, 1)
    if fs is None:
        raise InvalidParameterError(
            "The 'fs' parameter must be given when 'level' is None (the default depth is "
            "chosen in Hz, see default_level), got None instead."
        )
    return default_level(fs)  # type: ignore[arg-type]


def _denoise(x: np.ndarray, wavelet: pywt.Wavelet, level: int) -> np.ndarray:
    """VisuShrink soft thresholding of all detail bands of ``x``."""
    if not x.flags.writeable:  # PyWavelets 1.8's DWT rejects read-only buffers (Record arrays)
        x = x.copy()
    coeffs = pywt.wavedec(x, wavelet, mode="symmetric", level=level)
    sigma = np.median(np.abs(coeffs[-1])) / _MAD_TO_SIGMA
    thr = sigma * math.sqrt(2.0 * math.log(x.size))
    if thr > 0:  # thr == 0 (noise-free finest band) leaves the coefficients unchanged
        coeffs[1:] = [pywt.threshold(c, thr, mode="soft") for c in coeffs[1:]]
    return pywt.waverec(coeffs, wavelet, mode="symmetric")[: x.size]


def wavelet_denoise(
    x: object, wavelet: str = "db8", level: int | None = None, *, fs: float | None = None
) -> np.ndarray:
    """Denoise ``x`` by VisuShrink soft thresholding (Donoho & Johnstone 1994).

    Parameters
    ----------
    x : array_like, 1-D
        Signal.
    wavelet : str
        Discrete PyWavelets wavelet name.
    level : int, optional
        Decomposition depth, at most PyWavelets' maximum for ``len(x)``. ``None`` takes
        :func:`default_level` of ``fs`` (lowered to that maximum for short signals).
    fs : float, optional
        Sampling rate in Hz; required when ``level`` is None.

    Returns
    -------
    ndarray
        Denoised signal, same length.
    """
    w = _wavelet(wavelet)
    x = as_signal(x)
    max_level = _max_level(x.size, w, "'x' signal")
    want = _requested_level(level, fs)
    if level is None:
        return _denoise(x, w, min(want, max_level))
    return _denoise(x, w, check_int("level", level, 1, max_level))


def crossfade_weights(block_len: int, hop: int, crossfade: int, first: bool) -> np.ndarray:
    """Weight of each sample of a block in the streaming overlap-add (zero in the guards)."""
    g = (block_len - hop - crossfade) // 2
    ramp = np.sin(0.5 * np.pi * (np.arange(crossfade) + 0.5) / crossfade) ** 2
    w = np.zeros(block_len)
    w[g : g + crossfade] = ramp
    w[g + crossfade : g + hop] = 1.0
    w[g + hop : g + hop + crossfade] = 1.0 - ramp
    if first:
        w[: g + crossfade] = 1.0
    return w


class StreamingWaveletDenoiser(StreamingStep):
    """Block-wise VisuShrink denoising with crossfaded overlapping blocks.

    Parameters
    ----------
    wavelet, level, fs : as for :func:`wavelet_denoise` (``fs`` is needed only without
        ``level``).
    block_len : int, optional
        Samples per block (>= 64, enough for ``level``); default :func:`default_block_len`.
    hop : int, optional
        Distance between block starts (default ``block_len // 4``).
    crossfade : int, optional
        Length of the raised-cosine fade between consecutive blocks (default ``block_len // 8``),
        ``1 <= crossfade <= hop`` and ``hop + crossfade <= block_len``.
    """

    def __init__(
        self,
        wavelet: str = "db8",
        level: int | None = None,
        *,
        fs: float | None = None,
        block_len: int | None = None,
        hop: int | None = None,
        crossfade: int | None = None,
    ) -> None:
        self.wavelet = _wavelet(wavelet)
        want = _requested_level(level, fs)
        if block_len is None:
            block_len = default_block_len(
                check_int("level", want, 1, _MAX_STREAM_LEVEL), self.wavelet.name
            )
        self.block_len = check_int("block_len", block_len, 64, _MAX_BLOCK)
        hop = self.block_len // 4 if hop is None else hop
        self.hop = check_int("hop", hop, 1, self.block_len - 1)
        crossfade = self.block_len // 8 if crossfade is None else crossfade
        self.crossfade = check_int(
            "crossfade", crossfade, 1, min(self.hop, self.block_len - self.hop)
        )
        max_level = _max_level(self.block_len, self.wavelet, "'block_len' block")
        self.level = check_int("level", want, 1, max_level)
        self._guard = (self.block_len - self.hop - self.crossfade) // 2
        self._w = crossfade_weights(self.block_len, self.hop, self.crossfade, first=False)
        self._w_first = crossfade_weights(self.block_len, self.hop, self.crossfade, first=True)
        self.reset()

    def __repr__(self) -> str:
        return (
            f"StreamingWaveletDenoiser(wavelet={self.wavelet.name!r}, level={self.level}, "
            f"block_len={self.block_len}, hop={self.hop}, crossfade={self.crossfade})"
        )

    @property
    def delay_samples(self) -> int:
        return self.block_len - self._guard - 1

    def reset(self) -> None:
        self._x = np.empty(0)  # inputs from absolute index self._x_start on
        self._x_start = 0
        self._n_in = 0
        self._next_block = 0
        self._acc = np.zeros(self.block_len)  # overlap-add from absolute index self._final
        self._final = 0  # outputs before this index are complete
        self._ready = np.empty(0)  # complete outputs not yet emitted
        self._n_out = 0

    def _block_start(self, k: int) -> int:
        """Absolute index of block ``k``'s first sample (negative for the first blocks)."""
        return k * self.hop - self._guard

    def _push(self, x: np.ndarray) -> np.ndarray:
        self._x = np.concatenate((self._x, x))
        self._n_in += x.size
        while self._block_start(self._next_block) + self.block_len <= self._n_in:
            start = self._block_start(self._next_block)
            if start >= 0:
                block = self._x[start - self._x_start : start - self._x_start + self.block_len]
            else:  # mirror the start of the signal (x_start is still 0 here)
                block = np.pad(self._x[: start + self.block_len], (-start, 0), mode="symmetric")
            self._add_block(block)
        return self._emit(x.size)

    def _flush(self) -> np.ndarray:
        if self._n_in == 0:
            return np.empty(0)
        n = self._n_in
        # Mirror the signal about its end (and its start while that is still kept).
        left = self._guard if self._x_start == 0 else 0
        ext = np.pad(self._x, (left, self.block_len), mode="symmetric")
        ext_start = self._x_start - left
        while self._next_block == 0 or self._next_block * self.hop < n:
            i = self._block_start(self._next_block) - ext_start
            self._add_block(ext[i : i + self.block_len])
        return self._emit(n + self.delay_samples - self._n_out)

    def _add_block(self, block: np.ndarray) -> None:
        k = self._next_block
        w = self._w_first if k == 0 else self._w
        y = _denoise(block, self.wavelet, self.level)
        g = self._guard  # block sample g is output k * hop, where the accumulator starts
        self._acc[: self.block_len - g] += w[g:] * y[g:]
        self._next_block += 1
        self._release(self._next_block * self.hop)
        # Keep what later blocks (or the end mirror at flush) need.
        keep_from = min(self._block_start(self._next_block), self._n_in - self.block_len)
        if keep_from > self._x_start:
            self._x = self._x[keep_from - self._x_start :]
            self._x_start = keep_from

    def _release(self, upto: int) -> None:
        """Move outputs before absolute index ``upto`` from the accumulator to the ready queue."""
        n = upto - self._final
        if n <= 0:
            return
        self._ready = np.concatenate((self._ready, self._acc[:n]))
        self._acc = np.concatenate((self._acc[n:], np.zeros(n)))
        self._final = upto

    def _emit(self, n_new: int) -> np.ndarray:
        n_zero = preroll(self._n_out, n_new, self.delay_samples)
        n_val = n_new - n_zero
        if n_val > self._ready.size:  # the latency argument in the module docstring failed
            raise RuntimeError("StreamingWaveletDenoiser ran out of finished samples")
        out = np.concatenate((np.zeros(n_zero), self._ready[:n_val]))
        self._ready = self._ready[n_val:]
        self._n_out += n_new
        return out
