"""The ``cardiostream`` command line.

Each sub-command lives in its own module exposing ``register(app)``; this module only wires them.
"""

from __future__ import annotations

import typer

from ..simulate import cli as _simulate
from . import analyze as _analyze
from . import compress as _compress
from . import data as _data
from . import demo as _demo
from . import detect as _detect
from . import diagnose as _diagnose
from . import evaluate as _evaluate
from . import export as _export
from . import profile as _profile
from . import serve as _serve
from . import train as _train

app = typer.Typer(
    name="cardiostream",
    help="ECG arrhythmia monitoring: signal processing, R-peak detection, beats, features, "
    "beat classifiers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _mod in (_analyze, _data, _demo, _diagnose, _detect, _evaluate, _serve, _train, _simulate):
    _mod.register(app)
_compress.register(app)
_export.register(app)
_profile.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
