"""Benchmark suites: `pytest benchmarks --dyag-models smollm2:135m --dyag-profile quick`.

The gates' thresholds live here, in one place (the gate functions are in
:mod:`dyag.gates`). Every gate is judged twice: against an absolute value below, and
against the system's own stored baseline (a drop beyond tolerance that is also
significant fails). The absolute values are the coarse net; the baseline is the fine one.
Rule gates give the largest share of answers allowed to break the rule (0 = none
tolerated); floors give the lowest mean allowed.
"""

from __future__ import annotations

import pytest

from dyag.gates import gate_value

# Measured on the quick profile (2-core CPU): the untrained smollm2:135m base scores 0.25/10,
# its fine-tuned adapter 1.07 and RAG 2.5; gemma3:270m's base 0.6, fine-tuned 5.2. The score
# and fact-recall floors sit between the base models and the fine-tuned systems, so an
# adapter that learned nothing fails them.
GATES = {
    "no_dialogue_turns": 0.0,
    "no_repetition": 0.6,
    "not_truncated": 0.6,
    "language": 0.1,
    "bertscore_f1": 0.50,
    "fact_recall": 0.05,
    "score": 0.5,
}
# The untrained base system is the reference point, not a product: a 135M base model loops on
# French questions (measured: 8/10), so its absolute caps are off and only its own baseline
# (and invented dialogue turns) gate it.
GATES_BY_KIND = {
    "base": {"fact_recall": 0.0, "score": 0.0, "bertscore_f1": 0.0, "no_repetition": 1.0, "not_truncated": 1.0,
             "language": 1.0},
}
# gemma3:270m is a base model: without its adapter it never emits an end-of-turn token, so its
# RAG answers (base model + retrieved context) always run to the token limit (measured: 10/10).
# smollm2:135m's RAG answers (base model + retrieved context) sometimes go on with a new question
# after the answer ("…\n\nQuestion : Qu'est-ce que GIDIC ?", measured: 1/10): listed by
# no_dialogue_turns, allowed up to that share, and gated against its baseline beyond it.
GATES_BY_MODEL_KIND = {
    ("gemma3:270m", "rag"): {"not_truncated": 1.0},
    ("smollm2:135m", "rag"): {"no_dialogue_turns": 0.1},
}
# What the fine-tuned system must beat the untrained base on, significantly (paired bootstrap).
# The quick recipe does not teach smollm2:135m the asked facts (fact recall 0.11 for both
# systems, measured), so its comparison is on the quality score and BERTScore only.
BEATS_BASE = ("score", "fact_recall")
BEATS_BASE_BY_MODEL = {"smollm2:135m": ("score", "bertscore_f1")}


@pytest.fixture()
def gate(dyag_model, dyag_system):
    """``gate(name)`` -> the threshold for the system under test."""

    def threshold(name: str) -> float:
        return gate_value(name, kind=dyag_system, model=dyag_model, gates=GATES, by_kind=GATES_BY_KIND,
                          by_model_kind=GATES_BY_MODEL_KIND)

    return threshold


@pytest.fixture()
def beats_base(dyag_model):
    return BEATS_BASE_BY_MODEL.get(dyag_model, BEATS_BASE)
