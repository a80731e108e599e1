"""Quality gates, one test id per (gate, model, system): e.g. test_rule_gate[smollm2:135m-finetuned-no_repetition].

Each gate checks an absolute threshold (``conftest.GATES``) and the system's own stored
baseline: a drop beyond tolerance that is also significant fails (see :mod:`dyag.gates`).
"""

from __future__ import annotations

import pytest

from dyag.gates import FLOOR_GATES, RULE_GATES, floor_gate, rule_gate

pytestmark = pytest.mark.dyag_bench


def _check(outcome, dyag_results) -> None:
    dyag_results.record(**outcome.to_dict())
    assert outcome.passed, outcome.message


@pytest.mark.parametrize("rule", RULE_GATES)
def test_rule_gate(rule, dyag_scored, dyag_session, dyag_model, dyag_system, gate, dyag_results):
    system = f"{dyag_model}/{dyag_system}"
    _check(rule_gate(dyag_scored, system, rule, gate(rule), dyag_session.enforced_comparison(dyag_model)),
           dyag_results)


@pytest.mark.parametrize("metric", FLOOR_GATES)
def test_floor_gate(metric, dyag_scored, dyag_session, dyag_model, dyag_system, gate, dyag_results):
    system = f"{dyag_model}/{dyag_system}"
    _check(floor_gate(dyag_scored, system, metric, gate(metric), dyag_session.enforced_comparison(dyag_model)),
           dyag_results)
