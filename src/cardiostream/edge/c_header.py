"""C header export of an INT8 model for microcontroller projects.

The header holds, as C99/C11 constant arrays (``cc -std=c11 -c`` compiles it):

* the model file itself, ``const unsigned char <name>[]`` and ``const unsigned int
  <name>_len`` (``xxd -i`` layout, 16-byte aligned): the TFLite flatbuffer that TensorFlow Lite
  Micro loads directly (``model_tflite``) when one was produced, and the INT8 ONNX file
  (``model_onnx``);
* every INT8 weight of the QDQ ONNX model as ``const int8_t <tensor>_q[]`` with its
  quantisation — ``<tensor>_scale[]`` (one per output channel), ``<tensor>_zero_point[]``,
  ``<tensor>_axis`` — and every INT32 bias with its scale, plus the scale and zero point of each
  quantised activation tensor (``act_<tensor>_scale``, ``act_<tensor>_zero_point``). With these
  a hand-written CMSIS-NN pipeline (``arm_convolve_s8``, ``arm_fully_connected_s8``) needs no
  parser: real value = ``scale × (q − zero_point)``.

The model bytes serve a runtime; the weight arrays serve a hand-written kernel chain. Both are
emitted because a project uses one or the other.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from ..errors import InvalidParameterError

__all__ = ["c_identifier", "write_c_header"]

_C_TYPES = {
    np.dtype(np.int8): "int8_t",
    np.dtype(np.uint8): "uint8_t",
    np.dtype(np.int32): "int32_t",
    np.dtype(np.float32): "float",
}


def c_identifier(name: str, used: set[str] | None = None) -> str:
    """``name`` as a valid, unique (within ``used``, which is updated) C identifier."""
    ident = re.sub(r"[^0-9A-Za-z_]", "_", name).strip("_") or "t"
    if ident[0].isdigit():
        ident = "t_" + ident
    if used is not None:
        base, i = ident, 2
        while ident in used:
            ident = f"{base}_{i}"
            i += 1
        used.add(ident)
    return ident


def _c_float(v: float) -> str:
    text = f"{v:.9g}"
    if not any(c in text for c in ".e"):
        text += ".0"
    return text + "f"


def _array(ctype: str, name: str, values: np.ndarray, *, align: bool = False) -> str:
    flat = np.asarray(values).reshape(-1)
    fmt = (lambda v: _c_float(float(v))) if ctype == "float" else (lambda v: str(int(v)))
    items = [fmt(v) for v in flat]
    rows = [", ".join(items[i : i + 16]) for i in range(0, len(items), 16)]
    body = ",\n  ".join(rows) if rows else "0"
    prefix = "CARDIOSTREAM_ALIGN " if align else ""
    return f"{prefix}const {ctype} {name}[{max(flat.size, 1)}] = {{\n  {body}\n}};\n"


def _bytes_array(name: str, data: bytes) -> str:
    items = [f"0x{b:02x}" for b in data]
    rows = [", ".join(items[i : i + 12]) for i in range(0, len(items), 12)]
    return (
        f"CARDIOSTREAM_ALIGN const unsigned char {name}[] = {{\n  " + ",\n  ".join(rows) + "\n};\n"
        f"const unsigned int {name}_len = {len(data)};\n"
    )


def _qdq_tensors(onnx_path: Path) -> tuple[list[str], list[str]]:
    """C definitions of the weights and the activation quantisation of a QDQ ONNX model."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(onnx_path))
    init = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    used: set[str] = set()
    weights: list[str] = []
    acts: list[str] = []
    for node in model.graph.node:
        if node.op_type not in ("DequantizeLinear", "QuantizeLinear"):
            continue
        src, scale_name = node.input[0], node.input[1]
        zp_name = node.input[2] if len(node.input) > 2 else ""
        scale = init.get(scale_name)
        if scale is None:
            continue
        zp = init.get(zp_name) if zp_name else None
        axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
        if node.op_type == "DequantizeLinear" and src in init:  # a stored weight or bias
            q = init[src]
            ctype = _C_TYPES.get(q.dtype)
            if ctype is None:
                continue
            ident = c_identifier(src.removesuffix("_quantized"), used)
            shape = "x".join(str(d) for d in q.shape) or "scalar"
            weights.append(
                f"/* {src}: {q.dtype} {shape}, per-axis {axis if scale.size > 1 else '-'} */\n"
            )
            weights.append(_array(ctype, f"{ident}_q", q, align=True))
            weights.append(_array("float", f"{ident}_scale", scale.astype(np.float32)))
            zero = zp if zp is not None else np.zeros_like(scale, dtype=q.dtype)
            weights.append(_array(_C_TYPES.get(zero.dtype, "int32_t"), f"{ident}_zero_point", zero))
            weights.append(f"const int {ident}_axis = {int(axis) if scale.size > 1 else -1};\n\n")
        elif node.op_type == "QuantizeLinear" and scale.size == 1:  # an activation tensor
            ident = c_identifier("act_" + src, used)
            z = int(np.asarray(zp).reshape(-1)[0]) if zp is not None else 0
            acts.append(f"const float {ident}_scale = {_c_float(float(scale.reshape(-1)[0]))};\n")
            acts.append(f"const int {ident}_zero_point = {z};\n")
    return weights, acts


def write_c_header(
    path: str | os.PathLike[str],
    *,
    int8_onnx: str | os.PathLike[str],
    tflite: str | os.PathLike[str] | None = None,
    guard: str = "CARDIOSTREAM_MODEL_H",
    description: str = "",
) -> Path:
    """Write the C header of the module docstring to ``path``.

    Parameters
    ----------
    path : path
        Output ``.h`` file.
    int8_onnx : path
        The INT8 QDQ ONNX model (:func:`~cardiostream.edge.quantize_onnx_int8`).
    tflite : path, optional
        A full-integer TFLite model to embed as ``model_tflite``.
    guard : str
        Include-guard macro.
    description : str
        A comment line at the top (model name, classes, input).
    """
    onnx_path = Path(int8_onnx)
    if not onnx_path.is_file():
        raise InvalidParameterError(
            f"The 'int8_onnx' parameter must be an existing file, got {str(int8_onnx)!r}."
        )
    guard = c_identifier(guard).upper()
    parts = [
        f"/* Generated by cardiostream export. {description} */\n".replace("  */", " */"),
        "/* Real value = scale * (q - zero_point); weights int8 (per output channel), biases\n"
        "   int32 (scale = input scale * weight scale), activations int8 per tensor. */\n",
        f"#ifndef {guard}\n#define {guard}\n\n#include <stdint.h>\n\n",
        "#ifndef CARDIOSTREAM_ALIGN\n#if defined(__cplusplus)\n#define CARDIOSTREAM_ALIGN "
        "alignas(16)\n#else\n#define CARDIOSTREAM_ALIGN _Alignas(16)\n#endif\n#endif\n\n",
    ]
    if tflite is not None:
        parts.append("/* Full-integer TFLite flatbuffer (TensorFlow Lite Micro). */\n")
        parts.append(_bytes_array("model_tflite", Path(tflite).read_bytes()) + "\n")
    parts.append("/* INT8 QDQ ONNX model. */\n")
    parts.append(_bytes_array("model_onnx", onnx_path.read_bytes()) + "\n")
    weights, acts = _qdq_tensors(onnx_path)
    parts.append("/* Quantised weights and biases. */\n")
    parts.extend(weights)
    parts.append("/* Activation quantisation (per tensor). */\n")
    parts.extend(acts)
    parts.append(f"\n#endif /* {guard} */\n")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(parts), encoding="ascii")
    return out
