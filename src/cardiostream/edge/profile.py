"""Honest cost profile of a model: what it computes, stores, takes and would need on an MCU.

:func:`profile_model` measures, for any registered torch model (the example input comes from
``model.input_spec``):

* parameters, non-zero parameters, MACs and the energy proxy per layer and in total
  (:mod:`.costs`, fp32 and int8 energies);
* model file sizes: fp32 ``model.safetensors``, INT8 QDQ ONNX (:mod:`.quantize`) and, with the
  ``tflite`` extra, the full-integer TFLite flatbuffer;
* CPU latency at batch 1 and 256 for torch and ONNX Runtime (fp32 and INT8): the median of
  ``repeats`` timed calls after one warm-up call, ``threads`` intra-op threads
  (``torch.set_num_threads`` / ``intra_op_num_threads``);
* peak memory of one forward pass at the largest batch, torch and ONNX Runtime: a fresh Python
  process loads the model (weights resident), resets its peak resident set size through
  Linux's ``/proc/self/clear_refs`` and reports ``VmHWM − VmRSS`` after one call, i.e. the
  activation and workspace memory of the pass as the process really allocates it (None where
  that interface is missing);
* the microcontroller estimate of :mod:`.mcu` (flash, SRAM, Cortex-M4 latency).

INT8 sizes, the arena and INT8 latency do not depend on calibration values, so the profile
calibrates on seeded standard-normal inputs; ``cardiostream export --int8`` calibrates on
training records and checks accuracy.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import check_param
from .costs import DEFAULT_MEMORY, LayerCost, example_input, layer_costs, total_energy_pj
from .forms import export_form
from .mcu import (
    CYCLES_PER_MAC,
    DEFAULT_CLOCK_HZ,
    McuEstimate,
    activation_peak_bytes,
    cmsis_scratch_bytes,
    int8_weight_bytes,
    mcu_estimate,
)
from .onnx_io import export_onnx, ort_session
from .quantize import quantize_onnx_int8

__all__ = ["Latency", "ModelProfile", "profile_model", "profile_run", "write_profile"]

PROFILE_JSON = "profile.json"
PROFILE_MD = "profile.md"


@dataclass(frozen=True)
class Latency:
    """Median wall time of one call on this CPU.

    Attributes
    ----------
    backend : str
        ``"torch"``, ``"onnxruntime"`` (fp32) or ``"onnxruntime-int8"``.
    batch : int
    threads : int
    median_ms : float
        Per call.
    per_example_us : float
        ``median_ms / batch`` in µs.
    repeats : int
    """

    backend: str
    batch: int
    threads: int
    median_ms: float
    per_example_us: float
    repeats: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True, eq=False)
class ModelProfile:
    """Everything :func:`profile_model` measured (module docstring)."""

    name: str
    input_shape: tuple[int, int]
    layers: tuple[LayerCost, ...]
    params: int
    nonzero_params: int
    macs: int
    effective_macs: int
    energy_pj_fp32: float
    energy_pj_int8: float
    memory_level: str
    size_fp32_bytes: int
    size_int8_onnx_bytes: int
    size_int8_tflite_bytes: int | None
    latency: tuple[Latency, ...]
    peak_batch: int
    torch_peak_bytes: int | None
    ort_peak_bytes: int | None
    mcu: McuEstimate
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types."""
        return {
            "name": self.name,
            "input_shape": list(self.input_shape),
            "params": self.params,
            "nonzero_params": self.nonzero_params,
            "macs": self.macs,
            "effective_macs": self.effective_macs,
            "energy_pj_fp32": self.energy_pj_fp32,
            "energy_pj_int8": self.energy_pj_int8,
            "memory_level": self.memory_level,
            "size_fp32_bytes": self.size_fp32_bytes,
            "size_int8_onnx_bytes": self.size_int8_onnx_bytes,
            "size_int8_tflite_bytes": self.size_int8_tflite_bytes,
            "latency": [lat.to_dict() for lat in self.latency],
            "peak_batch": self.peak_batch,
            "torch_peak_bytes": self.torch_peak_bytes,
            "ort_peak_bytes": self.ort_peak_bytes,
            "mcu": self.mcu.to_dict(),
            "layers": [c.to_dict() for c in self.layers],
            "notes": list(self.notes),
        }

    def to_markdown(self) -> str:
        """Summary, latency and per-layer tables."""
        m = self.mcu
        kb = 1024
        lines = [
            f"# Profile: {self.name}",
            "",
            f"Input {self.input_shape[0]} × {self.input_shape[1]}; {self.params:,} parameters "
            f"({self.nonzero_params:,} non-zero); {self.macs:,} MACs "
            f"({self.effective_macs:,} effective); energy proxy {self.energy_pj_fp32 / 1e6:.3f} µJ "
            f"fp32, {self.energy_pj_int8 / 1e6:.3f} µJ int8 (Horowitz 2014, 45 nm, "
            f"{self.memory_level}).",
            "",
            "| file | bytes |",
            "|---|--:|",
            f"| fp32 safetensors | {self.size_fp32_bytes:,} |",
            f"| INT8 ONNX (QDQ) | {self.size_int8_onnx_bytes:,} |",
            f"| INT8 TFLite | {_fmt_int(self.size_int8_tflite_bytes)} |",
            "",
            "| backend | batch | threads | ms per call | µs per example |",
            "|---|--:|--:|--:|--:|",
        ]
        for lat in self.latency:
            lines.append(
                f"| {lat.backend} | {lat.batch} | {lat.threads} | {lat.median_ms:.3f} | "
                f"{lat.per_example_us:.1f} |"
            )
        lines += [
            "",
            f"Peak memory of one batch-{self.peak_batch} forward pass (growth of a fresh "
            f"process's peak RSS after loading the model): torch "
            f"{_fmt_kib(self.torch_peak_bytes)}, ONNX Runtime fp32 "
            f"{_fmt_kib(self.ort_peak_bytes)}.",
            "",
            f"Microcontroller (Cortex-M4 at {m.clock_hz / 1e6:g} MHz): flash "
            f"{m.flash_bytes / kb:.1f} KiB ({m.model_format} model {m.model_bytes / kb:.1f} KiB + "
            f"runtime {m.runtime_bytes / kb:.0f} KiB), SRAM {m.sram_bytes / kb:.1f} KiB "
            f"({m.sram_method}), latency {m.latency_ms:.2f} ms at {m.cycles_per_mac:g} cycles/MAC "
            f"(≥ {m.latency_peak_ms:.2f} ms at the SMLAD peak) for {m.macs:,} MACs.",
            "",
            "| layer | kind | params | non-zero | MACs | effective MACs | energy µJ |",
            "|---|---|--:|--:|--:|--:|--:|",
        ]
        for c in self.layers:
            lines.append(
                f"| {c.name or '(model)'} | {c.kind} | {c.params:,} | {c.nonzero_params:,} | "
                f"{c.macs:,} | {c.effective_macs:,} | {c.energy_pj / 1e6:.4f} |"
            )
        lines.append(
            f"| **total** | | {self.params:,} | {self.nonzero_params:,} | {self.macs:,} | "
            f"{self.effective_macs:,} | {self.energy_pj_fp32 / 1e6:.4f} |"
        )
        if self.notes:
            lines += ["", *(f"- {n}" for n in self.notes)]
        return "\n".join(lines) + "\n"


def _fmt_int(v: int | None) -> str:
    return "–" if v is None else f"{v:,}"


def _fmt_kib(v: int | None) -> str:
    return "–" if v is None else f"{v / 1024:.1f} KiB"


def _median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


_PEAK_SCRIPT = """
import json, sys
backend, path, cfg, batch, threads = sys.argv[1:6]
batch, threads = int(batch), int(threads)


def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return 1024 * int(line.split()[1])
    raise KeyError(key)


import numpy as np
if backend == "torch":
    import torch
    from safetensors.torch import load_model
    from cardiostream.models import create_model
    torch.set_num_threads(threads)
    model = create_model(**json.loads(cfg)).eval()
    load_model(model, path, strict=True)
    spec = model.input_spec
    x = torch.zeros(batch, spec.channels, spec.length)
    def run():
        with torch.inference_mode():
            model(x)
else:
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    i = sess.get_inputs()[0]
    x = np.zeros([batch] + [int(d) for d in i.shape[1:]], dtype=np.float32)
    def run():
        sess.run(None, {i.name: x})
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
rss0 = status("VmRSS")
run()
print(status("VmHWM") - rss0)
"""


def _peak_growth(backend: str, path: Path, cfg: str, batch: int, threads: int) -> int | None:
    """Peak-RSS growth (bytes) of a fresh process during its first batch (module docstring).

    The model is loaded (weights resident) before the high-water mark is reset through
    ``/proc/self/clear_refs``, so the figure is the activation and workspace memory of one
    forward pass; None where this Linux interface is unavailable.
    """
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _PEAK_SCRIPT, backend, str(path), cfg, str(batch), str(threads)],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        return max(0, int(proc.stdout.strip().splitlines()[-1]))
    except (OSError, ValueError, IndexError, subprocess.SubprocessError):
        return None


def profile_model(
    model: torch.nn.Module,
    *,
    name: str | None = None,
    weights_path: str | os.PathLike[str] | None = None,
    batch_sizes: Sequence[int] = (1, 256),
    repeats: int = 20,
    threads: int = 1,
    clock_hz: float = DEFAULT_CLOCK_HZ,
    cycles_per_mac: float = CYCLES_PER_MAC,
    memory: str = DEFAULT_MEMORY,
    tflite: bool | None = None,
    workdir: str | os.PathLike[str] | None = None,
    seed: int = 0,
) -> ModelProfile:
    """Profile ``model`` (module docstring).

    Parameters
    ----------
    model : ECGModel
        Any registered torch model (eval mode is used; its mode is restored).
    name : str, optional
        Shown in reports (default the registry name).
    weights_path : path, optional
        Its ``model.safetensors`` (default: saved to a temporary file to measure).
    batch_sizes : sequence of int
        Latency batches.
    repeats : int
        Timed calls per latency (median).
    threads : int
        Intra-op threads of torch and ONNX Runtime.
    clock_hz, cycles_per_mac : float
        Cortex-M4 latency model (:mod:`.mcu`).
    memory : str
        Memory level of the energy proxy (:data:`~.costs.MEMORY_ENERGY_PJ_PER_BYTE`).
    tflite : bool, optional
        Convert to TFLite for its size and TFLM arena (default: when litert-torch is installed).
    workdir : path, optional
        Where the ONNX / TFLite files are written (default a temporary folder).
    seed : int
        Seed of the example and synthetic calibration inputs.
    """
    from safetensors.torch import save_model

    from .tflite import export_tflite_int8, tflite_available, tflm_arena_bytes

    for b in batch_sizes:
        check_param("batch_sizes", batch_sizes, isinstance(b, int) and b >= 1, "positive ints")
    ok = isinstance(repeats, int) and not isinstance(repeats, bool) and repeats >= 1
    check_param("repeats", repeats, ok, "a positive integer")
    ok = isinstance(threads, int) and not isinstance(threads, bool) and threads >= 1
    check_param("threads", threads, ok, "a positive integer")
    name = name or str(getattr(model, "_name", None) or type(model).__name__)
    notes: list[str] = []
    was_training = model.training
    model.eval()
    prev_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    tmp = tempfile.TemporaryDirectory(prefix="cardiostream_profile_")
    work = Path(workdir) if workdir is not None else Path(tmp.name)
    work.mkdir(parents=True, exist_ok=True)
    try:
        x1 = example_input(model, seed=seed)
        costs = layer_costs(model, x1, memory=memory)
        costs8 = layer_costs(model, x1, dtype="int8", memory=memory)
        spec_shape = tuple(int(d) for d in x1.shape[1:])
        if weights_path is None:
            weights_path = work / "model.safetensors"
            save_model(model, str(weights_path))
        size_fp32 = Path(weights_path).stat().st_size

        form = export_form(model)  # type: ignore[arg-type]
        fp32_onnx = export_onnx(form, work / "model.onnx")
        rng = np.random.default_rng(seed)
        calib = rng.standard_normal((256, *spec_shape)).astype(np.float32)
        int8_onnx = quantize_onnx_int8(fp32_onnx, work / "model.int8.onnx", calib)

        latency: list[Latency] = []
        sess32, sess8 = (
            ort_session(fp32_onnx, threads=threads),
            ort_session(int8_onnx, threads=threads),
        )
        in32, in8 = sess32.get_inputs()[0].name, sess8.get_inputs()[0].name
        for b in batch_sizes:
            xb = torch.from_numpy(rng.standard_normal((b, *spec_shape)).astype(np.float32))
            xn = xb.numpy()
            with torch.inference_mode():
                t = _median_ms(lambda xb=xb: model(xb), repeats)
            latency.append(Latency("torch", b, threads, t, 1e3 * t / b, repeats))
            t = _median_ms(lambda xn=xn: sess32.run(None, {in32: xn}), repeats)
            latency.append(Latency("onnxruntime", b, threads, t, 1e3 * t / b, repeats))
            t = _median_ms(lambda xn=xn: sess8.run(None, {in8: xn}), repeats)
            latency.append(Latency("onnxruntime-int8", b, threads, t, 1e3 * t / b, repeats))
        peak_batch = max(batch_sizes)
        torch_peak = ort_peak = None
        cfg = getattr(model, "model_config", None)
        if cfg is not None and getattr(model, "_name", None) is not None:
            cfg_json = json.dumps(cfg())
            torch_peak = _peak_growth("torch", Path(weights_path), cfg_json, peak_batch, threads)
        ort_peak = _peak_growth("onnxruntime", fp32_onnx, "{}", peak_batch, threads)

        size_tflite = arena = None
        use_tflite = tflite_available() if tflite is None else tflite
        if use_tflite:
            try:
                tfl = export_tflite_int8(model, work / "model.int8.tflite", calib)
                size_tflite = tfl.stat().st_size
                arena = tflm_arena_bytes(tfl)
            except Exception as e:  # optional path: record why and fall back
                notes.append(f"TFLite conversion failed ({type(e).__name__}: {str(e)[:200]}).")
        else:
            notes.append("TFLite not converted (litert-torch not installed); SRAM estimated.")
        if arena is not None:
            sram, method = arena, "tflite-micro RecordingMicroAllocator"
        else:
            sram = activation_peak_bytes(fp32_onnx) + cmsis_scratch_bytes(model)
            method = "largest live INT8 tensors + CMSIS-NN scratch"
        model_bytes = size_tflite if size_tflite is not None else int8_weight_bytes(int8_onnx)
        mcu = mcu_estimate(
            costs,
            model_bytes=model_bytes,
            model_format="tflite" if size_tflite is not None else "int8-weights",
            sram_bytes=sram,
            sram_method=method,
            clock_hz=clock_hz,
            cycles_per_mac=cycles_per_mac,
        )
        return ModelProfile(
            name=name,
            input_shape=(spec_shape[0], spec_shape[1]),
            layers=costs,
            params=int(sum(p.numel() for p in model.parameters())),
            nonzero_params=int(sum(c.nonzero_params for c in costs)),
            macs=int(sum(c.macs for c in costs)),
            effective_macs=int(sum(c.effective_macs for c in costs)),
            energy_pj_fp32=total_energy_pj(costs),
            energy_pj_int8=total_energy_pj(costs8),
            memory_level=memory,
            size_fp32_bytes=int(size_fp32),
            size_int8_onnx_bytes=int(int8_onnx.stat().st_size),
            size_int8_tflite_bytes=size_tflite,
            latency=tuple(latency),
            peak_batch=peak_batch,
            torch_peak_bytes=torch_peak,
            ort_peak_bytes=ort_peak,
            mcu=mcu,
            notes=tuple(notes),
        )
    finally:
        torch.set_num_threads(prev_threads)
        model.train(was_training)
        tmp.cleanup()


def write_profile(profile: ModelProfile, out_dir: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write ``profile.json`` and ``profile.md`` into ``out_dir``; returns both paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pj, pm = out / PROFILE_JSON, out / PROFILE_MD
    pj.write_text(json.dumps(profile.to_dict(), indent=2, allow_nan=False) + "\n", encoding="utf-8")
    pm.write_text(profile.to_markdown(), encoding="utf-8")
    return pj, pm


def profile_run(
    run_dir: str | os.PathLike[str], *, out: str | os.PathLike[str] | None = None, **kwargs: Any
) -> ModelProfile:
    """Profile the model of a run directory and write ``profile.json`` / ``profile.md``.

    Files go to ``out`` (default ``run_dir``); ``kwargs`` go to :func:`profile_model`.
    """
    from .run_data import load_run_model

    model = load_run_model(run_dir)
    weights = Path(run_dir) / "model.safetensors"
    prof = profile_model(
        model,
        name=kwargs.pop("name", None)
        or f"{getattr(model, '_name', 'model')} ({Path(run_dir).name})",
        weights_path=weights if weights.is_file() else None,
        **kwargs,
    )
    write_profile(prof, out if out is not None else run_dir)
    return prof
