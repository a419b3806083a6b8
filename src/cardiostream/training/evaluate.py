"""Evaluate a trained run on its protocol's test set: metrics, CIs, calibration, abstention.

Protocols (issue 3, section 3):

* (a) ``intra``: the run's held-out 30 % of beats (papers 001 / 003);
* (b) ``inter``: the DS2 records at their annotated beat positions (de Chazal et al. 2004);
* (c) end-to-end (``protocol_c=True``, inter runs only): beats found by cardiostream's own
  detector on DS2 (:func:`cardiostream.beats.build_mitdb_dataset` with ``source="detector"``).
  A detection takes the class of the reference beat it matches within 150 ms (EC57). The
  classification report covers the matched, classified beats; :class:`EndToEnd` adds every
  reference beat that was not classified (undetected, too near the record's ends, or with an
  undefined input) to its class as a miss, so end-to-end Se is ``TP / reference beats``.
  Unmatched (false) detections are counted but not classified, so end-to-end +P ignores them.

Metrics come from :mod:`cardiostream.metrics` (accuracy, per-class precision / Se /
specificity / F1, macro and weighted averages, EC57 Se / +P / FPR, jκ of Mar et al. 2011,
confusion matrix) with percentile bootstrap 95 % CIs resampling *records*. Probabilities are
calibrated by temperature scaling on the run's validation split (:mod:`.calibration`);
the abstain option labels a beat ``"inconclusive"`` when its calibrated confidence is below a
threshold or (``quality_gate``) when :func:`cardiostream.quality.assess_quality` finds it in an
unusable stretch, and the coverage-accuracy curve is drawn for every threshold.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..datasets import load_mitdb_record
from ..errors import CardiostreamError, InvalidParameterError, check_param
from ..metrics import (
    BootstrapCI,
    ClassificationReport,
    CoverageCurve,
    bootstrap_cis,
    classification_report,
    coverage_accuracy_curve,
)
from ..models import ClassicalModel, ECGModel
from ..quality import assess_quality
from ..types import INCONCLUSIVE, Beats
from ._evaluation_files import write_evaluation
from .calibration import apply_temperature, fit_temperature, negative_log_likelihood
from .checkpoint import load_checkpoint
from .data import TensorSet, encode_labels, load_mitdb_beats
from .end_to_end import EndToEnd, end_to_end_stats
from .loop import num_threads
from .run import prepare_data, protocol_records

__all__ = [
    "ABSTAIN_LABEL",
    "Calibration",
    "Evaluation",
    "calibrate_run",
    "evaluate_run",
    "predict_logits",
]

ABSTAIN_LABEL = INCONCLUSIVE
_SPLIT_KEYS = ("protocol", "seed", "n_train", "n_val", "n_test", "val_records", "test_records")


def predict_logits(
    model: ECGModel | ClassicalModel, x: np.ndarray, batch_size: int = 1024
) -> np.ndarray:
    """Logits ``(n, k)`` float64: the torch model's outputs in eval mode, or the log of a
    classical model's probabilities (clipped at 1e-12)."""
    xa = np.asarray(x, dtype=np.float32)
    if isinstance(model, ClassicalModel):
        return np.log(np.clip(model.predict_proba(xa), 1e-12, 1.0))
    p = next(model.parameters())
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, xa.shape[0], batch_size):
            xb = torch.tensor(xa[i : i + batch_size], device=p.device, dtype=p.dtype)
            out.append(model(xb).double().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, model.num_classes))


@dataclass(frozen=True)
class Calibration:
    """Temperature scaling fitted on validation; NLL (nats per beat) before and after."""

    temperature: float
    val_nll_before: float
    val_nll_after: float
    test_nll_before: float
    test_nll_after: float

    def to_dict(self) -> dict[str, float]:
        return dict(self.__dict__)


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Everything :func:`evaluate_run` measured.

    Attributes
    ----------
    protocol : {"intra", "inter", "end_to_end"}
    report : ClassificationReport
        All test beats (no abstention), per-record matrices included.
    cis : Mapping of str to BootstrapCI
        Record-bootstrap 95 % CIs of the headline metrics.
    calibration : Calibration
    coverage : CoverageCurve
        Coverage and accuracy for every confidence threshold (calibrated top probability).
    abstain_threshold : float or None
    abstain_report : ClassificationReport or None
        With abstention (threshold and / or quality gate).
    end_to_end : EndToEnd or None
        Protocol (c) only.
    out_dir : Path or None
        Where the files were written.
    """

    protocol: str
    report: ClassificationReport
    cis: Mapping[str, BootstrapCI]
    calibration: Calibration
    coverage: CoverageCurve
    abstain_threshold: float | None
    abstain_report: ClassificationReport | None
    end_to_end: EndToEnd | None
    out_dir: Path | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "protocol": self.protocol,
            "report": self.report.to_dict(),
            "ci": {name: ci.to_dict() for name, ci in self.cis.items()},
            "calibration": self.calibration.to_dict(),
            "abstain": None
            if self.abstain_report is None
            else {"threshold": self.abstain_threshold, "report": self.abstain_report.to_dict()},
            "end_to_end": None if self.end_to_end is None else self.end_to_end.to_dict(),
        }


def _ci_metrics(classes: tuple[str, ...]) -> list[str]:
    names = ["accuracy", "macro_f1", "kappa"]
    names += [f"{c}_{m}" for c in classes for m in ("se", "ppv")]
    if {"S", "V"} <= set(classes):
        names.append("jk")
    return names


def _check_split(found: Mapping[str, Any], saved: Mapping[str, Any], run_dir: object) -> None:
    diff = [k for k in _SPLIT_KEYS if found[k] != saved.get(k)]
    if diff:
        raise CardiostreamError(
            f"The split rebuilt for run {str(run_dir)!r} differs from the one it was trained on "
            f"({', '.join(diff)}); the data, the beat cache or the code changed since training."
        )


def _quality_usable(beats: Beats, rows: np.ndarray, lead: int, data_dir: object) -> np.ndarray:
    """Per selected beat: inside a usable stretch with plausible RR (assess_quality)."""
    usable = np.ones(rows.size, dtype=bool)
    rec_ids = np.asarray(beats.record_ids)
    for rid in dict.fromkeys(rec_ids[rows]):
        record = load_mitdb_record(rid, data_dir)  # type: ignore[arg-type]
        peaks = np.unique(beats.r_peaks[rec_ids == rid])
        report = assess_quality(record.lead(lead), record.fs, peaks)
        sel = np.flatnonzero(rec_ids[rows] == rid)
        usable[sel] = report.beat_usable[np.searchsorted(peaks, beats.r_peaks[rows[sel]])]
    return usable


def evaluate_run(
    run_dir: str | os.PathLike[str],
    *,
    protocol_c: bool = False,
    abstain_threshold: float | None = None,
    quality_gate: bool = False,
    n_boot: int = 1000,
    seed: int = 0,
    out_dir: str | os.PathLike[str] | None = None,
    write: bool = True,
    threads: int = 1,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Evaluation:
    """Evaluate the run in ``run_dir`` on its protocol's test set (module docstring).

    Parameters
    ----------
    run_dir : path
        A run directory written by :func:`cardiostream.training.train`.
    protocol_c : bool
        End-to-end protocol (c): detector beats on the test records (inter runs only).
    abstain_threshold : float, optional
        Label beats whose calibrated top probability is below it ``"inconclusive"``.
    quality_gate : bool
        Also abstain on beats in stretches :func:`cardiostream.quality.assess_quality` rejects.
    n_boot, seed : int
        Bootstrap replicates (records resampled) and their seed.
    out_dir : path, optional
        Where to write ``metrics.json``, ``report.md``, ``confusion.png``, ``coverage.png`` and
        ``predictions.npz`` (default ``run_dir/eval`` or ``run_dir/eval_end_to_end``).
    write : bool
        Write the files (False: only return the :class:`Evaluation`).
    threads : int
        ``torch.set_num_threads`` during inference.
    data_dir, cache_dir : path, optional
        MIT-BIH data root and beat cache.
    """
    if abstain_threshold is not None:
        ok = isinstance(abstain_threshold, int | float) and 0 <= abstain_threshold <= 1
        check_param("abstain_threshold", abstain_threshold, ok, "None or a probability in [0, 1]")
    check_param("n_boot", n_boot, isinstance(n_boot, int) and n_boot >= 1, "an int >= 1")
    model, meta = load_checkpoint(run_dir)
    config, prep = meta.train_config, meta.preprocessing
    classes = prep.classes
    if protocol_c and config.protocol != "inter":
        raise InvalidParameterError(
            "The 'protocol_c' option needs an inter-patient run (its test records are unseen); "
            f"run {str(run_dir)!r} used the {config.protocol!r} protocol."
        )
    if config.protocol == "full":
        raise InvalidParameterError(
            f"The run {str(run_dir)!r} used the 'full' protocol: it has no test set. Evaluate "
            "its twin trained with the 'inter' protocol, or calibrate it with calibrate_run."
        )
    data = prepare_data(config, data_dir=data_dir, cache_dir=cache_dir)
    _check_split(data.split.summary(), meta.split, run_dir)
    beats = data.dataset.beats
    with num_threads(threads):
        val = TensorSet.from_beats(beats, prep, data.split.val)
        val_logits = predict_logits(model, np.asarray(val.x))
        summaries: tuple = ()
        if protocol_c:
            _, test_records = protocol_records(config)
            ds = load_mitdb_beats(
                config, test_records, source="detector", data_dir=data_dir, cache_dir=cache_dir
            )
            beats, summaries = ds.beats, ds.summaries
            keep, _ = encode_labels(beats.labels, classes)
            rows = np.flatnonzero(keep & prep.usable(beats))
        else:
            rows = data.split.test
        test = TensorSet.from_beats(beats, prep, rows)
        logits = predict_logits(model, np.asarray(test.x))
    temperature = fit_temperature(val_logits, np.asarray(val.y))
    calibration = Calibration(
        temperature,
        negative_log_likelihood(val_logits, val.y),
        negative_log_likelihood(val_logits, val.y, temperature),
        negative_log_likelihood(logits, test.y),
        negative_log_likelihood(logits, test.y, temperature),
    )
    proba = apply_temperature(logits, temperature)
    pred = proba.argmax(axis=1)
    conf = proba.max(axis=1)
    names = np.asarray(classes)
    y_true, y_pred, groups = names[test.y], names[pred], np.asarray(test.record_ids)
    report = classification_report(y_true, y_pred, classes, groups=groups)
    cis = bootstrap_cis(y_true, y_pred, groups, _ci_metrics(classes), n_boot, seed, classes=classes)
    usable = _quality_usable(beats, rows, prep.lead, data_dir) if quality_gate else None
    curve = coverage_accuracy_curve(y_true, y_pred, conf, usable=usable, classes=classes)
    abstain_report = None
    if abstain_threshold is not None or quality_gate:
        keep_beat = conf >= (abstain_threshold or 0.0)
        if usable is not None:
            keep_beat &= usable
        labelled = np.where(keep_beat, y_pred, ABSTAIN_LABEL)
        abstain_report = classification_report(
            y_true, labelled, classes, groups=groups, abstain_label=ABSTAIN_LABEL
        )
    e2e = end_to_end_stats(summaries, report, data_dir) if protocol_c else None
    protocol = "end_to_end" if protocol_c else config.protocol
    target = None
    if write:
        default = "eval_end_to_end" if protocol_c else "eval"
        target = Path(out_dir) if out_dir is not None else Path(run_dir) / default
    evaluation = Evaluation(
        protocol, report, cis, calibration, curve, abstain_threshold, abstain_report, e2e, target
    )
    if target is not None:
        write_evaluation(evaluation, target, run_dir, test, beats, y_pred, conf, usable)
    return evaluation


def calibrate_run(
    run_dir: str | os.PathLike[str],
    *,
    threads: int = 1,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Calibration:
    """Fit the run's temperature on its validation split and write ``calibration.json``.

    For runs without a test set (the ``full`` protocol of the shipped model); the test NLL
    fields are NaN. :class:`cardiostream.classify.BeatClassifier` reads the file.
    """
    model, meta = load_checkpoint(run_dir)
    config, prep = meta.train_config, meta.preprocessing
    data = prepare_data(config, data_dir=data_dir, cache_dir=cache_dir)
    _check_split(data.split.summary(), meta.split, run_dir)
    with num_threads(threads):
        val = TensorSet.from_beats(data.dataset.beats, prep, data.split.val)
        val_logits = predict_logits(model, np.asarray(val.x))
    temperature = fit_temperature(val_logits, np.asarray(val.y))
    cal = Calibration(
        temperature,
        negative_log_likelihood(val_logits, val.y),
        negative_log_likelihood(val_logits, val.y, temperature),
        float("nan"),
        float("nan"),
    )
    text = json.dumps({"calibration": cal.to_dict()}, indent=2, allow_nan=True)
    (Path(run_dir) / "calibration.json").write_text(text + "\n", encoding="utf-8")
    return cal
