"""The gate's operating characteristic, measured: ``make calibrate`` (slow, opt-in).

Runs the quick gate — what ``make test`` runs: ``pytest benchmarks`` on one model's base and
fine-tuned systems, ``--dyag-require-baseline`` — many times, each a real training and
evaluation through the caches:

- under **benign changes**, where nothing got worse and the gate must pass: another training
  seed; the other CPU precision (fp32 against a bf16-only baseline folder, and the reverse);
  another generation batch size;
- under **degradations** (``--dyag-degrade``), where the gate must fail: invented dialogue
  turns, swapped facts, under-training, answers cut short, answers in English; each with
  several training seeds.

It writes ``reports/calibration.json``, a results document whose ``calibration`` holds every run (its arguments, exit code, failed gates)
and prints the table: false-alarm rate over the benign runs, detection rate per degradation.

    python -m benchmarks.calibrate --model smollm2:135m --seeds 42,1
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEGRADATIONS = ("fake-dialogue", "swapped-facts", "under-training", "cut-short", "english")
TARGETS = {"false_alarm_rate_max": 0.05, "detection_rate_min": 0.9}


@dataclass
class Run:
    scenario: str  # "benign" or "degraded"
    change: str  # e.g. "seed 1", "precision fp32 vs bf16 baseline", "swapped-facts"
    args: list[str]
    baselines_only: str | None = None  # see only this precision's baselines ("fp32", "bf16")
    exit_code: int | None = None
    failed_gates: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def gate_failed(self) -> bool:
        return self.exit_code == 1

    @property
    def valid(self) -> bool:
        """0 (passed) or 1 (tests failed): any other code is a broken run, not a verdict."""
        return self.exit_code in (0, 1)


def plan(seeds: list[int], precisions: list[str], gen_batches: list[int]) -> list[Run]:
    runs = [Run("benign", f"seed {s}", ["--dyag-seed", str(s)]) for s in seeds if s != 42]
    for precision in precisions:
        other = "bf16" if precision == "fp32" else "fp32"
        runs.append(Run("benign", f"precision {precision} vs the {other} baseline", ["--dyag-precision", precision],
                        baselines_only=other))
    runs += [Run("benign", f"generation batch {b}", ["--dyag-gen-batch", str(b)]) for b in gen_batches]
    for how in DEGRADATIONS:
        runs += [Run("degraded", how, ["--dyag-degrade", how, "--dyag-seed", str(s)]) for s in seeds]
    return runs


def _baseline_folder(run: Run, baselines: Path, work: Path) -> Path:
    """The baseline folder a run sees: for a precision change, only the other precision's baselines."""
    other = run.baselines_only
    if other is None:
        return baselines
    folder = work / f"baselines-{other}-only"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for path in baselines.glob(f"*.cpu-{other}*.json"):
        shutil.copy(path, folder / path.name)
    return folder


def _failed_gates(junit: Path) -> list[str]:
    if not junit.is_file():
        return []
    failed = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(f"{case.get('name')}")
    return failed


def execute(run: Run, *, model: str, baselines: Path, work: Path, index: int) -> Run:
    junit = work / f"run-{index}.xml"
    argv = [sys.executable, "-m", "pytest", str(ROOT / "benchmarks"), "-q", "-p", "no:cacheprovider",
            "--dyag-models", model, "--dyag-systems", "base,finetuned", "--dyag-profile", "quick",
            "--dyag-require-baseline", "--dyag-baseline", str(_baseline_folder(run, baselines, work)),
            "--junitxml", str(junit), *run.args]
    t0 = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    run.seconds = round(time.perf_counter() - t0, 1)
    run.exit_code = proc.returncode
    run.failed_gates = _failed_gates(junit)
    if not run.valid:
        print(proc.stdout[-3000:] + proc.stderr[-3000:], file=sys.stderr)
    return run


def summarize(runs: list[Run]) -> dict:
    benign = [r for r in runs if r.scenario == "benign" and r.valid]
    table = {"benign": {"runs": len(benign), "false_alarms": sum(r.gate_failed for r in benign)}}
    table["benign"]["rate"] = table["benign"]["false_alarms"] / len(benign) if benign else None
    table["degradations"] = {}
    for how in DEGRADATIONS:
        done = [r for r in runs if r.scenario == "degraded" and r.change == how and r.valid]
        if done:
            caught = sum(r.gate_failed for r in done)
            table["degradations"][how] = {"runs": len(done), "detected": caught, "rate": caught / len(done)}
    rate = table["benign"]["rate"]
    table["targets"] = TARGETS
    table["met"] = {
        "false_alarms": rate is not None and rate <= TARGETS["false_alarm_rate_max"],
        **{how: d["rate"] >= TARGETS["detection_rate_min"] for how, d in table["degradations"].items()},
    }
    table["broken_runs"] = sum(not r.valid for r in runs)
    return table


def table_lines(summary: dict) -> list[str]:
    b = summary["benign"]
    lines = ["| runs | kind | result | target |", "|---|---|---|---|"]
    rate = "n/a" if b["rate"] is None else f"{b['rate']:.0%}"
    lines.append(f"| {b['runs']} | benign changes | false alarms {b['false_alarms']}/{b['runs']} ({rate}) | ≤ 5 % |")
    for how, d in summary["degradations"].items():
        lines.append(f"| {d['runs']} | {how} | detected {d['detected']}/{d['runs']} ({d['rate']:.0%}) | ≥ 90 % |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.calibrate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="smollm2:135m", help="the model whose quick gate is calibrated")
    parser.add_argument("--seeds", default="42,1,2", help="training seeds (42 is the baseline's; others are benign)")
    parser.add_argument("--precisions", default="fp32,bf16", help="precisions run against the other one's baseline")
    parser.add_argument("--gen-batches", default="4,40", help="generation batch sizes (benign)")
    parser.add_argument("--only", default=None, help="comma list of changes to run (e.g. 'seed 1,cut-short')")
    parser.add_argument("--out", default=str(ROOT / "reports" / "calibration.json"))
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    runs = plan(seeds, [p for p in args.precisions.split(",") if p], [int(b) for b in args.gen_batches.split(",") if b])
    if args.only:
        wanted = {w.strip() for w in args.only.split(",")}
        runs = [r for r in runs if r.change in wanted or r.change.split()[0] in wanted]
    out = Path(args.out)
    baselines = ROOT / "golden" / "baselines"
    doc = {"model": args.model, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "runs": []}
    from dyag.utils.device import cpu_flags

    doc["machine"] = {"cpu_flags": cpu_flags(), "cores": os.cpu_count()}
    from dyag.results import Calibration, Results, write

    with tempfile.TemporaryDirectory(prefix="dyag-calibrate-") as tmp:
        for i, run in enumerate(runs, 1):
            print(f"[{i}/{len(runs)}] {run.scenario}: {run.change} ...", flush=True)
            execute(run, model=args.model, baselines=baselines, work=Path(tmp), index=i)
            verdict = {0: "gate passed", 1: "gate FAILED"}.get(run.exit_code, f"broken run (exit {run.exit_code})")
            print(f"    {verdict} in {run.seconds:.0f} s" + (f": {', '.join(run.failed_gates)}" if run.failed_gates else ""),
                  flush=True)
            doc["runs"].append({**asdict(run), "gate_failed": run.gate_failed})
            doc["summary"] = summarize(runs[:i])
            write(out, Results(calibration=Calibration(**doc)))
    print("\n".join(table_lines(doc["summary"])))
    print(f"calibration: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
