"""Edge path of PTB-XL diagnosis runs: calibration crops and fp32-vs-INT8 record metrics.

INT8 calibration uses random 2.5 s crops of the run's *training* folds (1-8), preprocessed as
in training (the run's leads and per-lead standardisation). The comparison scores fp32 and
quantised ONNX models the way :func:`cardiostream.diagnosis.evaluate_diagnosis` scores torch:
fold-10 records cut into the run's windows, sigmoid outputs aggregated per record, the run's
fold-9 thresholds; so "keeps ≥ 98 % of its fp32 macro-F1" is measured on the real task, not on
element-wise closeness.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["DiagnosisInt8Comparison", "compare_int8_diagnosis", "diagnosis_calibration"]


def diagnosis_calibration(
    run_dir: str | os.PathLike[str],
    *,
    n: int = 2000,
    seed: int = 0,
    data_dir: object = None,
    splits: Any = None,
) -> np.ndarray:
    """``(n, leads, window)`` float32 training crops of a diagnosis run, normalised as trained."""
    from ..diagnosis import load_splits, read_diagnosis_meta
    from ..diagnosis.data import lead_indices, random_crops

    meta = read_diagnosis_meta(run_dir)
    prep = meta.preprocessing
    sp = splits if splits is not None else load_splits(prep.task, data_dir=data_dir, progress=False)
    rng = np.random.default_rng(seed)
    x = sp.x["train"]
    rows = np.sort(rng.choice(len(x), size=min(n, len(x)), replace=False))
    cols = lead_indices(prep.leads, sp.leads)
    crops = random_crops(x[rows][:, :, cols], prep.window, rng)  # (n, leads, window) in mV
    mean = np.asarray(prep.normalizer.mean, dtype=np.float32)[None, :, None]
    std = np.asarray(prep.normalizer.std, dtype=np.float32)[None, :, None]
    return ((crops - mean) / std).astype(np.float32)


@dataclass(frozen=True)
class DiagnosisInt8Comparison:
    """fp32 and INT8 ONNX models of a diagnosis run on PTB-XL fold 10."""

    classes: tuple[str, ...]
    n_records: int
    fp32: dict[str, Any]
    int8: dict[str, Any]
    decision_agreement: float

    @property
    def f1_ratio(self) -> float:
        """INT8 macro-F1 (fold-9 thresholds) over fp32's."""
        return float(self.int8["macro_f1_tuned"] / self.fp32["macro_f1_tuned"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "classes": list(self.classes),
            "n_records": self.n_records,
            "fp32": self.fp32,
            "int8": self.int8,
            "decision_agreement": round(self.decision_agreement, 6),
            "f1_ratio": round(self.f1_ratio, 6),
        }

    def to_markdown(self) -> str:
        lines = [
            f"{self.n_records} fold-10 records, fold-9 thresholds; INT8 keeps "
            f"{100 * self.f1_ratio:.1f} % of the fp32 macro-F1; "
            f"{100 * self.decision_agreement:.2f} % of (record, class) decisions agree.",
            "",
            "| model | macro AUROC | macro AUPRC | macro-F1 | "
            + " | ".join(f"F1 {c}" for c in self.classes)
            + " |",
            "|---|--:|--:|--:|" + "--:|" * len(self.classes),
        ]
        for name, m in (("fp32", self.fp32), ("INT8", self.int8)):
            per = " | ".join(
                "—"
                if m["per_class"][c]["f1_tuned"] is None
                else f"{100 * m['per_class'][c]['f1_tuned']:.1f}"
                for c in self.classes
            )
            lines.append(
                f"| {name} | {m['macro_auroc']:.4f} | {m['macro_auprc']:.4f} | "
                f"{100 * m['macro_f1_tuned']:.1f} | {per} |"
            )
        return "\n".join(lines)


def compare_int8_diagnosis(
    fp32_path: str | os.PathLike[str],
    int8_path: str | os.PathLike[str],
    run_dir: str | os.PathLike[str],
    *,
    data_dir: object = None,
    splits: Any = None,
) -> DiagnosisInt8Comparison:
    """Score both models on fold 10 exactly as the torch evaluation does.

    ``fp32_path`` is an ONNX model; ``int8_path`` an INT8 ONNX (QDQ) model or a full-integer
    ``.tflite`` model (run with LiteRT's interpreter, :func:`cardiostream.edge.tflite.run_tflite`).
    """
    from ..diagnosis import load_splits, multilabel_metrics, read_diagnosis_meta
    from ..diagnosis.data import lead_indices, sliding_windows
    from .onnx_io import ort_session, run_onnx

    meta = read_diagnosis_meta(run_dir)
    prep = meta.preprocessing
    sp = splits if splits is not None else load_splits(prep.task, data_dir=data_dir, progress=False)
    cols = lead_indices(prep.leads, sp.leads)
    x = prep.normalizer(sp.x["test"][:, :, cols])
    wins, _ = sliding_windows(x, prep.window, prep.stride)
    n = len(x)
    th = np.asarray(prep.thresholds)
    out = {}
    decisions = {}
    for name, path in (("fp32", fp32_path), ("int8", int8_path)):
        if Path(path).suffix == ".tflite":
            from .tflite import run_tflite

            logits = run_tflite(path, wins)
        else:
            logits = run_onnx(ort_session(path), wins)
        p = 1.0 / (1.0 + np.exp(-logits))
        per = p.reshape(n, -1, p.shape[1])
        rec = per.max(axis=1) if prep.aggregate == "max" else per.mean(axis=1)
        out[name] = multilabel_metrics(sp.y["test"], rec, prep.classes, th).to_dict()
        decisions[name] = rec >= th[None, :]
    agree = float(np.mean(decisions["fp32"] == decisions["int8"]))
    return DiagnosisInt8Comparison(prep.classes, n, out["fp32"], out["int8"], agree)
