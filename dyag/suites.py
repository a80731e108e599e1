"""The built-in benchmark suites: ``from dyag.suites import *`` in a test module collects them.

Parameterized over the configured models (``dyag_model``) and systems (``dyag_system``), with
thresholds from ``[tool.dyag.gates]`` (see :mod:`dyag.settings` and :mod:`dyag.gates`):

- ``test_rule_gate[<model>-<system>-<rule>]``: the share of answers breaking a format rule stays
  under its cap, and the rule's pass rate did not drop against the baseline (exact McNemar);
- ``test_floor_gate[<model>-<system>-<metric>]``: BERTScore F1, fact recall and the quality score
  stay over their floors and did not drop against the baseline (paired bootstrap);
- ``test_split_floor_gate[<model>-<system>]``: the floors a project sets per golden split
  (``"fact_recall@seen" = 0.8``): memorisation and generalisation gated separately;
- ``test_finetuned_beats_base[<model>]``: the fine-tuned system beats the untrained base,
  significantly, on the ``beats_base`` metrics;
- ``test_systems_side_by_side[<model>]``: base vs finetuned vs rag, with the training metrics;
- ``test_no_regression_against_baseline[<model>]``: every metric and rule against the stored
  baseline of this environment (``--dyag-update-baseline`` writes it).

A project adds its own tests beside them with the same fixtures.
"""

from __future__ import annotations

import pytest

from dyag.gates import FLOOR_GATES, RULE_GATES, beats_gate, floor_gate, rule_gate, split_gates
from dyag.system import System

__all__ = ["test_finetuned_beats_base", "test_floor_gate", "test_no_regression_against_baseline", "test_rule_gate",
           "test_split_floor_gate", "test_systems_side_by_side"]


def _check(gate, name, request) -> None:
    """Judge ``gate`` (rule_gate or floor_gate) on the system under test; record and assert its outcome."""
    fx = request.getfixturevalue
    model, results = fx("dyag_model"), fx("dyag_results")
    outcome = gate(fx("dyag_scored"), f"{model}/{fx('dyag_system')}", name, fx("dyag_gate")(name),
                   fx("dyag_session").enforced_comparison(model))
    results.record(**outcome.to_dict())
    assert outcome.passed, outcome.message


@pytest.mark.dyag_bench
@pytest.mark.parametrize("rule", RULE_GATES)
def test_rule_gate(rule, dyag_model, dyag_system, request):
    _check(rule_gate, rule, request)


@pytest.mark.dyag_bench
@pytest.mark.parametrize("metric", FLOOR_GATES)
def test_floor_gate(metric, dyag_model, dyag_system, request):
    _check(floor_gate, metric, request)


@pytest.mark.dyag_bench
def test_split_floor_gate(dyag_model, dyag_system, dyag_scored, dyag_session, dyag_gate, dyag_results):
    """The floors a project sets per golden split (``"fact_recall@seen" = 0.8`` in ``[tool.dyag.gates]``)."""
    wanted = split_gates(dyag_session.options.project.gates, dyag_model, dyag_system)
    if not wanted:
        pytest.skip("no <metric>@<split> floor in [tool.dyag.gates] for this model and system")
    comparison = dyag_session.enforced_comparison(dyag_model)
    outcomes = [floor_gate(dyag_scored, f"{dyag_model}/{dyag_system}", metric, dyag_gate(f"{metric}@{split}"),
                           comparison, split=split) for metric, split in wanted]
    dyag_results.record(gate="split_floors", outcomes=[o.to_dict() for o in outcomes])
    failed = [o.message for o in outcomes if not o.passed]
    assert not failed, "; ".join(failed)


@pytest.mark.dyag_bench
def test_finetuned_beats_base(dyag_scored, dyag_model, dyag_session, dyag_gate, dyag_results):
    kinds = dyag_session.options.systems
    if not {"base", "finetuned"} <= set(kinds):
        pytest.skip("needs both the base and the finetuned systems (--dyag-systems)")
    outcomes = [beats_gate(dyag_scored, f"{dyag_model}/finetuned", f"{dyag_model}/base", m)
                for m in dyag_gate("beats_base")]
    dyag_results.record(gate="finetuned_beats_base", outcomes=[o.to_dict() for o in outcomes])
    failed = [o.message for o in outcomes if not o.passed]
    assert not failed, "; ".join(failed)


@pytest.mark.dyag_bench
def test_systems_side_by_side(dyag_scored, dyag_model, dyag_golden_cases, dyag_session, dyag_results):
    from dyag.evaluation.registry import columns

    systems = [System(dyag_model, kind) for kind in dyag_session.options.systems]
    shown = [c.name for c in columns() if c.chart or c.label]
    table = {}
    for system in map(str, systems):
        answered = {c.id for c in dyag_scored.cases_of(system)}
        assert answered == {c.id for c in dyag_golden_cases}, f"{system} did not answer every golden case"
        aggs = dyag_scored.aggregates[system]
        table[system] = {m: aggs[m].mean for m in shown if m in aggs}
    training = dyag_scored.training.get(dyag_model)
    if any(s.uses_adapter for s in systems):
        assert training and training.train_loss is not None, "training metrics missing from the results"
    winner = max(table, key=lambda s: table[s]["score"])
    dyag_results.record(comparison=table, training=training.model_dump() if training else None, winner=winner)
    print(f"\n{dyag_model}: winner {winner}")
    for system, row in table.items():
        print(f"  {system:<32} " + "  ".join(f"{m}={v:.3f}" for m, v in row.items() if v is not None))


@pytest.mark.dyag_bench
def test_no_regression_against_baseline(dyag_scored, dyag_model, dyag_session, dyag_results, capsys):
    from dyag import results
    from dyag.baselines import baseline_note

    match, comparison = dyag_session.baseline_comparison(dyag_model)
    key = dyag_session.environment_key(dyag_model)
    if dyag_session.options.update_baseline:
        path = dyag_session.baseline_path(dyag_model, key)
        results.write(path, dyag_scored)
        with capsys.disabled():
            print(f"\ndyag: baseline for {dyag_model} ({key}) written to {path}")
            for line in (comparison.summary_lines() if comparison else ["(no previous baseline)"]):
                print("  " + line)
        return
    if match is None:
        message = (f"dyag: no baseline for {dyag_model} in {dyag_session.baseline_dir}: "
                   f"run with --dyag-update-baseline")
        if dyag_session.options.require_baseline:
            pytest.fail(message + " (--dyag-require-baseline)")
        pytest.skip(message)
    dyag_results.record(baseline=str(match.path), baseline_key=match.key, key=key, exact=match.exact,
                        failed=comparison.failed, regressions=len(comparison.regressions),
                        new_rule_failures=len(comparison.new_rule_failures))
    assert not comparison.failed, (baseline_note(dyag_session.regressions[dyag_model]) + "\n"
                                   + "\n".join(comparison.summary_lines()))
