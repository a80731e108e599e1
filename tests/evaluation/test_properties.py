"""Property tests: rules and metrics never crash on arbitrary text, stay in range, are deterministic."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dyag.evaluation.cases import KbIndex
from dyag.evaluation.quality import quality_score
from dyag.evaluation.rules import RULES, RuleContext, SystemAnswers, run_rules
from dyag.evaluation.textmetrics import exact_match, fact_recall, rouge_scores, sentence_bleu
from dyag.utils.text import sanitize_terminal

KB = KbIndex([{"id": "gidaf", "title": "GIDAF", "text": "...",
               "metadata": {"sigle": "Gestion Informatisée des Données d'Autorisation Foncière"}}])
FRAGMENTS = st.sampled_from([
    "GIDAF", "(", ")", "User:", "\nAssistant :", "<|im_start|>", "hébergée par", "version 4.2", " ", "\n", ".",
    "Gestion Informatisée", "signifie", ", pour", "je ne sais pas", "responsable : ", "«", "»", "6Tzen", "’",
])
TEXT = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(FRAGMENTS, st.text(max_size=12)), max_size=40).map("".join),
)
CASES = st.fixed_dictionaries({
    "id": st.text(min_size=1, max_size=8),
    "facts": st.lists(st.text(max_size=20), max_size=3),
    "kb_ids": st.sampled_from([[], ["gidaf"], ["gidaf", "6tzen"]]),
    "lang": st.sampled_from(["fr", "en", "de", "fr-FR"]),
    "expect": st.sampled_from([None, "unknown"]),
})
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(answer=TEXT, case=CASES, meta=st.dictionaries(st.sampled_from(["finish_reason", "tokens", "max_new_tokens"]),
                                                     st.one_of(st.integers(-5, 100), st.sampled_from(["length", "stop"]))))
def test_rules_never_crash_and_are_deterministic(answer, case, meta):
    context = RuleContext(meta=meta, kb=KB, answers=SystemAnswers([("a", "GIDAF (Gestion X Y) est.", ["gidaf"]),
                                                                   (case["id"], answer, case["kb_ids"])], KB), position=1)
    first = run_rules(answer, case, context)
    assert first == run_rules(answer, case, context)
    for result in first:
        assert result["name"] in RULES and isinstance(result["passed"], bool)
        if result["span"] is not None:
            start, end = result["span"]
            assert 0 <= start <= end <= len(answer)


@FAST
@given(prediction=TEXT, reference=TEXT, facts=st.lists(TEXT, max_size=4))
def test_metrics_never_crash_and_stay_in_range(prediction, reference, facts):
    assert 0.0 <= sentence_bleu(prediction, reference) <= 100.0 + 1e-9
    for value in rouge_scores(prediction, reference).values():
        assert 0.0 <= value <= 1.0
    recall = fact_recall(prediction, facts)
    assert recall is None or 0.0 <= recall <= 1.0
    assert exact_match(prediction, reference) in (0.0, 1.0)
    assert exact_match(prediction, prediction) == 1.0


@FAST
@given(answer=TEXT, case=CASES)
def test_quality_score_stays_within_0_and_10(answer, case):
    rules = run_rules(answer, case, {"kb": KB})
    metrics = {**rouge_scores(answer, "GIDAF est hébergée à Lyon."), "fact_recall": fact_recall(answer, case["facts"])}
    assert 0.0 <= quality_score(metrics, rules) <= 10.0


@FAST
@given(text=st.text(max_size=200))
def test_sanitize_terminal_removes_every_control_character(text):
    clean = sanitize_terminal(text)
    assert not any(ord(c) < 32 and c not in "\n\t" for c in clean)
    assert not any(0x7F <= ord(c) <= 0x9F for c in clean)
    assert "\n" not in sanitize_terminal(text, single_line=True)
    assert sanitize_terminal(clean) == clean
