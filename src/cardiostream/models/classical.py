"""Paper 003's classical baselines (random forest, decision tree, SVM) behind the zoo's surface.

Paper 003 compares its CNN-LSTM with GRU, RF, DT and SVM (Table 2) but gives none of their
settings; we use scikit-learn's defaults (Breiman 2001 forests, CART trees, an RBF-kernel SVC on
standardised features with Platt-scaled probabilities) and a fixed ``random_state`` where
randomness enters.

A :class:`ClassicalModel` takes the same ``(n, channels, length)`` arrays as the torch models,
flattened to ``channels·length`` features, and offers ``fit`` / ``predict_proba`` / ``predict``
plus ``input_spec``, ``num_classes`` and ``model_config()`` like :class:`ECGModel`.
scikit-learn is imported only when an estimator is built.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np

from ..errors import CardiostreamError, InvalidParameterError, InvalidSignalError, check_param
from ._base import InputSpec, check_int
from ._registry import register_model

__all__ = ["ClassicalModel", "DecisionTreeModel", "RandomForestModel", "SVMModel"]

_INPUTS = ("rr", "morph", "wavelet", "window")
_CLASS_WEIGHTS = (None, "balanced")


def _check_class_weight(value: object) -> None:
    check_param("class_weight", value, value in _CLASS_WEIGHTS, "None or 'balanced'")


def _check_max_depth(value: object) -> None:
    if value is not None:
        check_int("max_depth", value)


class ClassicalModel:
    """Base of the scikit-learn wrappers; subclasses implement :meth:`_make_estimator`.

    Parameters
    ----------
    num_classes : int
        Columns of :meth:`predict_proba`; labels are ``0 .. num_classes - 1``.
    input_spec : InputSpec
        The input the model consumes.
    """

    def __init__(self, *, num_classes: int, input_spec: InputSpec) -> None:
        self._num_classes = check_int("num_classes", num_classes)
        if not isinstance(input_spec, InputSpec):
            raise InvalidParameterError(
                f"The 'input_spec' parameter must be an InputSpec, got {input_spec!r} instead."
            )
        self._input_spec = input_spec
        self._estimator: Any = None
        self._name: str | None = None
        self._hparams: dict[str, Any] = {}

    @property
    def input_spec(self) -> InputSpec:
        """The declared input: arrays of shape ``(n, channels, length)``."""
        return self._input_spec

    @property
    def num_classes(self) -> int:
        """Columns of :meth:`predict_proba`."""
        return self._num_classes

    @property
    def num_features(self) -> int:
        """Features the estimator sees: ``channels · length``."""
        return self._input_spec.channels * self._input_spec.length

    @property
    def estimator(self) -> Any:
        """The fitted scikit-learn estimator (None before :meth:`fit`)."""
        return self._estimator

    def fit(self, x: np.ndarray, y: np.ndarray) -> Self:
        """Fit a fresh estimator on ``x`` ``(n, channels, length)`` and labels ``y`` ``(n,)``."""
        xf = self._flatten(x)
        yy = np.asarray(y)
        ok = (
            yy.shape == (xf.shape[0],)
            and np.issubdtype(yy.dtype, np.integer)
            and (yy.size == 0 or (yy.min() >= 0 and yy.max() < self._num_classes))
        )
        if not ok:
            raise InvalidParameterError(
                f"The 'y' parameter must be {xf.shape[0]} integer labels in "
                f"[0, {self._num_classes}), got an array of shape {yy.shape} and dtype "
                f"{yy.dtype} instead."
            )
        check_param("y", "labels", np.unique(yy).size >= 2, "labels of at least 2 classes")
        self._estimator = self._make_estimator().fit(xf, yy)
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities, float64 ``(n, num_classes)``; classes absent in training get 0."""
        if self._estimator is None:
            raise CardiostreamError(f"{type(self).__name__} must be fitted before predicting.")
        xf = self._flatten(x)
        out = np.zeros((xf.shape[0], self._num_classes))
        if xf.shape[0]:
            out[:, self._estimator.classes_] = self._estimator.predict_proba(xf)
        return out

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Most probable class of each example, int64 ``(n,)``."""
        return np.argmax(self.predict_proba(x), axis=1).astype(np.int64)

    def model_config(self) -> dict[str, Any]:
        """JSON-serialisable configuration; ``create_model(**model_config())`` rebuilds it."""
        if self._name is None:
            raise CardiostreamError(
                f"{type(self).__name__} was not built by create_model(), so it has no registry "
                "name."
            )
        spec = self._input_spec
        return {
            "name": self._name,
            "num_classes": self._num_classes,
            "input_kind": spec.kind,
            "input_length": spec.length,
            "input_channels": spec.channels,
            "input_fs": spec.fs,
            **self._hparams,
        }

    def _bind_config(self, name: str, hparams: dict[str, Any]) -> None:
        self._name = name
        self._hparams = dict(hparams)

    def _flatten(self, x: np.ndarray) -> np.ndarray:
        a = np.asarray(x, dtype=np.float64)
        c, n = self._input_spec.shape
        if a.ndim != 3 or a.shape[1:] != (c, n) or not np.all(np.isfinite(a)):
            raise InvalidSignalError(
                f"The 'x' parameter must be a finite array of shape (n, {c}, {n}) for input kind "
                f"{self._input_spec.kind!r}, got shape {a.shape} instead."
            )
        return a.reshape(a.shape[0], c * n)

    def _make_estimator(self) -> Any:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self._name!r}, input={self._input_spec})"


@register_model("random_forest", paper="003", input_kinds=_INPUTS)
class RandomForestModel(ClassicalModel):
    """Random forest (paper 003, Table 2): ``sklearn.ensemble.RandomForestClassifier``.

    Parameters
    ----------
    n_estimators : int
        Trees (100, scikit-learn's default).
    max_depth : int or None
        Depth limit (None: grow fully).
    class_weight : None or "balanced"
        Class weighting.
    random_state : int
        Seed.
    n_jobs : int
        Worker processes (1; raise it on a machine to spare).
    """

    def __init__(
        self,
        *,
        num_classes: int,
        input_spec: InputSpec,
        n_estimators: int = 100,
        max_depth: int | None = None,
        class_weight: str | None = None,
        random_state: int = 0,
        n_jobs: int = 1,
    ) -> None:
        super().__init__(num_classes=num_classes, input_spec=input_spec)
        check_int("n_estimators", n_estimators)
        _check_max_depth(max_depth)
        _check_class_weight(class_weight)
        check_int("random_state", random_state, 0)
        check_int("n_jobs", n_jobs)
        self._kw = dict(
            n_estimators=n_estimators,
            max_depth=max_depth,
            class_weight=class_weight,
            random_state=random_state,
            n_jobs=n_jobs,
        )

    def _make_estimator(self) -> Any:
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(**self._kw)


@register_model("decision_tree", paper="003", input_kinds=_INPUTS)
class DecisionTreeModel(ClassicalModel):
    """Decision tree (paper 003, Table 2): ``sklearn.tree.DecisionTreeClassifier`` (CART).

    Parameters
    ----------
    max_depth : int or None
        Depth limit (None: grow fully).
    class_weight : None or "balanced"
        Class weighting.
    random_state : int
        Seed (ties between equally good splits).
    """

    def __init__(
        self,
        *,
        num_classes: int,
        input_spec: InputSpec,
        max_depth: int | None = None,
        class_weight: str | None = None,
        random_state: int = 0,
    ) -> None:
        super().__init__(num_classes=num_classes, input_spec=input_spec)
        _check_max_depth(max_depth)
        _check_class_weight(class_weight)
        check_int("random_state", random_state, 0)
        self._kw = dict(max_depth=max_depth, class_weight=class_weight, random_state=random_state)

    def _make_estimator(self) -> Any:
        from sklearn.tree import DecisionTreeClassifier

        return DecisionTreeClassifier(**self._kw)


@register_model("svm", paper="003", input_kinds=_INPUTS)
class SVMModel(ClassicalModel):
    """Support-vector machine (paper 003, Table 2): standardisation → ``sklearn.svm.SVC``.

    Probabilities are Platt-scaled (sigmoid) decision values, calibrated on 5-fold
    cross-validated predictions (``CalibratedClassifierCV(SVC(), ensemble=False)``, which
    scikit-learn 1.9 recommends over the deprecated ``SVC(probability=True)``); every class
    needs at least 5 training examples. Training is quadratic in the number of beats:
    subsample large sets.

    Parameters
    ----------
    c : float
        Regularisation ``C`` (1.0).
    kernel : str
        ``"rbf"``, ``"linear"``, ``"poly"`` or ``"sigmoid"``.
    gamma : str or float
        Kernel coefficient (``"scale"``).
    class_weight : None or "balanced"
        Class weighting.
    """

    def __init__(
        self,
        *,
        num_classes: int,
        input_spec: InputSpec,
        c: float = 1.0,
        kernel: str = "rbf",
        gamma: str | float = "scale",
        class_weight: str | None = None,
    ) -> None:
        super().__init__(num_classes=num_classes, input_spec=input_spec)
        num = (int, float)
        check_param("c", c, isinstance(c, num) and not isinstance(c, bool) and c > 0, "> 0")
        kernels = ("rbf", "linear", "poly", "sigmoid")
        check_param("kernel", kernel, kernel in kernels, f"one of {list(kernels)}")
        ok = gamma in ("scale", "auto") or (
            isinstance(gamma, num) and not isinstance(gamma, bool) and gamma > 0
        )
        check_param("gamma", gamma, ok, "'scale', 'auto' or a positive number")
        _check_class_weight(class_weight)
        self._kw = dict(C=float(c), kernel=kernel, gamma=gamma, class_weight=class_weight)

    def _make_estimator(self) -> Any:
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import SVC

        svc = SVC(**self._kw)
        return make_pipeline(
            StandardScaler(), CalibratedClassifierCV(svc, method="sigmoid", ensemble=False)
        )
