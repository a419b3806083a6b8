"""Compress a trained run: iterative pruning with fine-tuning (and distillation) → a new run.

Paper 002's pipeline (../shared/papers/002): the sparsity is raised over ``K`` steps; after
each step the network is fine-tuned on the run's own training beats, optionally distilling the
logits of the unpruned model (:func:`.distill.kd_loss`). Methods (:data:`METHODS`):

* ``l1``: global L1 magnitude pruning of the ``Conv1d`` / ``Linear`` weights (:mod:`.prune`);
* ``energy``: paper 002's energy-aware importance (:func:`.prune.energy_aware_scores`, ``alpha``
  weighs magnitude against the layer's energy proxy from :mod:`.costs`);
* ``structured``: filter pruning (Li et al. 2017) into a smaller dense ``<model>_pruned``
  (:mod:`.structured`); ``sparsity`` is then the fraction of channels removed in every group.

Schedules: ``linear`` raises the target ``S·t/K`` (paper 002's Table V); ``dynamic`` (unstructured
methods) uses ``s_l(t) = S(1 − exp(−β_l t))`` per layer with ``β_l`` growing with depth (``l1``)
or with the layer's energy share (``energy``), :func:`.prune.schedule_betas`.

The new run directory holds the usual checkpoint (:func:`cardiostream.training.save_checkpoint`):
the compressed weights, the source run's preprocessing, training configuration and split (so
``cardiostream evaluate NEWRUN`` rebuilds the same test set), and under ``metrics["compress"]``
the settings, the source run, parameters / non-zero parameters / MACs / energy proxy before and
after, and per step the sparsity reached and the validation scores before and after
fine-tuning. ``metrics["fit"]`` stays the source run's training history.

Budget: fine-tuning uses the source run's training beats (capped again by ``max_train_beats`` if
given) and scores each epoch on its validation split (or a seeded random ``max_val_beats``
subset of it), one thread by default.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from ..errors import InvalidParameterError, check_param
from ..models._base import ECGModel, count_parameters
from . import prune as _prune
from . import structured as _structured
from .distill import FinetuneResult, as_tensors, finetune, predict_batches

if TYPE_CHECKING:
    from ..training import PreparedData, RunMeta

__all__ = [
    "METHODS",
    "CompressConfig",
    "CompressResult",
    "CompressStep",
    "ModelCost",
    "compress_model",
    "compress_run",
    "model_cost",
]

#: ``l1``, ``energy`` (unstructured) and ``structured`` (channels).
METHODS: tuple[str, ...] = ("l1", "energy", "structured")


def _is_int(v: object, low: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= low


def _is_real(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


@dataclass(frozen=True)
class CompressConfig:
    """Settings of one compression (validated; stored in the new run).

    Attributes
    ----------
    method : {"l1", "energy", "structured"}
    sparsity : float
        Final target in [0, 1): fraction of prunable weights zeroed (``l1``, ``energy``) or of
        channels removed from every channel group (``structured``).
    steps : int
        Pruning steps ``K``, each followed by fine-tuning.
    finetune_epochs : int
        Epochs after each step (0: prune only, still scored on validation).
    kd_alpha, kd_temperature : float
        Distillation from the source (unpruned) model; ``kd_alpha = 0`` disables it.
    alpha : float
        Magnitude weight of the energy-aware score (``energy`` only; paper 002's ``α``).
    energy_term : {"layer", "marginal"}
        ``E_l`` of the energy-aware score and of the energy-driven dynamic schedule: the
        layer's total energy (paper 002) or the energy one pruned weight of it saves
        (:func:`cardiostream.edge.prune.layer_energies`).
    energy_combine : {"sum", "product"}
        How the energy-aware score mixes magnitude and energy: paper 002's weighted sum or the
        weighted geometric mean (:func:`cardiostream.edge.prune.energy_aware_scores`).
    schedule : {"linear", "dynamic"}
        :data:`cardiostream.edge.prune.SCHEDULES`; ``dynamic`` for ``l1`` / ``energy`` only.
    include_head : bool
        Also prune the classifier head (unstructured methods).
    min_channels : int
        Structured: channels every group keeps at least.
    lr : float
        Adam learning rate of fine-tuning (3e-4, a third of the training default).
    batch_size : int or None
        Fine-tuning batch (None: the source run's).
    seed : int
        Seeds dropout, batch order and the subsets below.
    max_train_beats, max_val_beats : int or None
        Budget: cap the fine-tuning beats (largest classes subsampled, as in training) and
        score a random subset of the validation beats (None: all).
    num_threads : int
        ``torch.set_num_threads`` while compressing.
    """

    method: str
    sparsity: float
    steps: int = 5
    finetune_epochs: int = 1
    kd_alpha: float = 0.0
    kd_temperature: float = 4.0
    alpha: float = 0.5
    energy_term: str = "layer"
    energy_combine: str = "sum"
    schedule: str = "linear"
    include_head: bool = False
    min_channels: int = 1
    lr: float = 3e-4
    batch_size: int | None = None
    seed: int = 0
    max_train_beats: int | None = None
    max_val_beats: int | None = None
    num_threads: int = 1

    def __post_init__(self) -> None:
        check_param("method", self.method, self.method in METHODS, f"one of {list(METHODS)}")
        ok = self.energy_term in _prune.ENERGY_TERMS
        check_param("energy_term", self.energy_term, ok, f"one of {list(_prune.ENERGY_TERMS)}")
        ok = self.energy_combine in _prune.ENERGY_COMBINES
        combines = list(_prune.ENERGY_COMBINES)
        check_param("energy_combine", self.energy_combine, ok, f"one of {combines}")
        ok = self.schedule in _prune.SCHEDULES
        check_param("schedule", self.schedule, ok, f"one of {list(_prune.SCHEDULES)}")
        if self.method == "structured" and self.schedule != "linear":
            raise InvalidParameterError(
                "The 'schedule' parameter must be 'linear' for method 'structured' (the dynamic "
                f"schedule is per weight layer), got {self.schedule!r} instead."
            )
        ok = _is_real(self.sparsity) and 0 <= self.sparsity < 1
        check_param("sparsity", self.sparsity, ok, "a fraction in [0, 1)")
        for name in ("steps", "min_channels", "num_threads"):
            check_param(name, getattr(self, name), _is_int(getattr(self, name), 1), "an int >= 1")
        for name in ("finetune_epochs", "seed"):
            check_param(name, getattr(self, name), _is_int(getattr(self, name), 0), "an int >= 0")
        for name in ("kd_alpha", "alpha"):
            v = getattr(self, name)
            check_param(name, v, _is_real(v) and 0 <= v <= 1, "a weight in [0, 1]")
        ok = _is_real(self.kd_temperature) and self.kd_temperature > 0
        check_param("kd_temperature", self.kd_temperature, ok, "a positive temperature")
        check_param("lr", self.lr, _is_real(self.lr) and self.lr > 0, "a positive learning rate")
        for name in ("batch_size", "max_train_beats", "max_val_beats"):
            v = getattr(self, name)
            check_param(
                name,
                v,
                v is None or _is_int(v, 2 if name != "batch_size" else 1),
                "None or a positive int",
            )

    @property
    def targets(self) -> tuple[float, ...]:
        """Global target after each step of the linear schedule, ``S·t/K`` (the dynamic schedule's
        per-layer targets are set in :func:`compress_model`)."""
        return _prune.linear_schedule(self.sparsity, self.steps)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ModelCost:
    """Size and cost of a model for one example (:func:`cardiostream.edge.costs.layer_costs`).

    Attributes
    ----------
    params, nonzero_params : int
        All parameters of the model, and those that are non-zero.
    prunable_sparsity : float
        Zero fraction of the prunable weights (:func:`cardiostream.edge.prune.prunable_layers`).
    macs, effective_macs : int
        Dense MACs and MACs of non-zero weights.
    energy_pj : float
        Energy proxy (fp32, on-chip SRAM constants of :mod:`.costs`).
    """

    params: int
    nonzero_params: int
    prunable_sparsity: float
    macs: int
    effective_macs: int
    energy_pj: float

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def model_cost(model: ECGModel) -> ModelCost:
    """:class:`ModelCost` of ``model`` on its declared input shape."""
    from .costs import example_input, layer_costs, total_energy_pj

    costs = layer_costs(model, example_input(model))
    nonzero = sum(int(torch.count_nonzero(p.detach())) for p in model.parameters())
    return ModelCost(
        params=count_parameters(model),
        nonzero_params=int(nonzero),
        prunable_sparsity=_prune.weight_sparsity(model),
        macs=int(sum(c.macs for c in costs)),
        effective_macs=int(sum(c.effective_macs for c in costs)),
        energy_pj=total_energy_pj(costs),
    )


@dataclass(frozen=True)
class CompressStep:
    """One pruning step and its fine-tuning.

    Attributes
    ----------
    step : int
        1-based.
    target : float
        Target of the step: global sparsity (``S·t/K``; for the dynamic schedule the mean of
        the per-layer targets ``s_l(t)`` weighted by layer size), or the fraction of channels
        removed per group (``structured``).
    sparsity : float
        Reached: zero fraction of the prunable weights (unstructured) or
        ``1 − params / params of the source`` (structured).
    cost : ModelCost
        After the step (zeros do not change after fine-tuning).
    energy_rel : float
        ``cost.energy_pj`` over the source model's.
    finetune : FinetuneResult
        Epoch 0 is the model right after pruning; the kept epoch is ``best_epoch``.
    widths : Mapping or None
        Structured: channels kept per group.
    seconds : float
    """

    step: int
    target: float
    sparsity: float
    cost: ModelCost
    energy_rel: float
    finetune: FinetuneResult
    widths: Mapping[str, int] | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        ft = self.finetune
        pruned = ft.history[0]
        return {
            "step": self.step,
            "target": self.target,
            "sparsity": self.sparsity,
            **{k: v for k, v in self.cost.to_dict().items()},
            "energy_rel": self.energy_rel,
            "val_loss_pruned": pruned.val_loss,
            "val_accuracy_pruned": pruned.val_accuracy,
            "val_macro_f1_pruned": pruned.val_macro_f1,
            "val_loss": ft.val_loss,
            "val_accuracy": ft.val_accuracy,
            "val_macro_f1": ft.val_macro_f1,
            "best_epoch": ft.best_epoch,
            "history": ft.to_dict()["history"],
            "widths": None if self.widths is None else dict(self.widths),
            "seconds": self.seconds,
        }


@dataclass(frozen=True, eq=False)
class CompressResult:
    """A compressed model, its steps and (from :func:`compress_run`) its run directory."""

    model: ECGModel
    steps: tuple[CompressStep, ...]
    before: ModelCost
    after: ModelCost
    config: CompressConfig
    teacher_val: FinetuneResult
    meta: RunMeta | None = None
    run_dir: Path | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def energy_rel(self) -> float:
        """Energy proxy after over before."""
        return self.after.energy_pj / self.before.energy_pj if self.before.energy_pj else 1.0

    @property
    def sparsity(self) -> float:
        """Sparsity reached at the last step (see :class:`CompressStep`)."""
        return self.steps[-1].sparsity if self.steps else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The ``metrics["compress"]`` entry of the new run."""
        tv = self.teacher_val.history[0]
        return {
            "config": self.config.to_dict(),
            **dict(self.extra),
            "before": self.before.to_dict(),
            "after": self.after.to_dict(),
            "sparsity": self.sparsity,
            "energy_rel": self.energy_rel,
            "source_val": {
                "val_loss": tv.val_loss,
                "val_accuracy": tv.val_accuracy,
                "val_macro_f1": tv.val_macro_f1,
            },
            "steps": [s.to_dict() for s in self.steps],
        }


def _progress(enabled: bool) -> Any:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[info]}"),
        console=Console(stderr=True),
        disable=not enabled,
    )


def _dynamic_betas(model: ECGModel, config: CompressConfig) -> dict[str, float]:
    """``β_l`` of the dynamic schedule, fixed from the unpruned model: by depth for ``l1``, by
    energy share for ``energy`` (:func:`cardiostream.edge.prune.schedule_betas`)."""
    names = list(_prune.prunable_layers(model, include_head=config.include_head))
    if config.method == "energy":
        energies = _prune.layer_energies(model, _example(model), term=config.energy_term)
        return _prune.schedule_betas(names, config.steps, by="energy", energies=energies)
    return _prune.schedule_betas(names, config.steps, by="depth")


def _unstructured_masks(
    model: ECGModel,
    config: CompressConfig,
    t: int,
    previous: _prune.Masks,
    betas: dict[str, float] | None,
) -> tuple[_prune.Masks, float]:
    """Masks after step ``t`` and the global sparsity they aim at."""
    head = config.include_head
    if config.method == "energy":
        energies = _prune.layer_energies(model, _example(model), term=config.energy_term)
        scores = _prune.energy_aware_scores(
            model, energies, config.alpha, include_head=head, combine=config.energy_combine
        )
    else:
        scores = _prune.magnitude_scores(model, include_head=head)
    if betas is None:
        target = config.targets[t - 1]
        return _prune.global_masks(scores, target, previous=previous), target
    per_layer = {n: _prune.dynamic_sparsity(config.sparsity, betas[n], t) for n in scores}
    n = {k: v.numel() for k, v in scores.items()}
    target = sum(per_layer[k] * n[k] for k in scores) / sum(n.values())
    return _prune.layerwise_masks(scores, per_layer, previous=previous), target


def _example(model: ECGModel) -> torch.Tensor:
    from .costs import example_input

    return example_input(model)


def compress_model(
    model: ECGModel,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_val: torch.Tensor,
    y_val: torch.Tensor,
    config: CompressConfig,
    *,
    batch_size: int = 256,
    task_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    progress: bool = False,
    on_step: Callable[[CompressStep, ECGModel], None] | None = None,
) -> CompressResult:
    """Prune and fine-tune a copy of ``model`` (the teacher, left unchanged) on tensors.

    Parameters
    ----------
    model : ECGModel
        The trained source model; its logits are the distillation targets.
    x_train, y_train, x_val, y_val : torch.Tensor
        Fine-tuning and validation inputs ``(n, C, L)`` and int64 labels.
    config : CompressConfig
    batch_size : int
        Fine-tuning batch when ``config.batch_size`` is None.
    task_loss : callable, optional
        ``(logits, target) -> loss`` of the source run (default cross-entropy).
    progress : bool
        Rich progress bar on stderr.
    on_step : callable, optional
        Called with every finished :class:`CompressStep` and the model after it (eval mode;
        read it, do not change it).
    """
    import copy

    if not isinstance(model, ECGModel):
        raise InvalidParameterError(
            f"The 'model' parameter must be a torch ECGModel, got {type(model).__name__} instead."
        )
    teacher = model.eval()
    k = teacher.num_classes
    torch.manual_seed(config.seed)
    before = model_cost(teacher)
    teacher_val = finetune(teacher, x_train[:0], y_train[:0], x_val, y_val, epochs=0, num_classes=k)
    t_logits = predict_batches(teacher, x_train) if config.kd_alpha > 0 else None
    bs = config.batch_size or batch_size
    structured = config.method == "structured"
    if structured:
        ref_widths = _structured.group_widths(teacher)
        student: ECGModel = teacher
    else:
        student = copy.deepcopy(teacher)
        masks = _prune.masks_from_zeros(student, include_head=config.include_head)
        betas = _dynamic_betas(teacher, config) if config.schedule == "dynamic" else None
    steps: list[CompressStep] = []
    n_batches = math.ceil(len(y_train) / bs) * config.finetune_epochs
    with _progress(progress) as bar:
        task = bar.add_task("compress", total=config.steps * max(n_batches, 1), info="")
        for t in range(1, config.steps + 1):
            t0 = time.perf_counter()
            target = config.targets[t - 1]
            bar.update(task, description=f"step {t}/{config.steps}")
            widths = None
            if structured:
                widths = _structured.target_widths(
                    ref_widths, target, min_channels=config.min_channels
                )
                student = _structured.prune_channels(student, widths)
                step_masks = None
            else:
                masks, target = _unstructured_masks(student, config, t, masks, betas)
                masks.apply(student)
                step_masks = masks
            cost = model_cost(student)
            sparsity = 1.0 - cost.params / before.params if structured else cost.prunable_sparsity
            ft = finetune(
                student,
                x_train,
                y_train,
                x_val,
                y_val,
                epochs=config.finetune_epochs,
                num_classes=k,
                lr=config.lr,
                batch_size=bs,
                seed=config.seed + t,
                masks=step_masks,
                teacher_logits=t_logits,
                kd_alpha=config.kd_alpha,
                kd_temperature=config.kd_temperature,
                task_loss=task_loss,
                on_batch=lambda: bar.advance(task),
            )
            if n_batches == 0:
                bar.advance(task)
            step = CompressStep(
                t,
                target,
                sparsity,
                cost,
                cost.energy_pj / before.energy_pj if before.energy_pj else 1.0,
                ft,
                None if widths is None else MappingProxyType(dict(widths)),
                time.perf_counter() - t0,
            )
            steps.append(step)
            bar.update(
                task,
                info=f"sparsity {100 * sparsity:.1f} % · energy {step.energy_rel:.2f}× · "
                f"val F1 {100 * ft.val_macro_f1:.1f} %",
            )
            if on_step is not None:
                on_step(step, student.eval())
    student.eval()
    after = model_cost(student) if steps else before
    return CompressResult(student, tuple(steps), before, after, config, teacher_val)


def _subset(rows: np.ndarray, n: int | None, seed: int) -> np.ndarray:
    if n is None or rows.size <= n:
        return rows
    return np.sort(np.random.default_rng(seed).permutation(rows)[:n])


def compress_run(
    run_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    config: CompressConfig,
    *,
    command: str | None = None,
    progress: bool = True,
    data: PreparedData | None = None,
    on_step: Callable[[CompressStep, ECGModel], None] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> CompressResult:
    """Compress the run in ``run_dir`` and write the new run to ``out_dir`` (module docstring).

    Parameters
    ----------
    run_dir : path
        A torch run written by :func:`cardiostream.training.train` (beat runs on MIT-BIH).
    out_dir : path
        The new run directory (created; must differ from ``run_dir``).
    config : CompressConfig
    command : str, optional
        Command line recorded in the new checkpoint.
    progress : bool
        Progress bar on stderr.
    data : PreparedData, optional
        The source run's beats and split, when the caller already built them
        (:func:`cardiostream.training.prepare_data` of the run's configuration).
    on_step : callable, optional
        Passed to :func:`compress_model` (e.g. to score every step's model on test data).
    data_dir, cache_dir : path, optional
        MIT-BIH data root and beat cache.
    """
    from ..training import (
        RunMeta,
        TensorSet,
        cap_class_sizes,
        load_checkpoint,
        prepare_data,
        save_checkpoint,
    )
    from ..training.data import encode_labels
    from ..training.loop import _criterion, num_threads

    if not isinstance(config, CompressConfig):
        raise InvalidParameterError(
            f"The 'config' parameter must be a CompressConfig, got {type(config).__name__}."
        )
    src, out = Path(run_dir), Path(out_dir)
    if out.resolve() == src.resolve():
        raise InvalidParameterError(
            f"The 'out' parameter must be a new run directory, not the source run {str(src)!r}."
        )
    model, meta = load_checkpoint(src)
    if not isinstance(model, ECGModel):
        raise InvalidParameterError(
            f"The run {str(src)!r} holds a {meta.framework} model; compression needs a torch model."
        )
    tc, prep = meta.train_config, meta.preprocessing
    if data is None:
        data = prepare_data(tc, data_dir=data_dir, cache_dir=cache_dir)
    if data.split.summary()["n_train"] != meta.split.get("n_train"):
        raise InvalidParameterError(
            f"The data given for run {str(src)!r} do not match its split (n_train "
            f"{data.split.summary()['n_train']} vs {meta.split.get('n_train')})."
        )
    beats = data.dataset.beats
    train_rows = data.split.train
    if config.max_train_beats is not None:
        _, codes = encode_labels(beats.labels, prep.classes)
        train_rows = cap_class_sizes(train_rows, codes, config.max_train_beats, seed=config.seed)
    val_rows = _subset(data.split.val, config.max_val_beats, config.seed)
    with num_threads(config.num_threads):
        tr = TensorSet.from_beats(beats, prep, train_rows)
        va = TensorSet.from_beats(beats, prep, val_rows)
        xt, yt = as_tensors(tr.x, tr.y)
        xv, yv = as_tensors(va.x, va.y)
        criterion: nn.Module = _criterion(tc, np.asarray(tr.y), model.num_classes)
        result = compress_model(
            model,
            xt,
            yt,
            xv,
            yv,
            config,
            batch_size=tc.batch_size,
            task_loss=criterion,
            progress=progress,
            on_step=on_step,
        )
    extra = {
        "source_run": str(src),
        "source_model": dict(meta.model_config),
        "n_finetune": len(tr),
        "n_val_scored": len(va),
    }
    result = dataclasses.replace(result, extra=extra)
    new_meta = RunMeta(
        model_config=result.model.model_config(),
        preprocessing=prep,
        train_config=tc,
        split=meta.split,
        metrics={**dict(meta.metrics), "compress": result.to_dict()},
        command=command if command is not None else f"compress_run({str(src)!r})",
        framework="torch",
        n_params=count_parameters(result.model),
    )
    run = save_checkpoint(out, result.model, new_meta)
    return dataclasses.replace(result, meta=new_meta, run_dir=run)
