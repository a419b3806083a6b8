"""Evaluate a diagnosis run on PTB-XL fold 10 (the test fold, read only here).

Decision thresholds are the ones tuned on fold 9 at training time and stored in the run; nothing
is selected on fold 10. Writes ``evaluation.json`` and ``evaluation.md`` into the run directory.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidParameterError
from .checkpoint import DiagnosisMeta, load_diagnosis_run
from .data import lead_indices
from .metrics import MultilabelMetrics, multilabel_metrics
from .predict import predict_windows
from .train import PtbxlSplits, load_splits

__all__ = ["DiagnosisEvaluation", "evaluate_diagnosis"]


@dataclass(frozen=True)
class DiagnosisEvaluation:
    """Test-fold metrics of a run, plus the probabilities they came from."""

    run_dir: Path
    meta: DiagnosisMeta
    test: MultilabelMetrics
    probabilities: np.ndarray
    labels: np.ndarray
    ecg_ids: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": str(self.run_dir),
            "model": self.meta.model_config["name"],
            "task": self.meta.preprocessing.task,
            "leads": list(self.meta.preprocessing.leads),
            "params": self.meta.n_params,
            "test": self.test.to_dict(),
        }


def evaluate_diagnosis(
    run_dir: str | os.PathLike[str],
    *,
    data_dir: object = None,
    splits: PtbxlSplits | None = None,
    n_boot: int = 500,
    seed: int = 0,
    write: bool = True,
    progress: bool = True,
) -> DiagnosisEvaluation:
    """Score ``run_dir``'s model on fold 10 with its fold-9 thresholds (and bootstrap CIs)."""
    model, meta = load_diagnosis_run(run_dir)
    prep = meta.preprocessing
    splits = (
        splits
        if splits is not None
        else load_splits(prep.task, data_dir=data_dir, progress=progress)
    )
    if splits.classes != prep.classes:
        raise InvalidParameterError(
            f"The run predicts {list(prep.classes)} but the data's {prep.task} classes are "
            f"{list(splits.classes)}."
        )
    cols = lead_indices(prep.leads, splits.leads)
    x = prep.normalizer(splits.x["test"][:, :, cols])
    p = predict_windows(model, x, prep.window, prep.stride, prep.aggregate)
    y = splits.y["test"]
    m = multilabel_metrics(
        y, p, prep.classes, np.asarray(prep.thresholds), n_boot=n_boot, seed=seed
    )
    ev = DiagnosisEvaluation(Path(run_dir), meta, m, p, y, splits.ecg_ids["test"])
    if write:
        out = Path(run_dir)
        (out / "evaluation.json").write_text(json.dumps(ev.to_dict(), indent=2) + "\n")
        (out / "evaluation.md").write_text(_markdown(ev))
    return ev


def _fmt(v: float | None) -> str:
    return "—" if v is None or not np.isfinite(v) else f"{v:.4f}"


def _markdown(ev: DiagnosisEvaluation) -> str:
    t = ev.test
    ci = t.ci

    def with_ci(name: str, v: float) -> str:
        if name in ci:
            return f"{_fmt(v)} ({_fmt(ci[name][0])}–{_fmt(ci[name][1])})"
        return _fmt(v)

    lines = [
        f"# {ev.meta.model_config['name']} on PTB-XL {ev.meta.preprocessing.task} (fold 10)",
        "",
        f"Leads {', '.join(ev.meta.preprocessing.leads)}; {ev.meta.n_params:,} parameters; "
        f"{t.n_records} test records; thresholds tuned on fold 9.",
        "",
        "| metric | value (95 % record-bootstrap CI) |",
        "|---|---|",
        f"| macro AUROC | {with_ci('macro_auroc', t.macro_auroc)} |",
        f"| macro AUPRC | {with_ci('macro_auprc', t.macro_auprc)} |",
        f"| macro F1 @0.5 | {with_ci('macro_f1', t.macro_f1)} |",
        f"| macro F1 @fold-9 thresholds | {with_ci('macro_f1_tuned', t.macro_f1_tuned)} |",
        "",
        "| class | support | AUROC | AUPRC | F1 (tuned) | threshold |",
        "|---|---|---|---|---|---|",
    ]
    for i, c in enumerate(t.classes):
        lines.append(
            f"| {c} | {t.support[i]} | {_fmt(t.per_class_auroc[i])} | "
            f"{_fmt(t.per_class_auprc[i])} | {_fmt(t.per_class_f1_tuned[i])} | "
            f"{t.thresholds[i]:.3f} |"
        )
    return "\n".join(lines) + "\n"
