"""ONNX export of a zoo model, ONNX Runtime sessions, and the torch-versus-runtime parity check.

Every export is verified: :func:`export_onnx` runs ``onnx.checker`` on the file it writes and
:func:`onnx_parity` compares ONNX Runtime's logits with torch's on the same inputs. The graph
has one input ``x`` of shape ``(batch, channels, length)`` with a dynamic batch axis and one
output ``logits`` ``(batch, num_classes)``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import CardiostreamError, InvalidParameterError, check_param
from .costs import example_input

__all__ = [
    "INPUT_NAME",
    "MIN_OPSET",
    "OUTPUT_NAME",
    "PARITY_ATOL",
    "PARITY_RTOL",
    "ExportError",
    "ParityResult",
    "export_onnx",
    "onnx_opset",
    "onnx_parity",
    "ort_session",
    "run_onnx",
]

INPUT_NAME = "x"
OUTPUT_NAME = "logits"
#: Lowest ONNX opset accepted (QDQ per-channel quantisation needs >= 13; we ask 17+).
MIN_OPSET = 17
#: Parity tolerance of fp32 exports: ``|onnx - torch| <= atol + rtol · |torch|`` element-wise
#: (numpy ``allclose``), plus identical argmax. Float32 kernels differ in summation order, so
#: logits of order 10 differ by ~1e-5; 1e-4 absolute leaves a margin without hiding a wrong graph.
PARITY_ATOL = 1e-4
PARITY_RTOL = 1e-3


class ExportError(CardiostreamError):
    """A model could not be exported or converted (the message says which step failed)."""


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the exporters' progress prints, warnings and log records."""
    names = ("torch", "torch.onnx", "torch.export", "torch._dynamo", "onnxscript", "onnx_ir")
    levels = {n: logging.getLogger(n).level for n in names}
    try:
        for n in names:
            logging.getLogger(n).setLevel(logging.ERROR)
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for n, lv in levels.items():
            logging.getLogger(n).setLevel(lv)


def onnx_opset(path: str | os.PathLike[str]) -> int:
    """The default-domain opset of the ONNX file at ``path``."""
    import onnx

    m = onnx.load(str(path), load_external_data=False)
    return max((o.version for o in m.opset_import if o.domain in ("", "ai.onnx")), default=0)


def _inline_external_data(path: Path) -> None:
    """Store every initializer inside the ``.onnx`` file (one self-contained file)."""
    import onnx

    data = Path(str(path) + ".data")
    m = onnx.load(str(path), load_external_data=True)
    onnx.save_model(m, str(path), save_as_external_data=False)
    if data.is_file():
        data.unlink()


def export_onnx(
    model: nn.Module,
    path: str | os.PathLike[str],
    *,
    opset: int | None = None,
) -> Path:
    """Export ``model`` (eval mode, fp32) to ONNX at ``path`` with a dynamic batch axis.

    The dynamo exporter (torch's default) is tried first and the TorchScript exporter if it
    fails; the file is checked with ``onnx.checker.check_model`` and must have opset
    ``>= 17`` (:data:`MIN_OPSET`).

    Parameters
    ----------
    model : nn.Module
        A cardiostream :class:`~cardiostream.models.ECGModel` (its ``input_spec`` gives the
        example shape).
    path : path
        Output file (its folder is created).
    opset : int, optional
        Target opset (default: the exporter's own, at least 17).

    Raises
    ------
    ExportError
        Both exporters failed, or the result fails the checker.
    """
    import onnx

    if opset is not None:
        ok = isinstance(opset, int) and not isinstance(opset, bool) and opset >= MIN_OPSET
        check_param("opset", opset, ok, f"None or an integer >= {MIN_OPSET}")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    x = example_input(model).float().repeat(2, 1, 1)
    was_training = model.training
    model.eval()
    errors: list[str] = []
    try:
        for dynamo in (True, False):
            kwargs: dict[str, Any] = {"input_names": [INPUT_NAME], "output_names": [OUTPUT_NAME]}
            if dynamo:
                kwargs["dynamic_shapes"] = ({0: torch.export.Dim("batch")},)
                kwargs["opset_version"] = opset
                kwargs["external_data"] = False
            else:
                kwargs["dynamic_axes"] = {INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}}
                kwargs["opset_version"] = opset or MIN_OPSET
            try:
                with _quiet():
                    torch.onnx.export(model, (x,), str(out), dynamo=dynamo, **kwargs)
                break
            except Exception as e:  # the exporters fail with many exception types
                errors.append(f"{'dynamo' if dynamo else 'torchscript'}: {type(e).__name__}: {e}")
        else:
            raise ExportError(f"ONNX export failed: {'; '.join(errors)}"[:2000])
    finally:
        model.train(was_training)
    _inline_external_data(out)
    try:
        onnx.checker.check_model(str(out))
    except Exception as e:
        raise ExportError(f"The exported ONNX file {str(out)!r} fails onnx.checker: {e}") from e
    version = onnx_opset(out)
    if version < MIN_OPSET:
        raise ExportError(f"The exported ONNX file has opset {version}, expected >= {MIN_OPSET}.")
    return out


def ort_session(path: str | os.PathLike[str], *, threads: int = 1) -> Any:
    """An ONNX Runtime CPU session with ``threads`` intra-op threads, sequential execution."""
    import onnxruntime as ort

    ok = isinstance(threads, int) and not isinstance(threads, bool) and threads >= 1
    check_param("threads", threads, ok, "a positive integer")
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.log_severity_level = 3
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def run_onnx(session: Any, x: np.ndarray, *, batch_size: int = 1024) -> np.ndarray:
    """Outputs ``(n, k)`` float64 of an ONNX Runtime session on ``x`` ``(n, C, L)``."""
    xa = np.ascontiguousarray(x, dtype=np.float32)
    if xa.ndim != 3:
        raise InvalidParameterError(
            f"The 'x' parameter must have shape (n, channels, length), got {xa.shape} instead."
        )
    name = session.get_inputs()[0].name
    out = [
        session.run(None, {name: xa[i : i + batch_size]})[0]
        for i in range(0, xa.shape[0], batch_size)
    ]
    return np.concatenate(out).astype(np.float64) if out else np.zeros((0, 0))


@dataclass(frozen=True)
class ParityResult:
    """ONNX Runtime versus torch logits on the same inputs.

    Attributes
    ----------
    n : int
        Examples compared.
    max_abs_diff : float
        Largest absolute logit difference.
    argmax_agreement : float
        Fraction of examples with the same top class.
    atol, rtol : float
        Tolerance of :attr:`ok` (numpy ``allclose`` semantics).
    ok : bool
        Every logit within tolerance and every argmax equal.
    """

    n: int
    max_abs_diff: float
    argmax_agreement: float
    atol: float
    rtol: float
    ok: bool

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def onnx_parity(
    model: nn.Module,
    path: str | os.PathLike[str],
    x: np.ndarray | None = None,
    *,
    n: int = 64,
    seed: int = 0,
    atol: float = PARITY_ATOL,
    rtol: float = PARITY_RTOL,
) -> ParityResult:
    """Compare ONNX Runtime's logits of the file at ``path`` with ``model``'s.

    Parameters
    ----------
    model : nn.Module
        The exported model (evaluated in eval mode, fp32).
    path : path
        Its ONNX file.
    x : ndarray, optional
        Inputs ``(n, C, L)``; default ``n`` seeded standard-normal examples of the model's
        input shape (parity is a property of the graph, so random inputs suffice).
    """
    if x is None:
        spec = model.input_spec  # type: ignore[attr-defined]
        x = np.random.default_rng(seed).standard_normal((n, *spec.shape)).astype(np.float32)
    xa = np.ascontiguousarray(x, dtype=np.float32)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            ref = model(torch.from_numpy(xa).to(next(model.parameters()).device)).double()
            ref_np = ref.cpu().numpy()
    finally:
        model.train(was_training)
    got = run_onnx(ort_session(path), xa)
    diff = float(np.max(np.abs(got - ref_np))) if got.size else 0.0
    agree = float(np.mean(got.argmax(1) == ref_np.argmax(1))) if got.size else 1.0
    close = bool(np.allclose(got, ref_np, atol=atol, rtol=rtol))
    return ParityResult(xa.shape[0], diff, agree, float(atol), float(rtol), close and agree == 1.0)
