"""Analyse one ECG recording: preprocessing, R-peak detection, signal quality, heart rate, HRV.

:func:`analyze_record` is the core of ``cardiostream analyze``; it returns a frozen
:class:`AnalysisResult`. :func:`load_input` and :func:`default_input` turn a path (WFDB record or
CSV) or the embedded default (MIT-BIH record 100 when present, else a synthetic ECG) into an
:class:`AnalysisInput`; :func:`write_outputs` writes the PNG strip plot and the JSON summary.

Heart-rate statistics use only *usable* RR intervals: both beats usable for the quality index
(:func:`cardiostream.quality.assess_quality`) and no unusable stretch between them. Mean HR is
``60 / mean(RR)``; min / max HR are the extremes of the instantaneous HR ``60 / RR`` after a
5-interval running median (so one premature beat does not set the maximum); SDNN is the sample
standard deviation of the RR intervals and RMSSD the root mean square of successive differences
of adjacent usable intervals (Task Force of the ESC/NASPE 1996; computed on all beats, not only
normal-to-normal ones, since beats are not classified here).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
from scipy.ndimage import median_filter

from .beats._match import MATCH_WINDOW_S, match_beats
from .beats.preprocess import DEFAULT_PREPROCESS, PREPROCESS_METHODS, preprocess_ecg
from .classify import INCONCLUSIVE, BeatClassifier, BeatPredictions
from .datasets import (
    load_csv_record,
    load_mitdb_annotations,
    load_mitdb_record,
    load_wfdb_annotations,
    load_wfdb_record,
    wfdb_record_path,
)
from .detect import DEFAULT_METHOD, detect_rpeaks
from .errors import DataNotFoundError, InvalidParameterError, check_param
from .quality import QualityReport, assess_quality
from .signal import fill_missing
from .synth import synthesize_ecg
from .types import BeatAnnotations, Record, _frozen

__all__ = [
    "AnalysisInput",
    "AnalysisResult",
    "DetectionScore",
    "HeartRateStats",
    "analyze_record",
    "default_input",
    "load_input",
    "write_outputs",
]

#: Parameters of the synthetic default recording (used when MIT-BIH is absent).
DEFAULT_SYNTH = dict(
    duration_s=300.0,
    fs=360.0,
    heart_rate=72.0,
    ectopic_rate=0.04,
    baseline_mv=0.15,
    mains_mv=0.02,
    emg_mv=0.02,
    seed=0,
)
_HR_MEDIAN_INTERVALS = 5


@dataclass(frozen=True)
class HeartRateStats:
    """Heart rate and RR variability over the usable RR intervals (module docstring)."""

    mean_bpm: float
    min_bpm: float
    max_bpm: float
    sdnn_ms: float
    rmssd_ms: float
    n_intervals: int


@dataclass(frozen=True)
class DetectionScore:
    """Detected R-peaks against reference beats, matched one-to-one within ``window_s``.

    ``se`` = TP / (TP + FN) and ``ppv`` (+P) = TP / (TP + FP), as fractions (NaN when undefined).
    """

    tp: int
    fp: int
    fn: int
    window_s: float
    reference: str

    @property
    def se(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")

    @property
    def ppv(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")


@dataclass(frozen=True, eq=False)
class AnalysisInput:
    """A recording to analyse, its reference beats when known, and where it came from."""

    record: Record
    reference: BeatAnnotations | None
    description: str
    reference_description: str = ""


@dataclass(frozen=True, eq=False)
class AnalysisResult:
    """Everything :func:`analyze_record` found.

    Attributes
    ----------
    record_id, source : str
        From the record.
    fs, duration_s : float
    lead : str
        Name of the analysed lead.
    method, preprocess : str
        Detector and preprocessing chain used.
    r_peaks : ndarray of int64
        All detected R-peaks.
    beat_usable : ndarray of bool
        Per detected peak: usable for the quality index.
    rr_s, rr_end_s : ndarray of float64
        Usable RR intervals (s) and the time (s) of the beat ending each.
    heart_rate : HeartRateStats or None
        None when fewer than two usable intervals exist.
    quality : QualityReport
    reference : DetectionScore or None
        Se / +P against reference annotations when available.
    beats : BeatPredictions or None
        Class of every detected beat from the beat classifier (beats the quality index rejects
        are ``inconclusive``), when one was given.
    classifier : str
        Name of that classifier.
    label_agreement : dict or None
        Detected beats matched to reference beats carrying AAMI labels: per-class counts of
        reference vs predicted labels and the accuracy on conclusive beats.
    """

    record_id: str
    source: str
    fs: float
    duration_s: float
    lead: str
    method: str
    preprocess: str
    r_peaks: np.ndarray
    beat_usable: np.ndarray
    rr_s: np.ndarray
    rr_end_s: np.ndarray
    heart_rate: HeartRateStats | None
    quality: QualityReport
    reference: DetectionScore | None = None
    input_description: str = ""
    params: dict = field(default_factory=dict)
    beats: BeatPredictions | None = None
    classifier: str = ""
    label_agreement: dict | None = None

    def __post_init__(self) -> None:
        for name in ("r_peaks", "beat_usable", "rr_s", "rr_end_s"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    @property
    def n_beats(self) -> int:
        return int(self.r_peaks.size)

    @property
    def fraction_unusable(self) -> float:
        return 1.0 - self.quality.fraction_usable

    def reason_fractions(self) -> dict[str, float]:
        """Fraction of the recording in segments flagged for each reason (non-zero ones)."""
        return {r.name or str(int(r)): f for r, f in self.quality.reason_fractions().items() if f}

    def to_json_dict(self) -> dict:
        """Plain JSON-ready summary (NaN as null; peaks included, segments summarised)."""
        q = self.quality
        ref = None
        if self.reference is not None:
            ref = {**asdict(self.reference), "se": self.reference.se, "ppv": self.reference.ppv}
        return _json_safe(
            {
                "input": self.input_description,
                "record_id": self.record_id,
                "source": self.source,
                "fs": self.fs,
                "duration_s": self.duration_s,
                "lead": self.lead,
                "method": self.method,
                "preprocess": self.preprocess,
                "n_beats": self.n_beats,
                "n_beats_usable": int(self.beat_usable.sum()),
                "heart_rate": None if self.heart_rate is None else asdict(self.heart_rate),
                "quality": {
                    "fraction_unusable": self.fraction_unusable,
                    "segment_s": q.params.segment_s,
                    "n_segments": int(q.segment_flags.size),
                    "n_unusable_segments": int(np.sum(~q.segment_usable)),
                    "reason_fractions": self.reason_fractions(),
                    "unusable_spans_s": (q.unusable_spans / self.fs).round(3).tolist(),
                },
                "reference": ref,
                "r_peaks": self.r_peaks.tolist(),
                "classifier": self.classifier or None,
                "beat_counts": None if self.beats is None else self.beats.counts(),
                "beat_labels": None if self.beats is None else self.beats.labels.tolist(),
                "label_agreement": self.label_agreement,
                "params": self.params,
            }
        )


def analyze_record(
    record: Record,
    *,
    lead: int | str = 0,
    method: str = DEFAULT_METHOD,
    preprocess: str = DEFAULT_PREPROCESS,
    reference: BeatAnnotations | None = None,
    reference_description: str = "reference annotations",
    input_description: str = "",
    classifier: BeatClassifier | None = None,
) -> AnalysisResult:
    """Detect beats, assess quality and summarise heart rate of one lead of ``record``.

    Parameters
    ----------
    record : Record
    lead : int or str
        Lead index or name.
    method : str
        R-peak detector (:func:`cardiostream.detect.list_detectors`).
    preprocess : str
        Chain used for the plotted signal (:func:`cardiostream.beats.preprocess.preprocess_ecg`).
        Detection and the quality index run on the raw lead (missing samples linearly
        interpolated for the detector), as they are designed and benchmarked for.
    reference : BeatAnnotations, optional
        Reference beats (MIT-BIH ``atr``); Se / +P are computed against them within 150 ms.
    classifier : BeatClassifier, optional
        Labels every detected beat (e.g. :func:`cardiostream.load_default_model`); beats in
        stretches the quality index rejects are labelled ``inconclusive``.

    Returns
    -------
    AnalysisResult
    """
    check_param("record", record, isinstance(record, Record), "a cardiostream Record")
    raw = record.lead(lead)
    check_param(
        "preprocess", preprocess, preprocess in PREPROCESS_METHODS, f"one of {PREPROCESS_METHODS}"
    )
    lead_name = lead if isinstance(lead, str) else record.leads[lead]  # validated by .lead()
    filled = fill_missing(raw)[0]
    peaks = np.asarray(detect_rpeaks(filled, record.fs, method=method), np.int64)
    quality = assess_quality(raw, record.fs, peaks)
    usable = quality.beat_usable if peaks.size else np.zeros(0, bool)
    rr_s, rr_end_s, adjacent = _usable_intervals(peaks, usable, quality, record.fs)
    labelled = None
    if classifier is not None:
        labelled = classifier.classify(filled, record.fs, peaks)
        gated = np.where(usable, labelled.labels, INCONCLUSIVE)
        labelled = replace(labelled, labels=gated)
    score = agreement = None
    if reference is not None:
        ref_idx, det_idx = match_beats(reference.samples, peaks, record.fs, MATCH_WINDOW_S)
        if labelled is not None:
            agreement = _agreement(reference.aami[ref_idx], labelled.labels[det_idx], labelled)
        tp = int(ref_idx.size)
        score = DetectionScore(
            tp=tp,
            fp=int(peaks.size - tp),
            fn=int(len(reference) - tp),
            window_s=MATCH_WINDOW_S,
            reference=reference_description,
        )
    return AnalysisResult(
        record_id=record.record_id,
        source=record.source,
        fs=record.fs,
        duration_s=record.duration_s,
        lead=lead_name,
        method=method,
        preprocess=preprocess,
        r_peaks=peaks,
        beat_usable=usable,
        rr_s=rr_s,
        rr_end_s=rr_end_s,
        heart_rate=_heart_rate(rr_s, adjacent),
        quality=quality,
        reference=score,
        input_description=input_description,
        beats=labelled,
        classifier="" if classifier is None else classifier.name,
        label_agreement=agreement,
        params={
            "lead": lead,
            "method": method,
            "preprocess": preprocess,
            "match_window_s": MATCH_WINDOW_S,
            "hr_median_intervals": _HR_MEDIAN_INTERVALS,
        },
    )


def _agreement(ref: np.ndarray, pred: np.ndarray, labelled: BeatPredictions) -> dict:
    """Reference AAMI label vs predicted label on matched beats (counts and accuracy)."""
    classes = labelled.classes
    modelled = np.isin(ref, classes)
    conclusive = modelled & (pred != INCONCLUSIVE)
    table = {
        c: {p: int(np.sum((ref == c) & (pred == p))) for p in (*classes, INCONCLUSIVE)}
        for c in np.unique(ref)
    }
    acc = float(np.mean(ref[conclusive] == pred[conclusive])) if conclusive.any() else float("nan")
    return {
        "n_matched": int(ref.size),
        "n_modelled": int(modelled.sum()),
        "n_conclusive": int(conclusive.sum()),
        "accuracy": acc,
        "reference_vs_predicted": table,
    }


def load_input(
    path: str | os.PathLike[str],
    fs: float | None = None,
) -> AnalysisInput:
    """Load a CSV (``.csv``; ``fs`` needed without a time column) or a WFDB record path.

    A WFDB record is named with or without its ``.hea`` / ``.dat`` extension; when an ``.atr``
    annotation file sits next to it, its beat annotations (AAMI-mapped) become the reference.
    ``fs`` must match a WFDB header's rate when given.
    """
    p = Path(path).expanduser()
    if p.suffix.lower() == ".csv":
        rec = load_csv_record(p, fs=fs)
        return AnalysisInput(rec, None, f"CSV file {p}")
    base = wfdb_record_path(p)
    rec = load_wfdb_record(base)
    if fs is not None and not np.isclose(fs, rec.fs):
        raise InvalidParameterError(
            f"The 'fs' parameter must match the WFDB header's {rec.fs:g} Hz for {str(base)!r} "
            f"(or be left out), got {fs!r} instead."
        )
    ref = _wfdb_annotations(base, rec.fs)
    return AnalysisInput(rec, ref, f"WFDB record {base}", f"{base.name}.atr" if ref else "")


def default_input(data_dir: str | os.PathLike[str] | None = None) -> AnalysisInput:
    """MIT-BIH record 100 from the data directory when present, otherwise a synthetic ECG."""
    try:
        rec = load_mitdb_record("100", data_dir)
        ref = load_mitdb_annotations("100", data_dir)
    except DataNotFoundError as e:
        syn = synthesize_ecg(**DEFAULT_SYNTH)
        ref = BeatAnnotations(
            samples=syn.r_peaks,
            symbols=tuple(syn.labels),
            aami=syn.labels,
            fs=syn.record.fs,
            record_id=syn.record.record_id,
        )
        p = DEFAULT_SYNTH
        desc = (
            f"synthetic ECG from cardiostream.synth ({p['duration_s']:g} s, {p['fs']:g} Hz, "
            f"{p['heart_rate']:g} bpm, {100 * p['ectopic_rate']:g} % PVCs, seed {p['seed']}), "
            f"because MIT-BIH record 100 is not available: {e}"
        )
        return AnalysisInput(syn.record, ref, desc, "synthetic ground truth")
    return AnalysisInput(rec, ref, f"MIT-BIH record 100 ({rec.source})", "MIT-BIH 100.atr")


def write_outputs(
    result: AnalysisResult, record: Record, out_dir: str | os.PathLike[str]
) -> tuple[Path, Path]:
    """Write ``<record_id>_analysis.png`` (strip plot) and ``<record_id>_analysis.json``.

    Returns
    -------
    (Path, Path)
        The PNG and JSON paths.
    """
    from .plotting import plot_analysis  # matplotlib is imported only when plotting

    out = Path(out_dir).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in result.record_id) or "record"
    png = out / f"{stem}_analysis.png"
    js = out / f"{stem}_analysis.json"
    shown = preprocess_ecg(
        fill_missing(record.lead(result.params.get("lead", 0)))[0], record.fs, result.preprocess
    )
    plot_analysis(shown, result, png)
    payload = {**result.to_json_dict(), "outputs": {"png": str(png), "json": str(js)}}
    js.write_text(json.dumps(payload, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    return png, js


def _json_safe(obj: object) -> object:
    """Replace non-finite floats by None, recursively (strict JSON has no NaN)."""
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def _usable_intervals(
    peaks: np.ndarray, usable: np.ndarray, quality: QualityReport, fs: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Usable RR intervals (s), end times (s), and whether each follows the previous one."""
    if peaks.size < 2:
        z = np.zeros(0)
        return z, z, np.zeros(0, bool)
    start, end = peaks[:-1], peaks[1:]
    ok = usable[:-1] & usable[1:]
    spans = quality.unusable_spans
    if spans.size:
        k = np.searchsorted(spans[:, 0], end, side="left") - 1
        ok &= ~((k >= 0) & (spans[np.maximum(k, 0), 1] > start))
    idx = np.flatnonzero(ok)
    adjacent = np.diff(idx) == 1  # interval idx[j+1] directly follows idx[j]
    return (end[idx] - start[idx]) / fs, end[idx] / fs, adjacent


def _heart_rate(rr_s: np.ndarray, adjacent: np.ndarray) -> HeartRateStats | None:
    if rr_s.size < 2:
        return None
    inst = 60.0 / rr_s
    smooth = median_filter(inst, size=min(_HR_MEDIAN_INTERVALS, rr_s.size), mode="nearest")
    succ = np.diff(rr_s)[adjacent]
    return HeartRateStats(
        mean_bpm=float(60.0 / rr_s.mean()),
        min_bpm=float(smooth.min()),
        max_bpm=float(smooth.max()),
        sdnn_ms=float(1000 * rr_s.std(ddof=1)),
        rmssd_ms=float(1000 * np.sqrt(np.mean(succ**2))) if succ.size else float("nan"),
        n_intervals=int(rr_s.size),
    )


def _wfdb_annotations(base: Path, fs: float) -> BeatAnnotations | None:
    """Beat annotations from ``<base>.atr`` mapped to AAMI classes, or None without that file."""
    if not base.with_name(base.name + ".atr").is_file():
        return None
    return load_wfdb_annotations(base, "atr", fs=fs)
