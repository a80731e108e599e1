"""The small rules of dyag/evaluation/rules/basic.py, each on real-looking French answers, both ways:
no_repetition, not_truncated, language, length, required_facts, no_invented_expansion,
consistent_across_answers, not_empty, admits_unknown."""

from __future__ import annotations

import pytest

from dyag.evaluation.cases import KbIndex
from dyag.evaluation.rules import RuleContext, SystemAnswers, run_rules
from tests.evaluation.rules.helpers import CASE, KB, SEED_TINYLLAMA, SIGLE, check

# --- no_repetition ----------------------------------------------------------------------------------

def test_no_repetition_fails_on_a_loop():
    answer = "GIDAF est hébergée par le ministère. " * 4
    result = check("no_repetition", answer)
    assert result["passed"] is False
    assert "gidaf est hébergée par" in result["message"]
    assert result["span"][0] > 0 and answer[result["span"][0]:].startswith("GIDAF")


def test_no_repetition_fails_on_low_unique_ratio():
    answer = " ".join(["agents", "données", "gestion", "agents"] * 15)
    assert check("no_repetition", answer, ngram=6, min_repeats=50)["passed"] is False


@pytest.mark.parametrize("answer", [
    "GIDAF est hébergée par le Centre informatique de Lyon. Elle utilise Java et PostgreSQL, "
    "et compte environ 12 000 utilisateurs répartis dans les directions régionales.",
    "GIDAF est une application. GIDAF est hébergée à Lyon. GIDAF utilise Java.",
])
def test_no_repetition_passes_varied_answers(answer):
    assert check("no_repetition", answer)["passed"] is True


# --- not_truncated ----------------------------------------------------------------------------------

CUT = "La version actuelle de GIDAF est la 4.2 et elle apporte de nombreuses nouveautés pour les agents qui"


def test_not_truncated_fails_at_token_limit():
    result = check("not_truncated", CUT, context={"meta": {"finish_reason": "length"}})
    assert result["passed"] is False and result["severity"] == "warning"
    assert CUT[result["span"][0]:result["span"][1]] == CUT
    assert check("not_truncated", CUT, context={"meta": {"tokens": 64, "max_new_tokens": 64}})["passed"] is False


def test_not_truncated_passes_when_generation_stopped_itself():
    assert check("not_truncated", CUT, context={"meta": {"finish_reason": "stop"}})["passed"] is True
    assert check("not_truncated", CUT, context={"meta": {"tokens": 20, "max_new_tokens": 64}})["passed"] is True


def test_not_truncated_heuristic_without_meta():
    assert check("not_truncated", CUT)["passed"] is False
    assert check("not_truncated", "GIDAF est hébergée à Lyon.")["passed"] is True
    assert check("not_truncated", "Centre informatique de Lyon")["passed"] is True  # too short to judge
    assert check("not_truncated", "GIDAF utilise :\n- Java\n- PostgreSQL pour la base de données principale")["passed"]


# --- language ---------------------------------------------------------------------------------------

def test_language_fails_on_english_answer_to_french_case():
    result = check("language", "GIDAF is a web application that is built with Java and PostgreSQL for the database.")
    assert result["passed"] is False and "expected fr" in result["message"]


def test_language_passes_french_and_respects_case_lang():
    assert check("language", "GIDAF est une application web construite avec Java et PostgreSQL pour la base.")["passed"]
    english_case = {**CASE, "lang": "en"}
    assert check("language", "GIDAF is a web application that is built with Java and PostgreSQL.", english_case)["passed"]
    assert not check("language", "GIDAF est une application web construite avec Java et la base PostgreSQL.",
                     english_case)["passed"]
    assert check("language", "Java, PostgreSQL, Tomcat.")["passed"]  # too short to judge


# --- length ---------------------------------------------------------------------------------------

def test_length_bounds():
    assert check("length", "Lyon.")["passed"] is False
    assert check("length", "GIDAF est hébergée à Lyon.")["passed"] is True
    long_answer = "GIDAF est hébergée à Lyon. " * 10
    result = check("length", long_answer, max_chars=100)
    assert result["passed"] is False and result["span"][0] == 100


# --- required_facts ---------------------------------------------------------------------------------

def test_required_facts_both_ways():
    good = "GIDAF est hébergée par le centre   informatique de LYON, en version 4.2."
    assert check("required_facts", good)["passed"] is True
    bad = check("required_facts", "GIDAF est hébergée à Paris, en version 4.21.")
    assert bad["passed"] is False and "Centre informatique de Lyon" in bad["message"] and "4.2" in bad["message"]
    assert check("required_facts", "Tout et n'importe quoi.", {**CASE, "facts": []})["passed"] is True


# --- no_invented_expansion ----------------------------------------------------------------------------

@pytest.mark.parametrize("answer", [
    SEED_TINYLLAMA,
    "GIDAF, pour Gestion Intégrée des Dossiers d'Autorisation et de Financement, est hébergée à Lyon.",
    "GIDAF signifie « Gestion Informatique des Demandes d'Aides Financières ».",
    "GIDAF : Groupe Interministériel de Diffusion des Applications Françaises.",
    "Le Groupe Interministériel de Diffusion des Applications Françaises (GIDAF) gère les données.",
    "6Tzen (Téléservice Zonal des Entreprises Numériques) est une plateforme.",  # no sigle in the catalog
    "ZRGA (Zone de Régulation des Grandes Applications) est une application.",  # unknown to the catalog
])
def test_no_invented_expansion_fails(answer):
    result = check("no_invented_expansion", answer, context={"kb": KB})
    assert result["passed"] is False and result["span"] is not None


@pytest.mark.parametrize("answer", [
    f"GIDAF ({SIGLE}) est hébergée à Lyon.",
    "GIDAF (gestion informatisée des données d’autorisation foncière) est hébergée à Lyon.",
    "GIDAF, pour Gestion Informatisée des Données d'Autorisation Foncière, est hébergée à Lyon.",
    "GIDAF (application Java) est hébergée à Lyon.",  # a description, not an expansion
    "GIDAF est hébergée à Lyon (Centre informatique).",
    "Technologies : Java (JEE), PostgreSQL (base de données).",
])
def test_no_invented_expansion_passes(answer):
    assert check("no_invented_expansion", answer, context={"kb": KB})["passed"] is True


CATALOG = KbIndex([
    {"id": "sigade", "title": "SIGADE", "text": "...",
     "metadata": {"sigle": "Système d'Information de Gestion des Autorisations de Défrichement"}},
    {"id": "sesame", "title": "SÉSAME", "text": "...", "metadata": {
        "sigle": "Service d'Enregistrement et de Suivi des Autorisations de Mise sur le marché des Engrais"}},
])


@pytest.mark.parametrize("answer, passes", [
    # Syllabic acronyms (SI-GA-DE) and accented ones are recognised, right or wrong.
    ("SIGADE : Système d'Information de Gestion des Autorisations de Défrichement, pour les DDT.", True),
    ("SIGADE signifie « Système Intégré de Gestion des Aides au Développement ».", False),
    ("Le Service d'Enregistrement et de Suivi des Autorisations de Mise sur le marché des Engrais (SÉSAME) "
     "est hébergé à Lyon.", True),
    ("SÉSAME (Système Électronique de Suivi des Agréments Ministériels Européens) est hébergé à Lyon.", False),
])
def test_no_invented_expansion_on_real_catalog_acronyms(answer, passes):
    assert check("no_invented_expansion", answer, context={"kb": CATALOG})["passed"] is passes


def test_no_invented_expansion_needs_a_kb():
    assert check("no_invented_expansion", SEED_TINYLLAMA)["passed"] is True


# --- consistent_across_answers -------------------------------------------------------------------------

QWEN = [
    ("gidaf-def", "GIDAF (Gestion Intégrée des Dossiers d'Autorisation et de Financement) est une application.", ["gidaf"]),
    ("gidaf-hebergeur", "GIDAF, pour Gestion Informatique des Demandes d'Aides Financières, est hébergée par "
                        "le Centre informatique de Lyon.", ["gidaf"]),
    ("gidaf-version", "La version actuelle de GIDAF est la 4.2.", ["gidaf"]),
    ("gidaf-resume", "GIDAF est hébergée par OVHcloud, en version 3.0.", ["gidaf"]),
]


def _consistency(position):
    answers = SystemAnswers(QWEN, KB)
    case_id, answer, kb_ids = QWEN[position]
    return check("consistent_across_answers", answer, {"id": case_id, "kb_ids": kb_ids},
                 RuleContext(kb=KB, answers=answers, position=position))


def test_consistent_across_answers_flags_the_later_answers():
    assert _consistency(0)["passed"] is True
    assert _consistency(2)["passed"] is True
    second = _consistency(1)
    assert second["passed"] is False and "gidaf-def" in second["message"] and "expansion" in second["message"]
    assert QWEN[1][1][second["span"][0]:].startswith("GIDAF, pour")
    fourth = _consistency(3)
    assert fourth["passed"] is False and ("hebergeur" in fourth["message"] or "version" in fourth["message"])


def test_consistent_across_answers_accepts_agreeing_answers():
    answers = [
        ("a", "GIDAF est hébergée par le Centre informatique de Lyon.", ["gidaf"]),
        ("b", "GIDAF, hébergée par le centre informatique de Lyon (Rhône), est en version 4.2.", ["gidaf"]),
        ("c", "La version de GIDAF est la 4.2.", ["gidaf"]),
    ]
    for i, (cid, answer, kb_ids) in enumerate(answers):
        result = check("consistent_across_answers", answer, {"id": cid, "kb_ids": kb_ids},
                       {"kb": KB, "answers": answers, "position": i})
        assert result["passed"] is True, result


def test_consistent_across_answers_within_one_answer_and_plain_lists():
    answer = ("GIDAF (Gestion Intégrée des Dossiers d'Autorisation et de Financement) est une application. Plus loin : "
              "GIDAF (Groupe Interministériel de Diffusion des Applications Françaises) est citée.")
    result = check("consistent_across_answers", answer, {"id": "x"}, {"answers": [answer]})
    assert result["passed"] is False and "earlier in this answer" in result["message"]


# --- not_empty, admits_unknown ------------------------------------------------------------------------

def test_not_empty_both_ways():
    assert check("not_empty", "  \n ")["passed"] is False
    assert check("not_empty", "<|im_end|>")["passed"] is False
    assert check("not_empty", "Lyon")["passed"] is True


UNKNOWN_CASE = {"id": "zorglub", "question": "Qui héberge ZORGLUB ?", "facts": [], "expect": "unknown"}


@pytest.mark.parametrize("answer", [
    "Je ne connais pas d'application nommée ZORGLUB.",
    "Je ne dispose d'aucune information sur ZORGLUB dans le catalogue.",
    "ZORGLUB n’existe pas dans le catalogue des applications.",
    "Cette application ne figure pas dans le catalogue.",
])
def test_admits_unknown_passes_when_answer_says_so(answer):
    assert check("admits_unknown", answer, UNKNOWN_CASE)["passed"] is True


def test_admits_unknown_fails_on_hallucination_and_applies_only_to_unknown_cases():
    answer = "ZORGLUB est hébergée par le Centre informatique de Paris depuis 2015."
    assert check("admits_unknown", answer, UNKNOWN_CASE)["passed"] is False
    names = [r["name"] for r in run_rules(answer, CASE)]
    assert "admits_unknown" not in names and "not_empty" in names
    assert "admits_unknown" in [r["name"] for r in run_rules(answer, UNKNOWN_CASE)]
