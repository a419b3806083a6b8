"""Edge compression toolkit: profiling, pruning, distillation, quantisation and export."""

from .costs import LayerCost, example_input, layer_costs, total_energy_pj
from .export import ExportResult, export_run
from .onnx_io import ParityResult, export_onnx, onnx_parity
from .profile import ModelProfile, profile_model, profile_run
from .quantize import Int8Comparison, compare_int8, quantize_onnx_int8

__all__ = [
    "ExportResult",
    "Int8Comparison",
    "LayerCost",
    "ModelProfile",
    "ParityResult",
    "compare_int8",
    "example_input",
    "export_onnx",
    "export_run",
    "layer_costs",
    "onnx_parity",
    "profile_model",
    "profile_run",
    "quantize_onnx_int8",
    "total_energy_pj",
]
