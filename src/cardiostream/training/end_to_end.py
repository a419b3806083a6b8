"""End-to-end protocol (c): every reference beat counts, classified or not.

Beats come from cardiostream's own detector (:func:`cardiostream.beats.build_mitdb_dataset` with
``source="detector"``); a detection takes the class of the reference beat it matches within
150 ms (ANSI/AAMI EC57, one-to-one). The classification report covers the matched, classified
beats. Here each reference beat that was not classified (no matching detection, a window past
the record's ends, or an undefined input) is added to its class as a miss, so the end-to-end
sensitivity is ``TP / reference beats``. Unmatched (false) detections are counted, but as they
carry no reference label they are not classified, so the end-to-end +P ignores them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..beats import RecordBeatSummary
from ..datasets import load_mitdb_annotations
from ..metrics import ClassificationReport
from ..types import _frozen

__all__ = ["EndToEnd", "end_to_end_stats"]


@dataclass(frozen=True, eq=False)
class EndToEnd:
    """Protocol (c) with every unclassified reference beat counted as a miss of its class.

    Attributes
    ----------
    classes : tuple of str
    confusion : ndarray of int64, shape (k, k + 1)
        Rows reference class; columns predicted class, then ``missed``.
    reference, undetected, unclassified : ndarray of int64, shape (k,)
        Reference beats per class; of them, not matched by any detection; matched but not
        classified (window past the record's ends, undefined RR features).
    se, ppv : ndarray of float64, shape (k,)
        ``TP / reference`` and ``TP / classified beats predicted as the class``.
    accuracy : float
        Correct / reference beats of the classes.
    detection_se, detection_ppv : float
        Beat detection over all reference beats and all detections (every class).
    n_false_detections : int
        Detections matching no reference beat (not classified).
    """

    classes: tuple[str, ...]
    confusion: np.ndarray
    reference: np.ndarray
    undetected: np.ndarray
    unclassified: np.ndarray
    se: np.ndarray
    ppv: np.ndarray
    accuracy: float
    detection_se: float
    detection_ppv: float
    n_false_detections: int

    def __post_init__(self) -> None:
        for name in ("confusion", "reference", "undetected", "unclassified", "se", "ppv"):
            object.__setattr__(self, name, _frozen(np.asarray(getattr(self, name))))

    def to_dict(self) -> dict[str, Any]:
        def f(x: float) -> float | None:
            return None if np.isnan(x) else float(x)

        return {
            "classes": list(self.classes),
            "confusion_with_missed": self.confusion.tolist(),
            "per_class": {
                c: {
                    "reference": int(self.reference[i]),
                    "undetected": int(self.undetected[i]),
                    "unclassified": int(self.unclassified[i]),
                    "se": f(self.se[i]),
                    "ppv": f(self.ppv[i]),
                }
                for i, c in enumerate(self.classes)
            },
            "accuracy": f(self.accuracy),
            "detection_se": f(self.detection_se),
            "detection_ppv": f(self.detection_ppv),
            "n_false_detections": self.n_false_detections,
        }


def end_to_end_stats(
    summaries: Sequence[RecordBeatSummary],
    report: ClassificationReport,
    data_dir: str | os.PathLike[str] | None = None,
) -> EndToEnd:
    """End-to-end statistics from the detector dataset's record summaries and the report of
    its classified beats (module docstring)."""
    classes = report.classes
    k = len(classes)
    reference = np.zeros(k, np.int64)
    matched = np.zeros(k, np.int64)
    n_ref_all = n_pos_all = n_matched_all = n_false = 0
    for s in summaries:
        counts = load_mitdb_annotations(s.record_id, data_dir).counts()
        for i, c in enumerate(classes):
            reference[i] += counts[c]
            matched[i] += s.kept_counts[c] + s.dropped_counts[c]
        n_ref_all += s.n_reference
        n_pos_all += s.n_positions
        n_matched_all += s.n_reference - s.n_missed
        n_false += s.n_unmatched_detections
    classified = report.confusion.sum(axis=1)
    missed = reference - classified
    cm = np.concatenate([report.confusion, missed[:, None]], axis=1)
    tp = np.diag(report.confusion).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.where(reference > 0, tp / reference, np.nan)
        col = report.confusion.sum(axis=0)
        ppv = np.where(col > 0, tp / np.maximum(col, 1), np.nan)
    return EndToEnd(
        classes=classes,
        confusion=cm,
        reference=reference,
        undetected=reference - matched,
        unclassified=matched - classified,
        se=se,
        ppv=ppv,
        accuracy=float(tp.sum() / reference.sum()) if reference.sum() else float("nan"),
        detection_se=n_matched_all / n_ref_all if n_ref_all else float("nan"),
        detection_ppv=n_matched_all / n_pos_all if n_pos_all else float("nan"),
        n_false_detections=int(n_false),
    )
