"""How the service runs the beat model: ONNX Runtime where it can, torch otherwise.

The engine classifies micro-batches of a few beats (every beat ready within ``max_wait_ms``).
At such batch sizes torch's per-call overhead dominates: for the shipped BeatNet one forward
call takes about 0.8 ms at batch 4 on this project's 2-core machine, ONNX Runtime about
0.17 ms (same model, one thread). :func:`make_runner` therefore exports the classifier's network
to ONNX once (:func:`cardiostream.edge.onnx_io.export_onnx`, cached on disk by a hash of the
weights and the model configuration), checks ONNX Runtime's logits against torch's
(:func:`~cardiostream.edge.onnx_io.onnx_parity`: identical top class and logits within
``1e-4 + 1e-3·|z|`` on seeded inputs) and serves with the session; the calibration
(temperature) is applied the same way as :meth:`BeatClassifier.predict_inputs`.

``backend="auto"`` (the default) falls back to torch, with a logged reason, when ONNX Runtime or
the exporter is missing or the parity check fails; ``"onnx"`` raises instead; ``"torch"`` never
exports.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..classify import BeatClassifier
from ..errors import CardiostreamError, check_param
from .config import BACKENDS

__all__ = ["BACKENDS", "BeatRunner", "OnnxRunner", "TorchRunner", "make_runner"]

log = logging.getLogger(__name__)


class BeatRunner(Protocol):
    """What the engine needs: calibrated probabilities of model inputs, and a name."""

    backend: str

    def predict_inputs(self, x: np.ndarray) -> np.ndarray: ...


class TorchRunner:
    """The classifier itself (:meth:`BeatClassifier.predict_inputs`)."""

    backend = "torch"

    def __init__(self, classifier: BeatClassifier) -> None:
        self.classifier = classifier

    def predict_inputs(self, x: np.ndarray) -> np.ndarray:
        return self.classifier.predict_inputs(x)


class OnnxRunner:
    """The classifier's network in an ONNX Runtime session, same calibrated probabilities.

    Parameters
    ----------
    classifier : BeatClassifier
        Gives the input length, the classes and the temperature.
    path : path
        Its network exported to ONNX (input ``(n, 1, length)``, output logits).
    threads : int
        Intra-op threads of the session.
    """

    backend = "onnx"

    def __init__(self, classifier: BeatClassifier, path: str | os.PathLike[str],
                 threads: int = 1) -> None:
        from ..edge.onnx_io import ort_session

        self.classifier = classifier
        self.path = Path(path)
        self._session = ort_session(self.path, threads=threads)
        self._input = self._session.get_inputs()[0].name

    def predict_inputs(self, x: np.ndarray) -> np.ndarray:
        """Calibrated probabilities ``(n, k)`` of model inputs ``(n, 1, length)``."""
        xa = np.ascontiguousarray(self.classifier.check_inputs(x))
        if xa.shape[0] == 0:
            return np.zeros((0, len(self.classifier.classes)))
        return self.classifier.calibrated(self._session.run(None, {self._input: xa})[0])


def model_fingerprint(classifier: BeatClassifier) -> str:
    """SHA-256 of the network's class, configuration and every weight (names, shapes, bytes)."""
    import torch

    model = classifier.model
    h = hashlib.sha256()
    cfg = model.model_config() if hasattr(model, "model_config") else None
    h.update(type(model).__qualname__.encode())
    h.update(json.dumps(cfg, sort_keys=True, default=str).encode())
    for name, t in model.state_dict().items():
        h.update(name.encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(t.detach().to(torch.float32).contiguous().cpu().numpy().tobytes())
    h.update(torch.__version__.encode())  # a new exporter may write a different graph
    return h.hexdigest()


def _exported(classifier: BeatClassifier, cache_dir: Path) -> Path:
    """The cached ONNX file of the classifier's network (exported and checked on first use)."""
    from ..edge.onnx_io import export_onnx, onnx_parity

    path = cache_dir / "onnx" / f"beat-{model_fingerprint(classifier)[:24]}.onnx"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=".onnx", dir=path.parent)
        os.close(fd)
        try:
            export_onnx(classifier.model, tmp)
            os.replace(tmp, path)  # atomic: a concurrent start sees a whole file or none
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    parity = onnx_parity(classifier.model, path)
    if not parity.ok:
        raise CardiostreamError(
            f"ONNX Runtime disagrees with torch on {path} (max |Δlogit| "
            f"{parity.max_abs_diff:.2e}, top-class agreement {parity.argmax_agreement:.3f})."
        )
    return path


def make_runner(classifier: BeatClassifier, backend: str = "auto", *, threads: int = 1,
                cache_dir: str | os.PathLike[str] | None = None) -> BeatRunner:
    """The runner for ``backend`` (module docstring).

    Parameters
    ----------
    classifier : BeatClassifier
    backend : {"auto", "onnx", "torch"}
    threads : int
        ONNX Runtime intra-op threads.
    cache_dir : path, optional
        Where exports are kept (default :func:`cardiostream.cache.default_cache_dir`).
    """
    check_param("backend", backend, backend in BACKENDS, f"one of {BACKENDS}")
    if backend == "torch" or not hasattr(classifier.model, "state_dict"):
        if backend == "onnx":
            raise CardiostreamError("backend 'onnx' needs a torch network to export.")
        return TorchRunner(classifier)
    from ..cache import default_cache_dir

    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    try:
        return OnnxRunner(classifier, _exported(classifier, root), threads=threads)
    except Exception as e:  # missing onnxruntime/exporter, a failed export or parity check
        if backend == "onnx":
            raise
        log.warning("beat model runs in torch, not ONNX Runtime: %s: %s", type(e).__name__, e)
        return TorchRunner(classifier)


def describe(runner: Any) -> str:
    """``"onnx (path)"`` or ``"torch"``, for logs and the health endpoint."""
    path = getattr(runner, "path", None)
    return f"{runner.backend} ({path.name})" if path is not None else runner.backend
