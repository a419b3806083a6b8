"""Full-integer TFLite export (litert-torch) and TensorFlow Lite Micro's arena report.

Optional: needs the ``tflite`` extra (``pip install -e '.[tflite]'``: ``litert-torch``, the
maintained PyTorch → LiteRT/TFLite converter, formerly ``ai-edge-torch``, which needs no
TensorFlow; ``tflite-micro`` for the arena report). Without it :func:`export_tflite_int8`
raises :class:`ConverterUnavailableError` and the profile falls back to its own estimate.

Quantisation follows PyTorch 2 export quantisation (PT2E) with litert-torch's quantiser:
symmetric INT8 weights per output channel, INT8 activations per tensor calibrated on
representative inputs (min/max observers), INT8 model input and output — a full-integer model
as TensorFlow Lite Micro and CMSIS-NN run it. The exported graph has a fixed batch of 1.

The converter names every tensor by its full module path (``cardiostream.models...Sequential_
features/.../Conv1d_0;1``, several kB for a small network, a third of a 6k-parameter model's
file). Tensor names play no part in inference (operators and signatures refer to tensors by
index), so :func:`strip_tensor_names` rewrites them as ``t<index>`` through the TFLite schema's
object API and :func:`export_tflite_int8` does this by default, after checking that the
stripped model's outputs equal the original's bit for bit on the calibration inputs.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

from ..errors import CardiostreamError, InvalidSignalError
from .forms import export_form

__all__ = [
    "ConverterUnavailableError",
    "export_tflite_float",
    "export_tflite_int8",
    "run_tflite",
    "strip_tensor_names",
    "tflite_available",
    "tflm_arena_bytes",
]

_INSTALL = "pip install -e '.[tflite]' (litert-torch and tflite-micro)"


class ConverterUnavailableError(CardiostreamError):
    """The optional TFLite converter is not installed (the message says how to install it)."""


def tflite_available() -> bool:
    """Whether litert-torch (converter) and ai-edge-litert (interpreter) are importable."""
    return all(importlib.util.find_spec(m) is not None for m in ("litert_torch", "ai_edge_litert"))


def export_tflite_int8(
    model: torch.nn.Module,
    path: str | os.PathLike[str],
    calibration: np.ndarray,
    *,
    max_calibration: int = 1000,
    strip_names: bool = True,
) -> Path:
    """Convert ``model`` to a full-integer TFLite model at ``path``.

    Parameters
    ----------
    model : ECGModel
        Converted through its :func:`~cardiostream.edge.forms.export_form`.
    path : path
        Output ``.tflite`` file.
    calibration : ndarray, shape (n, channels, length)
        Representative inputs (training data); the first ``max_calibration`` are fed one by one.
    strip_names : bool
        Replace the tensor names by ``t<index>`` (:func:`strip_tensor_names`), checked bit-exact
        against the unstripped model on up to 64 calibration inputs.

    Raises
    ------
    ConverterUnavailableError
        litert-torch is not installed.
    """
    if not tflite_available():
        raise ConverterUnavailableError(
            "TFLite export needs the optional litert-torch converter, which is not installed: "
            f"{_INSTALL}. See docs/edge.md."
        )
    import litert_torch
    from litert_torch.quantize import pt2e_quantizer
    from litert_torch.quantize.quant_config import QuantConfig
    from torchao.quantization.pt2e import quantize_pt2e

    x = np.ascontiguousarray(calibration, dtype=np.float32)
    if x.ndim != 3 or x.shape[0] == 0:
        raise InvalidSignalError(
            f"The 'calibration' parameter must have shape (n, channels, length), got {x.shape}."
        )
    form = export_form(model).eval()
    example = (torch.from_numpy(x[:1]),)
    quantizer = pt2e_quantizer.PT2EQuantizer().set_global(
        pt2e_quantizer.get_symmetric_quantization_config(is_per_channel=True, is_dynamic=False)
    )
    with warnings.catch_warnings():  # the converter stack's own deprecation noise
        warnings.simplefilter("ignore")
        graph = torch.export.export(form, example).module()
        graph = quantize_pt2e.prepare_pt2e(graph, quantizer)
        with torch.no_grad():
            for i in range(min(max_calibration, x.shape[0])):
                graph(torch.from_numpy(x[i : i + 1]))
        graph = quantize_pt2e.convert_pt2e(graph, fold_quantize=False)
        with contextlib.suppress(ImportError, AttributeError):  # eval-mode dropout / batch norm
            from torchao.quantization.pt2e import move_exported_model_to_eval

            graph = move_exported_model_to_eval(graph)
        try:
            edge = litert_torch.convert(
                graph, example, quant_config=QuantConfig(pt2e_quantizer=quantizer)
            )
        except Exception as e:  # the converter fails with many exception types
            from .onnx_io import ExportError

            raise ExportError(f"TFLite conversion failed: {type(e).__name__}: {e}"[:2000]) from e
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    edge.export(str(out))
    if strip_names:
        full = out.with_name(out.stem + ".named.tflite")
        out.replace(full)
        strip_tensor_names(full, out)
        probe = x[:64]
        if not np.array_equal(run_tflite(full, probe), run_tflite(out, probe)):
            from .onnx_io import ExportError

            raise ExportError(
                f"Stripping tensor names changed the outputs of {full}; the named model is kept."
            )
        full.unlink()
    return out


def strip_tensor_names(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> Path:
    """Rewrite a TFLite flatbuffer with every tensor named ``t<index>`` (smaller file).

    Everything else (operators, buffers, quantisation, signatures, metadata) is kept; the
    graph refers to tensors by index, so inference is unchanged.
    """
    if not tflite_available():
        raise ConverterUnavailableError(
            f"Editing a TFLite file needs the optional ai-edge-litert schema: {_INSTALL}."
        )
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    buf = Path(src).read_bytes()
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(buf, 0))
    for graph in model.subgraphs or []:
        for i, tensor in enumerate(graph.tensors or []):
            tensor.name = f"t{i}".encode()
    builder = flatbuffers.Builder(len(buf))
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    out = Path(dst)
    out.write_bytes(bytes(builder.Output()))
    return out


def export_tflite_float(model: torch.nn.Module, path: str | os.PathLike[str]) -> Path:
    """Convert ``model`` (its export form) to an fp32 TFLite model at ``path``."""
    if not tflite_available():
        raise ConverterUnavailableError(
            "TFLite export needs the optional litert-torch converter, which is not installed: "
            f"{_INSTALL}. See docs/edge.md."
        )
    import litert_torch

    form = export_form(model).eval()
    spec = form.input_spec  # type: ignore[union-attr]
    example = (torch.zeros(1, spec.channels, spec.length),)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            edge = litert_torch.convert(form, example)
    except Exception as e:  # the converter fails with many exception types
        from .onnx_io import ExportError

        raise ExportError(f"TFLite conversion failed: {type(e).__name__}: {e}"[:2000]) from e
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    edge.export(str(out))
    return out


def run_tflite(path: str | os.PathLike[str], x: np.ndarray) -> np.ndarray:
    """Dequantised outputs ``(n, k)`` of a TFLite model on float inputs ``x`` (one by one)."""
    from ai_edge_litert import interpreter as tfl

    it = tfl.Interpreter(model_path=str(path))
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    s_in, z_in = inp["quantization"]
    s_out, z_out = out["quantization"]
    xa = np.asarray(x, dtype=np.float32)
    res = []
    for i in range(xa.shape[0]):
        v = xa[i : i + 1]
        if np.issubdtype(inp["dtype"], np.integer) and s_in:
            info = np.iinfo(inp["dtype"])
            v = np.clip(np.round(v / s_in) + z_in, info.min, info.max).astype(inp["dtype"])
        it.set_tensor(inp["index"], v.reshape(inp["shape"]))
        it.invoke()
        o = it.get_tensor(out["index"]).astype(np.float64)
        res.append((o - z_out) * s_out if s_out else o)
    return np.concatenate(res).reshape(xa.shape[0], -1)


def tflm_arena_bytes(path: str | os.PathLike[str], *, timeout: float = 120.0) -> int | None:
    """Tensor-arena bytes TensorFlow Lite Micro allocates for the model (None if unavailable).

    Runs tflite-micro's Python interpreter in a subprocess and reads its
    ``RecordingMicroAllocator`` report ("Arena allocation total N bytes"), which counts the
    activation buffers as TFLM's memory planner lays them out plus its persistent structures.
    """
    if importlib.util.find_spec("tflite_micro") is None:
        return None
    code = (
        "import sys\n"
        "from tflite_micro.python.tflite_micro import runtime\n"
        "it = runtime.Interpreter.from_file(sys.argv[1])\n"
        "sys.stdout.flush()\n"
        "it.print_allocations()\n"
    )
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code, str(path)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r"Arena allocation total (\d+) bytes", proc.stdout + proc.stderr)
    return int(m.group(1)) if m else None
