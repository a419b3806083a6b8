"""``cardiostream train --task``, ``evaluate`` and ``diagnose`` on a small real PTB-XL subset.

The subset (30 training, 20 validation, 20 test records) is a temporary data root whose table is
cut down and whose record folders are symbolic links to ../shared/data/ptbxl, so the command
line runs end to end in seconds without copying data.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from cardiostream.cli import diagnose as diagnose_cli
from cardiostream.cli import evaluate as evaluate_cli
from cardiostream.cli import train as train_cli

pytestmark = pytest.mark.data


def _app() -> typer.Typer:
    app = typer.Typer(pretty_exceptions_enable=False)
    for mod in (train_cli, evaluate_cli, diagnose_cli):
        mod.register(app)
    return app


@pytest.fixture(scope="module")
def small_root(ptbxl_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data")
    dst = root / "ptbxl"
    dst.mkdir()
    table = pd.read_csv(ptbxl_dir / "ptbxl_database.csv", index_col="ecg_id")
    present = table["filename_lr"].map(lambda f: (ptbxl_dir / f"{f}.hea").is_file())
    table = table[present]
    parts = []
    for folds, n in (((1, 2, 3, 4, 5, 6, 7, 8), 30), ((9,), 20), ((10,), 20)):
        parts.append(table[table["strat_fold"].isin(folds)].iloc[:n])
    pd.concat(parts).to_csv(dst / "ptbxl_database.csv")
    for name in ("scp_statements.csv", "ptbxl_database_full_v1.0.3.csv", "records100"):
        (dst / name).symlink_to(ptbxl_dir / name)
    return root


def test_train_evaluate_diagnose(small_root: Path, tmp_path: Path, ptbxl_dir: Path) -> None:
    runner = CliRunner()
    run = tmp_path / "run"
    cache = tmp_path / "cache"
    env = {"CARDIOSTREAM_CACHE": str(cache), "COLUMNS": "200"}
    args = ["train", "--task", "superdiagnostic", "--model", "ecg_student", "--leads", "I",
            "--epochs", "2", "--threads", "1", "--no-progress", "--out", str(run),
            "--data-dir", str(small_root)]  # fmt: skip
    out = runner.invoke(_app(), args, env=env)
    assert out.exit_code == 0, out.output
    meta = json.loads((run / "run.json").read_text())
    assert meta["split"]["n_train"] == 30 and meta["preprocessing"]["leads"] == ["I"]
    assert meta["command"].startswith("cardiostream")

    out = runner.invoke(
        _app(), ["evaluate", str(run), "--n-boot", "20", "--data-dir", str(small_root)], env=env
    )
    assert out.exit_code == 0, out.output
    ev = json.loads((run / "evaluation.json").read_text())
    assert ev["test"]["n_records"] == 20 and "macro_auroc" in ev["test"]

    rid = pd.read_csv(small_root / "ptbxl" / "ptbxl_database.csv")["filename_lr"].iloc[-1]
    out = runner.invoke(
        _app(), ["diagnose", str(ptbxl_dir / rid), "--run", str(run), "--json"], env=env
    )
    assert out.exit_code == 0, out.output
    got = json.loads(out.output)
    assert [f["label"] for f in got[0]["findings"]] == ["CD", "HYP", "MI", "NORM", "STTC"]
    probs = np.array([f["probability"] for f in got[0]["findings"]])
    assert ((probs >= 0) & (probs <= 1)).all()


def test_train_rejects_a_beat_model_for_a_task(small_root: Path, tmp_path: Path) -> None:
    out = CliRunner().invoke(
        _app(),
        [
            "train",
            "--task",
            "rhythm",
            "--model",
            "cnn1d",
            "--out",
            str(tmp_path / "r"),
            "--data-dir",
            str(small_root),
            "--no-progress",
        ],
        env={"CARDIOSTREAM_CACHE": str(tmp_path / "c")},
    )
    assert out.exit_code == 1 and "record-level" in out.output
