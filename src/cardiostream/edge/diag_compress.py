"""Structured pruning of a PTB-XL diagnosis run, fine-tuned with distillation.

Channels of the model are removed by filter L1 norm (:mod:`.structured`, Li et al. 2017), the
smaller dense model is saved as an initialisation run, and :func:`cardiostream.diagnosis.
train_diagnosis` fine-tunes it on the same task, leads and protocol as the original, with the
unpruned run as the distillation teacher (logit distillation from the unpruned model during
fine-tuning, as paper 002's pipeline; the multi-label hybrid loss of
:func:`cardiostream.diagnosis.hybrid_kd_loss`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import check_param

__all__ = ["prune_diagnosis_run"]


def prune_diagnosis_run(
    run_dir: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    ratio: float = 0.5,
    epochs: int = 10,
    kd_alpha: float = 0.5,
    splits: Any = None,
    data_dir: object = None,
    progress: bool = False,
) -> Any:
    """Remove ``ratio`` of every channel group of ``run_dir``'s model and fine-tune it.

    Returns
    -------
    DiagnosisRun
        The fine-tuned smaller model's run (written to ``out``; the pruned, not yet fine-tuned
        initialisation is kept in ``<out>_init``).
    """
    from ..diagnosis import (
        DiagnosisMeta,
        load_diagnosis_run,
        load_splits,
        train_diagnosis,
    )
    from ..diagnosis.checkpoint import save_diagnosis_run
    from ..models import count_parameters
    from .structured import group_widths, prune_channels, target_widths

    ok = isinstance(ratio, int | float) and 0 < ratio < 1
    check_param("ratio", ratio, ok, "a fraction of channels in (0, 1)")
    model, meta = load_diagnosis_run(run_dir)
    small = prune_channels(model, target_widths(group_widths(model), ratio)).eval()
    cfg = meta.train_config
    sp = splits if splits is not None else load_splits(cfg.task, data_dir=data_dir, progress=False)
    # the initialisation run is kept next to ``out`` (the fine-tuned run's config points at it)
    init = Path(out).with_name(Path(out).name + "_init")
    mc = small.model_config()
    init_meta = DiagnosisMeta(
        model_config=mc,
        preprocessing=meta.preprocessing,
        train_config=cfg,
        split=meta.split,
        metrics={},
        command="structured pruning (initialisation)",
        n_params=count_parameters(small),
    )
    save_diagnosis_run(init, small, init_meta)
    hparams = {k: v for k, v in mc.items() if k not in _INPUT_AND_NAME}
    new_cfg = cfg.replace(
        model=str(mc["name"]),
        model_hparams=hparams,
        init_from=str(init),
        teacher=str(run_dir),
        kd_alpha=kd_alpha,
        epochs=epochs,
        hint_weight=0.0,
    )
    run = train_diagnosis(
        new_cfg,
        out,
        splits=sp,
        progress=progress,
        command=f"prune_diagnosis_run({str(run_dir)!r}, ratio={ratio}, epochs={epochs})",
    )
    return run


_INPUT_AND_NAME = (
    "name",
    "num_classes",
    "input_kind",
    "input_length",
    "input_channels",
    "input_fs",
)
