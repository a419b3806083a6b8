"""Label the beats of a recording with a trained beat classifier (any run, or the shipped one).

:class:`BeatClassifier` joins a model with the :class:`~cardiostream.training.Preprocessing`
it was trained with and its validation-fitted temperature (Guo et al., ICML 2017), and repeats
the training transformation on any single-lead recording at any sampling rate: the same filter
chain at the recording's own rate, windows cut around the R-peaks and resampled onto the model's
360 Hz grid, RR features from the full peak sequence. :func:`load_default_model` loads the model
shipped in the package (``cardiostream/data/models/beat_default``, with its model card).

Beats whose input is undefined (the first 9 of a recording, whose RR average needs at least 8
earlier intervals — training used 42, inference averages what it has up to 42; the last, which
has no following interval; beats too close to an edge) are labelled ``"inconclusive"`` with
NaN probabilities: never guessed, never dropped.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from .beats import preprocess_ecg, rr_features, segment_beats
from .errors import DataNotFoundError, InvalidParameterError, InvalidSignalError, check_param
from .types import INCONCLUSIVE, Beats, _frozen

__all__ = [
    "DEFAULT_MODEL_DIR",
    "INCONCLUSIVE",
    "BeatClassifier",
    "BeatPredictions",
    "load_default_model",
]

#: RR-average warm-up at inference: beats with 8–41 earlier intervals average those
#: (:func:`cardiostream.beats.rr_features`'s ``min_avg``), so only the first 9 beats wait.
RR_WARMUP = 8
#: Package-data folder of the shipped beat model (run directory layout + MODEL_CARD.md).
DEFAULT_MODEL_DIR = "beat_default"


@dataclass(frozen=True, eq=False)
class BeatPredictions:
    """Labels of the beats of one recording.

    Attributes
    ----------
    r_peaks : ndarray of int64, shape (n,)
        Beat positions (samples at ``fs``) as given to the classifier.
    fs : float
    labels : ndarray of str, shape (n,)
        Class of each beat, or ``"inconclusive"`` where the input is undefined.
    probabilities : ndarray of float64, shape (n, k)
        Calibrated class probabilities (NaN rows for inconclusive beats).
    classes : tuple of str
        Column order of ``probabilities``.
    """

    r_peaks: np.ndarray
    fs: float
    labels: np.ndarray
    probabilities: np.ndarray
    classes: tuple[str, ...]

    def __post_init__(self) -> None:
        n = np.asarray(self.r_peaks).size
        object.__setattr__(self, "r_peaks", _frozen(np.asarray(self.r_peaks, dtype=np.int64)))
        object.__setattr__(self, "labels", _frozen(np.asarray(self.labels, dtype=str)))
        p = np.asarray(self.probabilities, dtype=np.float64)
        if self.labels.shape != (n,) or p.shape != (n, len(self.classes)):
            raise InvalidSignalError(
                f"BeatPredictions arrays disagree: r_peaks ({n},), labels {self.labels.shape}, "
                f"probabilities {p.shape} for {len(self.classes)} classes."
            )
        object.__setattr__(self, "probabilities", _frozen(p))

    def __len__(self) -> int:
        return int(self.r_peaks.size)

    def counts(self) -> dict[str, int]:
        """Beats per label (every class and ``inconclusive``)."""
        return {c: int(np.sum(self.labels == c)) for c in (*self.classes, INCONCLUSIVE)}


class BeatClassifier:
    """A trained beat model with its preprocessing and calibration.

    Parameters
    ----------
    model : ECGModel or ClassicalModel
    preprocessing : Preprocessing
    temperature : float
        Logits are divided by it before the softmax (1: uncalibrated).
    name : str
        Shown in reports.
    """

    def __init__(self, model, preprocessing, temperature: float = 1.0, name: str = "") -> None:
        from .training import Preprocessing

        if not isinstance(preprocessing, Preprocessing):
            raise InvalidParameterError(
                "The 'preprocessing' parameter must be a Preprocessing, got "
                f"{type(preprocessing).__name__} instead."
            )
        ok = isinstance(temperature, int | float) and np.isfinite(temperature) and temperature > 0
        check_param("temperature", temperature, ok, "a positive number")
        self.model = model
        self.preprocessing = preprocessing
        self.temperature = float(temperature)
        self.name = name

    @property
    def classes(self) -> tuple[str, ...]:
        return self.preprocessing.classes

    @classmethod
    def from_run(cls, run_dir: str | os.PathLike[str]) -> BeatClassifier:
        """Load a run directory written by ``cardiostream train``.

        The temperature is read from ``eval/metrics.json`` or ``calibration.json`` when an
        evaluation fitted one, else 1.
        """
        from .training import load_checkpoint

        model, meta = load_checkpoint(run_dir)
        name = str(meta.model_config["name"])
        return cls(model, meta.preprocessing, _temperature(Path(run_dir)), name=name)

    def beats(self, signal: np.ndarray, fs: float, r_peaks: np.ndarray) -> tuple[Beats, np.ndarray]:
        """The :class:`Beats` the model reads and, per input peak, its row (-1 if not cut)."""
        x = np.asarray(signal, dtype=np.float64)
        if x.ndim != 1 or x.size == 0:
            raise InvalidSignalError(
                f"The 'signal' parameter must be one non-empty lead (1-D), got shape {x.shape}."
            )
        check_param("fs", fs, isinstance(fs, int | float) and np.isfinite(fs) and fs > 0,
                    "a positive sampling rate in Hz")
        peaks = np.asarray(r_peaks, dtype=np.int64)
        prep = self.preprocessing
        rr = rr_features(peaks, float(fs), min_avg=RR_WARMUP).values
        filtered = preprocess_ecg(np.nan_to_num(x), float(fs), prep.preprocess)
        w = segment_beats(filtered, float(fs), peaks, prep.window_s)
        beats = Beats(
            r_peaks=w.r_peaks,
            record_ids=np.zeros(len(w), dtype=str),
            fs=float(fs),
            windows=w.windows,
            rr_features=rr[w.kept],
            params={"preprocess": prep.preprocess, "window_s": list(prep.window_s)},
        )
        rows = np.full(peaks.size, -1, dtype=np.int64)
        rows[w.kept] = np.arange(len(w))
        return beats, rows

    def predict_inputs(self, x: np.ndarray) -> np.ndarray:
        """Calibrated probabilities ``(n, k)`` of model inputs ``(n, 1, length)``."""
        from .training import predict_logits

        xa = self.check_inputs(x)
        if xa.shape[0] == 0:
            return np.zeros((0, len(self.classes)))
        return self.calibrated(predict_logits(self.model, xa))

    def check_inputs(self, x: np.ndarray) -> np.ndarray:
        """``x`` as float32 model inputs ``(n, 1, length)``; raises on any other shape."""
        xa = np.asarray(x, dtype=np.float32)
        if xa.ndim != 3 or xa.shape[1:] != (1, self.preprocessing.length):
            raise InvalidSignalError(
                f"The 'x' parameter must have shape (n, 1, {self.preprocessing.length}), got "
                f"{xa.shape} instead."
            )
        return xa

    def calibrated(self, logits: np.ndarray) -> np.ndarray:
        """Temperature-scaled softmax ``(n, k)`` of the network's logits."""
        z = np.asarray(logits, dtype=np.float64) / self.temperature
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def classify(self, signal: np.ndarray, fs: float, r_peaks: np.ndarray) -> BeatPredictions:
        """Label every beat at ``r_peaks`` of one lead ``signal`` (mV) sampled at ``fs``."""
        beats, rows = self.beats(signal, fs, r_peaks)
        k = len(self.classes)
        probs = np.full((rows.size, k), np.nan)
        if len(beats):
            raw = self.preprocessing.raw_features(beats)
            ok = np.all(np.isfinite(raw), axis=1)
            if ok.any():
                beat_probs = np.full((len(beats), k), np.nan)
                beat_probs[ok] = self.predict_inputs(self.preprocessing.transform_features(raw[ok]))
                has = rows >= 0
                probs[has] = beat_probs[rows[has]]
        defined = np.all(np.isfinite(probs), axis=1)
        labels = np.full(rows.size, INCONCLUSIVE, dtype=object)
        if defined.any():
            labels[defined] = np.asarray(self.classes)[np.argmax(probs[defined], axis=1)]
        return BeatPredictions(
            r_peaks=np.asarray(r_peaks, dtype=np.int64),
            fs=float(fs),
            labels=labels.astype(str),
            probabilities=probs,
            classes=self.classes,
        )


def _temperature(run_dir: Path) -> float:
    for path in (run_dir / "calibration.json", run_dir / "eval" / "metrics.json"):
        if path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            cal = data.get("calibration", data)
            t = cal.get("temperature") if isinstance(cal, dict) else None
            if isinstance(t, int | float) and np.isfinite(t) and t > 0:
                return float(t)
    return 1.0


def default_model_path() -> Path:
    """Folder of the shipped beat model inside the installed package."""
    return Path(str(resources.files("cardiostream") / "data" / "models" / DEFAULT_MODEL_DIR))


def load_default_model() -> BeatClassifier:
    """The beat classifier shipped with cardiostream (see its ``MODEL_CARD.md``).

    Needs torch (``pip install cardiostream[train]``, included in ``make demo``).
    """
    path = default_model_path()
    if not (path / "run.json").is_file():
        raise DataNotFoundError(
            f"The shipped beat model must be in {path} (run.json, model.safetensors); the "
            "installation is incomplete."
        )
    return BeatClassifier.from_run(path)
