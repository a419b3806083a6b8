"""One registry of models: ``@register_model`` adds a variant, ``list_models`` names them.

Modelled on timm's registry: each entry is a class plus the architecture constants of a named
variant (e.g. ``lstm256`` and ``lstm512`` are one class with ``hidden_size`` fixed), and the
remaining keyword-only constructor arguments are the variant's configurable hyperparameters.
:func:`cardiostream.models.create_model` builds entries.
"""

from __future__ import annotations

import fnmatch
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeVar

from ..errors import InvalidParameterError, UnknownMethodError, check_param
from ._base import INPUT_KINDS

__all__ = ["FRAMEWORKS", "ModelInfo", "list_models", "model_info", "register_model"]

#: ``torch``: an :class:`ECGModel`; ``sklearn``: a :class:`ClassicalModel`.
FRAMEWORKS: tuple[str, ...] = ("torch", "sklearn")

#: Constructor arguments every model takes that are not hyperparameters.
_COMMON = ("num_classes", "input_spec")

T = TypeVar("T", bound=type)


@dataclass(frozen=True)
class ModelInfo:
    """A registered model variant.

    Attributes
    ----------
    name : str
        Registry name, the ``name`` of :func:`create_model`.
    cls : type
        The class built.
    framework : str
        ``"torch"`` or ``"sklearn"``.
    paper : str
        The paper in ../shared/papers it reproduces (``"001"``, ``"002"``, ``"003"``).
    summary : str
        First line of the class docstring.
    input_kinds : tuple of str
        Input kinds it accepts; the first is the default.
    default_num_classes : int
        5 (AAMI N/S/V/F/Q) for papers 001 and 003, 3 (N/S/V) for paper 002.
    fixed : Mapping
        Architecture constants of this variant (not configurable).
    hparams : Mapping
        Configurable hyperparameters and their defaults.
    reference_params : int or None
        Parameter count the paper reports, where it reports one.
    reference : str
        Where, with the input shape it applies to.
    """

    name: str
    cls: type
    framework: str
    paper: str
    summary: str
    input_kinds: tuple[str, ...]
    default_num_classes: int
    fixed: Mapping[str, Any]
    hparams: Mapping[str, Any]
    reference_params: int | None = None
    reference: str = ""

    @property
    def default_input_kind(self) -> str:
        """The input kind used when ``create_model`` is given none."""
        return self.input_kinds[0]


_REGISTRY: dict[str, ModelInfo] = {}


def _hyperparameters(cls: type, fixed: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword-only constructor arguments of ``cls`` with defaults, minus common and fixed."""
    hp: dict[str, Any] = {}
    for p in list(inspect.signature(cls.__init__).parameters.values())[1:]:
        if p.kind is p.VAR_KEYWORD or p.name in _COMMON or p.name in fixed:
            continue
        if p.kind is not p.KEYWORD_ONLY or p.default is p.empty:
            raise TypeError(
                f"{cls.__name__}.__init__ argument {p.name!r} must be keyword-only with a default "
                "to be a registry hyperparameter."
            )
        hp[p.name] = p.default
    return hp


def register_model(
    name: str,
    *,
    paper: str,
    input_kinds: tuple[str, ...],
    num_classes: int = 5,
    fixed: Mapping[str, Any] | None = None,
    reference_params: int | None = None,
    reference: str = "",
) -> Callable[[T], T]:
    """Class decorator registering a model variant under ``name`` (stackable).

    Parameters
    ----------
    name : str
        Unique registry name (lower case, ``[a-z0-9_]``).
    paper : str
        Paper number it reproduces.
    input_kinds : tuple of str
        Accepted :data:`INPUT_KINDS`; the first is the default.
    num_classes : int
        Default number of classes.
    fixed : Mapping, optional
        Constructor arguments fixed by this variant.
    reference_params, reference : int or None, str
        The paper's parameter count and where it is reported.
    """
    fixed = dict(fixed or {})
    ok = bool(input_kinds) and all(k in INPUT_KINDS for k in input_kinds)
    check_param("input_kinds", input_kinds, ok, f"a non-empty tuple from {list(INPUT_KINDS)}")
    ok = isinstance(name, str) and name.replace("_", "a").isalnum() and name == name.lower()
    check_param("name", name, ok, "a lower-case identifier")
    if name in _REGISTRY:
        raise InvalidParameterError(f"The 'name' parameter {name!r} is already registered.")

    def deco(cls: T) -> T:
        from torch import nn

        framework = "torch" if issubclass(cls, nn.Module) else "sklearn"
        doc = inspect.getdoc(cls) or ""
        _REGISTRY[name] = ModelInfo(
            name=name,
            cls=cls,
            framework=framework,
            paper=paper,
            summary=doc.splitlines()[0] if doc else "",
            input_kinds=tuple(input_kinds),
            default_num_classes=num_classes,
            fixed=MappingProxyType(dict(fixed)),
            hparams=MappingProxyType(_hyperparameters(cls, fixed)),
            reference_params=reference_params,
            reference=reference,
        )
        return cls

    return deco


def list_models(
    pattern: str | None = None, *, framework: str | None = None, paper: str | None = None
) -> list[str]:
    """Sorted registry names, optionally filtered.

    Parameters
    ----------
    pattern : str, optional
        Shell-style wildcard (``fnmatch``), e.g. ``"lstm*"``.
    framework : str, optional
        ``"torch"`` or ``"sklearn"``.
    paper : str, optional
        Paper number, e.g. ``"001"``.
    """
    if framework is not None:
        check_param("framework", framework, framework in FRAMEWORKS, f"one of {list(FRAMEWORKS)}")
    names = sorted(_REGISTRY)
    if pattern is not None:
        names = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
    if framework is not None:
        names = [n for n in names if _REGISTRY[n].framework == framework]
    if paper is not None:
        names = [n for n in names if _REGISTRY[n].paper == paper]
    return names


def model_info(name: str) -> ModelInfo:
    """The registry entry of ``name``; :class:`UnknownMethodError` lists the valid names."""
    if not isinstance(name, str) or name not in _REGISTRY:
        raise UnknownMethodError(
            f"The 'name' parameter must be one of {list_models()}, got {name!r} instead."
        )
    return _REGISTRY[name]
