"""12-lead diagnosis on PTB-XL and cross-lead distillation to single-lead students.

Train with :func:`train_diagnosis` (``cardiostream train --task ...``), score fold 10 with
:func:`evaluate_diagnosis` (``cardiostream evaluate RUN``), and apply a run to records with
:class:`Diagnoser` (``cardiostream diagnose RECORD``).
"""

from .checkpoint import (
    DiagnosisMeta,
    RecordPreprocessing,
    is_diagnosis_run,
    load_diagnosis_run,
    read_diagnosis_meta,
)
from .config import PTBXL_LEADS, DiagnosisConfig
from .evaluate import DiagnosisEvaluation, evaluate_diagnosis
from .metrics import MultilabelMetrics, multilabel_metrics, tune_thresholds
from .predict import Diagnoser, Diagnosis, Finding, predict_windows
from .train import DiagnosisRun, PtbxlSplits, hybrid_kd_loss, load_splits, train_diagnosis

__all__ = [
    "PTBXL_LEADS",
    "Diagnoser",
    "Diagnosis",
    "DiagnosisConfig",
    "DiagnosisEvaluation",
    "DiagnosisMeta",
    "DiagnosisRun",
    "Finding",
    "MultilabelMetrics",
    "PtbxlSplits",
    "RecordPreprocessing",
    "evaluate_diagnosis",
    "hybrid_kd_loss",
    "is_diagnosis_run",
    "load_diagnosis_run",
    "load_splits",
    "multilabel_metrics",
    "predict_windows",
    "read_diagnosis_meta",
    "train_diagnosis",
    "tune_thresholds",
]
