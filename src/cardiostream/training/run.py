"""One training run end to end: beats → split → inputs → model → fit → checkpoint.

:func:`prepare_data` is shared with evaluation, so ``cardiostream evaluate`` rebuilds exactly the
split a run was trained with (same records, labels, seed) and checks it against the run's record.
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from ..beats import BeatDataset
from ..datasets import MITDB_DS1, MITDB_DS2, mitdb_record_group
from ..errors import InvalidParameterError
from ..models import ClassicalModel, ECGModel, count_parameters, create_model, model_info
from .checkpoint import RunMeta, save_checkpoint
from .config import TrainConfig
from .data import (
    Preprocessing,
    TensorSet,
    encode_labels,
    fit_preprocessing,
    input_window_s,
    load_mitdb_beats,
    subset_beats,
)
from .loop import FitResult, fit_model
from .splits import Split, cap_class_sizes, inter_patient_split, intra_patient_split

__all__ = ["PreparedData", "TrainedRun", "build_model", "prepare_data", "protocol_records", "train"]


def protocol_records(config: TrainConfig) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(train_records, test_records)`` of ``config`` with the protocol's defaults.

    Intra: the 44 non-paced records (paper 001 drops 102, 104, 107, 217) and no test records
    (the test beats come from the same records). Full: the same 44, no test at all.
    Inter: DS1 and DS2 of de Chazal et al. 2004.
    """
    if config.protocol in ("intra", "full"):
        return config.train_records or mitdb_record_group("all"), ()
    return config.train_records or MITDB_DS1, config.test_records or MITDB_DS2


@dataclass(frozen=True, eq=False)
class PreparedData:
    """Beats of a configuration and their split.

    Attributes
    ----------
    dataset : BeatDataset
        Every beat of the train and test records (annotated positions).
    split : Split
        Indices into ``dataset.beats`` (only usable beats of the configured classes); ``train``
        already capped by ``max_train_beats``.
    n_uncapped_train : int
        Training beats before the cap.
    """

    dataset: BeatDataset
    split: Split
    n_uncapped_train: int


def prepare_data(
    config: TrainConfig,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> PreparedData:
    """Build the beats of ``config`` and split them by its protocol (see :mod:`.splits`).

    Beats whose label is outside the class set (F and Q for ``nsv``) or whose input is undefined
    (RR features of the first 43 beats of a record) are left out before splitting.
    """
    train_records, test_records = protocol_records(config)
    dataset = load_mitdb_beats(
        config, train_records + test_records, data_dir=data_dir, cache_dir=cache_dir
    )
    beats = dataset.beats
    probe = Preprocessing(
        config.input_kind, config.class_names, window_s=input_window_s(config.input_kind)
    )
    keep, codes = encode_labels(beats.labels, config.class_names)
    eligible = np.flatnonzero(keep & probe.usable(beats))
    y, rec = codes[eligible], np.asarray(beats.record_ids)[eligible]
    if config.protocol == "intra":
        s = intra_patient_split(
            y,
            rec,
            test_fraction=config.test_fraction,
            val_fraction=config.val_fraction,
            seed=config.seed,
        )
    else:
        s = inter_patient_split(
            y, rec, train_records, test_records, val_fraction=config.val_fraction, seed=config.seed
        )
        if config.protocol == "full":
            s = replace(s, protocol="full")
    train_idx = s.train
    if config.max_train_beats is not None:
        train_idx = cap_class_sizes(s.train, y, config.max_train_beats, seed=config.seed)
    split = Split(
        s.protocol,
        eligible[train_idx],
        eligible[s.val],
        eligible[s.test],
        s.train_records,
        s.val_records,
        s.test_records,
        s.seed,
    )
    return PreparedData(dataset, split, int(s.train.size))


def build_model(config: TrainConfig, prep: Preprocessing) -> ECGModel | ClassicalModel:
    """``create_model`` for ``config`` with the input of ``prep``, after seeding torch.

    Classical models get ``random_state = seed`` unless ``model_kwargs`` sets it.
    """
    info = model_info(config.model)
    if config.input_kind not in info.input_kinds:
        raise InvalidParameterError(
            f"The 'input_kind' parameter must be one of {list(info.input_kinds)} for model "
            f"{config.model!r}, got {config.input_kind!r} instead."
        )
    kwargs = dict(config.model_kwargs)
    if "random_state" in info.hparams:
        kwargs.setdefault("random_state", config.seed)
    torch.manual_seed(config.seed)
    return create_model(
        config.model,
        num_classes=len(prep.classes),
        input_kind=prep.input_kind,
        input_length=prep.length,
        input_fs=prep.fs if prep.input_kind in ("morph", "window") else None,
        **kwargs,
    )


@dataclass(frozen=True, eq=False)
class TrainedRun:
    """The result of :func:`train`: the fitted model, its metadata and where it was saved."""

    model: ECGModel | ClassicalModel
    meta: RunMeta
    run_dir: Path
    fit: FitResult
    data: PreparedData


def _command() -> str:
    return shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]])


def train(
    config: TrainConfig,
    run_dir: str | os.PathLike[str],
    *,
    command: str | None = None,
    progress: bool = True,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> TrainedRun:
    """Train the model of ``config`` and write its checkpoint to ``run_dir``.

    Parameters
    ----------
    config : TrainConfig
    run_dir : path
        Run directory (created; existing files of a previous run are overwritten).
    command : str, optional
        Command line recorded in the checkpoint (default: this process's ``sys.argv``).
    progress : bool
        Rich progress bar on stderr.
    data_dir, cache_dir : path, optional
        MIT-BIH data root and beat cache.
    """
    data = prepare_data(config, data_dir=data_dir, cache_dir=cache_dir)
    beats, split = data.dataset.beats, data.split
    prep = fit_preprocessing(config, subset_beats(beats, split.train))
    train_set = TensorSet.from_beats(beats, prep, split.train)
    val_set = TensorSet.from_beats(beats, prep, split.val)
    model = build_model(config, prep)
    fit = fit_model(model, train_set, val_set, config, progress=progress)
    n_params = count_parameters(model) if isinstance(model, ECGModel) else 0
    summary = {**split.summary(), "n_train_uncapped": data.n_uncapped_train}
    summary["train_class_counts"] = _class_counts(train_set.y, prep.classes)
    summary["val_class_counts"] = _class_counts(val_set.y, prep.classes)
    meta = RunMeta(
        model_config=model.model_config(),
        preprocessing=prep,
        train_config=config,
        split=summary,
        metrics={"fit": fit.to_dict()},
        command=command if command is not None else _command(),
        framework="sklearn" if isinstance(model, ClassicalModel) else "torch",
        n_params=n_params,
    )
    out = save_checkpoint(run_dir, model, meta)
    return TrainedRun(model, meta, out, fit, data)


def _class_counts(y: np.ndarray, classes: tuple[str, ...]) -> dict[str, int]:
    counts = np.bincount(np.asarray(y), minlength=len(classes))
    return {c: int(n) for c, n in zip(classes, counts, strict=True)}
