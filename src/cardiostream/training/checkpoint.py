"""Self-describing run directories: weights plus everything needed to rebuild and reuse them.

A run directory holds

* ``model.safetensors``: the torch weights (``safetensors.torch.save_model``), or
  ``model.pkl`` for a scikit-learn model (pickle: load only run directories you trust);
* ``run.json``: :class:`RunMeta`, i.e. the model configuration (``create_model(**config)``
  rebuilds the architecture), the preprocessing (input kind, fs, window, lead, filter chain,
  classes, normalisation statistics), the resolved training configuration, the split (records
  and sizes), training and validation metrics, the exact command, library versions and the date.

:func:`load_checkpoint` rebuilds the model through the registry and loads the weights, so a
checkpoint never depends on pickled torch modules.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import pickle
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_model, save_model

from .. import __version__
from ..errors import DataNotFoundError, InvalidParameterError
from ..models import ClassicalModel, ECGModel, count_parameters, create_model
from .config import TrainConfig
from .data import Preprocessing

__all__ = [
    "FORMAT_VERSION",
    "META_FILE",
    "SKLEARN_FILE",
    "WEIGHTS_FILE",
    "RunMeta",
    "environment_versions",
    "load_checkpoint",
    "read_meta",
    "save_checkpoint",
]

FORMAT_VERSION = 1
WEIGHTS_FILE = "model.safetensors"
SKLEARN_FILE = "model.pkl"
META_FILE = "run.json"


def environment_versions() -> dict[str, str]:
    """Versions of Python, cardiostream and the numeric libraries used for training."""
    out = {
        "python": platform.python_version(),
        "cardiostream": __version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
    }
    for name in ("scipy", "pywt", "sklearn", "wfdb", "safetensors"):
        try:
            mod = __import__(name)
            out[name] = str(getattr(mod, "__version__", "unknown"))
        except ImportError:
            continue
    return out


def _utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _mapping(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(value))


@dataclass(frozen=True)
class RunMeta:
    """The description of a run stored in ``run.json``.

    Attributes
    ----------
    model_config : Mapping
        ``model.model_config()``: registry name and every resolved setting.
    preprocessing : Preprocessing
    train_config : TrainConfig
    split : Mapping
        :meth:`cardiostream.training.splits.Split.summary`.
    metrics : Mapping
        Training history and validation metrics (``fit``), anything else a caller adds.
    command : str
        The command line that produced the run.
    framework : {"torch", "sklearn"}
    n_params : int
        Parameters (torch) or 0.
    versions : Mapping
        :func:`environment_versions` at training time.
    created : str
        ISO-8601 UTC time stamp.
    format_version : int
    """

    model_config: Mapping[str, Any]
    preprocessing: Preprocessing
    train_config: TrainConfig
    split: Mapping[str, Any]
    metrics: Mapping[str, Any]
    command: str
    framework: str = "torch"
    n_params: int = 0
    versions: Mapping[str, str] = field(default_factory=environment_versions)
    created: str = field(default_factory=_utc_now)
    format_version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        for name in ("model_config", "split", "metrics", "versions"):
            object.__setattr__(self, name, _mapping(getattr(self, name)))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types; :meth:`from_dict` inverts it."""
        return {
            "format_version": self.format_version,
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
    def from_dict(cls, data: Mapping[str, Any]) -> RunMeta:
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise InvalidParameterError(
                f"The run metadata must have format_version {FORMAT_VERSION}, got {version!r}."
            )
        return cls(
            model_config=data["model_config"],
            preprocessing=Preprocessing.from_dict(data["preprocessing"]),
            train_config=TrainConfig.from_dict(data["train_config"]),
            split=data["split"],
            metrics=data["metrics"],
            command=data["command"],
            framework=data["framework"],
            n_params=int(data["n_params"]),
            versions=data["versions"],
            created=data["created"],
            format_version=version,
        )


def save_checkpoint(
    run_dir: str | os.PathLike[str], model: ECGModel | ClassicalModel, meta: RunMeta
) -> Path:
    """Write ``model`` and ``meta`` into ``run_dir`` (created if needed); returns the directory.

    ``meta.model_config`` must equal ``model.model_config()`` so the checkpoint rebuilds the
    architecture it holds.
    """
    out = Path(run_dir)
    if dict(meta.model_config) != model.model_config():
        raise InvalidParameterError(
            "The 'meta' parameter must describe 'model': model_config differs from "
            "model.model_config()."
        )
    out.mkdir(parents=True, exist_ok=True)
    if isinstance(model, ClassicalModel):
        with open(out / SKLEARN_FILE, "wb") as f:
            pickle.dump(model.estimator, f, protocol=pickle.HIGHEST_PROTOCOL)
    elif isinstance(model, ECGModel):
        save_model(model.cpu(), str(out / WEIGHTS_FILE), metadata={"format": "cardiostream"})
    else:
        raise InvalidParameterError(
            f"The 'model' parameter must be an ECGModel or ClassicalModel, got "
            f"{type(model).__name__} instead."
        )
    text = json.dumps(meta.to_dict(), indent=2, allow_nan=False)
    tmp = out / (META_FILE + ".tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    os.replace(tmp, out / META_FILE)
    return out


def read_meta(run_dir: str | os.PathLike[str]) -> RunMeta:
    """The :class:`RunMeta` of ``run_dir`` without loading weights."""
    path = Path(run_dir) / META_FILE
    if not path.is_file():
        raise DataNotFoundError(
            f"The 'run_dir' parameter must be a run directory holding {META_FILE}, got "
            f"{str(run_dir)!r} (no {path.name})."
        )
    return RunMeta.from_dict(json.loads(path.read_text(encoding="utf-8")))


def load_checkpoint(
    run_dir: str | os.PathLike[str], *, device: str = "cpu"
) -> tuple[ECGModel | ClassicalModel, RunMeta]:
    """Rebuild the model of ``run_dir`` through the registry and load its weights.

    Returns
    -------
    (model, meta)
        The model in eval mode on ``device`` (torch) or with its fitted estimator
        (scikit-learn), and the run's :class:`RunMeta`.
    """
    meta = read_meta(run_dir)
    model = create_model(**dict(meta.model_config))
    if isinstance(model, ClassicalModel):
        path = Path(run_dir) / SKLEARN_FILE
        if not path.is_file():
            raise DataNotFoundError(f"The run directory {str(run_dir)!r} has no {SKLEARN_FILE}.")
        with open(path, "rb") as f:
            model._estimator = pickle.load(f)  # trusted run directories only (module docstring)
        return model, meta
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
