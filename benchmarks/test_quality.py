"""Quality gates, one test id per (gate, model, system): e.g. test_no_dialogue_turns[smollm2:135m-finetuned]."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.dyag_bench


def _rule_gate(rows, rule: str, max_share: float, dyag_results) -> None:
    applicable = [r for r in rows for res in r["rules"] if res["name"] == rule]
    failures = [(r["id"], res["message"]) for r in rows for res in r["rules"] if res["name"] == rule and not res["passed"]]
    share = len(failures) / len(applicable) if applicable else 0.0
    dyag_results.record(gate=rule, failures=len(failures), cases=len(applicable), share=share, max_share=max_share)
    shown = "; ".join(f"{case}: {msg}" for case, msg in failures[:5])
    assert share <= max_share, (
        f"{rule}: {len(failures)}/{len(applicable)} answers fail ({share:.0%} > {max_share:.0%} allowed): {shown}"
    )


def _floor_gate(dyag_scored, system: str, metric: str, floor: float, dyag_results) -> None:
    agg = dyag_scored["aggregates"][system].get(metric)
    assert agg is not None and agg.get("mean") is not None, f"{system} has no {metric}"
    mean = agg["mean"]
    dyag_results.record(gate=metric, mean=mean, ci95=agg.get("ci95"), floor=floor)
    assert mean >= floor, f"{system}: mean {metric} {mean:.3f} is below the floor {floor} (95% CI {agg.get('ci95')})"


def test_no_dialogue_turns(predictions, dyag_system, gate, dyag_results):
    _rule_gate(predictions(dyag_system), "no_dialogue_turns", gate("no_dialogue_turns"), dyag_results)


def test_no_repetition(predictions, dyag_system, gate, dyag_results):
    _rule_gate(predictions(dyag_system), "no_repetition", gate("no_repetition"), dyag_results)


def test_not_truncated(predictions, dyag_system, gate, dyag_results):
    _rule_gate(predictions(dyag_system), "not_truncated", gate("not_truncated"), dyag_results)


def test_language(predictions, dyag_system, gate, dyag_results):
    _rule_gate(predictions(dyag_system), "language", gate("language"), dyag_results)


def test_bertscore_floor(dyag_scored, dyag_model, dyag_system, gate, dyag_results):
    _floor_gate(dyag_scored, f"{dyag_model}/{dyag_system}", "bertscore_f1", gate("bertscore_f1"), dyag_results)


def test_fact_recall_floor(dyag_scored, dyag_model, dyag_system, gate, dyag_results):
    _floor_gate(dyag_scored, f"{dyag_model}/{dyag_system}", "fact_recall", gate("fact_recall"), dyag_results)


def test_quality_score_floor(dyag_scored, dyag_model, dyag_system, gate, dyag_results):
    _floor_gate(dyag_scored, f"{dyag_model}/{dyag_system}", "score", gate("score"), dyag_results)
