"""no_dialogue_turns (dyag/evaluation/rules/dialogue.py): invented turns in every form small models
produce, and clean answers that use the trap words, both ways."""

from __future__ import annotations

import pytest

from tests.evaluation.rules.helpers import SEED_TINYLLAMA, answer_id, check

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


@pytest.mark.parametrize("answer", DIALOGUE_POSITIVES, ids=answer_id)
def test_no_dialogue_turns_flags_labelled_invented_turn(answer):
    result = check("no_dialogue_turns", answer)
    assert result["passed"] is False, answer
    assert result["span"][1] == len(answer)


@pytest.mark.parametrize("answer", DIALOGUE_NEGATIVES, ids=answer_id)
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
