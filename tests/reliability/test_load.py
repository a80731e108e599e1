"""Load: scoring 10,000 stored predictions stays in bounded memory (the 1,000-case report is
checked in tests/report/test_render.py::test_thousand_case_report_stays_small_fast_and_collapsed)."""

from __future__ import annotations

import tracemalloc

import pytest

from tests.helpers import ROOT

N = 10_000
#: measured: 75 MB traced peak for 10,000 predictions (about 3 KB of results per case, kept);
#: a pairwise structure over the cases (10,000² floats = 800 MB) would break this bound
PEAK_BUDGET_MB = 250


@pytest.mark.slow  # 42 s and 51 s with -n 2 (tracemalloc slows scoring several times)
def test_scoring_ten_thousand_predictions_stays_in_bounded_memory():
    from benchmarks.perf.growth import synthetic_predictions
    from dyag.data.kb import read_kb, sample_kb_path
    from dyag.evaluation.scoring import score_predictions

    kb = read_kb(sample_kb_path())
    golden = str(ROOT / "golden" / "catalog.jsonl")
    warm_preds, warm_cases = synthetic_predictions(golden, 20)  # imports and metric modules load outside the trace
    score_predictions(warm_preds, warm_cases, kb, bertscore=False, progress=False)

    predictions, cases = synthetic_predictions(golden, N)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        results = score_predictions(predictions, cases, kb, bertscore=False, progress=False)
        peak = (tracemalloc.get_traced_memory()[1] - before) / 1e6
    finally:
        tracemalloc.stop()
    assert len(results.cases) == N
    assert {c.id for c in results.cases} == {c["id"] for c in cases}
    scores = [c.score for c in results.cases]
    assert all(0.0 <= s <= 10.0 for s in scores) and max(scores) > min(scores)
    assert peak < PEAK_BUDGET_MB, f"scoring {N} predictions peaked at {peak:.0f} MB of Python allocations"
