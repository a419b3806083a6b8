"""Run directories of PTB-XL diagnosis models, in the project's checkpoint format.

A run directory holds ``model.safetensors`` and ``run.json`` exactly as a beat-classifier run
(:mod:`cardiostream.training.checkpoint`), with ``"dataset": "ptbxl"`` and a record-level
``preprocessing`` block: sampling rate, window and stride, leads, task, classes, per-lead
normalisation, the aggregation of window outputs and the decision thresholds tuned on the
validation fold. :func:`load_diagnosis_run` rebuilds the model through the registry.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
from safetensors.torch import load_model, save_model

from ..errors import DataNotFoundError, InvalidParameterError
from ..models import ECGModel, count_parameters, create_model
from ..training.checkpoint import (
    FORMAT_VERSION,
    META_FILE,
    WEIGHTS_FILE,
    _utc_now,
    environment_versions,
)
from .config import AGGREGATES, DiagnosisConfig
from .data import LeadNormalizer

__all__ = [
    "DATASET",
    "DiagnosisMeta",
    "RecordPreprocessing",
    "is_diagnosis_run",
    "load_diagnosis_run",
    "read_diagnosis_meta",
    "save_diagnosis_run",
]

#: The ``dataset`` value marking a diagnosis run in ``run.json``.
DATASET = "ptbxl"


@dataclass(frozen=True)
class RecordPreprocessing:
    """How a record becomes model inputs and outputs become findings.

    Attributes
    ----------
    fs : float
        Sampling rate the model expects (100 Hz); other records are resampled.
    window, stride : int
        Window and stride in samples.
    leads : tuple of str
        Input leads in order.
    task : str
        PTB-XL task.
    classes : tuple of str
        Output names.
    normalizer : LeadNormalizer
        Per-lead standardisation fitted on the training records.
    aggregate : {"max", "mean"}
        Record-level aggregation of window probabilities.
    thresholds : tuple of float
        Per-class decision thresholds tuned on the validation fold (0.5 until tuned).
    """

    fs: float
    window: int
    stride: int
    leads: tuple[str, ...]
    task: str
    classes: tuple[str, ...]
    normalizer: LeadNormalizer
    aggregate: str = "max"
    thresholds: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "leads", tuple(self.leads))
        object.__setattr__(self, "classes", tuple(self.classes))
        th = tuple(float(t) for t in self.thresholds) or (0.5,) * len(self.classes)
        object.__setattr__(self, "thresholds", th)
        if len(th) != len(self.classes) or len(self.normalizer.mean) != len(self.leads):
            raise InvalidParameterError(
                f"RecordPreprocessing: {len(th)} thresholds for {len(self.classes)} classes, "
                f"{len(self.normalizer.mean)} normalisation entries for {len(self.leads)} leads."
            )
        if self.aggregate not in AGGREGATES:
            raise InvalidParameterError(
                f"The 'aggregate' parameter must be one of {AGGREGATES}, got {self.aggregate!r}."
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "fs": self.fs,
            "window": self.window,
            "stride": self.stride,
            "leads": list(self.leads),
            "task": self.task,
            "classes": list(self.classes),
            "normalizer": self.normalizer.to_dict(),
            "aggregate": self.aggregate,
            "thresholds": list(self.thresholds),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RecordPreprocessing:
        return cls(
            fs=float(d["fs"]),
            window=int(d["window"]),
            stride=int(d["stride"]),
            leads=tuple(d["leads"]),
            task=str(d["task"]),
            classes=tuple(d["classes"]),
            normalizer=LeadNormalizer.from_dict(d["normalizer"]),
            aggregate=str(d["aggregate"]),
            thresholds=tuple(d["thresholds"]),
        )


@dataclass(frozen=True)
class DiagnosisMeta:
    """``run.json`` of a diagnosis run (same top-level layout as a beat run's)."""

    model_config: Mapping[str, Any]
    preprocessing: RecordPreprocessing
    train_config: DiagnosisConfig
    split: Mapping[str, Any]
    metrics: Mapping[str, Any]
    command: str
    n_params: int = 0
    framework: str = "torch"
    versions: Mapping[str, str] = field(default_factory=environment_versions)
    created: str = field(default_factory=_utc_now)
    format_version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        for name in ("model_config", "split", "metrics", "versions"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "dataset": DATASET,
            "framework": self.framework,
            "n_params": self.n_params,
            "model_config": dict(self.model_config),
            "preprocessing": self.preprocessing.to_dict(),
            "train_config": self.train_config.to_dict(),
            "split": dict(self.split),
            "metrics": dict(self.metrics),
            "command": self.command,
            "versions": dict(self.versions),
            "created": self.created,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DiagnosisMeta:
        if d.get("format_version") != FORMAT_VERSION or d.get("dataset") != DATASET:
            raise InvalidParameterError(
                f"run.json must be a PTB-XL diagnosis run (dataset {DATASET!r}, format_version "
                f"{FORMAT_VERSION}), got dataset {d.get('dataset')!r}, format_version "
                f"{d.get('format_version')!r}."
            )
        return cls(
            model_config=d["model_config"],
            preprocessing=RecordPreprocessing.from_dict(d["preprocessing"]),
            train_config=DiagnosisConfig.from_dict(d["train_config"]),
            split=d["split"],
            metrics=d["metrics"],
            command=d["command"],
            n_params=int(d["n_params"]),
            framework=d["framework"],
            versions=d["versions"],
            created=d["created"],
            format_version=d["format_version"],
        )


def _json_default(o: object) -> object:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"{type(o).__name__} is not JSON serialisable")


def save_diagnosis_run(
    run_dir: str | os.PathLike[str], model: ECGModel, meta: DiagnosisMeta
) -> Path:
    """Write the weights and ``run.json`` into ``run_dir`` (created if needed)."""
    out = Path(run_dir)
    if dict(meta.model_config) != model.model_config():
        raise InvalidParameterError("The 'meta' parameter must describe 'model' (model_config).")
    out.mkdir(parents=True, exist_ok=True)
    save_model(model.cpu(), str(out / WEIGHTS_FILE), metadata={"format": "cardiostream"})
    text = json.dumps(meta.to_dict(), indent=2, allow_nan=False, default=_json_default)
    tmp = out / (META_FILE + ".tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    os.replace(tmp, out / META_FILE)
    return out


def _read_json(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(run_dir) / META_FILE
    if not path.is_file():
        raise DataNotFoundError(
            f"The 'run_dir' parameter must be a run directory holding {META_FILE}, got "
            f"{str(run_dir)!r}."
        )
    return json.loads(path.read_text(encoding="utf-8"))


def is_diagnosis_run(run_dir: str | os.PathLike[str]) -> bool:
    """Whether ``run_dir`` holds a PTB-XL diagnosis run (rather than a beat run)."""
    try:
        return _read_json(run_dir).get("dataset") == DATASET
    except DataNotFoundError:
        return False


def read_diagnosis_meta(run_dir: str | os.PathLike[str]) -> DiagnosisMeta:
    """The :class:`DiagnosisMeta` of ``run_dir`` without loading weights."""
    return DiagnosisMeta.from_dict(_read_json(run_dir))


def load_diagnosis_run(
    run_dir: str | os.PathLike[str], *, device: str = "cpu"
) -> tuple[ECGModel, DiagnosisMeta]:
    """Rebuild the model of ``run_dir`` through the registry, load its weights (eval mode)."""
    meta = read_diagnosis_meta(run_dir)
    model = create_model(**dict(meta.model_config))
    path = Path(run_dir) / WEIGHTS_FILE
    if not path.is_file():
        raise DataNotFoundError(f"The run directory {str(run_dir)!r} has no {WEIGHTS_FILE}.")
    load_model(model, str(path), strict=True, device=device)
    model.to(device).eval()
    if count_parameters(model) != meta.n_params:
        raise InvalidParameterError(
            f"The checkpoint in {str(run_dir)!r} declares {meta.n_params} parameters but the "
            f"rebuilt model has {count_parameters(model)}."
        )
    return model, meta
