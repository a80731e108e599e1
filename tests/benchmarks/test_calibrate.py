"""benchmarks.calibrate: the plan of runs and the rates it reports (the runs themselves are `make calibrate`)."""

from __future__ import annotations

from benchmarks.calibrate import DEGRADATIONS, Run, plan, summarize, table_lines


def test_plan_has_benign_changes_and_every_degradation_per_seed():
    runs = plan([42, 1], ["fp32", "bf16"], [4])
    benign = [r.change for r in runs if r.scenario == "benign"]
    assert benign == ["seed 1", "precision fp32 vs the bf16 baseline", "precision bf16 vs the fp32 baseline",
                      "generation batch 4"]
    assert [r.baselines_only for r in runs if r.change.startswith("precision")] == ["bf16", "fp32"]
    degraded = [(r.change, r.args[-1]) for r in runs if r.scenario == "degraded"]
    assert degraded == [(how, s) for how in DEGRADATIONS for s in ("42", "1")]


def test_rates_count_only_valid_runs():
    runs = [Run("benign", "seed 1", [], exit_code=0), Run("benign", "seed 2", [], exit_code=1),
            Run("benign", "seed 3", [], exit_code=2),  # a broken run is no verdict
            Run("degraded", "cut-short", [], exit_code=1), Run("degraded", "cut-short", [], exit_code=0)]
    summary = summarize(runs)
    assert summary["benign"] == {"runs": 2, "false_alarms": 1, "rate": 0.5}
    assert summary["degradations"]["cut-short"] == {"runs": 2, "detected": 1, "rate": 0.5}
    assert summary["met"] == {"false_alarms": False, "cut-short": False}
    assert summary["broken_runs"] == 1
    assert "| 2 | cut-short | detected 1/2 (50%) | ≥ 90 % |" in table_lines(summary)
