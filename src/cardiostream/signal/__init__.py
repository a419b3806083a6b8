"""Signal processing: every step offline (may be zero-phase) and streaming (causal, stateful).

=====================  ==========================  ================================================
step                   offline                     streaming (``push``/``flush``/``reset``)
=====================  ==========================  ================================================
resampling             :func:`resample`            :class:`StreamingResampler`
band-pass (SOS)        :func:`bandpass`            :class:`StreamingBandpass`
mains notch (SOS)      :func:`notch`               :class:`StreamingNotch`
baseline removal       :func:`remove_baseline`     :class:`StreamingBaseline`
wavelet denoising      :func:`wavelet_denoise`     :class:`StreamingWaveletDenoiser`
z-score                :func:`zscore`              :class:`RunningZScore`
chain                  :func:`preprocess`          :class:`Pipeline`, :func:`streaming_preprocessor`
=====================  ==========================  ================================================

A streaming step's output does not depend on chunk sizes; its output ``n`` is input time
``n - delay_samples`` (see :mod:`cardiostream.signal._base`). Each module's docstring states how
its stream relates to its offline form.
"""

from __future__ import annotations

from ._base import StreamingStep
from ._validation import FS_RANGE
from .baseline import DEFAULT_WINDOWS_S, StreamingBaseline, odd_window, remove_baseline
from .filters import (
    StreamingBandpass,
    StreamingNotch,
    bandpass,
    bandpass_sos,
    notch,
    notch_sos,
)
from .missing import fill_missing
from .normalize import RunningZScore, zscore
from .pipeline import Pipeline
from .preprocess import PreprocessConfig, preprocess, streaming_preprocessor
from .resample import ResampleRatio, StreamingResampler, resample, resample_ratio
from .wavelet import (
    DEFAULT_APPROX_HZ,
    StreamingWaveletDenoiser,
    default_block_len,
    default_level,
    wavelet_denoise,
)

__all__ = [
    "DEFAULT_APPROX_HZ",
    "DEFAULT_WINDOWS_S",
    "FS_RANGE",
    "Pipeline",
    "PreprocessConfig",
    "ResampleRatio",
    "RunningZScore",
    "StreamingBandpass",
    "StreamingBaseline",
    "StreamingNotch",
    "StreamingResampler",
    "StreamingStep",
    "StreamingWaveletDenoiser",
    "bandpass",
    "bandpass_sos",
    "default_block_len",
    "default_level",
    "fill_missing",
    "notch",
    "notch_sos",
    "odd_window",
    "preprocess",
    "remove_baseline",
    "resample",
    "resample_ratio",
    "streaming_preprocessor",
    "wavelet_denoise",
    "zscore",
]
