"""What the report is built from (dyag/report/context.py): the best value of a row, systems grouped
by model and kind, several results files merged (the later file wins per system)."""

from __future__ import annotations

from dyag import results as contract
from dyag.report.context import ReportContext, mark_best
from tests.report.helpers import second_file, small, write


def test_mark_best():
    assert mark_best([1.0, 3.0, None, 3.0], "max") == [False, True, False, True]
    assert mark_best([1.0, 3.0], "min") == [True, False]
    assert mark_best([2.0, 2.0], "max") == [False, False]
    assert mark_best([2.0, None], "max") == [False, False]
    assert mark_best([1.0, 2.0], None) == [False, False]


def test_columns_group_systems_by_model_and_kind():
    doc = contract.Results(cases=[contract.Case(id="q", system=s, answer="a") for s in (
        "Qwen/Qwen2.5-0.5B/rag+finetuned", "Qwen/Qwen2.5-0.5B/base", "solo", "m/zzz", "m/rag")])
    ctx = ReportContext.of([("r.json", doc)], lang="en")
    assert [(g.model, [c.kind for c in g.columns]) for g in ctx.groups] == [
        ("Qwen/Qwen2.5-0.5B", ["base", "rag+finetuned"]), ("solo", [""]), ("m", ["rag", "zzz"])]
    assert [c.kind_label for c in ctx.columns] == ["base", "RAG + fine-tuned", "solo", "RAG", "zzz"]


def test_merge_later_file_wins_per_system(tmp_path):
    first = write(tmp_path / "first.json", small())
    ctx = ReportContext.of([(str(p), contract.read(p)) for p in (first, second_file(tmp_path))])
    assert ctx.provenance["smollm2:135m/rag"] == str(tmp_path / "rerun.json")
    assert ctx.provenance["gemma3:270m/rag"] == str(first)
    assert ctx.replaced == [("smollm2:135m/rag", str(first), str(tmp_path / "rerun.json"))]
    assert len(ctx.results.cases) == 24
    assert set(ctx.results.training) == {"smollm2:135m", "gemma3:270m"}  # not dropped by the second file
    assert ctx.training_source == {"smollm2:135m": str(first), "gemma3:270m": str(first)}
