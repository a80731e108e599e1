"""The results contract: one typed model, its schema document, version-1 files, merging, the metric registry."""

from __future__ import annotations

import json

import pytest

from dyag import results as R
from dyag.errors import DyagError
from dyag.evaluation.compare import compare_to_baseline
from dyag.evaluation.registry import column, metric, unregister
from dyag.evaluation.scoring import score_predictions
from dyag.evaluation.table import format_table
from dyag.system import System
from tests.helpers import ROOT

BASELINES = sorted((ROOT / "golden" / "baselines").glob("*.json"))
GOLDEN = [{"id": f"q{i}", "question": f"Qui héberge APP{i} ?", "reference": f"APP{i} est hébergée à Lyon.",
           "facts": ["Lyon"]} for i in range(12)]


def _preds(system: str, answer) -> list[dict]:
    return [{"id": g["id"], "system": system, "answer": answer(i)} for i, g in enumerate(GOLDEN)]


def test_schema_document_is_generated_from_the_model():
    doc = (ROOT / "docs" / "results-schema.md").read_text(encoding="utf-8")
    assert doc == R.schema_markdown(), "docs/results-schema.md is stale: python -m dyag.results > docs/results-schema.md"
    for model in R.DOC_MODELS:
        for name in model.model_fields:
            assert f"`{name}`" in doc


def test_one_schema_version_in_the_package():
    defs = [p for p in (ROOT / "dyag").rglob("*.py") if "SCHEMA_VERSION =" in p.read_text(encoding="utf-8")]
    assert [p.relative_to(ROOT).as_posix() for p in defs] == ["dyag/results/models.py"]


@pytest.mark.parametrize("path", BASELINES, ids=lambda p: p.name)
def test_stored_baselines_load_and_compare_equal_to_themselves(path):
    doc = R.read(path)
    assert doc.cases and doc.aggregates and doc.run.environment is not None
    raw = json.loads(path.read_text(encoding="utf-8"))
    for system, aggs in raw["aggregates"].items():
        for name, agg in aggs.items():
            assert doc.aggregates[system][name].mean == agg["mean"]
    cmp = compare_to_baseline(doc, doc)
    assert not cmp.failed and all(r.verdict == "ok" and r.delta == 0 for r in cmp.rows)


def test_version_1_quirks_are_migrated():
    v1 = {"schema_version": 1, "run": {"machine": {"platform": "Linux", "cpus": 2},
                                       "scoring": {"bertscore_model": "enc", "weights": {"semantic": 1.0},
                                                   "rules": [{"name": "length", "severity": "warning"}]}},
          "cases": [{"id": 7, "system": "m/base", "answer": "x", "metrics": {}, "rules": [], "score": 1.0}],
          "aggregates": {"m/base": {"score": {"mean": 1.0, "ci95": [1.0, 1.0], "n": 1}}},
          "regression": {"m": {"baseline": "b.json", "rows": [], "new_rule_failures": [
              {"system": "m/base", "id": "7", "rule": "length", "severity": "warning"}]}}}
    doc = R.parse(v1)
    assert doc.run.machine.cores == 2 and doc.cases[0].id == "7"
    assert doc.run.scoring.bertscore["name"] == "enc" and doc.run.scoring.quality["weights"] == {"semantic": 1.0}
    assert doc.run.scoring.rules == {"length": {"severity": "warning"}}
    assert doc.regression["m"].failed is True  # written before the flag: a flip counted


@pytest.mark.parametrize("bad, message", [
    ([], "not a dyag results file"),
    ({"schema_version": 99}, "newer than this dyag reads"),
    ({"schema_version": 0}, "unsupported schema_version 0"),
    ({"schema_version": 2, "cases": [{"id": "a", "system": "s"}]}, r"cases\[0\]\.answer"),
    ({"schema_version": 2, "surprise": 1}, "surprise"),
])
def test_bad_documents_are_one_line_errors(bad, message):
    with pytest.raises(DyagError, match=message) as err:
        R.parse(bad, source="x.json")
    assert str(err.value).startswith("x.json: ") and "\n" not in str(err.value)


def test_merge_replaces_a_system_wholesale_and_keeps_the_rest():
    a = score_predictions(_preds("m/base", lambda i: "Je ne sais pas.") + _preds("m/rag", lambda i: f"APP{i} : Lyon."),
                          GOLDEN, bertscore=False, progress=False)
    b = score_predictions(_preds("m/base", lambda i: f"APP{i} est hébergée à Lyon."), GOLDEN, bertscore=False,
                          progress=False)
    merged = R.merge([a, b], finished="now")
    assert merged.systems == ["m/base", "m/rag"]
    assert merged.mean("m/base", "fact_recall") == 1.0 and len(merged.cases) == 2 * len(GOLDEN)
    assert merged.run.finished == "now" and a.run.finished is None  # the inputs are unchanged
    assert R.provenance([("a", a), ("b", b)]) == {"m/rag": "a", "m/base": "b"}


def test_system_value_replaces_substring_tests():
    assert System.parse("qwen2.5:1.5b/rag+finetuned").uses_adapter
    assert not System.parse("m/rag").uses_adapter and System.parse("m/rag").uses_retrieval
    assert System.parse("ragtime/base") == System("ragtime", "base") and not System.parse("ragtime/base").uses_retrieval


def test_a_registered_metric_reaches_results_table_comparison_and_report(tmp_path):
    @metric("answer_words", direction="min", tolerance=1.0, chart=True, label="words", fmt=".1f")
    def answer_words(answer, case):
        return float(len(answer.split()))

    try:
        short = score_predictions(_preds("m/finetuned", lambda i: f"APP{i} : Lyon."), GOLDEN, bertscore=False,
                                  progress=False)
        long = score_predictions(_preds("m/finetuned", lambda i: f"APP{i} est hébergée à Lyon, " + "vraiment " * 8),
                                 GOLDEN, bertscore=False, progress=False)
        assert short.cases[0].metrics["answer_words"] == 3.0
        assert short.mean("m/finetuned", "answer_words") == 3.0
        assert "answer_words" in short.run.scoring.metrics
        assert "words" in format_table(short).splitlines()[0]
        cmp = compare_to_baseline(long, short)  # more words than the baseline: worse for a "min" metric
        row = next(r for r in cmp.rows if r.metric == "answer_words")
        assert row.tolerance == 1.0 and row.verdict == "regressed" and cmp.failed
        assert next(r for r in compare_to_baseline(short, long).rows if r.metric == "answer_words").verdict == "improved"

        from dyag.report.render import render_report

        html = render_report([short, long], tmp_path / "index.html", lang="en").read_text(encoding="utf-8")
        assert "answer_words" in html or "words" in html
    finally:
        unregister("answer_words")
    assert column("answer_words") is None


# --- golden splits: memorisation vs generalisation -------------------------------------------------------

SPLIT_GOLDEN = [{**g, "split": ("seen", "paraphrase", "unseen")[i % 3]} for i, g in enumerate(GOLDEN)]


def _split_run(paraphrase_right: bool):
    """A fine-tuned system that answers seen questions right, and paraphrases right or wrong."""
    def answer(i):
        split = SPLIT_GOLDEN[i]["split"]
        right = split == "seen" or (split == "paraphrase" and paraphrase_right)
        return f"APP{i} est hébergée à Lyon." if right else f"APP{i} est hébergée à Roubaix."
    preds = _preds("m/finetuned", answer)
    return score_predictions(preds, SPLIT_GOLDEN, bertscore=False, progress=False)


def test_aggregates_per_split_and_the_memorisation_gap():
    run = _split_run(paraphrase_right=False)
    assert run.split_names == ["seen", "paraphrase", "unseen"]
    assert run.mean("m/finetuned", "fact_recall", "seen") == 1.0
    assert run.mean("m/finetuned", "fact_recall", "paraphrase") == 0.0
    assert run.splits["m/finetuned"]["seen"]["score"].n == 4
    table = format_table(run)
    assert "per split" in table and "seen (n)" in table and "+1.00" in table
    assert R.parse(R.dump(run)) == run
    plain = score_predictions(_preds("m/base", lambda i: "x"), GOLDEN, bertscore=False, progress=False)
    assert plain.splits == {} and plain.split_names == [] and "per split" not in format_table(plain)


def test_a_drop_on_one_split_is_a_regression_of_that_split():
    before, after = _split_run(paraphrase_right=True), _split_run(paraphrase_right=False)
    cmp = compare_to_baseline(after, before)
    regressed = {(r.metric, r.split) for r in cmp.regressions}
    assert ("fact_recall", "paraphrase") in regressed and ("fact_recall", "seen") not in regressed
    assert any("fact_recall@paraphrase" in line for line in cmp.summary_lines())


def test_split_floor_gates_from_the_project_table():
    from dyag.gates import floor_gate, split_gates

    run = _split_run(paraphrase_right=False)
    gates = {"fact_recall@seen": 0.8, "m": {"finetuned": {"fact_recall@paraphrase": 0.5}}}
    assert split_gates(gates, "m", "finetuned") == [("fact_recall", "seen"), ("fact_recall", "paraphrase")]
    assert split_gates(gates, "other", "finetuned") == [("fact_recall", "seen")]
    assert floor_gate(run, "m/finetuned", "fact_recall", 0.8, split="seen").passed
    outcome = floor_gate(run, "m/finetuned", "fact_recall", 0.5, split="paraphrase")
    assert not outcome.passed and outcome.gate == "fact_recall@paraphrase" and "below the floor" in outcome.message
    assert not floor_gate(run, "m/finetuned", "fact_recall", 0.5, split="unknown").passed  # nothing to judge


def test_the_report_shows_the_splits_side_by_side(tmp_path):
    from dyag.report.render import render_report

    html = render_report([_split_run(paraphrase_right=False)], tmp_path / "r.html", lang="en").read_text("utf-8")
    assert 'id="splits"' in html and "Memorisation and generalisation" in html and "+1.00" in html
