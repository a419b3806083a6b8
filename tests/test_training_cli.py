"""``cardiostream train`` and ``cardiostream evaluate`` command-line surfaces."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from cardiostream.cli import evaluate as evaluate_cli
from cardiostream.cli import train as train_cli


def _app() -> typer.Typer:
    app = typer.Typer(pretty_exceptions_enable=False)
    train_cli.register(app)
    evaluate_cli.register(app)
    return app


def test_help_lists_the_options() -> None:
    runner = CliRunner(env={"COLUMNS": "200"})
    out = runner.invoke(_app(), ["train", "--help"], terminal_width=200)
    assert out.exit_code == 0
    for opt in (
        "--model",
        "--input",
        "--classes",
        "--protocol",
        "--out",
        "--config",
        "--epochs",
        "--max-train-beats",
        "--seed",
    ):
        assert opt in out.output
    out = runner.invoke(_app(), ["evaluate", "--help"], terminal_width=200)
    assert out.exit_code == 0 and "--protocol-c" in out.output and "RUN" in out.output


def test_bad_settings_exit_with_a_message(tmp_path: Path) -> None:
    runner = CliRunner(env={"COLUMNS": "200"})
    args = ["train", "--model", "nope", "--input", "rr", "--out", str(tmp_path / "r")]
    out = runner.invoke(_app(), args, terminal_width=200)
    assert out.exit_code == 1 and "'model'" in out.output
    out = runner.invoke(_app(), ["train", "--input", "rr", "--out", str(tmp_path / "r")])
    assert out.exit_code == 1 and "'model'" in out.output
    out = runner.invoke(_app(), ["train", "--input", "ecg", "--model", "gru", "--out", "x"])
    assert out.exit_code == 2  # typer rejects the choice
    out = runner.invoke(_app(), ["evaluate", str(tmp_path / "absent")], terminal_width=200)
    assert out.exit_code == 1 and "run.json" in out.output
    assert not (tmp_path / "r").exists()
