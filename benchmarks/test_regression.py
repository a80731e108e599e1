"""Regression gate: this run against the stored baseline of the model (golden/baselines/<model>.json).

A metric that drops by more than its tolerance, significantly (paired bootstrap on the
per-case values), fails; so does a rule that passed on a case in the baseline and fails
now. ``--dyag-update-baseline`` rewrites the baseline (atomically) and prints the diff.
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.dyag_bench


def test_no_regression_against_baseline(dyag_scored, dyag_model, dyag_session, dyag_results, capsys):
    from dyag.evaluation.compare import compare_to_baseline
    from dyag.utils.atomic import atomic_write_json

    path = dyag_session.baseline_path(dyag_model)
    baseline = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    comparison = compare_to_baseline(dyag_scored, baseline, strict_rules=True) if baseline else None
    if comparison is not None:
        dyag_scored.setdefault("regression", {})[dyag_model] = {
            "baseline": str(path), "rows": [vars(r) for r in comparison.rows],
            "new_rule_failures": comparison.new_rule_failures, "failed": comparison.failed,
        }
    if dyag_session.options.update_baseline:
        stored = {k: v for k, v in dyag_scored.items() if k != "regression"}
        atomic_write_json(path, stored)
        with capsys.disabled():
            print(f"\ndyag: baseline for {dyag_model} written to {path}")
            for line in (comparison.summary_lines() if comparison else ["(no previous baseline)"]):
                print("  " + line)
        return
    if baseline is None:
        pytest.skip(f"dyag: no baseline for {dyag_model} at {path}: run with --dyag-update-baseline")
    dyag_results.record(baseline=str(path), failed=comparison.failed, regressions=len(comparison.regressions),
                        new_rule_failures=len(comparison.new_rule_failures))
    assert not comparison.failed, "regression against the baseline:\n" + "\n".join(comparison.summary_lines())
