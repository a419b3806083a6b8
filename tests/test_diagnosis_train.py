"""Record-level training, distillation, checkpoints and inference on synthetic 12-lead data.

The synthetic task (``synthetic_ptbxl`` in conftest) is learnable, so a short training run must
beat chance clearly; checkpoints must reload to identical outputs and
:class:`Diagnoser` must reproduce the evaluation's scores for a record.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cardiostream.diagnosis import (
    PTBXL_LEADS,
    Diagnoser,
    DiagnosisConfig,
    PtbxlSplits,
    evaluate_diagnosis,
    hybrid_kd_loss,
    is_diagnosis_run,
    load_diagnosis_run,
    predict_windows,
    train_diagnosis,
)
from cardiostream.errors import InvalidParameterError, InvalidSignalError
from cardiostream.types import Record

CLASSES = ("A", "B", "C")


@pytest.fixture(scope="module")
def splits(synthetic_ptbxl: PtbxlSplits) -> PtbxlSplits:
    return synthetic_ptbxl


@pytest.fixture(scope="module")
def teacher_run(tmp_path_factory: pytest.TempPathFactory, splits: PtbxlSplits):  # type: ignore[no-untyped-def]
    cfg = DiagnosisConfig(model="ecg_student", epochs=6, batch_size=32, lr=3e-3, num_threads=1)
    out = tmp_path_factory.mktemp("runs") / "teacher"
    return train_diagnosis(cfg, out, splits=splits, progress=False, command="test")


def test_training_learns_and_writes_a_run(teacher_run, splits: PtbxlSplits) -> None:  # type: ignore[no-untyped-def]
    meta = teacher_run.meta
    assert is_diagnosis_run(teacher_run.run_dir)
    assert meta.metrics["val"]["macro_auroc"] > 0.9
    assert meta.preprocessing.classes == CLASSES
    assert len(meta.preprocessing.thresholds) == 3
    d = json.loads((teacher_run.run_dir / "run.json").read_text())
    assert d["dataset"] == "ptbxl" and d["model_config"]["input_channels"] == 12
    ev = evaluate_diagnosis(teacher_run.run_dir, splits=splits, n_boot=20)
    assert ev.test.macro_auroc > 0.9
    assert (teacher_run.run_dir / "evaluation.md").is_file()


def test_checkpoint_reloads_identically(teacher_run, splits: PtbxlSplits) -> None:  # type: ignore[no-untyped-def]
    model, meta = load_diagnosis_run(teacher_run.run_dir)
    x = meta.preprocessing.normalizer(splits.x["test"][:5])
    a = predict_windows(teacher_run.model, x, 250, 125)
    b = predict_windows(model, x, 250, 125)
    np.testing.assert_array_equal(a, b)


def test_diagnoser_matches_evaluation(teacher_run, splits: PtbxlSplits) -> None:  # type: ignore[no-untyped-def]
    ev = evaluate_diagnosis(teacher_run.run_dir, splits=splits, n_boot=0, write=False)
    dx = Diagnoser.from_run(teacher_run.run_dir)
    rec = Record(splits.x["test"][3].astype(np.float64), 100.0, PTBXL_LEADS, "r3")
    got = np.array([f.probability for f in dx.diagnose(rec).findings])
    np.testing.assert_allclose(got, ev.probabilities[3], rtol=0, atol=1e-6)
    # a 500 Hz copy of the record is resampled to the model's rate first
    rec500 = Record(np.repeat(rec.signal, 5, axis=0), 500.0, PTBXL_LEADS, "r3@500")
    assert len(dx.diagnose(rec500).findings) == 3
    with pytest.raises(InvalidSignalError, match="lead"):
        dx.diagnose(Record(rec.signal[:, :1], 100.0, ("I",), "one"))
    with pytest.raises(InvalidSignalError, match="at least"):
        dx.diagnose(Record(rec.signal[:100], 100.0, PTBXL_LEADS, "short"))


def test_single_lead_student_distils(tmp_path, teacher_run, splits: PtbxlSplits) -> None:  # type: ignore[no-untyped-def]
    runs = {}
    for grid in (None, 1.25):
        cfg = DiagnosisConfig(
            model="ecg_student",
            leads=("I",),
            epochs=3,
            batch_size=32,
            lr=3e-3,
            num_threads=1,
            teacher=str(teacher_run.run_dir),
            hint_weight=0.1,
            crop_grid_s=grid,
        )
        runs[grid] = train_diagnosis(cfg, tmp_path / f"s{grid}", splits=splits, progress=False)
    for run in runs.values():
        assert run.model.input_spec.channels == 1
        assert run.meta.train_config.teacher == str(teacher_run.run_dir)
        assert np.isfinite(run.meta.metrics["fit"]["history"][-1]["train_loss"])
    rec = Record(splits.x["test"][0, :, :1].astype(np.float64), 100.0, ("MLI",), "one")
    assert Diagnoser.from_run(runs[None].run_dir).diagnose(rec).leads == ("I",)


def test_teacher_must_predict_the_same_task(tmp_path, teacher_run, splits: PtbxlSplits) -> None:  # type: ignore[no-untyped-def]
    other = PtbxlSplits(("A", "B", "X"), splits.leads, splits.x, splits.y, splits.ecg_ids)
    cfg = DiagnosisConfig(
        model="ecg_student", leads=("I",), epochs=1, teacher=str(teacher_run.run_dir)
    )
    with pytest.raises(InvalidParameterError, match="teacher"):
        train_diagnosis(cfg, tmp_path / "x", splits=other, progress=False)


def test_hybrid_loss_hand_computed() -> None:
    zs = torch.tensor([[0.5, -1.0]])
    zt = torch.tensor([[2.0, 0.0]])
    y = torch.tensor([[1.0, 0.0]])
    a, t = 0.3, 2.0

    def bce(z: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        p = torch.sigmoid(z)
        return -(target * torch.log(p) + (1 - target) * torch.log(1 - p)).mean()

    want = (1 - a) * bce(zs, y) + a * t**2 * bce(zs / t, torch.sigmoid(zt / t))
    got = hybrid_kd_loss(zs, y, zt, alpha=a, temperature=t)
    assert float(got) == pytest.approx(float(want), rel=1e-6)
    plain = hybrid_kd_loss(zs, y, zt, alpha=0.0, temperature=t)
    assert float(plain) == pytest.approx(float(bce(zs, y)), rel=1e-6)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("task", "beats"),
        ("leads", ("I", "I")),
        ("leads", ("X",)),
        ("kd_alpha", 1.5),
        ("crop_s", 12.0),
        ("aggregate", "median"),
        ("crop_grid_s", 0),
        ("epochs", 0),
    ],
)
def test_config_rejects_bad_values(field: str, value: object) -> None:
    with pytest.raises(InvalidParameterError, match=field):
        DiagnosisConfig(model="ecg_student", **{field: value})


def test_config_round_trip() -> None:
    cfg = DiagnosisConfig(model="ecg_student", leads=("ii",), model_hparams={"width": 1})
    again = DiagnosisConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg and again.leads == ("II",)
    with pytest.raises(InvalidParameterError, match="not a diagnosis setting"):
        DiagnosisConfig.from_dict({"model": "x", "colour": 1})


def test_non_record_model_is_rejected(tmp_path, splits: PtbxlSplits) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidParameterError, match="record-level"):
        train_diagnosis(DiagnosisConfig(model="cnn1d"), tmp_path, splits=splits, progress=False)
