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
  significantly, on the ``beats_base`` metrics (and so does ``finetuned@<endpoint>`` ``base@<endpoint>``);
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


#: The JUnit XML properties of one gate outcome (``pytest --junitxml``), from :class:`dyag.gates.GateOutcome`'s fields.
JUNIT_PROPERTIES = (("dyag.gate", "gate"), ("dyag.system", "system"), ("dyag.passed", "passed"),
                    ("dyag.value", "value"), ("dyag.limit", "limit"), ("dyag.baseline", "baseline"),
                    ("dyag.p", "p_value"), ("dyag.n", "n"))


def record_junit(node, outcome: dict) -> None:
    """Attach one gate outcome to the test's JUnit XML entry (pytest's ``user_properties``, what
    ``record_property`` appends to): ``dyag.gate``, ``dyag.system``, ``dyag.passed``, ``dyag.value``,
    ``dyag.limit``, ``dyag.baseline``, ``dyag.p``, ``dyag.n``; a missing value is an empty string. A test
    judging several outcomes (split floors, beats base) repeats the group, in order."""
    for prop, key in JUNIT_PROPERTIES:
        value = outcome.get(key)
        node.user_properties.append((prop, "" if value is None else str(value).lower() if isinstance(value, bool)
                                     else str(value)))


def report_hint(session, section: str, what: str = "") -> str:
    """Where to look in the HTML report (``--dyag-report``): ``report: reports/index.html#quantitative (...)``.

    The report has section anchors (``#quantitative``, ``#splits``, ``#winner``, ``#regression``,
    ``#questions``), one per baseline-comparison row (``#reg-<system>-<metric>[-<split>]``) and one per
    question (``#q-<n>``, numbered over the merged run, so unknown here): the hint names the section and
    the row."""
    report = session.options.report
    if not report:
        return ""
    return f"\nreport: {report}#{section}" + (f" ({what})" if what else "")


def _check(gate, name, request) -> None:
    """Judge ``gate`` (rule_gate or floor_gate) on the system under test; record and assert its outcome."""
    fx = request.getfixturevalue
    model, results, session = fx("dyag_model"), fx("dyag_results"), fx("dyag_session")
    system = f"{model}/{fx('dyag_system')}"
    outcome = gate(fx("dyag_scored"), system, name, fx("dyag_gate")(name), session.enforced_comparison(model))
    results.record(**outcome.to_dict())
    record_junit(request.node, outcome.to_dict())
    row = f"rule:{name}" if gate is rule_gate else name
    where = f"row {row}, column {system}" + ("; the failing answers are flagged under #questions"
                                              if gate is rule_gate else "")
    if outcome.baseline is not None:  # its row in the baseline comparison (dyag.report.sections.verdict.row_anchor)
        from dyag.report.sections.verdict import row_anchor

        where += f"; against the baseline: #{row_anchor(system, row, None)}"
    assert outcome.passed, outcome.message + report_hint(session, "quantitative", where)


@pytest.mark.dyag_bench
@pytest.mark.parametrize("rule", RULE_GATES)
def test_rule_gate(rule, dyag_model, dyag_system, request):
    _check(rule_gate, rule, request)


@pytest.mark.dyag_bench
@pytest.mark.parametrize("metric", FLOOR_GATES)
def test_floor_gate(metric, dyag_model, dyag_system, request):
    _check(floor_gate, metric, request)


@pytest.mark.dyag_bench
def test_split_floor_gate(dyag_model, dyag_system, dyag_scored, dyag_session, dyag_gate, dyag_results, request):
    """The floors a project sets per golden split (``"fact_recall@seen" = 0.8`` in ``[tool.dyag.gates]``)."""
    wanted = split_gates(dyag_session.options.project.gates, dyag_model, dyag_system)
    if not wanted:
        pytest.skip("no <metric>@<split> floor in [tool.dyag.gates] for this model and system")
    comparison = dyag_session.enforced_comparison(dyag_model)
    outcomes = [floor_gate(dyag_scored, f"{dyag_model}/{dyag_system}", metric, dyag_gate(f"{metric}@{split}"),
                           comparison, split=split) for metric, split in wanted]
    dyag_results.record(gate="split_floors", outcomes=[o.to_dict() for o in outcomes])
    for o in outcomes:
        record_junit(request.node, o.to_dict())
    failed = [o.message for o in outcomes if not o.passed]
    assert not failed, "; ".join(failed) + report_hint(dyag_session, "splits", f"row of {dyag_model}/{dyag_system}")


@pytest.mark.dyag_bench
def test_finetuned_beats_base(dyag_scored, dyag_model, dyag_session, dyag_gate, dyag_results, request):
    kinds = set(dyag_session.options.systems)
    endpoints = sorted({System("", k).endpoint for k in kinds} - {None})
    pairs = [(f"finetuned{at}", f"base{at}") for at in ["", *(f"@{e}" for e in endpoints)]
             if {f"finetuned{at}", f"base{at}"} <= kinds]  # in dyag's process, and on each endpoint serving both
    if not pairs:
        pytest.skip("needs both the base and the finetuned systems (--dyag-systems)")
    outcomes = [beats_gate(dyag_scored, f"{dyag_model}/{tuned}", f"{dyag_model}/{base}", m)
                for tuned, base in pairs for m in dyag_gate("beats_base")]
    dyag_results.record(gate="finetuned_beats_base", outcomes=[o.to_dict() for o in outcomes])
    for o in outcomes:
        record_junit(request.node, o.to_dict())
    failed = [o.message for o in outcomes if not o.passed]
    assert not failed, "; ".join(failed) + report_hint(
        dyag_session, "quantitative", f"columns {dyag_model}/finetuned and {dyag_model}/base")


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
    if dyag_session.trains:  # an adapter trained here, not one a server already served
        assert training and training.train_loss is not None, "training metrics missing from the results"
    winner = max(table, key=lambda s: table[s]["score"])
    dyag_results.record(comparison=table, training=training.model_dump() if training else None, winner=winner)
    print(f"\n{dyag_model}: winner {winner}")
    for system, row in table.items():
        print(f"  {system:<32} " + "  ".join(f"{m}={v:.3f}" for m, v in row.items() if v is not None))


@pytest.mark.dyag_bench
def test_no_regression_against_baseline(dyag_scored, dyag_model, dyag_session, dyag_results, capsys, request):
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
    worst = min((r.p_value for r in comparison.regressions if r.p_value is not None), default=None)
    record_junit(request.node, {"gate": "no_regression", "system": dyag_model, "passed": not comparison.failed,
                                "value": len(comparison.regressions), "limit": 0, "baseline": str(match.path),
                                "p_value": worst, "n": len(comparison.rows)})
    assert not comparison.failed, (baseline_note(dyag_session.regressions[dyag_model]) + "\n"
                                   + "\n".join(comparison.summary_lines())
                                   + report_hint(dyag_session, "regression",
                                                 f"the rows of {dyag_model} marked regressed"))
