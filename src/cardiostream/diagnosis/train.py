"""Train a record-level (PTB-XL) model, optionally distilling a 12-lead teacher.

Protocol of Strodthoff et al. (2021): folds 1-8 train, fold 9 validates (early stopping on the
validation macro-AUROC, decision thresholds), fold 10 is only read by
:func:`cardiostream.diagnosis.evaluate_diagnosis`. Each epoch sees one random 2.5 s crop of
every training record; validation records are scored on sliding windows whose probabilities are
aggregated. Distillation follows Su et al. (2026, ../shared/papers/000): the teacher sees all
12 leads of the same crop the student sees one lead of.
"""

from __future__ import annotations

import copy
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from torch import nn

from ..datasets import load_ptbxl
from ..datasets.ptbxl import PtbxlDataset
from ..errors import InvalidParameterError
from ..models import ECGModel, count_parameters, create_model, model_info
from ..training.loop import num_threads
from .checkpoint import DiagnosisMeta, RecordPreprocessing, load_diagnosis_run, save_diagnosis_run
from .config import DiagnosisConfig
from .data import LeadNormalizer, lead_indices, random_crops, window_starts
from .metrics import multilabel_metrics, tune_thresholds
from .predict import predict_windows

__all__ = ["DiagnosisRun", "PtbxlSplits", "hybrid_kd_loss", "load_splits", "train_diagnosis"]

PTBXL_RATE = 100.0


@dataclass(frozen=True)
class PtbxlSplits:
    """Raw signals (mV) and labels of the three folds of one task (records with a label)."""

    classes: tuple[str, ...]
    leads: tuple[str, ...]
    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    ecg_ids: dict[str, np.ndarray]


def load_splits(
    task: str,
    *,
    data_dir: object = None,
    progress: bool = True,
    dataset: PtbxlDataset | None = None,
) -> PtbxlSplits:
    """Folds 1-8 / 9 / 10 of ``task``, keeping only records with at least one label."""
    ds = dataset if dataset is not None else load_ptbxl(task, data_dir=data_dir, progress=progress)
    if ds.task != task:
        raise InvalidParameterError(f"The dataset holds task {ds.task!r}, not {task!r}.")
    x, y, ids = {}, {}, {}
    for split in ("train", "val", "test"):
        rows = ds.split_indices(split)
        rows = rows[ds.has_label[rows]]
        x[split] = ds.signals[rows]
        y[split] = ds.labels[rows].astype(np.float32)
        ids[split] = ds.ecg_ids[rows]
    return PtbxlSplits(ds.classes, ds.leads, x, y, ids)


def hybrid_kd_loss(
    student_logits: torch.Tensor,
    targets: torch.Tensor,
    teacher_logits: torch.Tensor | None,
    *,
    alpha: float,
    temperature: float,
) -> torch.Tensor:
    """``(1 - α) BCE(y, σ(z_s)) + α T² BCE(σ(z_t/T), σ(z_s/T))`` for multi-label outputs.

    The soft term is the multi-label form of Hinton et al.'s (2015) distillation loss: each
    class is a Bernoulli variable softened by ``T``; ``T²`` keeps its gradients on the scale of
    the hard term. Without a teacher (or with ``α = 0``) it is plain BCE.
    """
    hard = nn.functional.binary_cross_entropy_with_logits(student_logits, targets)
    if teacher_logits is None or alpha == 0:
        return hard
    soft_t = torch.sigmoid(teacher_logits / temperature)
    soft = nn.functional.binary_cross_entropy_with_logits(student_logits / temperature, soft_t)
    return (1 - alpha) * hard + alpha * temperature**2 * soft


@dataclass(frozen=True)
class DiagnosisRun:
    """What :func:`train_diagnosis` produced."""

    run_dir: Path
    model: ECGModel
    meta: DiagnosisMeta


def _progress(enabled: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[info]}"),
        console=Console(stderr=True),
        disable=not enabled,
    )


def _command() -> str:
    return shlex.join(["cardiostream", *sys.argv[1:]]) if sys.argv else ""


def train_diagnosis(
    config: DiagnosisConfig,
    out: str | Path,
    *,
    data_dir: object = None,
    splits: PtbxlSplits | None = None,
    progress: bool = True,
    command: str | None = None,
) -> DiagnosisRun:
    """Train ``config.model`` on ``config.task`` and write a run directory ``out``.

    Parameters
    ----------
    config : DiagnosisConfig
    out : path
        Run directory to write.
    data_dir : path, optional
        Data root holding ``ptbxl/``.
    splits : PtbxlSplits, optional
        Already loaded data of ``config.task`` (benchmarks reuse it across models).
    """
    info = model_info(config.model)
    if "ecg12" not in info.input_kinds:
        raise InvalidParameterError(
            f"The 'model' parameter must name a record-level model (input 'ecg12'), got "
            f"{config.model!r} (inputs {list(info.input_kinds)})."
        )
    splits = (
        splits
        if splits is not None
        else load_splits(config.task, data_dir=data_dir, progress=progress)
    )
    cols = lead_indices(config.leads, splits.leads)
    window = round(config.crop_s * PTBXL_RATE)
    stride = round(config.stride_s * PTBXL_RATE)
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)

    x_train, y_train = splits.x["train"], splits.y["train"]
    if config.max_train_records is not None and config.max_train_records < len(x_train):
        keep = np.sort(rng.choice(len(x_train), config.max_train_records, replace=False))
        x_train, y_train = x_train[keep], y_train[keep]
    norm = LeadNormalizer.fit(x_train[:, :, cols])
    x_val, y_val = splits.x["val"], splits.y["val"]

    teacher = None
    teacher_norm = None
    teacher_cols = None
    if config.teacher is not None:
        teacher, tmeta = load_diagnosis_run(config.teacher)
        tp = tmeta.preprocessing
        if tp.task != config.task or tp.classes != splits.classes:
            raise InvalidParameterError(
                f"The teacher {config.teacher!r} predicts {tp.task} {list(tp.classes)}; the "
                f"student is trained on {config.task} {list(splits.classes)}."
            )
        teacher_norm = tp.normalizer
        teacher_cols = lead_indices(tp.leads, splits.leads)
        for p in teacher.parameters():
            p.requires_grad_(False)

    k = len(splits.classes)
    model = create_model(
        config.model,
        num_classes=k,
        input_kind="ecg12",
        input_length=window,
        input_channels=len(cols),
        input_fs=PTBXL_RATE,
        **dict(config.model_hparams),
    )
    if not isinstance(model, ECGModel):
        raise InvalidParameterError(
            f"The 'model' parameter must name a torch model: {config.model!r}."
        )
    if config.init_from is not None:
        init, _ = load_diagnosis_run(config.init_from)
        if init.model_config() != model.model_config():
            raise InvalidParameterError(
                f"The 'init_from' run {config.init_from!r} holds {init.model_config()}, which "
                f"differs from the model being trained ({model.model_config()})."
            )
        model.load_state_dict(init.state_dict(), strict=True)
    hint: nn.Module | None = None
    params = list(model.parameters())
    if teacher is not None and config.hint_weight > 0:
        hint = nn.Linear(model.num_features, teacher.num_features)
        params += list(hint.parameters())
    opt = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    steps = int(np.ceil(len(x_train) / config.batch_size))
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=config.lr, total_steps=config.epochs * steps, pct_start=0.3
    )
    y_train_t = torch.from_numpy(y_train)
    xv = norm(x_val[:, :, cols])

    grid = None
    if config.crop_grid_s is not None:
        grid = window_starts(x_train.shape[1], window, round(config.crop_grid_s * PTBXL_RATE))
    t_cache = None
    if teacher is not None and grid is not None:
        with num_threads(config.num_threads):
            t_cache = _teacher_outputs(teacher, x_train, teacher_cols, teacher_norm, grid, window)

    history: list[dict[str, Any]] = []
    best_auc, best_epoch, best_state = -np.inf, 0, copy.deepcopy(model.state_dict())
    best_val_p: np.ndarray | None = None
    stop_reason = "epochs"
    t0 = time.perf_counter()
    with num_threads(config.num_threads), _progress(progress) as bar:
        task_id = bar.add_task(f"{config.model} {config.task}", total=config.epochs, info="")
        for epoch in range(1, config.epochs + 1):
            model.train()
            if grid is None:
                crops = random_crops(x_train, window, rng)  # (n, 12, window) raw mV
                pos = None
            else:
                pos = rng.integers(0, len(grid), size=len(x_train))
                crops = _grid_crops(x_train, grid[pos], window)
            order = torch.from_numpy(rng.permutation(len(crops)))
            losses = []
            for b in range(steps):
                idx = order[b * config.batch_size : (b + 1) * config.batch_size]
                if len(idx) < 2:  # batch-normalised heads cannot train on one example
                    continue
                raw = crops[idx.numpy()]
                xb = torch.from_numpy(_normalise(raw[:, cols, :], norm))
                yb = y_train_t[idx]
                feats = model.forward_features(xb)
                logits = model.forward_head(feats)
                t_logits = None
                loss_hint = None
                if teacher is not None:
                    if t_cache is not None and pos is not None:
                        ii = idx.numpy()
                        t_logits = torch.from_numpy(t_cache[0][ii, pos[ii]])
                        t_feats = torch.from_numpy(t_cache[1][ii, pos[ii]])
                    else:
                        with torch.no_grad():
                            xt = _normalise(raw[:, teacher_cols, :], teacher_norm)
                            t_feats = teacher.forward_features(torch.from_numpy(xt))
                            t_logits = teacher.forward_head(t_feats)
                    if hint is not None:
                        loss_hint = nn.functional.mse_loss(hint(feats), t_feats)
                loss = hybrid_kd_loss(
                    logits,
                    yb,
                    t_logits,
                    alpha=config.kd_alpha if teacher is not None else 0.0,
                    temperature=config.kd_temperature,
                )
                if loss_hint is not None:
                    loss = loss + config.hint_weight * loss_hint
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                losses.append(float(loss.detach()))
            # monitoring uses non-overlapping windows (4 per 10 s record, about half the cost);
            # the selected epoch is re-scored below with the test-time stride
            p_val = predict_windows(model, xv, window, window, config.aggregate)
            m = multilabel_metrics(y_val, p_val, splits.classes)
            elapsed = time.perf_counter() - t0
            history.append(
                {
                    "epoch": epoch,
                    "train_loss": round(float(np.mean(losses)), 6),
                    "val_macro_auroc": round(m.macro_auroc, 6),
                    "val_macro_f1": round(m.macro_f1, 6),
                    "seconds": round(elapsed, 1),
                }
            )
            if best_val_p is None or m.macro_auroc > best_auc:
                best_auc, best_epoch = m.macro_auroc, epoch
                best_state = copy.deepcopy(model.state_dict())
                best_val_p = p_val
            bar.update(
                task_id,
                advance=1,
                info=f"loss {np.mean(losses):.4f} val AUROC {m.macro_auroc:.4f} "
                f"(best {best_auc:.4f})",
            )
            if config.patience and epoch - best_epoch >= config.patience:
                stop_reason = "early_stopping"
                break
            if config.max_minutes is not None and elapsed > 60 * config.max_minutes:
                stop_reason = "max_minutes"
                break
    train_seconds = time.perf_counter() - t0
    model.load_state_dict(best_state)
    model.eval()
    with num_threads(config.num_threads):
        best_val_p = predict_windows(model, xv, window, stride, config.aggregate)
    thresholds = tune_thresholds(y_val, best_val_p)
    val = multilabel_metrics(y_val, best_val_p, splits.classes, thresholds)
    prep = RecordPreprocessing(
        fs=PTBXL_RATE,
        window=window,
        stride=stride,
        leads=config.leads,
        task=config.task,
        classes=splits.classes,
        normalizer=norm,
        aggregate=config.aggregate,
        thresholds=tuple(thresholds),
    )
    meta = DiagnosisMeta(
        model_config=model.model_config(),
        preprocessing=prep,
        train_config=config,
        split={
            "train_folds": [1, 2, 3, 4, 5, 6, 7, 8],
            "val_folds": [9],
            "test_folds": [10],
            "n_train": len(x_train),
            "n_val": len(x_val),
            "n_test": len(splits.x["test"]),
        },
        metrics={
            "fit": {
                "best_epoch": best_epoch,
                "epochs_run": len(history),
                "stop_reason": stop_reason,
                "train_seconds": round(train_seconds, 1),
                "history": history,
            },
            "val": val.to_dict(),
            "teacher": config.teacher,
        },
        command=command if command is not None else _command(),
        n_params=count_parameters(model),
    )
    run_dir = save_diagnosis_run(out, model, meta)
    return DiagnosisRun(run_dir, model, meta)


def _grid_crops(x: np.ndarray, starts: np.ndarray, window: int) -> np.ndarray:
    """Crops ``(n, leads, window)`` of records ``x`` starting at ``starts`` (one per record)."""
    idx = starts[:, None] + np.arange(window)[None, :]
    return np.ascontiguousarray(np.take_along_axis(x, idx[:, :, None], axis=1).transpose(0, 2, 1))


@torch.no_grad()
def _teacher_outputs(
    teacher: ECGModel,
    x: np.ndarray,
    cols: np.ndarray,
    norm: LeadNormalizer,
    grid: np.ndarray,
    window: int,
    batch: int = 512,
) -> tuple[np.ndarray, np.ndarray]:
    """Teacher logits ``(n, g, k)`` and features ``(n, g, F)`` at every grid crop, computed
    once so each student epoch only looks them up."""
    n, g = len(x), len(grid)
    logits = np.empty((n, g, teacher.num_classes), dtype=np.float32)
    feats = np.empty((n, g, teacher.num_features), dtype=np.float32)
    for j, start in enumerate(grid):
        crop = _normalise(
            np.ascontiguousarray(x[:, start : start + window][:, :, cols].transpose(0, 2, 1)),
            norm,
        )
        for i in range(0, n, batch):
            f = teacher.forward_features(torch.from_numpy(crop[i : i + batch]))
            feats[i : i + batch, j] = f.numpy()
            logits[i : i + batch, j] = teacher.forward_head(f).numpy()
    return logits, feats


def _normalise(raw: np.ndarray, norm: LeadNormalizer) -> np.ndarray:
    """Standardise channels-first crops ``(n, leads, window)``."""
    mean = np.asarray(norm.mean, dtype=np.float32)[None, :, None]
    std = np.asarray(norm.std, dtype=np.float32)[None, :, None]
    return ((raw - mean) / std).astype(np.float32)
