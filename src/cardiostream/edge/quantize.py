"""INT8 post-training static quantisation (ONNX Runtime, QDQ) and its per-class evaluation.

:func:`quantize_onnx_int8` turns an fp32 ONNX export into an INT8 one with
``onnxruntime.quantization.quantize_static``: QDQ format (QuantizeLinear / DequantizeLinear
pairs around every quantised operator, the form TensorRT, XNNPACK and the TFLite converter
read), signed INT8 weights with one scale per output channel (symmetric), signed INT8
activations with one scale and zero point per tensor from min/max calibration on
representative inputs. The graph is pre-processed first (``quant_pre_process``: shape
inference and ONNX Runtime's graph optimisations, which fold BatchNorm into the preceding
convolution), as ONNX Runtime recommends.

Element-wise closeness to the fp32 model is not the criterion (STYLE.md, issue 7):
:func:`compare_int8` scores both models on labelled held-out inputs with
:func:`cardiostream.metrics.classification_report` and reports per-class Se and +P and macro-F1
side by side.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidParameterError, InvalidSignalError, check_param
from ..metrics import ClassificationReport, classification_report
from .onnx_io import ort_session, run_onnx

__all__ = [
    "CALIBRATION_METHODS",
    "Int8Comparison",
    "compare_int8",
    "compare_predictions",
    "quantize_onnx_int8",
]

#: Activation-range calibration of ``quantize_static`` (``minmax`` is the default; the other
#: two need more memory and time).
CALIBRATION_METHODS: tuple[str, ...] = ("minmax", "percentile", "entropy")


def _reader(x: np.ndarray, input_name: str, batch_size: int) -> Any:
    from onnxruntime.quantization import CalibrationDataReader

    class _ArrayReader(CalibrationDataReader):
        """Feeds the calibration inputs in batches."""

        def __init__(self) -> None:
            self._batches = iter(range(0, x.shape[0], batch_size))

        def get_next(self) -> dict[str, np.ndarray] | None:
            i = next(self._batches, None)
            return None if i is None else {input_name: x[i : i + batch_size]}

    return _ArrayReader()


def quantize_onnx_int8(
    fp32_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    calibration: np.ndarray,
    *,
    per_channel: bool = True,
    method: str = "minmax",
    batch_size: int = 64,
) -> Path:
    """Quantise the fp32 ONNX model at ``fp32_path`` to INT8 QDQ at ``out_path``.

    Parameters
    ----------
    fp32_path, out_path : path
        Input fp32 model (:func:`~cardiostream.edge.export_onnx`) and output file.
    calibration : ndarray, shape (n, channels, length)
        Representative model inputs (training data, never the evaluation set).
    per_channel : bool
        One weight scale per output channel (default) or per tensor.
    method : {"minmax", "percentile", "entropy"}
        Activation-range calibration.
    batch_size : int
        Calibration batch.
    """
    from onnxruntime.quantization import (
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    check_param("method", method, method in CALIBRATION_METHODS, f"one of {CALIBRATION_METHODS}")
    check_param("per_channel", per_channel, isinstance(per_channel, bool), "a bool")
    x = np.ascontiguousarray(calibration, dtype=np.float32)
    if x.ndim != 3 or x.shape[0] == 0 or not np.all(np.isfinite(x)):
        raise InvalidSignalError(
            "The 'calibration' parameter must be a non-empty finite array (n, channels, "
            f"length), got shape {x.shape} instead."
        )
    if method != "minmax" and x.shape[0] > batch_size:
        # ONNX Runtime's histogram collectors stack batches and need equal sizes
        x = x[: x.shape[0] - x.shape[0] % batch_size]
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cardiostream_quant_") as tmp:
        pre = Path(tmp) / "preprocessed.onnx"
        try:
            quant_pre_process(str(fp32_path), str(pre), skip_symbolic_shape=False)
        except Exception:  # symbolic shape inference fails on some graphs; ONNX's suffices
            quant_pre_process(str(fp32_path), str(pre), skip_symbolic_shape=True)
        input_name = ort_session(pre).get_inputs()[0].name
        calib_method = {
            "minmax": CalibrationMethod.MinMax,
            "percentile": CalibrationMethod.Percentile,
            "entropy": CalibrationMethod.Entropy,
        }[method]
        level = logging.getLogger().level
        logging.getLogger().setLevel(logging.WARNING)  # the calibrators log progress at INFO
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # and print their percentiles
                quantize_static(
                    str(pre),
                    str(out),
                    _reader(x, input_name, batch_size),
                    quant_format=QuantFormat.QDQ,
                    per_channel=per_channel,
                    activation_type=QuantType.QInt8,
                    weight_type=QuantType.QInt8,
                    calibrate_method=calib_method,
                    extra_options={"ActivationSymmetric": False, "WeightSymmetric": True},
                )
        finally:
            logging.getLogger().setLevel(level)
    return out


@dataclass(frozen=True, eq=False)
class Int8Comparison:
    """The fp32 and INT8 models scored on the same labelled inputs.

    Attributes
    ----------
    classes : tuple of str
    n : int
        Examples scored.
    fp32, int8 : ClassificationReport
        Reports of the two models (per-class ``recall`` is Se, ``precision`` is +P).
    agreement : float
        Fraction of examples with the same predicted class.
    """

    classes: tuple[str, ...]
    n: int
    fp32: ClassificationReport
    int8: ClassificationReport
    agreement: float

    @property
    def f1_ratio(self) -> float:
        """INT8 macro-F1 divided by fp32 macro-F1."""
        return float(self.int8.macro.f1 / self.fp32.macro.f1)

    def max_class_drop(self) -> float:
        """Largest loss (fp32 − INT8, fraction) of any class's Se or +P; negative if none."""
        drops = [
            float(a - b)
            for ref, got in (
                (self.fp32.recall, self.int8.recall),
                (self.fp32.precision, self.int8.precision),
            )
            for a, b in zip(ref, got, strict=True)
            if np.isfinite(a) and np.isfinite(b)
        ]
        return max(drops) if drops else 0.0

    def to_dict(self) -> dict[str, Any]:
        def per_class(r: ClassificationReport) -> dict[str, dict[str, float | int | None]]:
            return {
                c: {
                    "se": None if np.isnan(r.recall[i]) else float(r.recall[i]),
                    "ppv": None if np.isnan(r.precision[i]) else float(r.precision[i]),
                    "f1": None if np.isnan(r.f1[i]) else float(r.f1[i]),
                    "support": int(r.support[i]),
                }
                for i, c in enumerate(self.classes)
            }

        return {
            "classes": list(self.classes),
            "n": self.n,
            "agreement": self.agreement,
            "fp32": {
                "accuracy": self.fp32.accuracy,
                "macro_f1": self.fp32.macro.f1,
                "per_class": per_class(self.fp32),
            },
            "int8": {
                "accuracy": self.int8.accuracy,
                "macro_f1": self.int8.macro.f1,
                "per_class": per_class(self.int8),
            },
            "f1_ratio": self.f1_ratio,
            "max_class_drop": self.max_class_drop(),
        }

    def to_markdown(self) -> str:
        """Per-class Se / +P table (percent) of both models."""

        def pct(v: float) -> str:
            return "–" if not np.isfinite(v) else f"{100 * v:.2f}"

        lines = [
            f"{self.n} examples; predictions agree on {100 * self.agreement:.2f} %; "
            f"macro-F1 fp32 {pct(self.fp32.macro.f1)} %, INT8 {pct(self.int8.macro.f1)} % "
            f"({100 * self.f1_ratio:.2f} % of fp32).",
            "",
            "| class | support | Se fp32 | Se INT8 | +P fp32 | +P INT8 |",
            "|---|--:|--:|--:|--:|--:|",
        ]
        for i, c in enumerate(self.classes):
            lines.append(
                f"| {c} | {int(self.fp32.support[i])} | {pct(self.fp32.recall[i])} | "
                f"{pct(self.int8.recall[i])} | {pct(self.fp32.precision[i])} | "
                f"{pct(self.int8.precision[i])} |"
            )
        return "\n".join(lines)


def compare_int8(
    fp32_path: str | os.PathLike[str],
    int8_path: str | os.PathLike[str],
    x: np.ndarray,
    y: np.ndarray,
    classes: Sequence[str],
    *,
    groups: np.ndarray | None = None,
) -> Int8Comparison:
    """Score the fp32 and INT8 ONNX models on labelled inputs ``x`` ``(n, C, L)``, ``y`` ``(n,)``.

    ``y`` holds class indices into ``classes``; ``groups`` (record of each example) is passed to
    the reports.
    """
    xa = np.ascontiguousarray(x, dtype=np.float32)
    ya = np.asarray(y)
    if xa.ndim != 3 or xa.shape[0] != ya.shape[0] or xa.shape[0] == 0:
        raise InvalidParameterError(
            "The 'x' and 'y' parameters must hold the same non-zero number of examples, got "
            f"{xa.shape} and {ya.shape} instead."
        )
    p32 = run_onnx(ort_session(fp32_path), xa).argmax(1)
    p8 = run_onnx(ort_session(int8_path), xa).argmax(1)
    return compare_predictions(ya, p32, p8, classes, groups=groups)


def compare_predictions(
    y: np.ndarray,
    pred_fp32: np.ndarray,
    pred_int8: np.ndarray,
    classes: Sequence[str],
    *,
    groups: np.ndarray | None = None,
) -> Int8Comparison:
    """:class:`Int8Comparison` of two models' predicted class indices on labels ``y``."""
    ya, p32, p8 = np.asarray(y), np.asarray(pred_fp32), np.asarray(pred_int8)
    if not (ya.shape == p32.shape == p8.shape) or ya.ndim != 1 or ya.size == 0:
        raise InvalidParameterError(
            "The 'y', 'pred_fp32' and 'pred_int8' parameters must be non-empty 1-D arrays of one "
            f"length, got {ya.shape}, {p32.shape} and {p8.shape} instead."
        )
    classes = tuple(str(c) for c in classes)
    return Int8Comparison(
        classes=classes,
        n=int(ya.size),
        fp32=classification_report(ya, p32, classes, groups),
        int8=classification_report(ya, p8, classes, groups),
        agreement=float(np.mean(p32 == p8)),
    )
