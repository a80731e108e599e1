"""Regression gate: this run against the stored baseline of the model and its environment.

Baselines are keyed by what changes the answers of the same code: device kind and training
precision (``golden/baselines/smollm2_135m.cpu-bf16.json``). Without a baseline of this
environment the nearest one is used, with statistical tolerances only. A metric (or a
rule's pass rate) that drops by more than its tolerance, significantly, fails; rules that
newly fail on single cases are listed, and fail only with ``--dyag-strict`` against a
baseline of the same environment. ``--dyag-update-baseline`` writes this environment's
baseline (atomically) and prints the diff.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.dyag_bench


def test_no_regression_against_baseline(dyag_scored, dyag_model, dyag_session, dyag_results, capsys):
    from dyag.session import baseline_note
    from dyag.utils.atomic import atomic_write_json

    match, comparison = dyag_session.baseline_comparison(dyag_model)
    key = dyag_session.environment_key(dyag_model)
    if dyag_session.options.update_baseline:
        path = dyag_session.baseline_path(dyag_model, key)
        atomic_write_json(path, dyag_scored)
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
