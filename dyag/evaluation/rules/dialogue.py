"""``no_dialogue_turns``: an answer that invents further turns of the conversation."""

from __future__ import annotations

import re

from dyag.evaluation.rules.registry import fail, ok, rule
from dyag.utils.text import strip_accents

# --- no_dialogue_turns: what an invented conversation turn looks like ---
#
# A speaker label ("User:", "**Assistant :**", "> Vous :", numbered: "Question 2 :") at the start of a line or after a
# sentence end. A speaker that never names a catalog field is enough on its own. The others
# count only when they read as a turn:
# - an asker and an answerer together: "Question : ... / Réponse : ...", "Q: / A:", "Client : / Agent :";
# - a question label after answer text: "...\n\nQuestion : Qu'est-ce que GIDIC ?";
# - a label whose text is an utterance: "Client : Merci, et pour 6Tzen ?", "Utilisateur : Et sa version ?".
# Alone, "Client : DGPR" or "Système : Linux" is a field, and "Réponse : ..." labels the answer itself.
_SPEAKER_ROLES = frozenset("user human humain assistant assistante ai ia bot chatbot system vous moi".split())
_ASKER_ROLES = frozenset("utilisateur utilisatrice client cliente question q".split())
_QUESTION_ROLES = frozenset({"question", "q"})
_ANSWERER_ROLES = frozenset("reponse answer r a agent conseiller conseillere".split())
_REPLY_ROLES = frozenset({"reponse", "answer", "r", "a"})
_ROLE_WORDS = (r"User|Human|Humain|Assistante?|AI|IA|Bot|Chatbot|System|Vous|Moi"   # speakers
               r"|Utilisat(?:eur|rice)|Cliente?|Question|Q"                          # askers
               r"|R[ée]ponse|Answer|R|A|Agent|Conseill[eè]re?"                       # answerers
               r"|Syst[èe]me")                                                       # a field unless it speaks
_ROLE_LABEL_RE = re.compile(
    rf"(?:^|(?<=[.!?…][ \t]))[ \t>#*•_-]*(?P<role>{_ROLE_WORDS})(?:[ \t]*(?:n[°o][ \t]*|#)?\d{{1,3}})?(?:\*\*|__)?"
    r"[ \t]*[:：]", re.M | re.I)
# The label's text reads as someone speaking: it ends with "?"/"!" or opens like a chat message.
_UTTERANCE_RE = re.compile(
    r"[?!][\s*_]*$|^[\s*_]*(?:merci|bonjour|bonsoir|salut|au revoir|d['’]accord|et|je|j['’]|tu|vous|pouvez|peux"
    r"|thanks|thank|hello|hi|please|i|can|could)\b", re.I)
# Prompt-format headers: "### Instruction", "### Réponse", "### Human:".
_HEADER_RE = re.compile(
    r"^[ \t]*(?P<header>#{1,6}[ \t]*(?:Instructions?|Input|Response|R[ée]ponse|Question|Answer|Human|Humain"
    r"|Assistante?|User|Utilisat(?:eur|rice)|System|Syst[èe]me)\b)", re.M | re.I)
# Chat-template markers of the registered models (ChatML, Zephyr, Gemma, Llama 2/3); a role word
# glued to one ("<start_of_turn>user", "<|im_start|>assistant") is part of the same turn.
_CHAT_TOKEN_RE = re.compile(
    r"<\|[A-Za-z_]+\|>|</?start_of_turn>|<end_of_turn>|<(?:bos|eos)>|</?s>|\[/?INST\]|<</?SYS>>")
# A new question on its own line after answer text, without a label: the line opens (capitalised)
# with an interrogative, maybe after "Et"/a preposition, and ends with "?": "Qui héberge GIDAF-Pro ?",
# "Et quelle est la version de GIDAF ?", "Dans quel datacenter ... ?", "What about 6Tzen?".
_NEW_QUESTION_RE = re.compile(
    r"^[ \t]*(?P<question>(?=(?-i:[A-ZÀ-Ý]))(?:(?:et|and|mais)\s+)?"
    r"(?:(?:à|a|dans|sur|par|pour|de|depuis|avec|en|chez)\s+)?"
    r"(?:qui|que|qu['’]|quel(?:le)?s?|quoi|où|quand|comment|combien|pourquoi|lequel|laquelle|lesquel(?:le)?s"
    r"|est-ce|et|what|who|which|where|when|how|why|does|do|is|are|can)\b[^\n]*\?)[ \t]*$", re.M | re.I)
# ...unless it addresses the reader: then it is the answer's own rhetorical follow-up
# ("Quelle autre information vous serait utile ?", "Is there anything else?"), not a new turn.
_FOLLOW_UP_RE = re.compile(
    r"\b(?:vous|votre|vos|tu|toi|ton|ta|tes|you|your)\b|d['’]autres? (?:questions?|chose)|\bautre chose\b"
    r"|\banything else\b|\bother questions?\b", re.I)


def _is_turn(role: str, before: str, text: str, dialogue: bool) -> bool:
    """Whether a ``role`` label (accent-free, lower case) after ``before`` and followed by ``text`` is a turn."""
    if role in _SPEAKER_ROLES:
        return True
    if dialogue and role in _ASKER_ROLES | _ANSWERER_ROLES:
        return True
    if role in _QUESTION_ROLES and before.strip():
        return True
    return role not in _REPLY_ROLES and bool(_UTTERANCE_RE.search(text))


def _invented_turns(answer: str):
    """``(start, message)`` for every invented turn in ``answer``."""
    for m in _CHAT_TOKEN_RE.finditer(answer):
        yield m.start(), f"chat-template token {m.group()!r} in the answer"
    for m in _HEADER_RE.finditer(answer):
        yield m.start("header"), f"prompt header {m.group('header')!r}"
    labels = [(m, strip_accents(m.group("role")).lower()) for m in _ROLE_LABEL_RE.finditer(answer)]
    roles = {role for _, role in labels}
    dialogue = bool(roles & _ASKER_ROLES) and bool(roles & _ANSWERER_ROLES)
    for m, role in labels:
        if _is_turn(role, answer[:m.start()], answer[m.end():].split("\n", 1)[0], dialogue):
            yield m.start("role"), f"invented conversation turn {m.group('role')!r}"
    for m in _NEW_QUESTION_RE.finditer(answer):
        if answer[:m.start()].strip() and not _FOLLOW_UP_RE.search(m.group("question")):
            yield m.start("question"), f"invented follow-up question {m.group('question')[:60]!r}"


@rule("no_dialogue_turns", severity="error")
def no_dialogue_turns(answer, case, context):
    """The answer invents further turns: "User: ...", "Question : ... ?" after the answer, "<|im_start|>".

    A rhetorical follow-up that addresses the reader ("Avez-vous d'autres questions ?") is part
    of the answer unless a speaker label introduces it ("Assistant : Avez-vous ...").
    """
    turns = sorted(_invented_turns(answer))
    if not turns:
        return ok()
    start, message = turns[0]
    return fail(message, (start, len(answer)))
