"""``cardiostream export``: a run's model as verified ONNX / TFLite files, optionally INT8.

:func:`export_run` always writes the fp32 ONNX model (``model.onnx``, dynamic batch, opset
>= 17) and checks it against torch (:func:`~.onnx_io.onnx_parity`; a failed check is an error).
With ``int8=True`` it also

1. draws a calibration set from the run's **training** records (seeded; beat runs through
   :func:`~.run_data.beat_run_inputs`, any run from an ``(n, C, L)`` array given as
   ``calibration``);
2. quantises to INT8 QDQ (``model.int8.onnx``, :func:`~.quantize.quantize_onnx_int8`) and,
   for ``format="tflite"``, converts to a full-integer TFLite model (``model.int8.tflite``,
   litert-torch);
3. scores fp32 and INT8 on the run's held-out records (beat runs: test records, else
   validation records) with per-class Se / +P and macro-F1 (:class:`~.quantize.Int8Comparison`);
4. writes the C header ``model_int8.h`` (:mod:`.c_header`).

``export.json`` and ``export.md`` record the files, sizes, parity, calibration and comparison.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidParameterError, check_param
from .c_header import write_c_header
from .forms import export_form
from .onnx_io import ParityResult, export_onnx, onnx_opset, onnx_parity, ort_session, run_onnx
from .quantize import CALIBRATION_METHODS, Int8Comparison, compare_predictions, quantize_onnx_int8

__all__ = ["DEFAULT_CALIBRATION_EXAMPLES", "EXPORT_FORMATS", "ExportResult", "export_run"]

EXPORT_FORMATS: tuple[str, ...] = ("onnx", "tflite")
#: Calibration examples drawn (seeded) from the training records.
DEFAULT_CALIBRATION_EXAMPLES = 4000


@dataclass(frozen=True, eq=False)
class ExportResult:
    """What :func:`export_run` wrote and measured.

    Attributes
    ----------
    out_dir : Path
    files : Mapping of str to Path
        ``onnx``, ``onnx_int8``, ``tflite`` / ``tflite_int8``, ``c_header`` as written.
    sizes : Mapping of str to int
        Bytes of each file (and of the fp32 ``model.safetensors``).
    opset : int
    parity : ParityResult
        fp32 ONNX vs torch.
    calibration : Mapping
        Records, examples, method and seed of the INT8 calibration (empty without ``int8``).
    onnx_int8 : Int8Comparison or None
        fp32 vs INT8 ONNX on held-out records (beat runs).
    tflite_int8 : Int8Comparison or None
        fp32 vs INT8 TFLite on the same records.
    diagnosis_int8 : DiagnosisInt8Comparison or None
        fp32 vs INT8 ONNX of a PTB-XL diagnosis run on fold 10 (record-level metrics).
    """

    out_dir: Path
    files: dict[str, Path]
    sizes: dict[str, int]
    opset: int
    parity: ParityResult
    calibration: dict[str, Any] = field(default_factory=dict)
    onnx_int8: Int8Comparison | None = None
    tflite_int8: Int8Comparison | None = None
    diagnosis_int8: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir),
            "files": {k: str(v) for k, v in self.files.items()},
            "sizes": dict(self.sizes),
            "opset": self.opset,
            "parity": self.parity.to_dict(),
            "calibration": dict(self.calibration),
            "onnx_int8": None if self.onnx_int8 is None else self.onnx_int8.to_dict(),
            "tflite_int8": None if self.tflite_int8 is None else self.tflite_int8.to_dict(),
            "diagnosis_int8": (
                None if self.diagnosis_int8 is None else self.diagnosis_int8.to_dict()
            ),
        }

    def to_markdown(self) -> str:
        p = self.parity
        lines = [
            "# Export",
            "",
            f"ONNX opset {self.opset}; parity with torch on {p.n} inputs: max |Δ logit| "
            f"{p.max_abs_diff:.2e} (tolerance {p.atol:g} + {p.rtol:g}·|logit|), argmax agreement "
            f"{100 * p.argmax_agreement:.1f} % — {'pass' if p.ok else 'FAIL'}.",
            "",
            "| file | bytes |",
            "|---|--:|",
            *(f"| {Path(v).name} | {self.sizes.get(k, 0):,} |" for k, v in self.files.items()),
        ]
        if "model.safetensors" in self.sizes:
            lines.append(f"| model.safetensors (fp32) | {self.sizes['model.safetensors']:,} |")
        if self.calibration:
            c = self.calibration
            lines += [
                "",
                f"INT8 calibration: {c.get('n')} examples ({c.get('source')}), method "
                f"{c.get('method')}, seed {c.get('seed')}.",
            ]
        for title, comp in (
            ("INT8 ONNX Runtime", self.onnx_int8),
            ("INT8 TFLite", self.tflite_int8),
        ):
            if comp is not None:
                lines += [
                    "",
                    f"## {title} vs fp32 ({self.calibration.get('eval_source', '')})",
                    "",
                    comp.to_markdown(),
                ]
        if self.diagnosis_int8 is not None:
            lines += ["", "## INT8 ONNX Runtime vs fp32 (PTB-XL fold 10)", ""]
            lines.append(self.diagnosis_int8.to_markdown())
        return "\n".join(lines) + "\n"


def _is_beat_run(run_dir: Path) -> bool:
    try:
        from ..training import read_meta

        read_meta(run_dir)
        return True
    except (InvalidParameterError, KeyError, TypeError, ValueError):
        return False


def export_run(
    run_dir: str | os.PathLike[str],
    *,
    format: str = "onnx",
    int8: bool = False,
    out: str | os.PathLike[str] | None = None,
    calibration: np.ndarray | None = None,
    calibration_records: Sequence[str] | None = None,
    calibration_examples: int = DEFAULT_CALIBRATION_EXAMPLES,
    method: str = "percentile",
    eval_records: Sequence[str] | None = None,
    evaluate: bool = True,
    header: bool = True,
    seed: int = 0,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> ExportResult:
    """Export the model of ``run_dir`` (module docstring).

    Parameters
    ----------
    run_dir : path
        A run directory (beat or PTB-XL diagnosis).
    format : {"onnx", "tflite"}
        ``tflite`` also writes a TFLite model (full-integer with ``int8``); needs the
        ``tflite`` extra.
    int8 : bool
        Quantise (post-training static, calibrated on training records).
    out : path, optional
        Output folder (default ``run_dir/export``).
    calibration : ndarray, optional
        Calibration inputs ``(n, C, L)``; required for runs that are not beat runs.
    calibration_records : sequence of str, optional
        Training records to calibrate on (default all of them).
    calibration_examples : int
        Examples drawn (seeded, uniform) from those records.
    method : {"minmax", "percentile", "entropy"}
        Activation calibration (percentile gave the closest INT8 on the shipped beat model,
        docs/edge.md).
    eval_records : sequence of str, optional
        Held-out records to score on (default all of the run's held-out records).
    evaluate, header : bool
        Score INT8 vs fp32 (beat runs); write the C header.
    seed : int
    data_dir, cache_dir : path, optional
        MIT-BIH root and beat cache.
    """
    from .onnx_io import ExportError
    from .run_data import beat_run_inputs, load_run_model

    check_param("format", format, format in EXPORT_FORMATS, f"one of {list(EXPORT_FORMATS)}")
    check_param("method", method, method in CALIBRATION_METHODS, f"one of {CALIBRATION_METHODS}")
    ok = isinstance(calibration_examples, int) and calibration_examples >= 1
    check_param("calibration_examples", calibration_examples, ok, "a positive integer")
    run = Path(run_dir)
    model = load_run_model(run)
    out_dir = Path(out) if out is not None else run / "export"
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    form = export_form(model)
    files["onnx"] = export_onnx(form, out_dir / "model.onnx")
    parity = onnx_parity(model, files["onnx"], seed=seed)
    if not parity.ok:
        raise ExportError(
            f"The ONNX export of {str(run)!r} differs from torch: max |Δ| {parity.max_abs_diff:.3g}"
            f", argmax agreement {parity.argmax_agreement:.4f} (tolerance {parity.atol:g} + "
            f"{parity.rtol:g}·|logit|)."
        )
    beat_run = _is_beat_run(run)
    from ..diagnosis import is_diagnosis_run

    diag_run = is_diagnosis_run(run)
    diag_splits = None
    if diag_run and int8:
        from ..diagnosis import load_splits, read_diagnosis_meta

        diag_splits = load_splits(
            read_diagnosis_meta(run).preprocessing.task, data_dir=data_dir, progress=False
        )
    calib_info: dict[str, Any] = {}
    if format == "tflite" and not int8:
        from .tflite import export_tflite_float

        files["tflite"] = export_tflite_float(model, out_dir / "model.tflite")
    comparison = tflite_comparison = diagnosis_comparison = None
    if int8:
        if calibration is None and diag_run:
            from .diag_data import diagnosis_calibration

            x_cal = diagnosis_calibration(
                run, n=calibration_examples, seed=seed, data_dir=data_dir, splits=diag_splits
            )
            calib_info["source"] = "random 2.5 s crops of PTB-XL training folds 1-8"
        elif calibration is None:
            if not beat_run:
                raise InvalidParameterError(
                    f"The run in {str(run)!r} is not a beat run, so its training records cannot "
                    "be read here: pass 'calibration', an (n, channels, length) array of its "
                    "training inputs (--calibration FILE.npy)."
                )
            cal = beat_run_inputs(
                run,
                "train",
                records=calibration_records,
                max_examples=calibration_examples,
                seed=seed,
                data_dir=data_dir,
                cache_dir=cache_dir,
            )
            x_cal = cal.x
            recs = sorted(set(np.asarray(cal.record_ids).tolist()))
            calib_info["source"] = f"training records {', '.join(recs)}"
        else:
            x_cal = np.asarray(calibration, dtype=np.float32)
            if x_cal.shape[0] > calibration_examples:
                idx = np.random.default_rng(seed).choice(
                    x_cal.shape[0], size=calibration_examples, replace=False
                )
                x_cal = x_cal[np.sort(idx)]
            calib_info["source"] = "array given"
        calib_info.update(n=int(x_cal.shape[0]), method=method, seed=seed)
        files["onnx_int8"] = quantize_onnx_int8(
            files["onnx"], out_dir / "model.int8.onnx", x_cal, method=method
        )
        if format == "tflite":
            from .tflite import export_tflite_int8

            files["tflite_int8"] = export_tflite_int8(model, out_dir / "model.int8.tflite", x_cal)
        if evaluate and beat_run:
            ev = beat_run_inputs(
                run, "heldout", records=eval_records, data_dir=data_dir, cache_dir=cache_dir
            )
            recs = sorted(set(np.asarray(ev.record_ids).tolist()))
            calib_info["eval_source"] = f"held-out records {', '.join(recs)}"
            classes = read_classes(run)
            p32 = run_onnx(ort_session(files["onnx"]), ev.x).argmax(1)
            p8 = run_onnx(ort_session(files["onnx_int8"]), ev.x).argmax(1)
            comparison = compare_predictions(ev.y, p32, p8, classes, groups=ev.record_ids)
            if "tflite_int8" in files:
                from .tflite import run_tflite

                pt = run_tflite(files["tflite_int8"], ev.x).argmax(1)
                tflite_comparison = compare_predictions(
                    ev.y, p32, pt, classes, groups=ev.record_ids
                )
        if evaluate and diag_run:
            from .diag_data import compare_int8_diagnosis

            diagnosis_comparison = compare_int8_diagnosis(
                files["onnx"], files["onnx_int8"], run, splits=diag_splits
            )
            calib_info["eval_source"] = "PTB-XL fold 10"
        if header:
            files["c_header"] = write_c_header(
                out_dir / "model_int8.h",
                int8_onnx=files["onnx_int8"],
                tflite=files.get("tflite_int8"),
                description=f"{model.model_config()['name']} from {run.name}, input "
                f"{model.input_spec.channels}x{model.input_spec.length}.",
            )
    sizes = {k: int(v.stat().st_size) for k, v in files.items()}
    weights = run / "model.safetensors"
    if weights.is_file():
        sizes["model.safetensors"] = int(weights.stat().st_size)
    result = ExportResult(
        out_dir=out_dir,
        files=files,
        sizes=sizes,
        opset=onnx_opset(files["onnx"]),
        parity=parity,
        calibration=calib_info,
        onnx_int8=comparison,
        tflite_int8=tflite_comparison,
        diagnosis_int8=diagnosis_comparison,
    )
    (out_dir / "export.json").write_text(
        json.dumps(result.to_dict(), indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    (out_dir / "export.md").write_text(result.to_markdown(), encoding="utf-8")
    return result


def read_classes(run_dir: str | os.PathLike[str]) -> tuple[str, ...]:
    """Class names of a beat run (its preprocessing)."""
    from ..training import read_meta

    return tuple(read_meta(run_dir).preprocessing.classes)
