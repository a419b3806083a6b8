"""The configuration of a PTB-XL diagnosis run: one frozen, validated dataclass.

Defaults follow the PTB-XL benchmark (Strodthoff et al., IEEE JBHI 25(5):1519-1528, 2021):
100 Hz records, folds 1-8 for training, 9 for validation (early stopping, model selection,
decision thresholds) and 10 for testing; a random 2.5 s crop of every training record per
epoch; at test time 2.5 s windows with a 1.25 s stride whose sigmoid outputs are aggregated by
their maximum. The optimiser is AdamW with a one-cycle schedule as in that benchmark, with a
smaller peak rate (1e-3) suited to the shorter CPU budgets used here.

Distillation (cross-lead, Su et al., Sensors 2026, ../shared/papers/000): a student on one lead
learns from a 12-lead teacher with the hybrid loss
``(1 - kd_alpha) · BCE(y, σ(z_s)) + kd_alpha · T² · BCE(σ(z_t / T), σ(z_s / T))
+ hint_weight · MSE(P f_s, f_t)`` where ``P`` is a learnt linear projection of the student's
pooled features onto the teacher's.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..datasets.ptbxl_labels import PTBXL_TASKS
from ..errors import InvalidParameterError, check_param

__all__ = ["AGGREGATES", "PTBXL_LEADS", "DiagnosisConfig"]

#: Lead names as PTB-XL's WFDB headers spell them, in file order.
PTBXL_LEADS: tuple[str, ...] = (
    "I",
    "II",
    "III",
    "AVR",
    "AVL",
    "AVF",
    "V1",
    "V2",
    "V3",
    "V4",
    "V5",
    "V6",
)
#: How window outputs are combined into one record-level probability.
AGGREGATES: tuple[str, ...] = ("max", "mean")


def _is_int(v: object, low: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= low


def _is_real(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


@dataclass(frozen=True)
class DiagnosisConfig:
    """Everything that determines a PTB-XL training run (saved with the run).

    Attributes
    ----------
    model : str
        Registry name of an ``ecg12`` model (:func:`cardiostream.models.list_models`).
    task : str
        PTB-XL benchmark task (``superdiagnostic``, ``rhythm``, ...).
    leads : tuple of str
        Input leads, in order (default all 12; a single-lead student uses ``("I",)``).
    seed : int
        Seeds the weights, the crops and the batch order.
    epochs, batch_size, lr, weight_decay : int, int, float, float
        AdamW with a one-cycle schedule peaking at ``lr``.
    patience : int
        Epochs without a better validation macro-AUROC before stopping (0: never stop early).
        The weights of the best epoch are kept.
    crop_s, stride_s : float
        Training crop and test-window length, and the stride between test windows (seconds).
    aggregate : {"max", "mean"}
        Record-level aggregation of window probabilities.
    crop_grid_s : float or None
        None: training crops start anywhere. A step in seconds: crops start on that grid
        only; with a teacher its outputs are then computed once per grid crop instead of
        once per batch (distillation several times cheaper).
    max_minutes : float or None
        Budget: stop after the first epoch that ends past this wall time (None: no limit).
    max_train_records : int or None
        Budget: a seeded random subset of the training records (None: all).
    num_threads : int
        ``torch.set_num_threads`` during training.
    model_hparams : Mapping
        Extra ``create_model`` hyperparameters.
    teacher : str or None
        Run directory of a teacher (12-lead, or the unpruned model when fine-tuning a pruned
        one): enables distillation.
    init_from : str or None
        Run directory whose weights initialise the model (same architecture and
        configuration), e.g. a structurally pruned model to fine-tune.
    kd_alpha, kd_temperature, hint_weight : float
        Weights of the hybrid distillation loss (module docstring).
    """

    model: str
    task: str = "superdiagnostic"
    leads: tuple[str, ...] = PTBXL_LEADS
    seed: int = 0
    epochs: int = 30
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 1e-2
    patience: int = 6
    crop_s: float = 2.5
    stride_s: float = 1.25
    aggregate: str = "max"
    crop_grid_s: float | None = None
    max_minutes: float | None = None
    max_train_records: int | None = None
    num_threads: int = 2
    model_hparams: Mapping[str, Any] = field(default_factory=dict)
    teacher: str | None = None
    init_from: str | None = None
    kd_alpha: float = 0.5
    kd_temperature: float = 2.0
    hint_weight: float = 0.0

    def __post_init__(self) -> None:
        check_param("model", self.model, isinstance(self.model, str) and bool(self.model), "a name")
        check_param("task", self.task, self.task in PTBXL_TASKS, f"one of {tuple(PTBXL_TASKS)}")
        leads = self.leads
        if isinstance(leads, str):
            leads = (leads,)
        leads = tuple(str(x).upper() for x in leads)
        ok = bool(leads) and all(x in PTBXL_LEADS for x in leads) and len(set(leads)) == len(leads)
        check_param("leads", self.leads, ok, f"distinct lead names from {PTBXL_LEADS}")
        object.__setattr__(self, "leads", leads)
        for name, low in (("seed", 0), ("epochs", 1), ("batch_size", 1), ("patience", 0)):
            v = getattr(self, name)
            check_param(name, v, _is_int(v, low), f"an integer >= {low}")
        check_param("num_threads", self.num_threads, _is_int(self.num_threads, 1), "an int >= 1")
        for name in ("lr", "crop_s", "stride_s", "kd_temperature"):
            v = getattr(self, name)
            check_param(name, v, _is_real(v) and v > 0, "a positive number")
        for name in ("weight_decay", "hint_weight"):
            v = getattr(self, name)
            check_param(name, v, _is_real(v) and v >= 0, "a non-negative number")
        ok = _is_real(self.kd_alpha) and 0 <= self.kd_alpha <= 1
        check_param("kd_alpha", self.kd_alpha, ok, "a number in [0, 1]")
        ok = self.crop_s <= 10.0 and self.stride_s <= self.crop_s
        check_param("crop_s", self.crop_s, ok, "at most 10 s and at least stride_s")
        if self.crop_grid_s is not None:
            ok = _is_real(self.crop_grid_s) and self.crop_grid_s > 0
            check_param("crop_grid_s", self.crop_grid_s, ok, "None or a positive step in s")
        check_param("aggregate", self.aggregate, self.aggregate in AGGREGATES, str(AGGREGATES))
        if self.max_minutes is not None:
            ok = _is_real(self.max_minutes) and self.max_minutes > 0
            check_param("max_minutes", self.max_minutes, ok, "None or a positive number")
        if self.max_train_records is not None:
            ok = _is_int(self.max_train_records, 1)
            check_param("max_train_records", self.max_train_records, ok, "None or an int >= 1")
        if not isinstance(self.model_hparams, Mapping):
            raise InvalidParameterError(
                f"The 'model_hparams' parameter must be a mapping, got {self.model_hparams!r}."
            )
        object.__setattr__(self, "model_hparams", MappingProxyType(dict(self.model_hparams)))
        for name in ("teacher", "init_from"):
            v = getattr(self, name)
            if v is not None:
                check_param(name, v, isinstance(v, str) and bool(v), "None or a run directory")

    @property
    def distill(self) -> bool:
        """Whether the run distils from a teacher."""
        return self.teacher is not None

    def replace(self, **changes: Any) -> DiagnosisConfig:
        """A copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types; :meth:`from_dict` inverts it."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        d["leads"] = list(self.leads)
        d["model_hparams"] = dict(self.model_hparams)
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DiagnosisConfig:
        """Build from a mapping; unknown keys raise :class:`InvalidParameterError`."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise InvalidParameterError(
                f"The {unknown[0]!r} field is not a diagnosis setting; valid: {sorted(names)}."
            )
        d = dict(data)
        if "leads" in d and not isinstance(d["leads"], str):
            d["leads"] = tuple(d["leads"])
        return cls(**d)
