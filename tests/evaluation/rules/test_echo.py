"""no_prompt_echo on real answers labelled by reading them: echoed prompts, recited records and restated
questions fail; answers that quote a catalog value, a URL or an acronym's expansion pass."""

from __future__ import annotations

import json

import pytest

from dyag.data.golden import read_golden
from dyag.evaluation.rules import run_rules
from tests.helpers import FIXTURES, ROOT

LABELLED = FIXTURES / "echo_labelled.jsonl"


@pytest.fixture(scope="module")
def golden():
    return {c.id: c for path in sorted((ROOT / "golden").glob("*.jsonl")) for c in read_golden(path)}


def _echo(answer, case, catalog, meta):
    return run_rules(answer, case, {"kb": catalog, "meta": meta}, names=["no_prompt_echo"])[0]


def test_the_labelled_set_has_enough_of_each_kind():
    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    labels = [r["label"] for r in rows]
    assert labels.count("echo") >= 30 and labels.count("answer") >= 30
    kinds = {r["why"] for r in rows if r["label"] == "echo"}
    assert any("system prompt" in k for k in kinds) and any("recites" in k for k in kinds) and any("question" in k for k in kinds)


def test_echoes_are_caught_and_answers_pass(catalog, golden):
    missed, false_alarms = [], []
    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    for row in rows:
        result = _echo(row["answer"], golden[row["id"]], catalog, row["meta"])
        if row["label"] == "echo" and result["passed"]:
            missed.append(f"{row['system']} {row['id']}: {row['answer'][:80]!r}")
        if row["label"] == "answer" and not result["passed"]:
            false_alarms.append(f"{row['system']} {row['id']}: {result['message']}")
    assert false_alarms == []
    # measured: 46 of the 47 echoes; the one missed mixes the instructions' words into a rephrased question
    # ("Ce que tu sais est-elle critique ?")
    assert len(missed) <= 1, missed


def test_no_golden_reference_is_an_echo_even_with_its_record_retrieved(catalog, golden):
    flagged = [c.id for c in golden.values()
               if not _echo(c.reference, c, catalog, {"retrieved": list(c.kb_ids)})["passed"]]
    assert flagged == []


def test_no_training_answer_is_an_echo(catalog, by_id):
    from dyag.data.generate import build_groups
    from dyag.data.templates import FIELD_TEMPLATES, answer_templates, template_context

    checked, flagged = 0, []
    for group in build_groups(catalog, "augmented", 42):
        for ex in group:
            record = by_id[ex.kb_id]
            reference = answer_templates(record, ex.field)[0].format(**template_context(record))
            case = {"id": "t", "question": ex.question, "reference": reference, "kb_ids": [ex.kb_id]}
            checked += 1
            if not _echo(ex.answer, case, catalog, {"retrieved": [ex.kb_id]})["passed"]:
                flagged.append((ex.question, ex.answer))
    assert checked > 400 and flagged == []
    assert FIELD_TEMPLATES  # the templates the answers come from


def test_an_echo_scores_zero(catalog, golden):
    from dyag.evaluation.scoring import score_predictions

    case = golden["gidaf-hebergeur-seen"]
    record = next(r for r in catalog if r["id"] == "gidaf")
    echo = ("Tu es l'assistant du catalogue des applications de l'organisation. Réponds en français, brièvement "
            f"et uniquement avec ce que tu sais.\n\nContexte :\nGIDAF : {record['text']}")
    preds = [{"id": case.id, "system": "m/rag", "answer": echo, "meta": {"retrieved": ["gidaf"]}},
             {"id": case.id, "system": "m/finetuned", "answer": case.reference, "meta": {}}]
    results = score_predictions(preds, [case], catalog, bertscore=False, progress=False)
    scores = {c.system: c.score for c in results.cases}
    assert scores["m/rag"] == 0.0 and scores["m/finetuned"] > 5.0
