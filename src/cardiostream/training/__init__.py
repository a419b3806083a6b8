"""Training and evaluation of the heartbeat classifiers (issue 3, sections 2 and 3).

* :class:`TrainConfig` — the validated run configuration (:func:`load_config` reads JSON/YAML).
* :mod:`.data` — beats → ``(n, 1, length)`` inputs (:class:`Preprocessing`, :class:`TensorSet`).
* :mod:`.splits` — intra-patient (random 70/30 beats) and inter-patient (DS1 → DS2) splits, the
  validation part always carved from the training side.
* :func:`fit_model` — the seeded Adam loop with early stopping on validation.
* :func:`train` — one run end to end, written by :func:`save_checkpoint` (safetensors + JSON);
  :func:`load_checkpoint` rebuilds the model through the registry.
* :func:`evaluate_run` — test metrics, record-bootstrap CIs, temperature scaling, abstention,
  and the end-to-end protocol on detector beats.
"""

from __future__ import annotations

from .calibration import apply_temperature, fit_temperature, negative_log_likelihood
from .checkpoint import RunMeta, load_checkpoint, read_meta, save_checkpoint
from .config import CLASS_SETS, INPUTS, PROTOCOLS, TrainConfig, load_config
from .data import WINDOW_S, Preprocessing, TensorSet, fit_preprocessing, input_window_s
from .end_to_end import EndToEnd, end_to_end_stats
from .evaluate import (
    ABSTAIN_LABEL,
    Calibration,
    Evaluation,
    calibrate_run,
    evaluate_run,
    predict_logits,
)
from .loop import EpochLog, FitResult, fit_model
from .run import PreparedData, TrainedRun, build_model, prepare_data, train
from .splits import Split, cap_class_sizes, inter_patient_split, intra_patient_split

__all__ = [
    "ABSTAIN_LABEL",
    "CLASS_SETS",
    "INPUTS",
    "PROTOCOLS",
    "WINDOW_S",
    "Calibration",
    "EndToEnd",
    "EpochLog",
    "Evaluation",
    "FitResult",
    "PreparedData",
    "Preprocessing",
    "RunMeta",
    "Split",
    "TensorSet",
    "TrainConfig",
    "TrainedRun",
    "apply_temperature",
    "build_model",
    "calibrate_run",
    "cap_class_sizes",
    "end_to_end_stats",
    "evaluate_run",
    "fit_model",
    "fit_preprocessing",
    "fit_temperature",
    "input_window_s",
    "inter_patient_split",
    "intra_patient_split",
    "load_checkpoint",
    "load_config",
    "negative_log_likelihood",
    "predict_logits",
    "prepare_data",
    "read_meta",
    "save_checkpoint",
    "train",
]
