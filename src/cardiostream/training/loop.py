"""The seeded training loop: Adam, mini-batches, early stopping on the validation split.

Follows paper 001 (section 3.4): Adam (Kingma & Ba 2015) with learning rate 1e-3, batch 256, at
most 50 epochs with early stopping. After every epoch the model is scored on the validation
split (carved from the training records only, :mod:`.splits`); training stops after
``patience`` epochs without improvement of the monitored value and the weights of the best epoch
are restored. Options: per-class loss weights (``balanced``: ``n / (k n_c)``) and the focal loss
of Lin et al., "Focal loss for dense object detection", ICCV 2017.

Runs are reproducible on one machine: ``torch.manual_seed`` seeds the initialisation (done by the
caller before building the model) and a dedicated generator orders the batches.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from torch import nn

from ..errors import InvalidParameterError
from ..metrics import classification_report
from ..models import ClassicalModel, ECGModel
from .config import TrainConfig
from .data import TensorSet

__all__ = ["EpochLog", "FitResult", "FocalLoss", "class_weights", "fit_model", "num_threads"]


@dataclass(frozen=True)
class EpochLog:
    """Scores after one epoch (losses are mean cross-entropy / focal loss per beat)."""

    epoch: int
    train_loss: float
    val_loss: float
    val_accuracy: float
    val_macro_f1: float
    seconds: float


@dataclass(frozen=True)
class FitResult:
    """What happened during training.

    Attributes
    ----------
    history : tuple of EpochLog
        One entry per epoch run (empty for classical models).
    best_epoch : int
        Epoch whose weights were kept (1-based; 0 for classical models).
    stop_reason : str
        ``"patience"``, ``"max_epochs"``, ``"max_minutes"`` or ``"fitted"`` (classical).
    seconds : float
        Wall time of the fit.
    val_loss, val_accuracy, val_macro_f1 : float
        Validation scores of the kept weights (val_loss: unweighted cross-entropy).
    """

    history: tuple[EpochLog, ...]
    best_epoch: int
    stop_reason: str
    seconds: float
    val_loss: float
    val_accuracy: float
    val_macro_f1: float

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["history"] = [asdict(h) for h in self.history]
        return d


def class_weights(y: np.ndarray, num_classes: int, scheme: str) -> np.ndarray | None:
    """Per-class loss weights from training labels ``y``.

    ``none`` gives None; ``balanced`` gives ``n / (k n_c)`` over the ``k`` classes present
    (scikit-learn's "balanced"); ``sqrt`` its square root. Absent classes get weight 0.
    """
    if scheme == "none":
        return None
    if scheme not in ("balanced", "sqrt"):
        raise InvalidParameterError(
            f"The 'class_weighting' parameter must be one of ['none', 'balanced', 'sqrt'], got "
            f"{scheme!r} instead."
        )
    counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=num_classes).astype(float)
    present = counts > 0
    w = np.zeros(num_classes)
    w[present] = counts.sum() / (present.sum() * counts[present])
    return np.sqrt(w) if scheme == "sqrt" else w


class FocalLoss(nn.Module):
    """Focal loss ``-w_y (1 - p_y)^gamma log p_y`` averaged over the batch (Lin et al. 2017).

    ``weight`` plays the role of the paper's ``alpha_t``; ``gamma = 0`` is weighted
    cross-entropy (averaged per beat, not per unit weight).
    """

    def __init__(self, gamma: float = 2.0, weight: torch.Tensor | None = None) -> None:
        super().__init__()
        self.gamma = float(gamma)
        self.register_buffer("weight", weight if weight is not None else None)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        logp = torch.log_softmax(logits, dim=1).gather(1, target[:, None])[:, 0]
        loss = -((1.0 - logp.exp()) ** self.gamma) * logp
        if self.weight is not None:
            loss = loss * self.weight[target]
        return loss.mean()


def _criterion(config: TrainConfig, y: np.ndarray, k: int) -> nn.Module:
    w = class_weights(y, k, config.class_weighting)
    if config.class_weight_scale:
        w = np.ones(k) if w is None else w
        for i, name in enumerate(config.class_names[:k]):
            w[i] *= config.class_weight_scale.get(name, 1.0)
    wt = None if w is None else torch.tensor(w, dtype=torch.float32)
    if config.loss == "focal":
        return FocalLoss(config.focal_gamma, wt)
    return nn.CrossEntropyLoss(weight=wt)


@contextmanager
def num_threads(n: int) -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(n)``, restoring the previous value."""
    old = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(old)


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise InvalidParameterError(
            "The 'device' parameter must name an available device, got 'cuda' without CUDA."
        )
    return torch.device(name)


@torch.no_grad()
def _logits(model: ECGModel, x: torch.Tensor, batch: int) -> torch.Tensor:
    model.eval()
    return torch.cat([model(x[i : i + batch]) for i in range(0, x.shape[0], batch)])


def _scores(logits: torch.Tensor, y: torch.Tensor, k: int) -> tuple[float, float, float]:
    loss = float(nn.functional.cross_entropy(logits, y).item())
    pred = logits.argmax(dim=1).cpu().numpy()
    rep = classification_report(y.cpu().numpy(), pred, classes=tuple(str(i) for i in range(k)))
    return loss, float(rep.accuracy), float(rep.macro.f1)


def _progress(enabled: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[info]}"),
        console=Console(stderr=True),
        disable=not enabled,
        transient=False,
    )


def fit_model(
    model: ECGModel | ClassicalModel,
    train: TensorSet,
    val: TensorSet,
    config: TrainConfig,
    *,
    progress: bool = True,
) -> FitResult:
    """Train ``model`` in place on ``train``, selecting and stopping on ``val``.

    Parameters
    ----------
    model : ECGModel or ClassicalModel
        Freshly built by :func:`cardiostream.models.create_model` (seed torch before building
        it). A classical model is fitted once on ``train``.
    train, val : TensorSet
        Training and validation inputs (validation from training records only).
    config : TrainConfig
        Optimiser, epochs, batch size, patience, monitor, loss, class weighting, threads.
    progress : bool
        Show a rich progress bar on stderr.
    """
    if len(train) == 0 or len(val) == 0:
        raise InvalidParameterError(
            f"The 'train' and 'val' sets must be non-empty, got {len(train)} and {len(val)} beats."
        )
    k = int(model.num_classes)
    t0 = time.perf_counter()
    with num_threads(config.num_threads):
        if isinstance(model, ClassicalModel):
            model.fit(np.asarray(train.x), np.asarray(train.y))
            p = np.clip(model.predict_proba(np.asarray(val.x)), 1e-12, 1.0)
            scores = _scores(torch.tensor(np.log(p)), torch.tensor(np.asarray(val.y)), k)
            return FitResult((), 0, "fitted", time.perf_counter() - t0, *scores)
        return _fit_torch(model, train, val, config, k, progress, t0)


def _fit_torch(
    model: ECGModel,
    train: TensorSet,
    val: TensorSet,
    config: TrainConfig,
    k: int,
    progress: bool,
    t0: float,
) -> FitResult:
    device = _device(config.device)
    model.to(device)
    xt = torch.tensor(np.asarray(train.x), device=device)
    yt = torch.tensor(np.asarray(train.y), device=device)
    xv = torch.tensor(np.asarray(val.x), device=device)
    yv = torch.tensor(np.asarray(val.y), device=device)
    criterion = _criterion(config, np.asarray(train.y), k).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    gen = torch.Generator().manual_seed(config.seed)
    higher = config.monitor == "val_macro_f1"
    best_value, best_epoch, best_state = -math.inf, 0, None
    history: list[EpochLog] = []
    stop_reason = "max_epochs"
    n_batches = math.ceil(len(train) / config.batch_size)
    with _progress(progress) as bar:
        epochs_task = bar.add_task("epochs", total=config.epochs, info="")
        batch_task = bar.add_task("batches", total=n_batches, info="")
        for epoch in range(1, config.epochs + 1):
            te = time.perf_counter()
            model.train()
            order = torch.randperm(len(train), generator=gen).to(device)
            total, seen = 0.0, 0
            bar.reset(batch_task, total=n_batches)
            for i in range(n_batches):
                b = order[i * config.batch_size : (i + 1) * config.batch_size]
                opt.zero_grad(set_to_none=True)
                loss = criterion(model(xt[b]), yt[b])
                loss.backward()
                opt.step()
                total += float(loss.item()) * b.numel()
                seen += b.numel()
                bar.advance(batch_task)
            v_loss, v_acc, v_f1 = _scores(_logits(model, xv, 1024), yv, k)
            log = EpochLog(epoch, total / seen, v_loss, v_acc, v_f1, time.perf_counter() - te)
            history.append(log)
            value = epoch if config.monitor == "last" else (v_f1 if higher else -v_loss)
            if value > best_value:
                best_value, best_epoch = value, epoch
                best_state = {n: t.detach().clone() for n, t in model.state_dict().items()}
            info = f"loss {log.train_loss:.4f} · val loss {v_loss:.4f} · val F1 {v_f1:.4f}"
            bar.update(epochs_task, advance=1, info=f"{info} · best epoch {best_epoch}")
            if config.patience and epoch - best_epoch >= config.patience:
                stop_reason = "patience"
                break
            if config.max_minutes and time.perf_counter() - t0 > 60 * config.max_minutes:
                stop_reason = "max_minutes"
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    best = history[best_epoch - 1]
    return FitResult(
        tuple(history),
        best_epoch,
        stop_reason,
        time.perf_counter() - t0,
        best.val_loss,
        best.val_accuracy,
        best.val_macro_f1,
    )
