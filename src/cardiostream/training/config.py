"""The training configuration: one frozen, validated dataclass, loadable from JSON (or YAML).

Defaults follow Pramukantoro et al. 2025 (../shared/papers/001, section 3.4): Adam with learning
rate 1e-3, batch 256, at most 50 epochs with early stopping, a 70/30 beat split for the
intra-patient protocol. The inter-patient protocol is de Chazal et al. 2004 (train DS1, test DS2).
A configuration is resolved once (file, then command-line overrides), validated here, and saved
next to every run so :func:`TrainConfig.from_dict` rebuilds it exactly.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..beats import DEFAULT_PREPROCESS, PREPROCESS_METHODS
from ..datasets import MITDB_RECORDS
from ..errors import DataNotFoundError, InvalidParameterError, check_param

__all__ = [
    "CLASS_SETS",
    "INPUTS",
    "LOSSES",
    "MONITORS",
    "NORMALIZATIONS",
    "PROTOCOLS",
    "TrainConfig",
    "load_config",
]

#: Label sets: the five AAMI EC57 classes, or paper 002's N / S / V (F and Q beats dropped).
CLASS_SETS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"aami5": ("N", "S", "V", "F", "Q"), "nsv": ("N", "S", "V")}
)
INPUTS: tuple[str, ...] = ("rr", "morph", "wavelet", "window", "window_rr", "beat_ctx")
#: ``full``: train on every record (validation records carved from them) and test on none;
#: for the shipped model, whose held-out numbers come from its ``inter`` twin.
PROTOCOLS: tuple[str, ...] = ("intra", "inter", "full")
#: ``ce``: cross-entropy (the papers'); ``focal``: focal loss (Lin et al. 2017).
LOSSES: tuple[str, ...] = ("ce", "focal")
#: ``none``; ``balanced``: ``n / (k n_c)`` (King & Zeng 2001, scikit-learn's "balanced");
#: ``sqrt``: the square root of the balanced weights (milder).
CLASS_WEIGHTINGS: tuple[str, ...] = ("none", "balanced", "sqrt")
#: ``last`` keeps the final epoch (no selection): for retraining on all data for a number of
#: epochs chosen on a held-out twin.
MONITORS: tuple[str, ...] = ("val_macro_f1", "val_loss", "last")
#: ``auto``: ``feature`` for RR features, ``none`` for signal inputs; ``feature``: standardise each
#: input position with training-set mean and std; ``beat``: z-score each beat on its own. For
#: ``window_rr`` it applies to the window part; the RR part is always standardised.
NORMALIZATIONS: tuple[str, ...] = ("auto", "none", "feature", "beat")
DEVICES: tuple[str, ...] = ("cpu", "cuda", "auto")


def _is_int(v: object, low: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= low


def _is_real(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (resolved, validated, saved with the run).

    Attributes
    ----------
    model : str
        Registry name (:func:`cardiostream.models.list_models`).
    input_kind : {"rr", "morph", "wavelet", "window", "window_rr", "beat_ctx"}
        Model input (see :mod:`cardiostream.training.data`).
    classes : {"aami5", "nsv"}
        Label set (:data:`CLASS_SETS`); ``nsv`` drops F and Q beats.
    protocol : {"intra", "inter", "full"}
        ``intra``: random beat split of ``train_records`` (papers 001/003); ``inter``: train on
        ``train_records`` (DS1), test on ``test_records`` (DS2); ``full``: train on
        ``train_records`` (default the 44 non-paced records), no test set.
    seed : int
        Seeds the split, the weight initialisation and the batch order.
    epochs, batch_size, lr, weight_decay : int, int, float, float
        Adam optimisation (paper 001: 50 epochs, batch 256, lr 1e-3, no weight decay).
    patience : int
        Epochs without improvement of ``monitor`` before stopping; 0 disables early stopping.
        The weights of the best epoch are kept either way.
    monitor : {"val_macro_f1", "val_loss", "last"}
        Early-stopping and model-selection criterion, on the validation split; ``last`` keeps
        the final epoch (set ``patience`` 0 and ``epochs`` to the number wanted).
    loss : {"ce", "focal"}
    focal_gamma : float
        Focusing parameter of the focal loss (2, Lin et al. 2017).
    class_weighting : {"none", "balanced", "sqrt"}
        Per-class loss weights from the training labels.
    class_weight_scale : Mapping of str to float
        Factors on those weights by class name (e.g. ``{"V": 0.3}``), to set one class's
        operating point without changing the others'; classes not named keep factor 1.
    test_fraction : float
        Intra protocol: share of beats held out for testing (0.3, papers 001 and 003).
    val_fraction : float
        Validation share carved from the *training* part only: of its beats (intra) or of its
        records (inter).
    max_minutes : float or None
        Budget: stop after the first epoch that ends past this wall time (machine-dependent,
        so a run using it is not bit-reproducible elsewhere); None: no limit.
    max_train_beats : int or None
        Budget: cap the training beats by subsampling the largest classes (all beats of a
        class smaller than the cap are kept); None uses every beat.
    train_records, test_records : tuple of str or None
        Record ids; None means the protocol's default (intra: the 44 non-paced records;
        inter: DS1 and DS2 of de Chazal et al. 2004). ``test_records`` only for ``inter``.
    lead : int
        Lead index (0 = MLII in all records but 114).
    preprocess : str
        Beat preprocessing (:data:`cardiostream.beats.PREPROCESS_METHODS`).
    normalize : {"auto", "none", "feature", "beat"}
        Input normalisation (:data:`NORMALIZATIONS`); for ``window_rr``, of the window part
        (the RR part is always standardised with training statistics).
    num_threads : int
        ``torch.set_num_threads`` during training.
    device : {"cpu", "cuda", "auto"}
    model_kwargs : Mapping
        Extra hyperparameters for :func:`cardiostream.models.create_model`.
    """

    model: str
    input_kind: str
    classes: str = "aami5"
    protocol: str = "inter"
    seed: int = 0
    epochs: int = 50
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.0
    patience: int = 5
    monitor: str = "val_macro_f1"
    loss: str = "ce"
    focal_gamma: float = 2.0
    class_weighting: str = "none"
    class_weight_scale: Mapping[str, float] = field(default_factory=dict)
    test_fraction: float = 0.3
    val_fraction: float = 0.2
    max_minutes: float | None = None
    max_train_beats: int | None = None
    train_records: tuple[str, ...] | None = None
    test_records: tuple[str, ...] | None = None
    lead: int = 0
    preprocess: str = DEFAULT_PREPROCESS
    normalize: str = "auto"
    num_threads: int = 1
    device: str = "cpu"
    model_kwargs: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from ..models import list_models

        models = list_models()
        check_param("model", self.model, self.model in models, f"one of {models}")
        for name, valid in (
            ("input_kind", INPUTS),
            ("classes", tuple(CLASS_SETS)),
            ("protocol", PROTOCOLS),
            ("monitor", MONITORS),
            ("loss", LOSSES),
            ("class_weighting", CLASS_WEIGHTINGS),
            ("normalize", NORMALIZATIONS),
            ("device", DEVICES),
        ):
            value = getattr(self, name)
            check_param(name, value, value in valid, f"one of {list(valid)}")
        check_param(
            "preprocess",
            self.preprocess,
            self.preprocess in PREPROCESS_METHODS,
            f"one of {list(PREPROCESS_METHODS)}",
        )
        for name in ("epochs", "batch_size", "num_threads"):
            check_param(name, getattr(self, name), _is_int(getattr(self, name), 1), "an int >= 1")
        for name in ("seed", "patience", "lead"):
            check_param(name, getattr(self, name), _is_int(getattr(self, name), 0), "an int >= 0")
        ok = _is_real(self.lr) and self.lr > 0
        check_param("lr", self.lr, ok, "a positive learning rate")
        for name in ("weight_decay", "focal_gamma"):
            v = getattr(self, name)
            check_param(name, v, _is_real(v) and v >= 0, "a finite number >= 0")
        for name in ("test_fraction", "val_fraction"):
            v = getattr(self, name)
            check_param(name, v, _is_real(v) and 0 < v < 1, "a fraction in (0, 1)")
        if self.max_train_beats is not None:
            ok = _is_int(self.max_train_beats, 2)
            check_param("max_train_beats", self.max_train_beats, ok, "None or an int >= 2")
        if self.max_minutes is not None:
            ok = _is_real(self.max_minutes) and self.max_minutes > 0
            check_param("max_minutes", self.max_minutes, ok, "None or a positive number")
        if self.input_kind == "beat_ctx" and self.resolved_normalize != "none":
            raise InvalidParameterError(
                "The 'normalize' parameter must be 'auto' or 'none' for the 'beat_ctx' input "
                f"(it is scaled by the patient's template), got {self.normalize!r} instead."
            )
        object.__setattr__(self, "train_records", self._records("train_records"))
        object.__setattr__(self, "test_records", self._records("test_records"))
        if self.protocol in ("intra", "full") and self.test_records is not None:
            raise InvalidParameterError(
                f"The 'test_records' parameter must be None for the {self.protocol} protocol "
                "(intra tests on a random share of train_records' beats, full on nothing), got "
                f"{self.test_records!r} instead."
            )
        if self.train_records and self.test_records:
            common = sorted(set(self.train_records) & set(self.test_records))
            check_param(
                "test_records",
                self.test_records,
                not common,
                f"records disjoint from train_records (both hold {common})",
            )
        if not isinstance(self.model_kwargs, Mapping) or not all(
            isinstance(k, str) for k in self.model_kwargs
        ):
            raise InvalidParameterError(
                "The 'model_kwargs' parameter must be a mapping with str keys, got "
                f"{self.model_kwargs!r} instead."
            )
        object.__setattr__(self, "model_kwargs", MappingProxyType(dict(self.model_kwargs)))
        cws = self.class_weight_scale
        ok = isinstance(cws, Mapping) and all(
            k in CLASS_SETS[self.classes] and _is_real(v) and v > 0 for k, v in cws.items()
        )
        check_param(
            "class_weight_scale",
            dict(cws) if isinstance(cws, Mapping) else cws,
            ok,
            f"a mapping from classes of {list(CLASS_SETS[self.classes])} to positive factors",
        )
        object.__setattr__(
            self, "class_weight_scale", MappingProxyType({k: float(v) for k, v in cws.items()})
        )

    def _records(self, name: str) -> tuple[str, ...] | None:
        value = getattr(self, name)
        if value is None:
            return None
        if isinstance(value, str):
            value = value.split(",")
        ids = tuple(str(r).strip() for r in value)
        unknown = [r for r in ids if r not in MITDB_RECORDS]
        ok = bool(ids) and not unknown and len(set(ids)) == len(ids)
        check_param(name, value, ok, "None or distinct MIT-BIH record ids")
        return ids

    @property
    def class_names(self) -> tuple[str, ...]:
        """The label set, in index order."""
        return CLASS_SETS[self.classes]

    @property
    def resolved_normalize(self) -> str:
        """``normalize`` with ``auto`` resolved for :attr:`input_kind`."""
        if self.normalize != "auto":
            return self.normalize
        return "feature" if self.input_kind == "rr" else "none"

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types; :meth:`from_dict` inverts it."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        for name in ("train_records", "test_records"):
            d[name] = None if d[name] is None else list(d[name])
        d["model_kwargs"] = dict(self.model_kwargs)
        d["class_weight_scale"] = dict(self.class_weight_scale)
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        """Build from a mapping; unknown keys raise :class:`InvalidParameterError`."""
        if not isinstance(data, Mapping):
            raise InvalidParameterError(
                f"The 'config' parameter must be a mapping, got {type(data).__name__} instead."
            )
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise InvalidParameterError(
                f"The {unknown[0]!r} parameter is not a training setting; valid keys are {names}."
            )
        for required in ("model", "input_kind"):
            if required not in data:
                raise InvalidParameterError(
                    f"The {required!r} parameter must be given, got a configuration without it."
                )
        d = dict(data)
        for name in ("train_records", "test_records"):
            if isinstance(d.get(name), list):
                d[name] = tuple(d[name])
        return cls(**d)


def load_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a configuration file into a plain dict (validated later by :class:`TrainConfig`).

    ``.json`` files always work; ``.yaml`` / ``.yml`` need PyYAML (not a dependency of
    cardiostream). The file may hold any subset of the :class:`TrainConfig` fields.
    """
    p = Path(path)
    if not p.is_file():
        raise DataNotFoundError(f"The 'config' file {str(p)!r} does not exist.")
    suffix = p.suffix.lower()
    text = p.read_text(encoding="utf-8")
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise InvalidParameterError(
                f"The 'config' file {str(p)!r} is not valid JSON: {e}."
            ) from e
    elif suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise InvalidParameterError(
                f"The 'config' file {str(p)!r} is YAML but PyYAML is not installed; use a .json "
                "file or install pyyaml."
            ) from None
        data = yaml.safe_load(text)
    else:
        raise InvalidParameterError(
            f"The 'config' file must end in .json, .yaml or .yml, got {str(p)!r} instead."
        )
    if not isinstance(data, dict):
        raise InvalidParameterError(
            f"The 'config' file {str(p)!r} must hold a mapping, got {type(data).__name__}."
        )
    return data
