"""Record-level inference: window a record, score the windows, aggregate, threshold.

:func:`predict_windows` is the scoring used by training, evaluation and :class:`Diagnoser`, so
the shipped model's numbers and ``cardiostream diagnose`` agree by construction.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import InvalidSignalError
from ..models import ECGModel
from ..signal.resample import resample
from ..types import Record
from .checkpoint import DiagnosisMeta, load_diagnosis_run
from .data import sliding_windows

__all__ = ["Diagnoser", "Diagnosis", "Finding", "predict_windows"]


@torch.no_grad()
def predict_windows(
    model: ECGModel,
    signals: np.ndarray,
    window: int,
    stride: int,
    aggregate: str = "max",
    *,
    batch_size: int = 512,
) -> np.ndarray:
    """Record probabilities ``(n, classes)`` from standardised signals ``(n, samples, leads)``.

    Each record is cut into windows (:func:`~cardiostream.diagnosis.data.sliding_windows`), the
    model's sigmoid outputs are computed in eval mode and combined per record by their maximum
    or mean (Strodthoff et al. 2021 aggregate test-time windows the same way).
    """
    wins, rec = sliding_windows(signals, window, stride)
    was = model.training
    model.eval()
    try:
        out = [
            torch.sigmoid(model(torch.from_numpy(wins[i : i + batch_size]))).double().numpy()
            for i in range(0, len(wins), batch_size)
        ]
    finally:
        model.train(was)
    p = np.concatenate(out) if out else np.zeros((0, model.num_classes))
    n = int(np.asarray(signals).shape[0])
    per = p.reshape(n, -1, p.shape[1])
    if rec.size and not np.array_equal(rec.reshape(n, -1)[:, 0], np.arange(n)):
        raise InvalidSignalError("internal: windows are not grouped by record")
    return per.max(axis=1) if aggregate == "max" else per.mean(axis=1)


@dataclass(frozen=True)
class Finding:
    """One class of a diagnosis: probability and whether it passes the tuned threshold."""

    label: str
    probability: float
    threshold: float

    @property
    def positive(self) -> bool:
        return self.probability >= self.threshold


@dataclass(frozen=True)
class Diagnosis:
    """Findings of one model on one record."""

    record_id: str
    task: str
    leads: tuple[str, ...]
    findings: tuple[Finding, ...]
    model: str

    @property
    def positives(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.positive)


class Diagnoser:
    """A trained diagnosis run applied to :class:`~cardiostream.types.Record` s.

    Records are resampled to the model's rate, the model's leads are picked by name (case
    insensitive; ``MLII``/``ML2`` count as lead II for single-lead records) and records shorter
    than one window and records with missing (NaN) samples in the model's leads raise
    :class:`InvalidSignalError`.
    """

    def __init__(self, model: ECGModel, meta: DiagnosisMeta) -> None:
        self.model = model.eval()
        self.meta = meta

    @classmethod
    def from_run(cls, run_dir: str | os.PathLike[str]) -> Diagnoser:
        model, meta = load_diagnosis_run(run_dir)
        return cls(model, meta)

    @property
    def leads(self) -> tuple[str, ...]:
        return self.meta.preprocessing.leads

    def _columns(self, record: Record) -> np.ndarray:
        names = [_canonical(x) for x in record.leads]
        cols = []
        for lead in self.leads:
            if lead not in names:
                raise InvalidSignalError(
                    f"The record {record.record_id!r} must contain lead(s) {list(self.leads)} "
                    f"for this model; it has {list(record.leads)}."
                )
            cols.append(names.index(lead))
        return np.asarray(cols)

    def diagnose(self, record: Record) -> Diagnosis:
        """Probabilities of every class for ``record``."""
        prep = self.meta.preprocessing
        x = record.signal[:, self._columns(record)]
        if not np.isfinite(x).all():
            raise InvalidSignalError(
                f"The record {record.record_id!r} has missing (NaN) samples in the model's leads; "
                "diagnosis needs complete signals."
            )
        if record.fs != prep.fs:
            x = np.column_stack([resample(x[:, i], record.fs, prep.fs) for i in range(x.shape[1])])
        if x.shape[0] < prep.window:
            raise InvalidSignalError(
                f"The record {record.record_id!r} must last at least {prep.window / prep.fs:g} s, "
                f"got {x.shape[0] / prep.fs:.2f} s."
            )
        xn = prep.normalizer(x)[None]
        p = predict_windows(self.model, xn, prep.window, prep.stride, prep.aggregate)[0]
        findings = tuple(
            Finding(c, float(pi), float(t))
            for c, pi, t in zip(prep.classes, p, prep.thresholds, strict=True)
        )
        return Diagnosis(
            record.record_id, prep.task, self.leads, findings, str(self.meta.model_config["name"])
        )


def _canonical(name: str) -> str:
    n = str(name).strip().upper().replace(" ", "")
    if n in ("MLII", "ML2", "LEADII"):
        return "II"
    if n in ("MLI", "ML1", "LEADI"):
        return "I"
    return n


def default_run_paths() -> dict[str, Path]:
    """Package-data run directories of the shipped diagnosis models (may not all exist)."""
    root = Path(__file__).resolve().parent.parent / "data" / "models"
    return {p.name: p for p in sorted(root.glob("diag_*")) if (p / "run.json").is_file()}
