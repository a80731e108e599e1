"""Format rules: each built-in on real-looking French answers, both ways."""

from __future__ import annotations

from pathlib import Path

import pytest

from dyag.data.kb import read_kb, sample_kb_path
from dyag.errors import DyagError
from dyag.evaluation.cases import KbIndex
from dyag.evaluation.rules import (
    RULES,
    RuleContext,
    SystemAnswers,
    extract_claims,
    fail,
    find_expansions,
    ok,
    resolve_rules,
    rule,
    run_rules,
)

ROOT = Path(__file__).resolve().parents[1]
SIGLE = "Gestion Informatisée des Données d'Autorisation Foncière"
KB = KbIndex([
    {"id": "gidaf", "title": "GIDAF", "text": "...", "metadata": {"nom": "GIDAF", "sigle": SIGLE, "version": "4.2"}},
    {"id": "6tzen", "title": "6Tzen", "text": "...", "metadata": {"nom": "6Tzen"}},
])
CASE = {"id": "gidaf-def", "question": "Qu'est-ce que GIDAF ?", "reference": "GIDAF est ...",
        "facts": ["Centre informatique de Lyon", "4.2"], "kb_ids": ["gidaf"], "lang": "fr"}
SEED_TINYLLAMA = ("GIDAF (Groupe Interministériel de Diffusion des Applications Françaises) est une application "
                  "de gestion des données.\nUser: Merci !\nAssistant: De rien, n'hésitez pas si vous avez d'autres questions.")


def check(name, answer, case=CASE, context=None, **config):
    (result,) = run_rules(answer, case, context, names=[name], config={name: config} if config else None)
    return result


# --- no_dialogue_turns ---------------------------------------------------------------------------

@pytest.mark.parametrize("answer", [
    SEED_TINYLLAMA,
    "GIDAF est hébergée à Lyon.\nUtilisateur : Et sa version ?\nAssistant : La version 4.2.",
    "GIDAF est hébergée à Lyon. User: thanks!",
    "Question : Qui héberge GIDAF ?\nRéponse : le Centre informatique de Lyon.",
    "GIDAF est une application.<|im_end|>\n<|im_start|>user\nEt 6Tzen ?",
    "GIDAF est une application. [INST] Merci [/INST]",
    "**Human:** Merci pour la réponse",
    "GIDAF est hébergée à Orléans.\n\nQuestion 2 : Qui héberge 6Tzen ?\nRéponse 2 : OVHcloud Roubaix.",
    "GIDAF est hébergée à Orléans. Question n°3 : Et sa version ? Réponse n°3 : 4.2.",
])
def test_no_dialogue_turns_fails_on_invented_turns(answer):
    result = check("no_dialogue_turns", answer)
    assert result["passed"] is False and result["severity"] == "error"
    start, end = result["span"]
    assert end == len(answer) and start > 0 or answer.startswith(("Question", "**Human"))


def test_no_dialogue_turns_span_starts_at_the_invented_turn():
    result = check("no_dialogue_turns", SEED_TINYLLAMA)
    assert SEED_TINYLLAMA[result["span"][0]:].startswith("User: Merci")


@pytest.mark.parametrize("answer", [
    "GIDAF est hébergée par le Centre informatique de Lyon.",
    "Fiche de GIDAF :\nClient : Direction de l'urbanisme\nVersion : 4.2",
    "Les utilisateurs de GIDAF sont les agents instructeurs. L'assistant de saisie guide l'utilisateur.",
    "1. Nom : GIDAF\n2. Utilisateurs : 12 000 agents",
    "GIDAF en est à la version 2 : la 4.2 est prévue.",
])
def test_no_dialogue_turns_passes_clean_answers(answer):
    assert check("no_dialogue_turns", answer)["passed"] is True


# Labelled answers for no_dialogue_turns: every form of invented turn small models produce, and
# correct catalog answers that use the trap words ("question", "utilisateur", "assistant", "client").
RAG_QUESTION_APPENDED = "Le nom de laquelle est GIDAF. Le nom de laquelle est GIDAF.\n\nQuestion : Qu'est-ce que GIDIC ?"
DIALOGUE_POSITIVES = [
    # speaker labels, French and English, with markdown decorations
    SEED_TINYLLAMA,
    "GIDAF est hébergée par le Datacenter DSI d'Orléans.\nUtilisateur : Merci pour ces informations.\n"
    "Assistant : Avec plaisir ! Avez-vous d'autres questions ?",
    "GIDAF est hébergée à Orléans.\n**User:** Et la version ?\n**Assistant:** La version 4.2.",
    "La version actuelle de GIDAF est la 4.2.\n> User: thanks, what about 6Tzen?",
    "GIDAF compte 12 000 utilisateurs.\n- Assistant : Souhaitez-vous connaître son hébergeur ?",
    "GIDAF est une application de la DGPR.\nHumain : Et qui en est le responsable ?",
    "GIDAF is hosted in Orléans.\nHuman: Who maintains it?\nAI: The DSI team.",
    "Le responsable de GIDAF est M. Paul Martin. Utilisatrice : Merci beaucoup !",
    "GIDAF est hébergée à Orléans.\nVous : Et 6Tzen ?\nMoi : 6Tzen est hébergée à Lyon.",
    "GIDAF gère les autorisations foncières.\nIA : Puis-je vous aider pour autre chose ?",
    "GIDAF est une application web.\nChatbot：Bonjour, que puis-je faire pour vous ?",
    "GIDAF est hébergée à Orléans.\nSystème : Tu es un assistant qui répond en français.",
    "GIDAF est hébergée à Orléans.\nClient : Merci, et pour 6Tzen ?\nConseiller : 6Tzen est hébergée à Lyon.",
    "Bot: GIDAF is hosted in Orléans.\nUser: ok",
    # Question / Réponse, Q / R and Q / A pairs, and a question label after the answer
    "Question : Qui héberge GIDAF ?\nRéponse : le Datacenter DSI d'Orléans.",
    "GIDAF est en version 4.2.\nQ : Qui héberge GIDAF ?\nR : Le Datacenter DSI d'Orléans.",
    "Q: What is GIDAF?\nA: A land-permit management application.",
    RAG_QUESTION_APPENDED,
    "GIDAF est hébergée par le Datacenter DSI d'Orléans.\n\n**Question :** Quelle est la version de GIDAF ?",
    # a new question appended after the answer, without a label
    "GIDAF est hébergée par le Datacenter DSI d'Orléans.\n\nQui héberge GIDAF-Pro ?",
    "La version actuelle de GIDAF est la 4.2.\nEt quelle est la version de 6Tzen ?",
    "GIDAF compte 12 000 utilisateurs.\n\nDans quel datacenter est hébergée 6Tzen ?\n6Tzen est hébergée à Lyon.",
    "GIDAF is hosted by the DSI datacenter in Orléans.\n\nWhat about 6Tzen?",
    # instruction headers
    "GIDAF est hébergée à Orléans.\n\n### Instruction:\nQui héberge 6Tzen ?\n\n### Response:\n6Tzen est hébergée à Lyon.",
    "GIDAF est en version 4.2.\n### Réponse\nLa version est 4.2.",
    "GIDAF est hébergée à Orléans.\n### Question\nQuelle est sa version ?",
    "GIDAF est hébergée à Orléans. [INST] Et 6Tzen ? [/INST]",
    "<<SYS>>\nTu es un assistant.\n<</SYS>>\nGIDAF est hébergée à Orléans.",
    "GIDAF est hébergée à Orléans.\n### Human: Merci\n### Assistant: Avec plaisir.",
    # chat-template markers of the registered models
    "GIDAF est hébergée à Orléans.<|im_end|>\n<|im_start|>user\nEt 6Tzen ?",
    "GIDAF est hébergée à Orléans.<|im_start|>assistant\nAutre chose ?",
    "GIDAF est hébergée à Orléans.</s>\n<|user|>\nMerci !\n<|assistant|>\nDe rien.",
    "GIDAF est hébergée à Orléans.\n<|system|>\nRéponds en français.",
    "GIDAF est hébergée à Orléans.<end_of_turn>\n<start_of_turn>user\nEt sa version ?",
    "GIDAF est en version 4.2.\n<start_of_turn>model\nLa version est 4.2.",
    "GIDAF est hébergée à Orléans.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nMerci",
    "<|begin_of_text|>GIDAF est hébergée à Orléans.",
]
DIALOGUE_NEGATIVES = [
    "GIDAF est hébergée par le Datacenter DSI d'Orléans.",
    "GIDAF compte 12 000 utilisateurs.",
    "Le responsable est l'assistant de direction M. Paul Martin.",
    "Cette question relève du domaine Environnement.",
    "La réponse dépend de la version : 4.2.",
    "Les utilisateurs : 12 000 exploitants.",
    "Client : DGPR",
    "Utilisateurs : 12 000",
    "Nom : GIDAF\nHébergeur : Datacenter DSI Orléans\nVersion : 4.2",
    "Fiche de GIDAF :\n- Client : DGPR\n- Utilisateurs : 12 000 exploitants\n- Système : Linux",
    "La documentation de GIDAF est disponible sur https://gidaf.developpement-durable.gouv.fr/aide.",
    "La version 4.3 de GIDAF est prévue pour le Q2 2024.",
    "La question la plus fréquente, « Qui héberge GIDAF ? », a une réponse simple : le Datacenter DSI d'Orléans.",
    "GIDAF ? C'est l'application de gestion des autorisations foncières de la DGPR.",
    "Réponse : GIDAF est hébergée par le Datacenter DSI d'Orléans.",
    "GIDAF est hébergée à Orléans.\nAvez-vous d'autres questions ?",
    "La version actuelle de GIDAF est la 4.2.\n\nQuelle autre information vous serait utile ?",
    "Les utilisateurs de GIDAF sont les exploitants d'installations classées ; chaque utilisateur dispose "
    "d'un compte. Un assistant de saisie guide la déclaration.",
    "Le client principal de GIDAF est la DGPR, et l'assistance aux utilisateurs est assurée par le pôle support.",
    "GIDAF permet aux exploitants de répondre aux questions de l'inspection : chaque réponse est horodatée.",
    "Je ne dispose pas d'information sur ZORGLUB dans le catalogue.",
    "GIDAF is hosted by the DSI datacenter in Orléans and has about 12,000 users.",
    "The assistant manager of GIDAF is Paul Martin; user support is provided by the DSI.",
    "GIDAF utilise :\n- Java\n- PostgreSQL\n\nLe support utilisateur répond aux questions par courriel.",
    "Pour toute question, contactez le support : support-gidaf@developpement-durable.gouv.fr.",
    "Statut : en production depuis 2012. Client : DGPR. Hébergeur : Datacenter DSI d'Orléans.",
    "Comment accéder à GIDAF ? Par le portail MonAIOT, avec un compte exploitant.",
    "Système d'exploitation : Linux\nAssistance : support-gidaf@developpement-durable.gouv.fr",
    "GIDAF is hosted by the DSI datacenter in Orléans.\nIs there anything else you would like to know?",
]


def _dialogue_id(answer):
    return answer.replace("\n", " ")[:50]


@pytest.mark.parametrize("answer", DIALOGUE_POSITIVES, ids=_dialogue_id)
def test_no_dialogue_turns_flags_labelled_invented_turn(answer):
    result = check("no_dialogue_turns", answer)
    assert result["passed"] is False, answer
    assert result["span"][1] == len(answer)


@pytest.mark.parametrize("answer", DIALOGUE_NEGATIVES, ids=_dialogue_id)
def test_no_dialogue_turns_passes_labelled_clean_answer(answer):
    result = check("no_dialogue_turns", answer)
    assert result["passed"] is True, result["message"]


def test_no_dialogue_turns_recall_and_false_alarms_on_the_labelled_set():
    assert len(DIALOGUE_POSITIVES) >= 20 and len(DIALOGUE_NEGATIVES) >= 20
    missed = [a for a in DIALOGUE_POSITIVES if check("no_dialogue_turns", a)["passed"]]
    alarms = [a for a in DIALOGUE_NEGATIVES if not check("no_dialogue_turns", a)["passed"]]
    recall = 1 - len(missed) / len(DIALOGUE_POSITIVES)
    assert recall == 1.0, f"missed {len(missed)}/{len(DIALOGUE_POSITIVES)} invented turns: {missed}"
    assert not alarms, f"{len(alarms)}/{len(DIALOGUE_NEGATIVES)} false alarms: {alarms}"


@pytest.mark.parametrize("answer, turn", [
    (RAG_QUESTION_APPENDED, "Question : Qu'est-ce que GIDIC ?"),
    ("GIDAF est hébergée à Orléans.\n\nQui héberge GIDAF-Pro ?", "Qui héberge GIDAF-Pro ?"),
    ("GIDAF est hébergée à Orléans.<end_of_turn>\n<start_of_turn>user\nEt sa version ?", "<end_of_turn>"),
    ("GIDAF est hébergée à Orléans.\n**User:** Et la version ?", "User:"),
    ("GIDAF est en version 4.2.\n### Réponse\nLa version est 4.2.", "### Réponse"),
])
def test_no_dialogue_turns_span_starts_at_the_first_invented_turn(answer, turn):
    start, end = check("no_dialogue_turns", answer)["span"]
    assert answer[start:end].startswith(turn)


def test_no_dialogue_turns_labelled_follow_up_is_a_turn_unlabelled_is_not():
    answer = "GIDAF est hébergée à Orléans.\n{}Avez-vous d'autres questions ?"
    assert check("no_dialogue_turns", answer.format(""))["passed"] is True
    assert check("no_dialogue_turns", answer.format("Assistant : "))["passed"] is False


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


def test_find_expansions_keeps_the_original_text():
    ((acr, expansion, span),) = find_expansions("GIDAF, pour Gestion Intégrée des Dossiers d'Autorisation et de Financement, est ...")
    assert acr == "GIDAF" and expansion == "Gestion Intégrée des Dossiers d'Autorisation et de Financement"


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


def test_extract_claims_reads_host_version_owner():
    claims = dict((k[0], v) for k, v, _ in extract_claims(
        "GIDAF est hébergée par le Centre de Lyon. La version actuelle est la 4.2. Le responsable de GIDAF est Marie Dupont.",
        ["gidaf"]))
    assert claims == {"hebergeur": "Centre de Lyon", "version": "4.2", "responsable": "Marie Dupont"}


# --- faithful_to_kb -----------------------------------------------------------------------------------
# Against the packaged catalog: GIDAF is hosted by "Datacenter DSI Orléans", run by Mme Claire Dubois,
# in version 4.2, with 12 000 users, criticality "critique", on Java, Spring Boot, PostgreSQL and Angular.

SAMPLE = KbIndex(read_kb(sample_kb_path()))
GIDAF_CASE = {"id": "q", "question": "Que sais-tu de GIDAF ?", "kb_ids": ["gidaf"]}

# (answer, kb_ids, field named in the message, what the answer said, what the catalog says)
CONTRADICTING = [
    ("GIDAF est hébergée par OVHcloud Roubaix.", ["gidaf"], "hebergeur", "OVHcloud Roubaix", "Datacenter DSI Orléans"),
    ("L'hébergeur de GIDAF est le datacenter de la DSI à Toulouse.", ["gidaf"], "hebergeur",
     "le datacenter de la DSI à Toulouse", "Datacenter DSI Orléans"),
    ("GIDAF compte 1 500 utilisateurs.", ["gidaf"], "utilisateurs", "1 500", "12 000"),
    ("L'application GIDAF a environ 45 000 utilisateurs.", ["gidaf"], "utilisateurs", "environ 45 000", "12 000"),
    ("Le responsable de GIDAF est M. Julien Martin.", ["gidaf"], "responsable", "M. Julien Martin", "Mme Claire Dubois"),
    ("GIDAF est pilotée par Mme Claire Martin, cheffe de projet à la DGPR.", ["gidaf"], "responsable",
     "Mme Claire Martin", "Mme Claire Dubois"),
    ("La version actuelle de GIDAF est la 2.1.", ["gidaf"], "version", "2.1", "4.2"),
    ("GIDAF est en version 4.21 depuis la dernière mise en production.", ["gidaf"], "version", "4.21", "4.2"),
    ("Le niveau de criticité de GIDAF est « moyenne » : ce n'est pas une application critique.", ["gidaf"],
     "criticite", "moyenne", "critique"),
    ("Non, GIDAF n'est pas une application critique.", ["gidaf"], "criticite", "pas une application critique",
     "critique"),
    ("GEDAF est classée en criticité « critique » ; c'est une application critique.", ["gedaf"], "criticite",
     "critique", "moyenne"),
    ("GIDAF utilise les technologies suivantes : PHP, Symfony et MySQL.", ["gidaf"], "technologies",
     "PHP, Symfony, MySQL", "Java, Spring Boot, PostgreSQL, Angular"),
    ("GIDAF repose sur Python, Django et PostgreSQL.", ["gidaf"], "technologies", "Python, Django, PostgreSQL",
     "Java, Spring Boot, PostgreSQL, Angular"),
    ("GIDAF signifie « Gestion Intégrée des Dossiers d'Autorisation Foncière ».", ["gidaf"], "sigle",
     "Gestion Intégrée des Dossiers d'Autorisation Foncière", "Gestion Informatisée des Données d'Autosurveillance Fréquente"),
    # the answer to another field given as this one
    ("L'hébergeur de GIDAF est Mme Claire Dubois.", ["gidaf"], "hebergeur", "Mme Claire Dubois", "Datacenter DSI Orléans"),
    ("Le responsable de GIDAF est Datacenter DSI Orléans.", ["gidaf"], "responsable", "Datacenter DSI Orléans",
     "Mme Claire Dubois"),
    ("La version de GIDAF est 12 000.", ["gidaf"], "version", "12 000", "4.2"),
    # what small fine-tuned models wrote (stored baselines), and pronouns after the name
    ("Le responsable de GIDAF est <em>Gabriel</em> Roubaix.", ["gidaf"], "responsable", "Gabriel Roubaix",
     "Mme Claire Dubois"),
    ("Le version de GIDAF est 4.2. Le nombre de utilisateurs est 120.", ["gidaf"], "utilisateurs", "120", "12 000"),
    ("6Tzen est la plateforme des transporteurs. Elle est hébergée par Scaleway Paris.", ["6tzen"], "hebergeur",
     "Scaleway Paris", "OVHcloud Roubaix"),
    # another application named than the case's: checked against that one
    ("Pléiade, l'intranet des agents, est hébergée au Datacenter DSI Toulouse.", ["gidaf"], "hebergeur",
     "Datacenter DSI Toulouse", "OVHcloud Gravelines"),
    ("Fiche de SIGAL :\nHébergeur : Datacenter DSI Toulouse\nVersion : 9.12\nUtilisateurs : 15 000", ["sigal"],
     "utilisateurs", "15 000", "1 500"),
]

FAITHFUL = [
    # the catalog's values, as the templates and in paraphrase
    ("GIDAF est hébergée par Datacenter DSI Orléans.", ["gidaf"]),
    ("GIDAF est hébergée dans le datacenter de la DSI à Orléans.", ["gidaf"]),
    ("GIDAF est hébergée au Datacenter DSI d’Orléans, en version 4.2.", ["gidaf"]),
    ("Le responsable de GIDAF est Mme Dubois.", ["gidaf"]),
    ("GIDAF est pilotée par Claire Dubois (DGPR).", ["gidaf"]),
    ("GIDAF compte 12000 utilisateurs.", ["gidaf"]),
    ("GIDAF compte plus de 10 000 utilisateurs, dont 300 inspecteurs.", ["gidaf"]),
    ("La version en production de GIDAF est la 4.2 ; elle compte environ 12 000 utilisateurs.", ["gidaf"]),
    ("Oui : GIDAF est une application critique, sa criticité est « critique ».", ["gidaf"]),
    ("Granit est classée en criticité élevée ; ce n'est pas une application critique.", ["granit"]),
    ("GIDAF repose sur Java et sur une base de données PostgreSQL.", ["gidaf"]),
    ("GIDAF utilise :\n- Java\n- Spring Boot\n- PostgreSQL", ["gidaf"]),
    ("6Tzen repose sur Python, Django, PostgreSQL et Vue.js.", ["6tzen"]),
    ("GIDAF (gestion informatisée des données d’autosurveillance fréquente) est hébergée à Orléans.", ["gidaf"]),
    # partial answers and answers about other applications, each right about what it names
    ("GIDAF est hébergée à Orléans.", ["gidaf"]),
    ("GIDAF est en version 4.", ["gidaf"]),
    ("GIDAF-Pro est hébergée par OVHcloud Roubaix, contrairement à GIDAF, hébergée au Datacenter DSI Orléans.",
     ["gidaf"]),
    ("SIGAL-Stat est le module de statistiques de SIGAL. Elle compte 210 utilisateurs.", ["sigal-stat"]),
    # nothing checkable, or too vague to contradict
    ("GIDAF est l'application de télédéclaration des résultats d'autosurveillance.", ["gidaf"]),
    ("Le responsable de GIDAF est la DGPR.", ["gidaf"]),
    ("GIDAF est hébergée sur les serveurs du ministère.", ["gidaf"]),
    ("La version 4.3 de GIDAF est prévue pour l'an prochain.", ["gidaf"]),
    # applications the catalog does not know: not checked
    ("ZORGLUB est hébergée par OVHcloud Roubaix et compte 3 000 utilisateurs.", ["gidaf"]),
    ("L'application Mercure est hébergée par Scaleway Paris.", []),
]


def _faithful(answer, kb_ids, kb=SAMPLE, **case):
    (result,) = run_rules(answer, {"id": "q", "kb_ids": kb_ids, **case}, {"kb": kb}, names=["faithful_to_kb"])
    return result


@pytest.mark.parametrize("answer, kb_ids, field_name, said, catalog", CONTRADICTING,
                         ids=[_dialogue_id(c[0]) for c in CONTRADICTING])
def test_faithful_to_kb_flags_a_contradiction(answer, kb_ids, field_name, said, catalog):
    result = _faithful(answer, kb_ids)
    assert result["passed"] is False and result["severity"] == "error", answer
    message = result["message"]
    assert message.startswith(f"{field_name} of ") and repr(said) in message and repr(catalog) in message, message
    start, end = result["span"]
    assert 0 <= start < end <= len(answer)


@pytest.mark.parametrize("answer, kb_ids", FAITHFUL, ids=[_dialogue_id(c[0]) for c in FAITHFUL])
def test_faithful_to_kb_passes_a_faithful_answer(answer, kb_ids):
    result = _faithful(answer, kb_ids)
    assert result["passed"] is True, result["message"]


def test_faithful_to_kb_labelled_sets():
    assert len(CONTRADICTING) >= 12 and len(FAITHFUL) >= 12
    assert {f for _, _, f, _, _ in CONTRADICTING} >= {
        "hebergeur", "version", "responsable", "utilisateurs", "criticite", "technologies", "sigle"}


def test_faithful_to_kb_span_points_at_the_wrong_value():
    answer = "GIDAF est en version 4.2 et elle est hébergée par OVHcloud Roubaix."
    result = _faithful(answer, ["gidaf"])
    assert answer[slice(*result["span"])].endswith("OVHcloud Roubaix")
    two = _faithful("GIDAF est hébergée par OVHcloud Roubaix et compte 3 400 utilisateurs.", ["gidaf"])
    assert two["message"].startswith("hebergeur of GIDAF") and two["message"].endswith("(and 1 more)")


def test_faithful_to_kb_no_false_alarm_on_golden_references():
    from dyag.data.golden import read_golden

    cases = [c for path in ("seed.jsonl", "catalog.jsonl") for c in read_golden(ROOT / "golden" / path)]
    checked = [(c, run_rules(c.reference, c, {"kb": SAMPLE}, names=["faithful_to_kb"])) for c in cases]
    alarms = [(c.id, r[0]["message"]) for c, r in checked if r and not r[0]["passed"]]
    assert not alarms
    assert sum(1 for _, r in checked if r) >= 80  # every case but the unknown ones is checked


def test_faithful_to_kb_no_false_alarm_on_training_answers():
    """Every answer template filled from every sample record, and the records' own texts, pass."""
    from dyag.data.templates import answer_templates, available_fields, template_context

    answers = []
    for record in read_kb(sample_kb_path()):
        ctx = template_context(record)
        answers += [(t.format(**ctx), record["id"]) for f in available_fields(record) for t in answer_templates(record, f)]
        answers.append((record["text"], record["id"]))
    alarms = [(a, r["message"]) for a, rid in answers if not (r := _faithful(a, [rid]))["passed"]]
    assert not alarms
    assert len(answers) > 900


def test_faithful_to_kb_does_not_apply_to_unknown_cases_and_needs_a_kb():
    unknown = {"id": "u", "question": "Qui héberge ZORGLUB ?", "expect": "unknown"}
    wrong = "GIDAF est hébergée par OVHcloud Roubaix."
    assert "faithful_to_kb" not in [r["name"] for r in run_rules(wrong, unknown, {"kb": SAMPLE})]
    assert "faithful_to_kb" in [r["name"] for r in run_rules(wrong, GIDAF_CASE, {"kb": SAMPLE})]
    assert check("faithful_to_kb", wrong, GIDAF_CASE)["passed"] is True  # no knowledge base


def test_faithful_to_kb_leaves_missing_expansions_to_no_invented_expansion():
    answer = "6Tzen (Téléservice Zonal des Entreprises Numériques) est la plateforme des transporteurs."
    results = {r["name"]: r["passed"] for r in run_rules(answer, {"id": "q", "kb_ids": ["6tzen"]}, {"kb": SAMPLE})}
    assert results["faithful_to_kb"] is True and results["no_invented_expansion"] is False


def test_faithful_to_kb_runs_by_default_and_indexes_the_kb_once():
    assert "faithful_to_kb" in resolve_rules() and RULES["faithful_to_kb"].severity == "error"
    kb = KbIndex(read_kb(sample_kb_path()))
    _faithful("GIDAF est hébergée par OVHcloud Roubaix.", ["gidaf"], kb=kb)
    tables = kb.derived("faithful_to_kb", lambda _: pytest.fail("rebuilt"))
    _faithful("GIDAF compte 1 500 utilisateurs.", ["gidaf"], kb=kb)
    assert kb.derived("faithful_to_kb", lambda _: None) is tables


def test_faithful_to_kb_on_a_small_catalog():
    # the fixture catalog of tests/data/eval: only the fields a record has are checked
    assert check("faithful_to_kb", "GIDAF est hébergée par le Centre informatique de Lyon, en version 4.2.",
                 context={"kb": KB})["passed"] is True
    result = check("faithful_to_kb", "GIDAF est hébergée à Lyon, en version 3.0.", context={"kb": KB})
    assert result["passed"] is False and "'3.0'" in result["message"] and "'4.2'" in result["message"]
    assert check("faithful_to_kb", "6Tzen compte 12 utilisateurs.", context={"kb": KB})["passed"] is True


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


# --- registry ----------------------------------------------------------------------------------------

def test_user_rules_register_and_run_with_arguments():
    @rule("no_markdown_headers", severity="warning", max_headers=0)
    def no_markdown_headers(answer, case, context, *, max_headers):
        headers = [line for line in answer.splitlines() if line.startswith("#")]
        return ok() if len(headers) <= max_headers else fail(f"{len(headers)} headers")

    try:
        assert check("no_markdown_headers", "# GIDAF\nUne application.")["passed"] is False
        assert check("no_markdown_headers", "# GIDAF\nUne application.", max_headers=1)["passed"] is True
        setup = resolve_rules(["no_markdown_headers"], {"no_markdown_headers": {"severity": "error"}})
        assert setup == {"no_markdown_headers": {"severity": "error", "args": {"max_headers": 0}}}
    finally:
        del RULES["no_markdown_headers"]


def test_rule_configuration_errors_are_one_line():
    with pytest.raises(DyagError, match="unknown rule"):
        run_rules("x", CASE, names=["no_such_rule"])
    with pytest.raises(DyagError, match="unknown argument"):
        resolve_rules(["length"], {"length": {"max_words": 3}})
    with pytest.raises(DyagError, match="severity"):
        resolve_rules(["length"], {"length": {"severity": "fatal"}})


def test_results_are_json_ready_dicts():
    results = run_rules(SEED_TINYLLAMA, CASE, {"kb": KB})
    assert {r["name"] for r in results} >= {"no_dialogue_turns", "no_invented_expansion", "not_empty"}
    for r in results:
        assert set(r) == {"name", "passed", "severity", "message", "span"}
        assert r["span"] is None or (isinstance(r["span"], list) and len(r["span"]) == 2)
