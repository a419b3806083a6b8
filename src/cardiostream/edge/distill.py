"""Logit distillation and the fine-tuning loop that runs after each pruning step.

Knowledge distillation (Hinton, Vinyals & Dean 2015, "Distilling the knowledge in a neural
network"; paper 002's "KD" stage, ../shared/papers/002):

``L = (1 − α)·L_task(y, z_s) + α·T²·KL(σ(z_t/T) ‖ σ(z_s/T))``

with ``z_t`` the logits of the unpruned teacher, ``z_s`` the pruned student's, ``σ`` the softmax
and ``T`` the temperature; the ``T²`` factor keeps the soft term's gradients on the scale of the
hard term's as ``T`` changes. ``L_task`` is the run's own training loss (cross-entropy, or its
class weighting / focal loss, :func:`cardiostream.training.loop.fit_model`), so ``α = 0`` is
exactly the original objective. The KL divergence is summed over classes and averaged over the
batch (``reduction="batchmean"``, the mathematical definition).

:func:`finetune` trains a (pruned) model for a few epochs with Adam, keeping pruned weights at
zero (their gradients are zeroed before every step and the masks re-applied after it), and
keeps the epoch with the best validation macro-F1 — epoch 0, the model as pruned, included.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import InvalidParameterError, check_param
from ..metrics import classification_report
from .prune import Masks

__all__ = [
    "FinetuneEpoch",
    "FinetuneResult",
    "as_tensors",
    "finetune",
    "kd_loss",
    "predict_batches",
]


def kd_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor | None,
    target: torch.Tensor,
    *,
    alpha: float = 0.5,
    temperature: float = 4.0,
    task_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """Distillation loss ``(1 − α)·L_task + α·T²·KL(σ(z_t/T) ‖ σ(z_s/T))`` (module docstring).

    Parameters
    ----------
    student_logits, teacher_logits : torch.Tensor, shape (B, C)
        ``teacher_logits`` may be None only when ``alpha == 0``.
    target : torch.Tensor of int64, shape (B,)
    alpha : float
        Weight of the soft term in [0, 1]; 0 is the task loss alone.
    temperature : float
        Softmax temperature ``T > 0``.
    task_loss : callable, optional
        ``(logits, target) -> loss``; default unweighted cross-entropy.
    """
    ok = isinstance(alpha, int | float) and not isinstance(alpha, bool) and 0 <= alpha <= 1
    check_param("kd_alpha", alpha, ok, "a weight in [0, 1]")
    ok = isinstance(temperature, int | float) and math.isfinite(temperature) and temperature > 0
    check_param("kd_temperature", temperature, ok, "a positive temperature")
    hard = (task_loss or nn.functional.cross_entropy)(student_logits, target)
    if alpha == 0:
        return hard
    if teacher_logits is None or teacher_logits.shape != student_logits.shape:
        got = None if teacher_logits is None else tuple(teacher_logits.shape)
        raise InvalidParameterError(
            f"The 'teacher_logits' parameter must have the student's shape "
            f"{tuple(student_logits.shape)} when kd_alpha > 0, got {got}."
        )
    t = float(temperature)
    log_p_s = torch.log_softmax(student_logits / t, dim=1)
    log_p_t = torch.log_softmax(teacher_logits.detach() / t, dim=1)
    soft = nn.functional.kl_div(log_p_s, log_p_t, reduction="batchmean", log_target=True)
    return (1.0 - alpha) * hard + alpha * t * t * soft


@torch.no_grad()
def predict_batches(model: nn.Module, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    """Logits of ``model`` in eval mode on ``x``, batch by batch (mode restored)."""
    was = model.training
    model.eval()
    try:
        out = [model(x[i : i + batch_size]) for i in range(0, x.shape[0], batch_size)]
    finally:
        model.train(was)
    return torch.cat(out) if out else x.new_zeros((0, 0))


@dataclass(frozen=True)
class FinetuneEpoch:
    """Scores after one fine-tuning epoch (epoch 0: the model as handed in, not trained)."""

    epoch: int
    train_loss: float | None
    val_loss: float
    val_accuracy: float
    val_macro_f1: float
    seconds: float


@dataclass(frozen=True)
class FinetuneResult:
    """History and the validation scores of the kept weights (``best_epoch``, 0 = untouched)."""

    history: tuple[FinetuneEpoch, ...]
    best_epoch: int
    val_loss: float
    val_accuracy: float
    val_macro_f1: float
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["history"] = [asdict(h) for h in self.history]
        return d


def _val_scores(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, k: int
) -> tuple[float, float, float]:
    logits = predict_batches(model, x)
    loss = float(nn.functional.cross_entropy(logits, y).item())
    pred = logits.argmax(dim=1).cpu().numpy()
    rep = classification_report(y.cpu().numpy(), pred, classes=tuple(str(i) for i in range(k)))
    return loss, float(rep.accuracy), float(rep.macro.f1)


def finetune(
    model: nn.Module,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_val: torch.Tensor,
    y_val: torch.Tensor,
    *,
    epochs: int,
    num_classes: int,
    lr: float = 3e-4,
    batch_size: int = 256,
    seed: int = 0,
    masks: Masks | None = None,
    teacher_logits: torch.Tensor | None = None,
    kd_alpha: float = 0.0,
    kd_temperature: float = 4.0,
    task_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    on_batch: Callable[[], None] | None = None,
) -> FinetuneResult:
    """Fine-tune ``model`` in place; keep the epoch (0 included) with the best val macro-F1.

    Parameters
    ----------
    model : nn.Module
        The (pruned) model; trained with a fresh Adam optimiser (``lr``, no weight decay).
    x_train, y_train, x_val, y_val : torch.Tensor
        Inputs ``(n, C, L)`` and int64 labels; validation only scores and selects.
    epochs : int
        Epochs (0: only score the model as it is).
    num_classes : int
    lr, batch_size, seed : float, int, int
        Adam's learning rate, mini-batch size, seed of the batch order.
    masks : Masks, optional
        Pruned weights stay exactly zero.
    teacher_logits : torch.Tensor, optional
        Teacher logits ``(n, C)`` aligned with ``x_train`` (needed when ``kd_alpha > 0``).
    kd_alpha, kd_temperature : float
        Distillation weight and temperature (:func:`kd_loss`).
    task_loss : callable, optional
        The run's training loss (default cross-entropy).
    on_batch : callable, optional
        Called after every optimiser step (progress bars).
    """
    ok = isinstance(epochs, int) and not isinstance(epochs, bool) and epochs >= 0
    check_param("finetune_epochs", epochs, ok, "an int >= 0")
    check_param("lr", lr, isinstance(lr, int | float) and lr > 0, "a positive learning rate")
    check_param(
        "batch_size", batch_size, isinstance(batch_size, int) and batch_size >= 1, "an int >= 1"
    )
    if x_train.shape[0] != y_train.shape[0] or x_val.shape[0] != y_val.shape[0]:
        raise InvalidParameterError(
            "The training and validation inputs must match their labels in length, got "
            f"{x_train.shape[0]}/{y_train.shape[0]} and {x_val.shape[0]}/{y_val.shape[0]}."
        )
    if len(y_val) == 0 or (epochs and len(y_train) == 0):
        raise InvalidParameterError(
            f"The training and validation sets must be non-empty, got {len(y_train)} and "
            f"{len(y_val)} examples."
        )
    if kd_alpha and (teacher_logits is None or teacher_logits.shape[0] != x_train.shape[0]):
        raise InvalidParameterError(
            "The 'teacher_logits' parameter must hold one row per training example when "
            "kd_alpha > 0."
        )
    t0 = time.perf_counter()
    if masks is not None:
        masks.apply(model)
    loss0, acc0, f10 = _val_scores(model, x_val, y_val, num_classes)
    history = [FinetuneEpoch(0, None, loss0, acc0, f10, time.perf_counter() - t0)]
    best_epoch, best_f1 = 0, f10
    best_state = copy.deepcopy(model.state_dict()) if epochs else None
    opt = torch.optim.Adam(model.parameters(), lr=float(lr))
    gen = torch.Generator().manual_seed(int(seed))
    n_batches = math.ceil(len(y_train) / batch_size) if epochs else 0
    for epoch in range(1, epochs + 1):
        te = time.perf_counter()
        model.train()
        order = torch.randperm(len(y_train), generator=gen)
        total, seen = 0.0, 0
        for i in range(n_batches):
            b = order[i * batch_size : (i + 1) * batch_size]
            opt.zero_grad(set_to_none=True)
            logits = model(x_train[b])
            tl = teacher_logits[b] if teacher_logits is not None else None
            loss = kd_loss(
                logits,
                tl,
                y_train[b],
                alpha=kd_alpha,
                temperature=kd_temperature,
                task_loss=task_loss,
            )
            loss.backward()
            if masks is not None:
                masks.mask_gradients(model)
            opt.step()
            if masks is not None:
                masks.apply(model)
            total += float(loss.item()) * b.numel()
            seen += b.numel()
            if on_batch is not None:
                on_batch()
        v_loss, v_acc, v_f1 = _val_scores(model, x_val, y_val, num_classes)
        history.append(
            FinetuneEpoch(epoch, total / seen, v_loss, v_acc, v_f1, time.perf_counter() - te)
        )
        if v_f1 > best_f1:
            best_epoch, best_f1 = epoch, v_f1
            best_state = copy.deepcopy(model.state_dict())
    if best_state is not None and best_epoch != epochs:
        model.load_state_dict(best_state)
    model.eval()
    best = history[best_epoch]
    return FinetuneResult(
        tuple(history),
        best_epoch,
        best.val_loss,
        best.val_accuracy,
        best.val_macro_f1,
        time.perf_counter() - t0,
    )


def as_tensors(x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """``(float32 inputs, int64 labels)`` tensors from arrays (copies, writable)."""
    return (
        torch.tensor(np.asarray(x, dtype=np.float32)),
        torch.tensor(np.asarray(y, dtype=np.int64)),
    )
