"""MIT-BIH beat datasets: windows, AAMI labels, RR features and record ids, cached on disk.

Two sources of R positions:

* ``"annotations"`` (training): the reference beat annotations; every annotated beat (AAMI
  N/S/V/F/Q, non-beats dropped) is a beat.
* ``"detector"`` (end-to-end evaluation): R-peaks from :func:`cardiostream.detect.detect_rpeaks` on
  the raw lead. A detection takes the AAMI label of the reference beat it matches within 150 ms
  (EC57, one-to-one, :class:`wfdb.processing.Comparitor`); unmatched detections are excluded and
  counted, unmatched reference beats are counted as misses.

RR features (paper 001 Table 1) are computed on the full sequence of positions of the record
(annotated or detected, before any exclusion, so neighbours are right). Windows are cut from the
preprocessed lead (:mod:`.preprocess`) around refined peaks; beats whose window leaves the record
are excluded and counted. Each record is cached by :func:`cardiostream.cache.cached_arrays`
under a key holding the record files' fingerprints and every parameter.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from .. import __version__
from ..cache import cached_arrays, file_fingerprint
from ..datasets import (
    MITDB_RECORDS,
    dataset_dir,
    load_mitdb_annotations,
    load_mitdb_record,
    mitdb_record_group,
)
from ..detect import DEFAULT_METHOD, detect_rpeaks
from ..errors import check_param
from ..types import AAMI_CLASSES, Beats
from ._match import MATCH_WINDOW_S, match_beats
from .preprocess import (
    DEFAULT_PREPROCESS,
    PREPROCESS_CONFIGS,
    PREPROCESS_METHODS,
    preprocess_ecg,
)
from .rr import N_AVG_BEATS, rr_features
from .segment import DEFAULT_REFINE_S, segment_beats, window_samples

__all__ = ["BeatDataset", "RecordBeatSummary", "build_mitdb_beats", "build_mitdb_dataset"]

_SOURCES = ("annotations", "detector")
_CACHE_NAMESPACE = "mitdb_beats"
#: Bump when the arrays this module stores change meaning.
_CACHE_VERSION = 2  # 2: inclusive 150 ms match window


@dataclass(frozen=True)
class RecordBeatSummary:
    """What happened to the beats of one record.

    Attributes
    ----------
    record_id : str
    n_reference : int
        Reference beats (AAMI-mapped annotations).
    n_positions : int
        R positions used: annotations, or detections for the detector source.
    n_kept : int
        Beats in the dataset.
    n_dropped_edge : int
        Labelled beats excluded because their window leaves the record.
    n_unmatched_detections : int
        Detections with no reference beat within the match window (excluded); 0 for annotations.
    n_missed : int
        Reference beats no detection matched; 0 for annotations.
    kept_counts, dropped_counts : dict of str to int
        Kept and edge-dropped beats per AAMI class (all classes as keys).
    """

    record_id: str
    n_reference: int
    n_positions: int
    n_kept: int
    n_dropped_edge: int
    n_unmatched_detections: int
    n_missed: int
    kept_counts: dict[str, int]
    dropped_counts: dict[str, int]


@dataclass(frozen=True, eq=False)
class BeatDataset:
    """The beats of several records and what was excluded.

    Attributes
    ----------
    beats : Beats
        Windows, refined R-peaks, record ids, AAMI labels and the (n, 9) RR features (NaN where
        undefined: the first 43 beats of a record, and the last for offline features).
    rr_valid : ndarray of bool
        Rows whose nine RR features are all defined.
    summaries : tuple of RecordBeatSummary
        One per record, in order.
    """

    beats: Beats
    rr_valid: np.ndarray
    summaries: tuple[RecordBeatSummary, ...]

    def counts(self) -> dict[str, int]:
        """Kept beats per AAMI class."""
        labels = self.beats.labels if self.beats.labels is not None else np.zeros(0, "<U1")
        return {c: int(np.sum(labels == c)) for c in AAMI_CLASSES}


def build_mitdb_beats(
    records: Sequence[str | int] | str,
    source: str = "annotations",
    lead: int | str = 0,
    window_s: tuple[float, float] = (0.25, 0.25),
    preprocess: str = DEFAULT_PREPROCESS,
    detector_method: str = DEFAULT_METHOD,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    causal_rr: bool = False,
    refine_s: float = DEFAULT_REFINE_S,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Beats:
    """Build the MIT-BIH beats of ``records``; see :func:`build_mitdb_dataset` (same parameters)."""
    return build_mitdb_dataset(
        records,
        source,
        lead,
        window_s,
        preprocess,
        detector_method,
        data_dir,
        causal_rr=causal_rr,
        refine_s=refine_s,
        cache_dir=cache_dir,
    ).beats


def build_mitdb_dataset(
    records: Sequence[str | int] | str,
    source: str = "annotations",
    lead: int | str = 0,
    window_s: tuple[float, float] = (0.25, 0.25),
    preprocess: str = DEFAULT_PREPROCESS,
    detector_method: str = DEFAULT_METHOD,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    causal_rr: bool = False,
    refine_s: float = DEFAULT_REFINE_S,
    cache_dir: str | os.PathLike[str] | None = None,
) -> BeatDataset:
    """Build a labelled MIT-BIH beat dataset (module docstring), one cache entry per record.

    Parameters
    ----------
    records : sequence of record ids, or a group name
        E.g. ``["100", 101]`` or ``"ds1"`` / ``"ds2"`` / ``"all"`` (see
        :func:`cardiostream.datasets.mitdb_record_group`).
    source : {"annotations", "detector"}
        Where R positions come from.
    lead : int or str
        Lead index or name (channel 0 is MLII in every record but 114).
    window_s : (float, float)
        Seconds before and after the R-peak (paper 001: 0.25, 0.25, i.e. 181 samples at 360 Hz).
    preprocess : str
        A chain of :data:`~cardiostream.beats.preprocess.PREPROCESS_METHODS`.
    detector_method : str
        Detector for ``source="detector"`` (ignored otherwise).
    data_dir : path, optional
        Data root.
    causal_rr : bool
        Store the causal RR features instead of the offline ones.
    refine_s : float
        R-peak refinement half-width (paper 001 eq. 4: 20 samples at 360 Hz).
    cache_dir : path, optional
        Cache root (default ``$CARDIOSTREAM_CACHE`` or ``~/.cache/cardiostream``).

    Returns
    -------
    BeatDataset
        ``beats.params`` records every parameter.
    """
    ids = _record_ids(records)
    check_param("source", source, source in _SOURCES, f"one of {_SOURCES}")
    check_param(
        "preprocess", preprocess, preprocess in PREPROCESS_METHODS, f"one of {PREPROCESS_METHODS}"
    )
    ok_lead = isinstance(lead, int | str) and not isinstance(lead, bool)
    check_param("lead", lead, ok_lead, "a lead index (int) or name (str)")
    window_samples(360.0, window_s)  # validates the (before, after) pair
    params = {
        "source": source,
        "lead": lead,
        "window_s": [float(w) for w in window_s],
        "refine_s": float(refine_s),
        "polarity": "abs",
        "preprocess": preprocess,
        "detector_method": detector_method if source == "detector" else None,
        "match_window_s": MATCH_WINDOW_S if source == "detector" else None,
        "causal_rr": bool(causal_rr),
        "n_avg": N_AVG_BEATS,
    }
    parts = [_record_arrays(rid, params, data_dir, cache_dir) for rid in ids]
    fs = float(parts[0]["fs"])
    cat = {k: np.concatenate([p[k] for p in parts]) for k in ("windows", "r_peaks", "labels", "rr")}
    record_ids = np.concatenate(
        [np.full(p["r_peaks"].size, rid) for rid, p in zip(ids, parts, strict=True)]
    )
    beats = Beats(
        r_peaks=cat["r_peaks"],
        record_ids=record_ids,
        fs=fs,
        windows=cat["windows"],
        labels=cat["labels"],
        rr_features=cat["rr"],
        params={**params, "records": list(ids), "fs": fs},
    )
    return BeatDataset(
        beats=beats,
        rr_valid=np.all(np.isfinite(cat["rr"]), axis=1),
        summaries=tuple(_summary(rid, p) for rid, p in zip(ids, parts, strict=True)),
    )


def _record_ids(records: Sequence[str | int] | str) -> tuple[str, ...]:
    if isinstance(records, str):
        if records.lower() in ("all", "ds1", "ds2", "paced"):
            return mitdb_record_group(records)
        records = [records]
    ids = tuple(str(r).strip() for r in records)
    unknown = [r for r in ids if r not in MITDB_RECORDS]
    expected = "a non-empty list of MIT-BIH record ids or a group name ('all', 'ds1', 'ds2')"
    check_param("records", records, bool(ids) and not unknown, expected)
    return ids


def _fingerprints(rid: str, data_dir: str | os.PathLike[str] | None) -> list[dict]:
    folder = dataset_dir("mitdb", data_dir)
    files = [folder / f"{rid}.{ext}" for ext in ("hea", "dat", "atr")]
    return [file_fingerprint(f) for f in files if f.is_file()]


def _record_arrays(
    rid: str,
    params: dict,
    data_dir: str | os.PathLike[str] | None,
    cache_dir: str | os.PathLike[str] | None,
) -> dict[str, np.ndarray]:
    key = {
        "version": _CACHE_VERSION,
        "cardiostream": __version__,
        "record": rid,
        "files": _fingerprints(rid, data_dir),
        "preprocess_config": _config_key(params["preprocess"]),
        **params,
    }
    return cached_arrays(
        _CACHE_NAMESPACE, key, lambda: _compute_record(rid, params, data_dir), cache_dir=cache_dir
    )


def _config_key(name: str) -> dict | None:
    config = PREPROCESS_CONFIGS[name]
    return None if config is None else asdict(config)


def _compute_record(
    rid: str, params: dict, data_dir: str | os.PathLike[str] | None
) -> dict[str, np.ndarray]:
    record = load_mitdb_record(rid, data_dir)
    ann = load_mitdb_annotations(rid, data_dir)
    fs = record.fs
    raw = record.lead(params["lead"])
    if params["source"] == "annotations":
        positions = ann.samples  # strictly increasing in all 48 records (checked by rr_features)
        labelled = np.arange(positions.size)
        labels_of = ann.aami
        n_unmatched = n_missed = 0
    else:
        positions = np.asarray(detect_rpeaks(raw, fs, method=params["detector_method"]), np.int64)
        ref_idx, det_idx = match_beats(ann.samples, positions, fs, params["match_window_s"])
        order = np.argsort(det_idx, kind="stable")
        labelled = det_idx[order]
        labels_of = ann.aami[ref_idx[order]]
        n_unmatched = positions.size - det_idx.size
        n_missed = ann.samples.size - ref_idx.size
    rr = rr_features(positions, fs, causal=params["causal_rr"]).values
    x = preprocess_ecg(raw, fs, params["preprocess"])
    window_s = (params["window_s"][0], params["window_s"][1])
    w = segment_beats(x, fs, positions[labelled], window_s, params["refine_s"], params["polarity"])
    dropped_labels = labels_of[w.dropped]
    return {
        "fs": np.float64(fs),
        "windows": w.windows.astype(np.float32),
        "r_peaks": w.r_peaks,
        "labels": labels_of[w.kept].astype("<U1"),
        "rr": rr[labelled[w.kept]],
        "dropped_labels": dropped_labels.astype("<U1"),
        "n_reference": np.int64(ann.samples.size),
        "n_positions": np.int64(positions.size),
        "n_unmatched": np.int64(n_unmatched),
        "n_missed": np.int64(n_missed),
    }


def _summary(rid: str, p: dict[str, np.ndarray]) -> RecordBeatSummary:
    def counts(labels: np.ndarray) -> dict[str, int]:
        return {c: int(np.sum(labels == c)) for c in AAMI_CLASSES}

    return RecordBeatSummary(
        record_id=rid,
        n_reference=int(p["n_reference"]),
        n_positions=int(p["n_positions"]),
        n_kept=int(p["r_peaks"].size),
        n_dropped_edge=int(p["dropped_labels"].size),
        n_unmatched_detections=int(p["n_unmatched"]),
        n_missed=int(p["n_missed"]),
        kept_counts=counts(p["labels"]),
        dropped_counts=counts(p["dropped_labels"]),
    )
