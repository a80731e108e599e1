"""The seed's comparison as data: per model, base vs finetuned vs rag side by side (with training metrics),
and what the comparison is for: the fine-tuned system beats the untrained base."""

from __future__ import annotations

import pytest

from dyag.gates import beats_gate

pytestmark = pytest.mark.dyag_bench

COLUMNS = ("score", "bertscore_f1", "rougeL", "bleu", "fact_recall")


def test_systems_side_by_side(dyag_scored, dyag_model, golden_cases, dyag_session, dyag_results):
    systems = [f"{dyag_model}/{kind}" for kind in dyag_session.options.systems]
    table = {}
    for system in systems:
        answered = {c["id"] for c in dyag_scored["cases"] if c["system"] == system}
        assert answered == {c.id for c in golden_cases}, f"{system} did not answer every golden case"
        aggs = dyag_scored["aggregates"][system]
        table[system] = {m: aggs[m]["mean"] for m in COLUMNS if m in aggs}
    training = dyag_scored.get("training", {}).get(dyag_model)
    if any("finetuned" in s for s in systems):
        assert training and training.get("train_loss") is not None, "training metrics missing from the results"
    winner = max(table, key=lambda s: table[s]["score"])
    dyag_results.record(comparison=table, training=training, winner=winner)
    print(f"\n{dyag_model}: winner {winner}")
    for system, row in table.items():
        print(f"  {system:<32} " + "  ".join(f"{m}={v:.3f}" for m, v in row.items() if v is not None))


def test_finetuned_beats_base(dyag_scored, dyag_model, dyag_session, beats_base, dyag_results):
    kinds = dyag_session.options.systems
    if not {"base", "finetuned"} <= set(kinds):
        pytest.skip("needs both the base and the finetuned systems (--dyag-systems)")
    outcomes = [beats_gate(dyag_scored, f"{dyag_model}/finetuned", f"{dyag_model}/base", m) for m in beats_base]
    dyag_results.record(gate="finetuned_beats_base", outcomes=[o.to_dict() for o in outcomes])
    failed = [o.message for o in outcomes if not o.passed]
    assert not failed, "; ".join(failed)
