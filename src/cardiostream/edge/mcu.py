"""Microcontroller estimates: flash, SRAM (activation arena) and Cortex-M4 latency.

* **Flash** = the INT8 model (the TFLite flatbuffer where one was produced, else the INT8
  weights, INT32 biases and their scales stored in the QDQ ONNX model,
  :func:`int8_weight_bytes`) + :data:`RUNTIME_FLASH_BYTES`, a budget for
  TensorFlow Lite Micro: "the core runtime just fits in 16 KB on an Arm Cortex M3", 22 KB with
  the operators of the speech keyword example (TensorFlow Lite for Microcontrollers overview,
  tensorflow.org/lite/microcontrollers). Application code, the DSP front end and the C
  library come on top.
* **SRAM** = TensorFlow Lite Micro's own arena size where the model converts to TFLite and
  tflite-micro is installed (its ``RecordingMicroAllocator`` report,
  :func:`~cardiostream.edge.tflite.tflm_arena_bytes`). Otherwise :func:`activation_peak_bytes`:
  walking the ONNX graph in order, the largest sum of INT8 activation tensors alive at once
  (a tensor lives from the node producing it to its last consumer; weights stay in flash),
  plus the largest CMSIS-NN convolution scratch buffer, ``2 × in_channels × kernel ×
  sizeof(int16)`` for ``arm_convolve_s8`` on a core with the DSP extension
  (``arm_convolve_s8_get_buffer_size``). A greedy planner such as TFLM's can need more than the
  live sum (fragmentation); TFLM's persistent structures add about 1–3 KB.
* **Latency** = dense MACs × cycles per MAC / clock. On a Cortex-M4 ``SMLAD`` performs two
  16 × 16-bit MACs in one cycle (Arm Cortex-M4 Technical Reference Manual, instruction
  timings), so 0.5 cycles per MAC is the peak, reached only in the inner loop; CMSIS-NN's int8
  kernels (Lai, Suda & Chandra, "CMSIS-NN: Efficient neural network kernels for Arm Cortex-M
  CPUs", arXiv:1801.06601, 2018) also spend cycles on loads, ``SXTB16`` sign extension,
  requantisation and loop control. We assume **2 cycles per MAC** as the typical rate (an
  assumption, not a measurement on a board: no board is attached to this project), and report
  the 0.5-cycle peak as a lower bound. The clock defaults to 80 MHz (STM32L4, a common wearable
  Cortex-M4). Normalisation MACs are left out (folded into the convolutions at export);
  recurrent layers run far below this rate in TFLM, so the estimate is optimistic for them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import check_param
from .costs import LayerCost

__all__ = [
    "CYCLES_PER_MAC",
    "DEFAULT_CLOCK_HZ",
    "PEAK_CYCLES_PER_MAC",
    "RUNTIME_FLASH_BYTES",
    "McuEstimate",
    "activation_peak_bytes",
    "cmsis_scratch_bytes",
    "int8_weight_bytes",
    "mcu_estimate",
]

#: TensorFlow Lite Micro runtime budget in flash: 22 KB (module docstring).
RUNTIME_FLASH_BYTES = 22 * 1024
#: Assumed effective Cortex-M4 cycles per int8 MAC with CMSIS-NN (module docstring).
CYCLES_PER_MAC = 2.0
#: ``SMLAD`` peak: two MACs per cycle.
PEAK_CYCLES_PER_MAC = 0.5
#: STM32L4 maximum clock.
DEFAULT_CLOCK_HZ = 80e6
_FOLDED = ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d")


def activation_peak_bytes(
    onnx_path: str | os.PathLike[str], *, bytes_per_element: int = 1, batch: int = 1
) -> int:
    """Largest total size of activation tensors alive at once in the ONNX graph (module doc).

    Graph inputs count (the input buffer is in SRAM); initializers (weights) and tensors
    computed from them alone (transposed or concatenated weights) do not. Symbolic
    dimensions (the batch axis) are set to ``batch``.
    """
    import onnx

    model = onnx.shape_inference.infer_shapes(onnx.load(str(onnx_path)))
    g = model.graph
    init = {i.name for i in g.initializer}
    sizes: dict[str, int] = {}
    for vi in [*g.input, *g.value_info, *g.output]:
        t = vi.type.tensor_type
        if not t.HasField("shape"):
            continue
        dims = [d.dim_value if d.HasField("dim_value") else batch for d in t.shape.dim]
        sizes[vi.name] = int(math.prod(dims)) * bytes_per_element
    nodes = list(g.node)
    const = set(init)  # tensors computed from weights alone are folded into flash at export
    for node in nodes:
        if all(not n or n in const for n in node.input):
            const.update(node.output)
    init = const
    first: dict[str, int] = {i.name: 0 for i in g.input if i.name not in init}
    last: dict[str, int] = dict.fromkeys(first, 0)
    for k, node in enumerate(nodes):
        for name in node.input:
            if name and name not in init and name in sizes:
                last[name] = k
        for name in node.output:
            if name in sizes and name not in init:
                first.setdefault(name, k)
                last.setdefault(name, k)
    for o in g.output:
        last[o.name] = len(nodes)
    peak = 0
    for k in range(max(len(nodes), 1)):
        live = sum(sizes[n] for n in first if first[n] <= k <= last.get(n, first[n]))
        peak = max(peak, live)
    return int(peak)


def int8_weight_bytes(qdq_onnx: str | os.PathLike[str]) -> int:
    """Bytes of the stored weights of a QDQ ONNX model: quantised tensors, scales, zero points.

    The INT8 weights and INT32 biases with their quantisation parameters, without the graph
    description (which a TFLite flatbuffer or a C array layout replaces).
    """
    import onnx
    from onnx import numpy_helper

    m = onnx.load(str(qdq_onnx))
    init = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    total = 0
    seen: set[str] = set()
    for node in m.graph.node:
        if node.op_type == "DequantizeLinear" and node.input[0] in init:
            for name in node.input:
                if name in init and name not in seen:
                    seen.add(name)
                    total += int(init[name].nbytes)
    return total


def cmsis_scratch_bytes(model: Any) -> int:
    """Largest ``arm_convolve_s8`` scratch buffer of the model's convolutions (module doc)."""
    from torch import nn

    best = 0
    for m in model.modules():
        if isinstance(m, nn.modules.conv._ConvNd):
            k = math.prod(m.kernel_size)
            best = max(best, 2 * (m.in_channels // m.groups) * k * 2)
    return best


@dataclass(frozen=True)
class McuEstimate:
    """Flash, SRAM and latency of the INT8 model on a Cortex-M4 (module docstring).

    Attributes
    ----------
    model_bytes : int
        INT8 model file counted in flash.
    model_format : str
        ``"tflite"`` (flatbuffer) or ``"int8-weights"`` (weights and scales only).
    runtime_bytes : int
        Runtime budget (:data:`RUNTIME_FLASH_BYTES`).
    flash_bytes : int
        ``model_bytes + runtime_bytes``.
    sram_bytes : int
        Activation arena.
    sram_method : str
        ``"tflite-micro RecordingMicroAllocator"`` or ``"largest live INT8 tensors + CMSIS-NN
        scratch"``.
    macs : int
        Dense MACs executed (normalisation folded).
    clock_hz, cycles_per_mac : float
    latency_ms : float
        At ``cycles_per_mac``.
    latency_peak_ms : float
        At the 0.5-cycle ``SMLAD`` peak (lower bound).
    """

    model_bytes: int
    model_format: str
    runtime_bytes: int
    flash_bytes: int
    sram_bytes: int
    sram_method: str
    macs: int
    clock_hz: float
    cycles_per_mac: float
    latency_ms: float
    latency_peak_ms: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def mcu_estimate(
    costs: Sequence[LayerCost],
    *,
    model_bytes: int,
    model_format: str,
    sram_bytes: int,
    sram_method: str,
    clock_hz: float = DEFAULT_CLOCK_HZ,
    cycles_per_mac: float = CYCLES_PER_MAC,
    runtime_bytes: int = RUNTIME_FLASH_BYTES,
) -> McuEstimate:
    """Assemble an :class:`McuEstimate` from layer costs and measured sizes."""
    ok = isinstance(clock_hz, int | float) and math.isfinite(clock_hz) and clock_hz > 0
    check_param("clock_hz", clock_hz, ok, "a positive clock frequency in Hz")
    ok = isinstance(cycles_per_mac, int | float) and cycles_per_mac > 0
    check_param("cycles_per_mac", cycles_per_mac, ok, "a positive number")
    macs = int(sum(c.macs for c in costs if c.kind not in _FOLDED))
    return McuEstimate(
        model_bytes=int(model_bytes),
        model_format=model_format,
        runtime_bytes=int(runtime_bytes),
        flash_bytes=int(model_bytes + runtime_bytes),
        sram_bytes=int(sram_bytes),
        sram_method=sram_method,
        macs=macs,
        clock_hz=float(clock_hz),
        cycles_per_mac=float(cycles_per_mac),
        latency_ms=1e3 * macs * cycles_per_mac / clock_hz,
        latency_peak_ms=1e3 * macs * PEAK_CYCLES_PER_MAC / clock_hz,
    )
