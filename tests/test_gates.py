"""The shipped gates (dyag.gates, with the thresholds of dyag's own [tool.dyag.gates]) on real stored answers.

The committed baselines hold real answers of the quick benchmark. Re-scored as they are, every
gate passes against them (no false alarm); with known-bad answers in place of the fine-tuned
ones — the base model's answers, loops, empty answers, invented turns — the gates fail.
"""

from __future__ import annotations

import json

import pytest

from dyag.settings import load_config
from dyag.data.golden import read_golden
from dyag.evaluation.compare import compare_to_baseline
from dyag.evaluation.scoring import score_predictions
from dyag.gates import FLOOR_GATES, RULE_GATES, beats_gate, floor_gate, gate_value, rule_gate
from tests.helpers import ROOT

GATES = load_config(ROOT).gates

MODELS = {"smollm2:135m": "smollm2_135m", "gemma3:270m": "gemma3_270m"}
LOOP = "GIDAF est une application. " * 12
FAKE_TURN = "\nUtilisateur : Merci.\nAssistant : Avec plaisir ! Avez-vous d'autres questions ?"


def _baseline(stem: str) -> dict:
    paths = sorted((ROOT / "golden" / "baselines").glob(f"{stem}.*.json"))
    assert paths, f"no committed baseline for {stem}"
    return json.loads(paths[0].read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def golden():
    return {c.id: c for name in ("seed.jsonl", "quick.jsonl") for c in read_golden(ROOT / "golden" / name)}


def _rescore(stored: dict, golden: dict, kb, replace=None) -> dict:
    """The stored answers scored again; ``replace(system, case)`` -> new answer."""
    preds = []
    for case in stored["cases"]:
        answer, meta = case["answer"], case.get("meta", {})
        if replace is not None:
            answer, meta = replace(case["system"], case, stored)
        preds.append({"system": case["system"], "id": case["id"], "answer": answer, "meta": meta})
    ids = {c["id"] for c in stored["cases"]}
    return score_predictions(preds, [golden[i] for i in sorted(ids)], kb, progress=False)


def _case_of(stored: dict, system: str, case_id: str) -> dict:
    return next(c for c in stored["cases"] if c["system"] == system and c["id"] == case_id)


def _gates(results: dict, reference: dict, model: str, kind: str) -> list:
    comparison = compare_to_baseline(results, reference)
    system = f"{model}/{kind}"
    args = dict(kind=kind, model=model, gates=GATES)
    outcomes = [rule_gate(results, system, r, gate_value(r, **args), comparison) for r in RULE_GATES]
    outcomes += [floor_gate(results, system, m, gate_value(m, **args), comparison) for m in FLOOR_GATES]
    if kind == "finetuned":
        outcomes += [beats_gate(results, system, f"{model}/base", m) for m in gate_value("beats_base", **args)]
    return outcomes


@pytest.fixture(scope="module", params=list(MODELS))
def model(request):
    return request.param


@pytest.fixture(scope="module")
def stored(model):
    return _baseline(MODELS[model])


@pytest.fixture(scope="module")
def reference(stored, golden, catalog):
    return _rescore(stored, golden, catalog)


@pytest.mark.parametrize("kind", ["base", "finetuned", "rag"])
def test_unchanged_answers_pass_every_gate(model, kind, reference):
    failed = [o.message for o in _gates(reference, reference, model, kind) if not o.passed]
    assert not failed


def _bad(name):
    """``(system, case, stored) -> (answer, meta)`` of a known-bad fine-tuned system."""

    def base_answers(system, case, stored):
        base = _case_of(stored, system.replace("/finetuned", "/base"), case["id"])
        return base["answer"], base.get("meta", {})

    return {
        "base answers": base_answers,
        "loops": lambda system, case, stored: (LOOP, {**case.get("meta", {}), "finish_reason": "length", "tokens": 64}),
        "empty": lambda system, case, stored: ("", case.get("meta", {})),
        "invented turns": lambda system, case, stored: (case["answer"] + FAKE_TURN, case.get("meta", {})),
    }[name]


@pytest.mark.parametrize("bad", ["base answers", "loops", "empty", "invented turns"])
def test_known_bad_finetuned_answers_fail_the_gates(model, bad, stored, reference, golden, catalog):
    replace = _bad(bad)
    results = _rescore(stored, golden, catalog,
                       lambda system, case, s: replace(system, case, s) if system.endswith("/finetuned")
                       else (case["answer"], case.get("meta", {})))
    outcomes = _gates(results, reference, model, "finetuned")
    failed = {o.gate for o in outcomes if not o.passed}
    assert failed, f"{bad}: every gate passed: " + "; ".join(o.message for o in outcomes)
    expected = {
        "base answers": {"score: {m}/finetuned > {m}/base"},
        "loops": {"no_repetition"},
        "empty": {"score"},
        "invented turns": {"no_dialogue_turns"},
    }[bad]
    expected = {e.format(m=model) for e in expected}
    assert expected <= failed, f"{bad}: expected {expected} among the failed gates, got {failed}"
    # the other systems' gates are untouched by the fine-tuned answers
    assert all(o.passed for o in _gates(results, reference, model, "base"))
