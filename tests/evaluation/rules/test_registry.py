"""Registering rules and running them (dyag/evaluation/rules/registry.py, runner.py): user rules with
arguments, one-line configuration errors, JSON-ready results."""

from __future__ import annotations

import pytest

from dyag.errors import DyagError
from dyag.evaluation.rules import RULES, fail, ok, resolve_rules, rule, run_rules
from tests.evaluation.rules.helpers import CASE, KB, SEED_TINYLLAMA, check

# --- registry ----------------------------------------------------------------------------------------

def test_user_rules_register_and_run_with_arguments():
    @rule("no_markdown_headers", severity="warning", max_headers=0)
    def no_markdown_headers(answer, case, context, *, max_headers):
        headers = [line for line in answer.splitlines() if line.startswith("#")]
        return ok() if len(headers) <= max_headers else fail(f"{len(headers)} headers")

    try:
        assert check("no_markdown_headers", "# GIDAF\nUne application.")["passed"] is False
        assert check("no_markdown_headers", "# GIDAF\nUne application.", max_headers=1)["passed"] is True
        setup = resolve_rules(["no_markdown_headers"], {"no_markdown_headers": {"severity": "error"}})
        assert setup == {"no_markdown_headers": {"severity": "error", "args": {"max_headers": 0}}}
    finally:
        del RULES["no_markdown_headers"]


def test_rule_configuration_errors_are_one_line():
    with pytest.raises(DyagError, match="unknown rule"):
        run_rules("x", CASE, names=["no_such_rule"])
    with pytest.raises(DyagError, match="unknown argument"):
        resolve_rules(["length"], {"length": {"max_words": 3}})
    with pytest.raises(DyagError, match="severity"):
        resolve_rules(["length"], {"length": {"severity": "fatal"}})


def test_results_are_json_ready_dicts():
    results = run_rules(SEED_TINYLLAMA, CASE, {"kb": KB})
    assert {r["name"] for r in results} >= {"no_dialogue_turns", "no_invented_expansion", "not_empty"}
    for r in results:
        assert set(r) == {"name", "passed", "severity", "message", "span"}
        assert r["span"] is None or (isinstance(r["span"], list) and len(r["span"]) == 2)
