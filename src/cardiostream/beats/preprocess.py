"""Named preprocessing chains applied to a lead before beats are cut (offline, zero-phase).

Each name stands for a :class:`cardiostream.signal.PreprocessConfig` (no resampling, no z-score,
so windows stay in mV at the record's rate; normalise in the model instead):

* ``"baseline_bandpass"`` (default, ``PreprocessConfig()``): baseline-wander removal by the double
  median filter (200 ms then 600 ms; 71 and 215 samples at 360 Hz, as in paper 001 section 4 and
  de Chazal et al. 2004), then a 0.5-40 Hz order-4 Butterworth band-pass. The band-pass removes
  mains interference (50 and 60 Hz) and most EMG at every sampling rate, and the chain has an
  exact causal twin (:func:`cardiostream.signal.streaming_preprocessor`) for the service.
* ``"causal"``: the default chain's causal twin (:func:`cardiostream.signal.streaming_preprocessor`)
  run once over the lead and shifted back by its structural delay (142 samples at 360 Hz), so
  sample ``n`` lines up with input sample ``n``. A live stream fed in any chunking produces these
  very samples (the medians are exact, the band-pass is the same causal recursion), so a model
  trained on this chain labels a stream exactly as it labels the recording offline. The band-pass
  phase differs from the zero-phase default; the last ``delay`` samples are the flushed tail.
* ``"paper"``: paper 001's denoising without its z-score: the double median filter, then wavelet
  denoising (db8, VisuShrink universal threshold, soft thresholding, maximum depth).
* ``"baseline"``: the double median filter only.
* ``"none"``: the raw lead.
"""

from __future__ import annotations

import numpy as np

from ..errors import UnknownMethodError
from ..signal import PreprocessConfig, preprocess, streaming_preprocessor

__all__ = [
    "DEFAULT_PREPROCESS",
    "PREPROCESS_CONFIGS",
    "PREPROCESS_METHODS",
    "causal_preprocess",
    "preprocess_ecg",
]

#: Name → chain.
PREPROCESS_CONFIGS: dict[str, PreprocessConfig | None] = {
    "baseline_bandpass": PreprocessConfig(),
    "causal": PreprocessConfig(),
    "paper": PreprocessConfig(bandpass_hz=None, wavelet="db8"),
    "baseline": PreprocessConfig(bandpass_hz=None),
    "none": None,
}
PREPROCESS_METHODS: tuple[str, ...] = tuple(PREPROCESS_CONFIGS)
DEFAULT_PREPROCESS = "baseline_bandpass"


def preprocess_ecg(x: np.ndarray, fs: float, method: str = DEFAULT_PREPROCESS) -> np.ndarray:
    """Apply the named preprocessing chain (module docstring) to one lead.

    Parameters
    ----------
    x : ndarray, shape (n,)
        One ECG lead in mV, finite.
    fs : float
        Sampling rate in Hz.
    method : str
        One of :data:`PREPROCESS_METHODS`.

    Returns
    -------
    ndarray, shape (n,), float64
    """
    if method not in PREPROCESS_CONFIGS:
        raise UnknownMethodError(
            f"The 'method' parameter must be one of {PREPROCESS_METHODS}, got {method!r} instead."
        )
    config = PREPROCESS_CONFIGS[method]
    if config is None:
        return np.array(x, dtype=np.float64)
    if method == "causal":
        return causal_preprocess(x, fs, config)
    return preprocess(x, fs, config)


def causal_preprocess(x: np.ndarray, fs: float, config: PreprocessConfig) -> np.ndarray:
    """The causal twin of ``config`` over all of ``x``, aligned to ``x``'s sample indices."""
    pipe = streaming_preprocessor(fs, config)
    y = np.concatenate([pipe.push(np.asarray(x, dtype=np.float64)), pipe.flush()])
    d = pipe.delay_samples
    if not isinstance(d, int):  # only with a resampling step, which named chains do not have
        raise UnknownMethodError("The causal chain must have an integer delay.")
    return y[d : d + np.asarray(x).size]
