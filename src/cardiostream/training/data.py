"""From :class:`~cardiostream.types.Beats` to model inputs: ``(n, 1, length)`` float32 arrays.

Input kinds (all single-lead, one channel):

* ``rr``: the nine RR features of paper 001 (Table 1), standardised with the mean and standard
  deviation of the training beats (beats whose RR features are undefined, the first 43 of each
  record, are unusable, as paper 001 drops them).
* ``morph``: paper 001's 181-sample morphology vector, 0.25 s each side of the refined R-peak on
  the 360 Hz grid (:func:`cardiostream.beats.morphology_features`).
* ``wavelet``: the db4 level-3 DWT approximation of that vector, 28 coefficients
  (:func:`cardiostream.beats.wavelet_features`).
* ``window``: paper 002's 256-sample single-lead window at 360 Hz. The slides give only the
  length; we centre it on the refined R-peak with 128 samples (0.356 s) before and 127
  (0.353 s) after, i.e. ``WINDOW_S = (128/360, 127/360)``.
* ``window_rr``: that window followed by the nine RR features, 265 values. The RR part is always
  standardised with training statistics (``rr_mean``, ``rr_std``); ``normalize`` applies to the
  window part. Morphology plus patient-normalised RR intervals is what lets inter-patient
  classifiers find supraventricular beats (de Chazal et al., IEEE TBME 51(7), 2004).
* ``beat_ctx``: the beat in its patient's context (:mod:`cardiostream.beats.context`): the
  window divided by the QRS amplitude of the patient's running template, the window minus that
  template (same scale), then the six rhythm-context features, 518 values. The templates use
  the beats before each beat in the :class:`Beats` given (causal), so transform a whole record,
  never a shuffled subset. The context part is standardised like ``window_rr``'s RR part.

Signal inputs are resampled onto the 360 Hz grid when the beats come at another rate, so a
model trained on MIT-BIH consumes a 130 Hz chest strap the same way. Everything needed to
repeat the transformation at inference (kind, grid, window, lead, preprocessing chain, classes,
normalisation statistics) is the frozen :class:`Preprocessing`, saved in every checkpoint.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..beats import (
    CONTEXT_FEATURE_NAMES,
    DEFAULT_PREPROCESS,
    DEFAULT_WAVELET,
    DEFAULT_WAVELET_LEVEL,
    MORPHOLOGY_FS,
    RR_FEATURE_NAMES,
    BeatDataset,
    build_mitdb_dataset,
    context_features,
    morphology_features,
    running_templates,
    template_scale,
    wavelet_features,
    window_samples,
)
from ..errors import InvalidParameterError, InvalidSignalError, check_param
from ..types import Beats, _frozen
from .config import CLASS_SETS, INPUTS, NORMALIZATIONS, TrainConfig

__all__ = [
    "INPUT_FS",
    "MORPH_WINDOW_S",
    "WINDOW_S",
    "Preprocessing",
    "TensorSet",
    "encode_labels",
    "fit_preprocessing",
    "input_window_s",
    "load_mitdb_beats",
    "subset_beats",
]

#: Grid of every signal input (MIT-BIH's native rate, papers 001 and 002).
INPUT_FS = MORPHOLOGY_FS
#: Paper 001: 90 + 1 + 90 samples at 360 Hz.
MORPH_WINDOW_S: tuple[float, float] = (0.25, 0.25)
#: Paper 002: 256 samples at 360 Hz, 128 before and 127 after the R-peak (our centring).
WINDOW_S: tuple[float, float] = (128 / 360, 127 / 360)
_STD_FLOOR = 1e-8
_N_RR = len(RR_FEATURE_NAMES)
_N_CTX = len(CONTEXT_FEATURE_NAMES)
#: Kinds that end in a standardised rhythm part, and its length.
_TAIL = {"window_rr": _N_RR, "beat_ctx": _N_CTX}


def input_window_s(kind: str) -> tuple[float, float]:
    """Seconds cut before and after the R-peak for input ``kind``."""
    check_param("input_kind", kind, kind in INPUTS, f"one of {list(INPUTS)}")
    return WINDOW_S if kind in ("window", "window_rr", "beat_ctx") else MORPH_WINDOW_S


def encode_labels(labels: np.ndarray, classes: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Indices of ``labels`` in ``classes`` and the mask of beats whose label is among them.

    Returns
    -------
    keep : ndarray of bool, shape (n,)
        False for beats of other classes (e.g. F and Q for the N/S/V task).
    codes : ndarray of int64, shape (n,)
        Class index (-1 where ``keep`` is False).
    """
    lab = np.asarray(labels).astype(str)
    codes = np.full(lab.shape, -1, dtype=np.int64)
    for i, c in enumerate(classes):
        codes[lab == c] = i
    return codes >= 0, codes


@dataclass(frozen=True)
class Preprocessing:
    """How beats become model inputs; enough to repeat it at inference on any device.

    Attributes
    ----------
    input_kind : str
        One of :data:`~cardiostream.training.config.INPUTS`.
    classes : tuple of str
        Output classes in index order.
    fs : float
        Grid of the signal inputs (360 Hz); the sampling rate of the training beats.
    window_s : (float, float)
        Seconds before and after the R-peak of the beat windows.
    lead : int
        Lead index the beats were cut from.
    preprocess : str
        Filter chain applied before segmentation (:func:`cardiostream.beats.preprocess_ecg`).
    normalize : {"none", "feature", "beat"}
        Resolved normalisation.
    mean, std : tuple of float or None
        Per-position training statistics for ``normalize="feature"`` (of the signal part for
        ``window_rr`` and ``beat_ctx``).
    rr_mean, rr_std : tuple of float or None
        Training statistics of the rhythm part: the nine RR features of ``window_rr``, the six
        context features of ``beat_ctx`` (required to transform).
    wavelet, wavelet_level : str, int
        DWT of the ``wavelet`` input.
    causal_rr : bool
        Whether RR features are the causal variant.
    """

    input_kind: str
    classes: tuple[str, ...]
    fs: float = INPUT_FS
    window_s: tuple[float, float] = MORPH_WINDOW_S
    lead: int = 0
    preprocess: str = DEFAULT_PREPROCESS
    normalize: str = "none"
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    wavelet: str = DEFAULT_WAVELET
    wavelet_level: int = DEFAULT_WAVELET_LEVEL
    causal_rr: bool = False
    rr_mean: tuple[float, ...] | None = None
    rr_std: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        check_param("input_kind", self.input_kind, self.input_kind in INPUTS, f"one of {INPUTS}")
        norms = tuple(n for n in NORMALIZATIONS if n != "auto")
        check_param("normalize", self.normalize, self.normalize in norms, f"one of {norms}")
        object.__setattr__(self, "classes", tuple(str(c) for c in self.classes))
        object.__setattr__(self, "window_s", tuple(float(w) for w in self.window_s))
        for name in ("mean", "std", "rr_mean", "rr_std"):
            v = getattr(self, name)
            if v is not None:
                object.__setattr__(self, name, tuple(float(x) for x in v))
        n = self._signal_length
        if self.normalize == "feature":
            ok = self.mean is not None and self.std is not None and len(self.mean) == n
            ok = ok and len(self.std) == n and min(self.std) > 0  # type: ignore[arg-type]
            check_param("mean/std", (self.mean, self.std), ok, f"{n} values each (std > 0)")
        if self.rr_mean is not None or self.rr_std is not None:
            t = _TAIL.get(self.input_kind, 0)
            ok = t > 0 and self.rr_mean is not None
            ok = ok and self.rr_std is not None and len(self.rr_mean) == t  # type: ignore[arg-type]
            ok = ok and len(self.rr_std) == t and min(self.rr_std) > 0  # type: ignore[arg-type]
            check_param(
                "rr_mean/rr_std",
                (self.rr_mean, self.rr_std),
                ok,
                f"None, or {_TAIL} values each for those inputs (std > 0)",
            )

    @property
    def length(self) -> int:
        """Input length (features, samples or coefficients; window then RR for ``window_rr``)."""
        return self._signal_length + _TAIL.get(self.input_kind, 0)

    @property
    def _signal_length(self) -> int:
        """Length of the part ``normalize`` applies to (all but the rhythm part)."""
        if self.input_kind == "rr":
            return _N_RR
        before, after = window_samples(self.fs, self.window_s)
        n = before + 1 + after
        if self.input_kind == "beat_ctx":
            return 2 * n
        if self.input_kind == "wavelet":
            return int(
                wavelet_features(np.zeros((1, n)), self.wavelet, self.wavelet_level).shape[1]
            )
        return n

    def raw_features(self, beats: Beats) -> np.ndarray:
        """Un-normalised inputs ``(n, length)`` float64 (NaN rows where undefined)."""
        if not isinstance(beats, Beats):
            raise InvalidParameterError(
                f"The 'beats' parameter must be a Beats, got {type(beats).__name__} instead."
            )
        if self.input_kind in ("rr", "window_rr", "beat_ctx"):
            if beats.rr_features is None:
                raise InvalidSignalError(
                    f"The 'beats' parameter must carry rr_features for the {self.input_kind!r} "
                    "input, got None."
                )
            rr = np.asarray(beats.rr_features, dtype=np.float64)
            if self.input_kind == "rr":
                return rr
        before, after = window_samples(beats.fs, self.window_s)
        if beats.windows.shape[1] != before + 1 + after:
            raise InvalidSignalError(
                f"The 'beats' windows must span {self.window_s} s around the R-peak "
                f"({before + 1 + after} samples at {beats.fs:g} Hz) for the "
                f"{self.input_kind!r} input, got {beats.windows.shape[1]} samples instead."
            )
        x = morphology_features(beats.windows, beats.fs, self.window_s, target_fs=self.fs)
        if self.input_kind == "wavelet":
            x = wavelet_features(x, self.wavelet, self.wavelet_level)
        if self.input_kind == "window_rr":
            x = np.concatenate([x, rr], axis=1)
        elif self.input_kind == "beat_ctx":
            tmpl = running_templates(x, np.asarray(beats.record_ids))
            scale = template_scale(tmpl, self.fs)
            x = np.concatenate([x / scale, (x - tmpl) / scale, context_features(rr)], axis=1)
        return x

    def usable(self, beats: Beats) -> np.ndarray:
        """Bool per beat: its raw input is defined (RR features need 43 previous beats)."""
        return np.all(np.isfinite(self.raw_features(beats)), axis=1)

    def transform_features(self, raw: np.ndarray) -> np.ndarray:
        """Normalise raw features ``(n, length)`` into model inputs ``(n, 1, length)`` float32."""
        x = np.asarray(raw, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.length:
            raise InvalidSignalError(
                f"The 'raw' parameter must have shape (n, {self.length}), got {x.shape} instead."
            )
        if self.input_kind in _TAIL:
            if self.rr_mean is None or self.rr_std is None:
                raise InvalidParameterError(
                    "The 'rr_mean/rr_std' parameter must hold the training statistics of the "
                    f"rhythm features to transform the {self.input_kind!r} input, got None "
                    "instead (use fit_preprocessing)."
                )
            n = self._signal_length
            rr = (x[:, n:] - np.asarray(self.rr_mean)) / np.asarray(self.rr_std)
            if self.input_kind == "beat_ctx":
                signal = x[:, :n].astype(np.float32)[:, None, :]
            else:
                head = replace(self, input_kind="window", rr_mean=None, rr_std=None)
                signal = head.transform_features(x[:, :n])
            return np.concatenate([signal, rr.astype(np.float32)[:, None, :]], axis=2)
        if self.normalize == "feature":
            x = (x - np.asarray(self.mean)) / np.asarray(self.std)
        elif self.normalize == "beat":
            mu = x.mean(axis=1, keepdims=True)
            sd = np.maximum(x.std(axis=1, keepdims=True), _STD_FLOOR)
            x = (x - mu) / sd
        return x.astype(np.float32)[:, None, :]

    def transform(self, beats: Beats) -> np.ndarray:
        """Model inputs ``(n, 1, length)`` float32 of every beat (NaN rows where unusable)."""
        return self.transform_features(self.raw_features(beats))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types; :meth:`from_dict` inverts it."""
        return {
            "input_kind": self.input_kind,
            "classes": list(self.classes),
            "fs": self.fs,
            "window_s": list(self.window_s),
            "lead": self.lead,
            "preprocess": self.preprocess,
            "normalize": self.normalize,
            "mean": None if self.mean is None else list(self.mean),
            "std": None if self.std is None else list(self.std),
            "wavelet": self.wavelet,
            "wavelet_level": self.wavelet_level,
            "causal_rr": self.causal_rr,
            "rr_mean": None if self.rr_mean is None else list(self.rr_mean),
            "rr_std": None if self.rr_std is None else list(self.rr_std),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Preprocessing:
        d = dict(data)
        for name in ("classes", "window_s", "mean", "std", "rr_mean", "rr_std"):
            if d.get(name) is not None:
                d[name] = tuple(d[name])
        return cls(**d)


def fit_preprocessing(config: TrainConfig, train_beats: Beats) -> Preprocessing:
    """The :class:`Preprocessing` of ``config``, with statistics from the training beats.

    ``train_beats`` must hold only training beats (never validation or test ones) that are
    usable for the input; normalisation statistics are their per-position mean and population
    standard deviation (floored at 1e-8).
    """
    prep = Preprocessing(
        input_kind=config.input_kind,
        classes=CLASS_SETS[config.classes],
        fs=INPUT_FS,
        window_s=input_window_s(config.input_kind),
        lead=config.lead,
        preprocess=config.preprocess,
        normalize="none",
        causal_rr=bool(train_beats.params.get("causal_rr", False)),
    )
    norm = config.resolved_normalize
    if config.input_kind == "beat_ctx":
        if train_beats.rr_features is None:
            raise InvalidSignalError(
                "The 'train_beats' parameter must carry rr_features for the 'beat_ctx' input."
            )
        ctx = context_features(train_beats.rr_features)
        if ctx.shape[0] == 0 or not np.all(np.isfinite(ctx)):
            raise InvalidSignalError(
                "The 'train_beats' parameter must hold at least one beat with finite RR "
                f"features to fit the normalisation, got {ctx.shape[0]} beats (some not) instead."
            )
        std = np.maximum(ctx.std(axis=0), _STD_FLOOR)
        return replace(prep, rr_mean=tuple(ctx.mean(axis=0)), rr_std=tuple(std))
    if norm != "feature" and config.input_kind != "window_rr":
        return replace(prep, normalize=norm)
    raw = prep.raw_features(train_beats)
    if raw.shape[0] == 0 or not np.all(np.isfinite(raw)):
        raise InvalidSignalError(
            "The 'train_beats' parameter must hold at least one beat with finite inputs to fit "
            f"the normalisation, got {raw.shape[0]} beats (some non-finite) instead."
        )
    mean = raw.mean(axis=0)
    std = np.maximum(raw.std(axis=0), _STD_FLOOR)
    n = prep._signal_length
    if config.input_kind == "window_rr":
        prep = replace(prep, rr_mean=tuple(mean[n:]), rr_std=tuple(std[n:]))
    if norm != "feature":
        return replace(prep, normalize=norm)
    return replace(prep, normalize="feature", mean=tuple(mean[:n]), std=tuple(std[:n]))


@dataclass(frozen=True, eq=False)
class TensorSet:
    """Model inputs with their labels and provenance.

    Attributes
    ----------
    x : ndarray of float32, shape (n, 1, length)
    y : ndarray of int64, shape (n,)
        Class indices into :attr:`Preprocessing.classes`.
    record_ids : ndarray of str, shape (n,)
    rows : ndarray of int64, shape (n,)
        Index of each example in the :class:`Beats` it came from.
    """

    x: np.ndarray
    y: np.ndarray
    record_ids: np.ndarray
    rows: np.ndarray

    def __post_init__(self) -> None:
        for name in ("x", "y", "record_ids", "rows"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        n = self.y.shape[0]
        if self.x.shape[0] != n or self.record_ids.shape != (n,) or self.rows.shape != (n,):
            raise InvalidSignalError(
                f"TensorSet arrays disagree: x {self.x.shape}, y {self.y.shape}, record_ids "
                f"{self.record_ids.shape}, rows {self.rows.shape}."
            )

    def __len__(self) -> int:
        return int(self.y.shape[0])

    @classmethod
    def from_beats(cls, beats: Beats, prep: Preprocessing, rows: np.ndarray) -> TensorSet:
        """Inputs of ``beats[rows]``; every row must be usable and labelled with a known class."""
        rows = np.asarray(rows, dtype=np.int64)
        if beats.labels is None:
            raise InvalidSignalError("The 'beats' parameter must carry labels, got None.")
        keep, codes = encode_labels(beats.labels[rows], prep.classes)
        raw = prep.raw_features(beats)[rows]
        ok = keep.all() and np.all(np.isfinite(raw))
        check_param("rows", "selection", bool(ok), "usable beats of the configured classes")
        return cls(
            x=prep.transform_features(raw),
            y=codes,
            record_ids=np.asarray(beats.record_ids)[rows],
            rows=rows,
        )


def subset_beats(beats: Beats, rows: np.ndarray) -> Beats:
    """The beats at positions ``rows`` (same fs and params)."""
    rows = np.asarray(rows, dtype=np.int64)
    return Beats(
        r_peaks=beats.r_peaks[rows],
        record_ids=beats.record_ids[rows],
        fs=beats.fs,
        windows=beats.windows[rows],
        labels=None if beats.labels is None else beats.labels[rows],
        rr_features=None if beats.rr_features is None else beats.rr_features[rows],
        params=dict(beats.params),
    )


def load_mitdb_beats(
    config: TrainConfig,
    records: Sequence[str],
    *,
    source: str = "annotations",
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> BeatDataset:
    """The MIT-BIH beats of ``records`` cut for ``config``'s input (lead, window, filters)."""
    return build_mitdb_dataset(
        list(records),
        source=source,
        lead=config.lead,
        window_s=input_window_s(config.input_kind),
        preprocess=config.preprocess,
        data_dir=data_dir,
        cache_dir=cache_dir,
    )
