"""Run directories for the edge tools: the model of any run, and inputs of a beat run's records.

:func:`load_run_model` rebuilds the model of any run directory (a beat run of
:mod:`cardiostream.training` or a PTB-XL diagnosis run: both hold ``model.safetensors`` and a
``run.json`` with ``model_config``), so profiling and export never depend on one task's
metadata. :func:`beat_run_inputs` repeats a beat run's preprocessing on some of its records
through :mod:`cardiostream.training` (the same beats, labels and transformation as training),
for INT8 calibration (training records) and evaluation (held-out records).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataNotFoundError, InvalidParameterError, check_param

__all__ = ["BEAT_PARTS", "beat_run_inputs", "heldout_records", "load_run_model", "read_run_json"]

#: ``train``: the run's training records; ``heldout``: its test records, else its validation
#: records (never used to fit weights).
BEAT_PARTS: tuple[str, ...] = ("train", "heldout")


def read_run_json(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The parsed ``run.json`` of ``run_dir``."""
    path = Path(run_dir) / "run.json"
    if not path.is_file():
        raise DataNotFoundError(
            f"The 'run_dir' parameter must be a run directory holding run.json, got "
            f"{str(run_dir)!r} (no {path.name})."
        )
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("model_config"), dict):
        raise InvalidParameterError(
            f"The run.json of {str(run_dir)!r} must hold a 'model_config' mapping."
        )
    return data


def load_run_model(run_dir: str | os.PathLike[str]) -> Any:
    """The torch model of ``run_dir`` in eval mode on the CPU (weights loaded strictly).

    Beat runs load through :func:`cardiostream.training.load_checkpoint` (which also checks the
    parameter count); other runs (PTB-XL diagnosis) through their ``model_config``.
    """
    from safetensors.torch import load_model

    from ..models import ECGModel, create_model

    data = read_run_json(run_dir)
    try:
        from ..training import load_checkpoint

        model, _ = load_checkpoint(run_dir)
    except (InvalidParameterError, KeyError, TypeError):  # not a beat run's run.json
        model = create_model(**data["model_config"])
        path = Path(run_dir) / "model.safetensors"
        if not path.is_file():
            raise DataNotFoundError(
                f"The run directory {str(run_dir)!r} has no model.safetensors."
            ) from None
        if isinstance(model, ECGModel):
            load_model(model, str(path), strict=True, device="cpu")
    if not isinstance(model, ECGModel):
        raise InvalidParameterError(
            f"The run in {str(run_dir)!r} must hold a torch model, got "
            f"{type(model).__name__} (scikit-learn models have no edge path)."
        )
    return model.cpu().eval()


def heldout_records(meta: Any) -> tuple[str, ...]:
    """A beat run's test records, else its validation records (both never fit weights)."""
    split = dict(meta.split)
    return tuple(split.get("test_records") or split.get("val_records") or ())


def beat_run_inputs(
    run_dir: str | os.PathLike[str],
    part: str,
    *,
    records: Sequence[str] | None = None,
    max_records: int | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Any:
    """Model inputs and labels of a beat run's records, preprocessed as in training.

    Parameters
    ----------
    run_dir : path
        A run of ``cardiostream train``.
    part : {"train", "heldout"}
        Which records (:data:`BEAT_PARTS`); ``records`` must be among them.
    records : sequence of str, optional
        A subset of the part's records (default all, or ``max_records`` drawn with ``seed``).
    max_records, max_examples : int, optional
        Caps: records drawn, then examples drawn uniformly without replacement, with ``seed``.
    seed : int
    data_dir, cache_dir : path, optional
        MIT-BIH root and beat cache.

    Returns
    -------
    TensorSet
        ``x`` ``(n, 1, length)`` float32, ``y`` class indices into the run's classes,
        ``record_ids``; each record is transformed whole (causal templates), then subsampled.
    """
    from ..training import TensorSet, read_meta
    from ..training.data import encode_labels, load_mitdb_beats

    check_param("part", part, part in BEAT_PARTS, f"one of {list(BEAT_PARTS)}")
    meta = read_meta(run_dir)
    available = tuple(
        dict(meta.split).get("train_records") or () if part == "train" else heldout_records(meta)
    )
    if not available:
        raise DataNotFoundError(
            f"The run in {str(run_dir)!r} records no {part} records in run.json's split."
        )
    rng = np.random.default_rng(seed)
    if records is None:
        chosen = list(available)
        if max_records is not None and max_records < len(chosen):
            chosen = sorted(rng.choice(chosen, size=max_records, replace=False).tolist())
    else:
        chosen = [str(r) for r in records]
        bad = sorted(set(chosen) - set(available))
        check_param("records", bad or chosen, not bad, f"records of the run's {part} part")
    prep = meta.preprocessing
    beats = load_mitdb_beats(
        meta.train_config, chosen, data_dir=data_dir, cache_dir=cache_dir
    ).beats
    keep, _ = encode_labels(beats.labels, prep.classes)
    rows = np.flatnonzero(keep & prep.usable(beats))
    if max_examples is not None and max_examples < rows.size:
        rows = np.sort(rng.choice(rows, size=max_examples, replace=False))
    return TensorSet.from_beats(beats, prep, rows)
