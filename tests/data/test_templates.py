"""Templates: the held-out paraphrase phrasings differ in wording from every training phrasing."""

from __future__ import annotations

import pytest

from dyag.data.templates import FIELD_TEMPLATES, FIELDS, content_words, template_context

# Criterion (see dyag.data.templates.content_words): content words are lowercased, accents
# stripped, placeholders and stop words (articles, pronouns, interrogatives, auxiliaries,
# "application") removed, then cut to 5 letters (so hébergée/hébergeur/héberge are one word).
# A paraphrase P is held out from a training phrasing Q when P's content words are not a subset
# of Q's and at most half of them occur in Q.
MAX_SHARED = 0.5

PAIRS = [(field, p) for field in FIELDS for p in FIELD_TEMPLATES[field].paraphrases]


def test_every_field_has_at_least_two_distinct_paraphrases():
    for field, t in FIELD_TEMPLATES.items():
        assert len(t.paraphrases) >= 2, field
        assert len({content_words(p) for p in t.paraphrases}) == len(t.paraphrases), field


@pytest.mark.parametrize(("field", "paraphrase"), PAIRS, ids=[f"{f}-{i}" for i, (f, _) in enumerate(PAIRS)])
def test_paraphrase_wording_differs_from_every_training_phrasing(field, paraphrase):
    words = content_words(paraphrase)
    assert len(words) >= 1, paraphrase
    for question in FIELD_TEMPLATES[field].questions:
        trained = content_words(question)
        assert not words <= trained, (paraphrase, question)
        shared = words & trained
        assert len(shared) <= MAX_SHARED * len(words), (paraphrase, question, sorted(shared))


@pytest.mark.parametrize(("field", "paraphrase"), PAIRS, ids=[f"{f}-{i}" for i, (f, _) in enumerate(PAIRS)])
def test_paraphrase_is_a_question_about_the_named_application(field, paraphrase, catalog):
    assert any(k in paraphrase for k in ("{nom}", "{de_nom}", "{que_nom}")), paraphrase
    assert paraphrase[0].isupper() and paraphrase.endswith(("?", "."))
    record = next(r for r in catalog if field == "description" or field in r["metadata"])
    ctx = template_context(record)
    text = paraphrase.format(**ctx)
    assert ctx["nom"] in text and "{" not in text


def test_no_paraphrase_is_a_training_phrasing_of_any_field():
    trained = {content_words(q) for t in FIELD_TEMPLATES.values() for q in t.questions}
    assert not any(content_words(p) in trained for _, p in PAIRS)


def test_content_words_normalizes_case_accents_placeholders_and_stop_words():
    assert content_words("Où est HÉBERGÉE l'application {nom} ?") == content_words("Qui héberge {de_nom}")
    assert content_words("Quel est le rôle de l'outil {nom} ?") == {"role", "outil"}
    assert content_words("{nom} ?") == frozenset()
