"""Package the PTB-XL diagnosis models that ``cardiostream diagnose`` uses (+ model cards).

    python scripts/ship_diagnosis_models.py [--work-dir out/bench_ptbxl]

Takes finished run directories of ``benchmarks/ptbxl.py`` (trained and evaluated there; nothing
is retrained) and copies, for each task in ``superdiagnostic`` and ``rhythm``:

* ``diag_<task>_12lead``: the 12-lead model with the best **fold-9** (validation) macro-AUROC
  among those with at most ``--max-params`` parameters (package data stays small); fold 10 is
  never used to choose;
* ``diag_<task>_lead1`` / ``_lead2``: the single-lead student on lead I / II with the better
  fold-9 macro-AUROC of the distilled one and the one trained on labels only (the card says
  which); again fold 10 is never used to choose.

Each copy gets a MODEL_CARD.md quoting data, protocol, fold-10 metrics with CIs, date and the
command that reproduces it.
"""

from __future__ import annotations

import argparse
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEST = ROOT / "src" / "cardiostream" / "data" / "models"
TASKS = ("superdiagnostic", "rhythm")
KEEP = ("model.safetensors", "run.json", "evaluation.json", "evaluation.md")


def _load(run: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    return (
        json.loads((run / "run.json").read_text()),
        json.loads((run / "evaluation.json").read_text()),
    )


def _num(v: float | None) -> str:
    return "—" if v is None else f"{v:.3f}"


def _card(name: str, run: Path, meta: dict[str, Any], ev: dict[str, Any], note: str) -> str:
    t = ev["test"]
    ci = t.get("ci", {})
    prep = meta["preprocessing"]
    fit = meta["metrics"]["fit"]
    tc = meta["train_config"]

    def ci_txt(k: str) -> str:
        return f" (95 % CI {ci[k][0]:.3f}–{ci[k][1]:.3f})" if k in ci else ""

    rows = "\n".join(
        f"| {c} | {v['support']} | {_num(v['auroc'])} | {v['threshold']:.3f} |"
        for c, v in t["per_class"].items()
    )
    teacher = tc.get("teacher")
    origin = (
        f"Distilled from the 12-lead teacher run `{Path(teacher).name}` (hybrid loss, "
        f"α {tc['kd_alpha']}, T {tc['kd_temperature']})."
        if teacher
        else "Trained on labels only (no teacher)."
    )
    return f"""# Model card: {name}

- **Model:** `{meta["model_config"]["name"]}` ({meta["n_params"]:,} parameters), leads
  {", ".join(prep["leads"])}, {prep["fs"]:g} Hz, {prep["window"]}-sample windows every
  {prep["stride"]} samples, window probabilities aggregated by their {prep["aggregate"]}.
- **Task:** PTB-XL `{prep["task"]}` (Strodthoff et al. 2021 label rules), classes
  {", ".join(prep["classes"])}.
- **Data:** PTB-XL 1.0.3 at 100 Hz as held in ../shared/data/ptbxl: {meta["split"]["n_train"]}
  training records (folds 1-8, about half of them are on disk), {meta["split"]["n_val"]}
  validation (fold 9), {meta["split"]["n_test"]} test (fold 10).
- **Training:** AdamW one-cycle, peak lr {tc["lr"]}, batch {tc["batch_size"]}, random
  {tc["crop_s"]} s crops, best of {fit["epochs_run"]} epochs by fold-9 macro-AUROC (epoch
  {fit["best_epoch"]}, stop: {fit["stop_reason"]}), {fit["train_seconds"] / 60:.1f} min on the
  development machine's CPU, seed {tc["seed"]}.
  {origin}
- **Thresholds:** per-class F1-optimal thresholds tuned on fold 9.
- **Selection:** {note}
- **Fold-10 metrics:** macro AUROC {t["macro_auroc"]:.4f}{ci_txt("macro_auroc")}, macro AUPRC
  {t["macro_auprc"]:.4f}{ci_txt("macro_auprc")}, macro-F1 {100 * t["macro_f1_tuned"]:.1f} %
  at the fold-9 thresholds ({100 * t["macro_f1"]:.1f} % at 0.5).

| class | test positives | AUROC | threshold |
|---|---|---|---|
{rows}

- **Limits:** PTB-XL records are resting 10 s clinical ECGs; a chest strap's single lead is
  not lead I or II, and ambulatory noise was not in training. Decision support only.
- **Date:** {meta["created"]} (trained); packaged {datetime.now(UTC).date().isoformat()}.
- **Reproduce:** the rows of the shipped models come from
  `python benchmarks/ptbxl.py --models resnet1d_wang --tasks superdiagnostic,rhythm --teacher
  resnet1d_wang --threads 1` and `python benchmarks/ptbxl.py --models ecg_student --tasks rhythm
  --no-distill --epochs 40 --threads 1` (this one: row `{run.parent.name}/{run.name}`), then
  `python scripts/ship_diagnosis_models.py`. Training command recorded: `{meta["command"]}`.
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work-dir", type=Path, default=ROOT / "out" / "bench_ptbxl")
    ap.add_argument("--max-params", type=int, default=600_000)
    args = ap.parse_args(argv)
    shipped = {}
    for task in TASKS:
        runs = sorted(p.parent for p in (args.work_dir / task).glob("*/evaluation.json"))
        twelve = []
        for r in runs:
            meta, _ = _load(r)
            if len(meta["preprocessing"]["leads"]) == 12 and meta["n_params"] <= args.max_params:
                twelve.append((meta["metrics"]["val"]["macro_auroc"], r))
        picks: dict[str, tuple[Path, str]] = {}
        if twelve:
            val, best = max(twelve)
            picks["12lead"] = (
                best,
                f"best fold-9 macro-AUROC ({val:.4f}) among the {len(twelve)} 12-lead models "
                f"of at most {args.max_params:,} parameters trained for this task.",
            )
        for lead, tag in (("I", "lead1"), ("II", "lead2")):
            names = (f"ecg_student-lead{lead}", f"ecg_student-lead{lead}-kd")
            cands = [r for r in runs if r.name in names]
            scored = sorted(
                ((_load(r)[0]["metrics"]["val"]["macro_auroc"], r) for r in cands), reverse=True
            )
            if scored:
                val, best = scored[0]
                kinds = ", ".join(
                    f"{'distilled' if r.name.endswith('-kd') else 'label-only'} {v:.4f}"
                    for v, r in scored
                )
                picks[tag] = (
                    best,
                    f"best fold-9 macro-AUROC among this lead's students ({kinds}).",
                )
        for tag, (run, note) in picks.items():
            name = f"diag_{task}_{tag}"
            dest = DEST / name
            if dest.exists():
                shutil.rmtree(dest)
            dest.mkdir(parents=True)
            for f in KEEP:
                shutil.copy2(run / f, dest / f)
            meta, ev = _load(run)
            (dest / "MODEL_CARD.md").write_text(_card(name, run, meta, ev, note))
            teacher = meta["train_config"].get("teacher")
            t_meta = Path(teacher) / "run.json" if teacher else None
            shipped[name] = {
                "from": str(run.relative_to(ROOT) if run.is_relative_to(ROOT) else run),
                "model": meta["model_config"]["name"],
                "params": meta["n_params"],
                "test_macro_auroc": ev["test"]["macro_auroc"],
                "test_macro_f1_tuned": ev["test"]["macro_f1_tuned"],
                "teacher": json.loads(t_meta.read_text())["model_config"]["name"]
                if t_meta and t_meta.is_file()
                else None,
                "teacher_params": json.loads(t_meta.read_text())["n_params"]
                if t_meta and t_meta.is_file()
                else None,
            }
            print(f"{name}: {shipped[name]}")
    (DEST / "diagnosis_models.json").write_text(json.dumps(shipped, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
