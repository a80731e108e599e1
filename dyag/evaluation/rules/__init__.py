"""Format rules: small registered checks of one answer, run on every scored prediction.

A rule is a function ``(answer, case, context, **args) -> RuleResult`` registered with
:func:`rule`, which records its name, severity and default arguments (the scorer writes
them into the results so a run can be replayed). ``case`` is a :class:`CaseView`;
``context`` a :class:`RuleContext` (prediction meta, knowledge base, the other answers
of the same system). Spans are ``(start, end)`` offsets into the answer string.

>>> @rule("mentions_question_mark", severity="info")
... def mentions_question_mark(answer, case, context):
...     i = answer.find("?")
...     return fail("asks a question back", (i, i + 1)) if i >= 0 else ok()
>>> run_rules("Pouvez-vous préciser ?", {"id": "q"}, names=["mentions_question_mark"])[0]["passed"]
False
>>> del RULES["mentions_question_mark"]
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

from dyag.errors import DyagError
from dyag.evaluation.cases import CaseView, KbEntry, KbIndex, acronym_key, as_case, as_kb_index
from dyag.evaluation.textmetrics import missing_facts
from dyag.utils.text import normalize_text, strip_accents, word_spans, word_tokens

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class RuleResult:
    passed: bool
    severity: str = ""  # filled by run_rules from the rule's registration (or its override)
    message: str = ""
    span: tuple[int, int] | None = None

    def to_dict(self, name: str) -> dict:
        span = [int(self.span[0]), int(self.span[1])] if self.span else None
        return {"name": name, "passed": self.passed, "severity": self.severity, "message": self.message, "span": span}


def ok(message: str = "") -> RuleResult:
    return RuleResult(True, message=message)


def fail(message: str, span: tuple[int, int] | None = None) -> RuleResult:
    return RuleResult(False, message=message, span=span)


@dataclass(frozen=True)
class RuleSpec:
    name: str
    func: Callable[..., RuleResult]
    severity: str
    defaults: dict
    applies: Callable[[CaseView], bool] | None = None


RULES: dict[str, RuleSpec] = {}


def rule(name: str, *, severity: str = "error", applies: Callable[[CaseView], bool] | None = None, **defaults):
    """Register ``func(answer, case, context, **args) -> RuleResult`` under ``name``.

    ``applies(case)`` restricts the rule to some golden cases (e.g. ``expect == "unknown"``);
    ``defaults`` are the rule's arguments, overridable per run (``run_rules(config=...)``).
    """
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {SEVERITIES}, got {severity!r}")

    def register(func):
        RULES[name] = RuleSpec(name, func, severity, dict(defaults), applies)
        return func

    return register


# --- context ---------------------------------------------------------------------------------


class SystemAnswers:
    """All answers of one system in golden order, with claims extracted once for all.

    ``items`` are ``(case_id, answer, kb_ids)``; a plain list of answer strings also works.
    """

    def __init__(self, items: Sequence, kb: KbIndex | None = None):
        self.items = [(str(i), it, ()) if isinstance(it, str) else (str(it[0]), it[1], tuple(it[2] if len(it) > 2 else ()))
                      for i, it in enumerate(items)]
        self.kb = kb

    def position_of(self, case_id: str, answer: str) -> int | None:
        for i, (cid, ans, _) in enumerate(self.items):
            if cid == case_id and ans == answer:
                return i
        return next((i for i, (_, ans, _) in enumerate(self.items) if ans == answer), None)

    @functools.cached_property
    def claims(self) -> list[list[tuple]]:
        """:func:`extract_claims` of each answer, by position."""
        return [extract_claims(answer, kb_ids, self.kb) for _, answer, kb_ids in self.items]

    @functools.cached_property
    def first_claims(self) -> dict[tuple, tuple]:
        """``(kind, entity) -> ((position, start), value, case_id)`` of the first statement."""
        first: dict[tuple, tuple] = {}
        for pos, claims in enumerate(self.claims):
            for key, value, span in claims:
                first.setdefault(key, ((pos, span[0]), value, self.items[pos][0]))
        return first


@dataclass
class RuleContext:
    """What a rule may look at besides the answer and its golden case."""

    meta: dict = field(default_factory=dict)  # the prediction's meta (finish_reason, tokens, ...)
    kb: KbIndex | None = None
    answers: SystemAnswers | None = None  # the same system's answers, for cross-answer rules
    position: int | None = None  # this answer's index in ``answers``

    @classmethod
    def coerce(cls, context: Any) -> "RuleContext":
        if isinstance(context, RuleContext):
            return context
        context = dict(context or {})
        kb = as_kb_index(context.get("kb"))
        answers = context.get("answers")
        if answers is not None and not isinstance(answers, SystemAnswers):
            answers = SystemAnswers(answers, kb)
        return cls(meta=dict(context.get("meta") or {}), kb=kb, answers=answers, position=context.get("position"))


# --- shared extraction helpers -------------------------------------------------------------

_STOP = frozenset("de des du d la le les l et a au aux en pour un une par sur".split())
_ACR = r"[A-Z0-9À-ÖØ-Þ][A-Za-z0-9À-ÖØ-öø-ÿ&-]{1,14}"
_EXP_TEXT = r"[«\"“]?\s*(?P<exp>[^.,;:!?()\n«»\"”]{3,140})"
_EXPANSION_RES = (
    re.compile(rf"\b(?P<acr>{_ACR})\s*\(\s*(?:acronyme\s+de\s+|pour\s+|soit\s+)?[«\"“]?\s*(?P<exp>[^()\n]{{3,140}}?)\s*[»\"”]?\s*\)"),
    re.compile(rf"\b(?P<acr>{_ACR})\s*,\s*(?:pour|soit|c['’]est-à-dire)\s+{_EXP_TEXT}"),
    re.compile(rf"\b(?P<acr>{_ACR})\s+(?:signifie|veut dire|est l['’]acronyme de|est le sigle de|stands for)\s+{_EXP_TEXT}"),
    re.compile(rf"\b(?P<acr>{_ACR})\s*:\s*{_EXP_TEXT}"),
)
_BACKWARD_RE = re.compile(rf"\((?P<acr>{_ACR})\)")


def is_acronym(word: str, kb: KbIndex | None = None) -> bool:
    """Two or more capitals (``GIDAF``, ``SIRH``) or a name the knowledge base knows."""
    return sum(c.isupper() for c in word) >= 2 or (kb is not None and kb.knows(word))


def _acronym_letters(acronym: str) -> list[str]:
    """Letters an expansion must spell: the capitals ("GIDAF-Pro" -> GIDAFP), or every
    letter when there are fewer than two ("6Tzen" -> TZEN); accents removed."""
    capitals = [c for c in acronym if c.isupper()]
    letters = capitals if len(capitals) >= 2 else [c for c in acronym if c.isalpha()]
    return [strip_accents(c).upper() for c in letters]


def _align(letters: Sequence[str], words: Sequence[str], prefer_initials: bool) -> tuple[int, int] | None:
    """Spell ``letters`` left to right in ``words`` (first letter = first word's initial).

    Returns (words used, letters matched at a word's start). Each letter goes
    to the next capitalized word starting with it when ``prefer_initials``, else to its next
    occurrence anywhere: real acronyms mix initials and syllables (SIGADE = Système
    d'Information de GEstion des Autorisations de DEfrichement).
    """
    flat = [strip_accents(w).upper() for w in words]
    wi, ci, initials = 0, 1, 1
    for letter in letters[1:]:
        pos = None
        if prefer_initials:
            j = next((j for j in range(wi + 1, len(words)) if flat[j][:1] == letter and words[j][:1].isupper()), None)
            pos = (j, 1) if j is not None else None
        for j in range(wi, len(words)) if pos is None else ():
            k = flat[j].find(letter, ci if j == wi else 0)
            if k >= 0:
                pos = (j, k + 1)
                break
        if pos is None:
            return None
        initials += pos[1] == 1 and pos[0] != wi
        wi, ci = pos
    return wi + 1, initials


def _spell(acronym: str, words: Sequence[str]) -> tuple[int, int] | None:
    """(words used, initials matched) when the leading ``words`` expand the acronym.

    At least two words, and at least half the letters (two or more) must be word initials,
    so "GIDAF (application Java)" is a description, not an expansion.
    """
    letters = _acronym_letters(acronym)
    if len(letters) < 2 or len(words) < 2 or strip_accents(words[0][:1]).upper() != letters[0]:
        return None
    for prefer_initials in (True, False):
        got = _align(letters, words, prefer_initials)
        if got and got[0] >= 2 and got[1] >= max(2, (len(letters) + 1) // 2):
            return got
    return None


def _extend_capitalized(words: Sequence[str], n: int) -> int:
    """Extend an expansion of ``n`` words over following capitalized words ("... de Défrichement"),
    across articles/prepositions ("... pour les Professionnels"), stopping at anything else."""
    k = n
    while k < len(words):
        j = k
        while j < len(words) and words[j].lower() in _STOP:
            j += 1
        if j < len(words) and words[j][:1].isupper():
            k = n = j + 1
        else:
            break
    return n


_WORD_OFFSETS_RE = re.compile(r"[^\s'’]+")


def _split_words(text: str) -> list[str]:
    return _WORD_OFFSETS_RE.findall(text)


def find_expansions(answer: str, kb: KbIndex | None = None) -> list[tuple[str, str, tuple[int, int]]]:
    """``(acronym, expansion, span)`` for each acronym the answer expands.

    Forms: "GIDAF (Gestion ...)", "GIDAF, pour Gestion ...", "GIDAF signifie ...",
    "GIDAF : Gestion ..." and "Gestion ... (GIDAF)". The expansion must spell the acronym
    (see :func:`_spell`).
    """
    found = []
    for index, regex in enumerate(_EXPANSION_RES):
        for m in regex.finditer(answer):
            acr = m.group("acr")
            words = list(_WORD_OFFSETS_RE.finditer(answer, m.start("exp"), m.end("exp")))
            texts = [w.group() for w in words]
            spelled = _spell(acr, texts) if is_acronym(acr, kb) else None
            if spelled:
                # A parenthesis bounds the expansion; elsewhere it runs on through capitalized words.
                n = len(words) if index == 0 else _extend_capitalized(texts, spelled[0])
                found.append((acr, answer[words[0].start() : words[n - 1].end()], (m.start("acr"), m.end())))
    for m in _BACKWARD_RE.finditer(answer):
        acr = m.group("acr")
        if not is_acronym(acr, kb):
            continue
        clause = max(answer.rfind(c, 0, m.start()) for c in ".,;:!?()\n«»\"") + 1  # the expansion stays in its clause
        words = list(_WORD_OFFSETS_RE.finditer(answer, max(clause, m.start() - 300), m.start()))[-20:]
        texts = [w.group() for w in words]
        # Of the starts that spell the acronym up to the parenthesis: most initials, then closest.
        starts = [(got[1], i) for i in range(len(words) - 1) if (got := _spell(acr, texts[i:]))]
        if starts:
            i = max(starts)[1]
            found.append((acr, answer[words[i].start() : words[-1].end()], (words[i].start(), m.end())))
    unique = {(a, e): (a, e, s) for a, e, s in sorted(found, key=lambda f: f[2], reverse=True)}
    return sorted(unique.values(), key=lambda f: f[2])


def content_tokens(text: str) -> set[str]:
    return {t for t in word_tokens(normalize_text(text)) if t not in _STOP}


def same_phrase(a: str, b: str, *, threshold: float = 0.8) -> bool:
    """Token Jaccard ≥ ``threshold`` (articles and prepositions ignored), or one contains the other."""
    ta, tb = content_tokens(a), content_tokens(b)
    if not ta or not tb:
        return normalize_text(a) == normalize_text(b)
    return ta <= tb or tb <= ta or len(ta & tb) / len(ta | tb) >= threshold


_VALUE = r"(?P<val>[^.,;:!?()\n«»\"”]{2,80})"
_CLAIM_RES = {
    "hebergeur": (
        re.compile(rf"h[ée]berg[ée]e?s?\s+(?:par|chez|dans|sur|au|aux|à)\s+{_VALUE}", re.I),
        re.compile(rf"h[ée]bergeur\s+(?:est|:)\s*{_VALUE}", re.I),
    ),
    "version": (
        re.compile(r"\bversion\b[^.\n\d]{0,30}?(?:\bv\.?\s*)?(?P<val>\d+(?:[.,]\d+)*)\b(?!\s*(?:utilisateurs|agents|ans)\b)", re.I),
    ),
    "responsable": (
        re.compile(rf"\bresponsable\b[^.\n]{{0,40}}?\b(?:est|:)\s*{_VALUE}", re.I),
        re.compile(rf"sous la responsabilit[ée] de\s+{_VALUE}", re.I),
    ),
}


def _claim_value(kind: str, raw: str) -> str:
    if kind == "version":
        return raw.replace(",", ".")
    words = _split_words(raw)
    while words and words[0].lower() in {"le", "la", "les", "l", "un", "une"}:
        words = words[1:]
    return " ".join(words[:6])


def extract_claims(answer: str, kb_ids: Sequence[str] = (), kb: KbIndex | None = None) -> list[tuple[tuple, str, tuple[int, int]]]:
    """Key statements of an answer: ``((kind, entity), value, span)``.

    Kinds: ``expansion`` (entity: the acronym), ``hebergeur``, ``version``, ``responsable``
    (entity: the case's single KB id, else the first known name/acronym in the answer).
    """
    claims = [(("expansion", acronym_key(a)), e, s) for a, e, s in find_expansions(answer, kb)]
    entity = kb_ids[0] if len(kb_ids) == 1 else next(
        (w for w in re.findall(r"[\w-]+", answer) if is_acronym(w, kb)), None)
    if entity is None:
        return claims
    for kind, regexes in _CLAIM_RES.items():
        for regex in regexes:
            for m in regex.finditer(answer):
                value = _claim_value(kind, m.group("val"))
                if value:
                    claims.append(((kind, acronym_key(entity)), value, (m.start(), m.end("val"))))
    return claims


# --- built-in rules --------------------------------------------------------------------------

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


@rule("no_repetition", severity="error", ngram=4, min_repeats=3, min_tokens=40, min_unique_ratio=0.3)
def no_repetition(answer, case, context, *, ngram, min_repeats, min_tokens, min_unique_ratio):
    """Degenerate loops: one word n-gram repeated ``min_repeats`` times, or few distinct words."""
    spans = word_spans(answer)
    tokens = [t for t, _, _ in spans]
    grams = [tuple(tokens[i : i + ngram]) for i in range(len(tokens) - ngram + 1)]
    if grams:
        gram, count = Counter(grams).most_common(1)[0]
        if count >= min_repeats:
            starts = [i for i, g in enumerate(grams) if g == gram]
            span = (spans[starts[1]][1], spans[starts[-1] + ngram - 1][2])
            return fail(f"{' '.join(gram)!r} repeated {count} times", span)
    if len(tokens) >= min_tokens:
        ratio = len(set(tokens)) / len(tokens)
        if ratio < min_unique_ratio:
            return fail(f"only {ratio:.0%} distinct words in {len(tokens)}", (spans[0][1], spans[-1][2]))
    return ok()


_CLEAN_END_RE = re.compile(r"[.!?…:)»\"”\]*`'’]\s*$")
_SENTENCE_END_RE = re.compile(r"[.!?…](?=\s)\s*|\n")
_LIST_ITEM_RE = re.compile(r"(?:^|\n)[ \t]*(?:[-*•]|\d+[.)])[ \t]+[^\n]*$")


def _count(value) -> int | None:
    """A positive token count from prediction meta, which may hold anything."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


@rule("not_truncated", severity="warning", max_new_tokens=None, min_words=8)
def not_truncated(answer, case, context, *, max_new_tokens, min_words):
    """Stopped mid-sentence at the token limit (meta ``finish_reason``/``tokens``, else punctuation)."""
    text = answer.rstrip()
    if not text or _CLEAN_END_RE.search(text):
        return ok()
    meta = context.meta
    limit, tokens = _count(meta.get("max_new_tokens", max_new_tokens)), _count(meta.get("tokens"))
    reason = meta.get("finish_reason")
    known = reason is not None or (limit is not None and tokens is not None)
    if known:
        if not (reason == "length" or (limit is not None and tokens is not None and tokens >= limit)):
            return ok("no final punctuation, but the generation stopped by itself")
    elif len(word_tokens(text)) < min_words or _LIST_ITEM_RE.search(text):
        return ok()
    boundaries = [m.end() for m in _SENTENCE_END_RE.finditer(text)]
    cut = boundaries[-1] if boundaries else 0
    return fail("ends mid-sentence" + (" at the token limit" if known else ""), (cut, len(text)))


_STOPWORDS = {
    "fr": frozenset("le la les des du de un une est et en dans pour par sur avec qui que il elle sont au aux ce "
                    "cette ses son sa leur pas ne plus nous vous je mais ou été être l d c qu n s y à".split()),
    "en": frozenset("the is are and of to in for with that this it by which was be an as from at its has have "
                    "not or can will their they we you i what who does do there these".split()),
}


@rule("language", severity="error", expected=None, min_words=6, min_share=0.5)
def language(answer, case, context, *, expected, min_words, min_share):
    """The answer is in the case's language (``lang``, French by default): stopword profiles."""
    lang = (expected or case.lang or "fr").split("-")[0].lower()
    words = word_tokens(answer)
    if lang not in _STOPWORDS or len(words) < min_words:
        return ok(f"not checked ({'no profile for ' + lang if lang not in _STOPWORDS else 'too short'})")
    counts = {code: sum(w in stop for w in words) for code, stop in _STOPWORDS.items()}
    total = sum(counts.values())
    if total < 2 or counts[lang] / total >= min_share:
        return ok()
    other = max((c for c in counts if c != lang), key=counts.get)
    return fail(f"looks like {other} ({counts[other]} {other} vs {counts[lang]} {lang} stopwords), expected {lang}")


@rule("length", severity="warning", min_chars=10, max_chars=2000)
def length(answer, case, context, *, min_chars, max_chars):
    """Between ``min_chars`` and ``max_chars`` characters (surrounding whitespace ignored)."""
    n = len(answer.strip())
    if n < min_chars:
        return fail(f"{n} characters, fewer than {min_chars}")
    if max_chars is not None and n > max_chars:
        start = len(answer) - len(answer.lstrip())
        return fail(f"{n} characters, more than {max_chars}", (start + max_chars, len(answer.rstrip())))
    return ok()


@rule("required_facts", severity="warning")
def required_facts(answer, case, context):
    """Every golden fact appears in the answer (passes when the case has no facts)."""
    if not case.facts:
        return ok("no facts to check")
    missing = missing_facts(answer, case.facts)
    if missing:
        return fail(f"missing {len(missing)}/{len(case.facts)} facts: " + "; ".join(missing))
    return ok()


@rule("no_invented_expansion", severity="error", threshold=0.8)
def no_invented_expansion(answer, case, context, *, threshold):
    """An acronym expanded unlike the catalog's ``metadata.sigle``, or with no sigle there."""
    if context.kb is None:
        return ok("not checked: no knowledge base")
    for acronym, expansion, span in find_expansions(answer, context.kb):
        entry = context.kb.lookup(acronym)
        if entry is None:
            return fail(f"{acronym} expanded as {expansion!r} but it is not in the catalog", span)
        if entry.sigle is None:
            return fail(f"{acronym} expanded as {expansion!r} but the catalog gives no expansion", span)
        if not same_phrase(expansion, entry.sigle, threshold=threshold):
            return fail(f"{acronym} expanded as {expansion!r}; the catalog says {entry.sigle!r}", span)
    return ok()


@rule("consistent_across_answers", severity="error")
def consistent_across_answers(answer, case, context):
    """The same entity's expansion, host, version or owner agrees with the system's earlier answers."""
    answers = context.answers
    if answers is None:
        return ok("not checked: no other answers")
    position = context.position if context.position is not None else answers.position_of(case.id, answer)
    here = position if position is not None else len(answers.items)
    known = position is not None and answers.items[position][1] == answer
    claims = answers.claims[position] if known else extract_claims(answer, case.kb_ids, context.kb)
    for key, value, span in claims:
        (first_pos, first_start), first_value, first_id = answers.first_claims.get(key, ((here, span[0]), value, case.id))
        if (first_pos, first_start) >= (here, span[0]):
            continue
        same = value == first_value if key[0] == "version" else same_phrase(value, first_value)
        if not same:
            where = "earlier in this answer" if first_pos == here else f"in answer {first_id}"
            return fail(f"{key[0]} of {key[1]}: {value!r} here but {first_value!r} {where}", span)
    return ok()


@rule("not_empty", severity="error")
def not_empty(answer, case, context):
    """The answer has at least one word besides chat-template tokens."""
    return ok() if word_tokens(_CHAT_TOKEN_RE.sub(" ", answer)) else fail("empty answer")


_UNKNOWN_PHRASES = tuple(normalize_text(p) for p in (
    "je ne sais pas", "je ne connais pas", "aucune information", "pas d'information", "aucune donnée",
    "n'existe pas", "pas dans le catalogue", "ne figure pas", "n'apparaît pas", "ne fait pas partie",
    "inconnu", "introuvable", "je ne dispose pas", "je ne trouve pas", "pas de trace", "ne connais pas",
    "i don't know", "i do not know", "no information", "not in the catalog"))


@rule("admits_unknown", severity="error", applies=lambda case: case.expect == "unknown")
def admits_unknown(answer, case, context):
    """For a question about something absent from the catalog, the answer says it does not know."""
    norm = normalize_text(answer)
    if any(p in norm for p in _UNKNOWN_PHRASES):
        return ok()
    return fail("answers a question about something absent from the catalog instead of saying so")


# --- faithful_to_kb: what the answer states against the catalog record --------------------------
#
# The answer is read on a folded copy of the same length (accents off, typographic apostrophes and
# no-break spaces made ASCII, HTML tags blanked), so every offset found there is an offset into the
# answer. Application names the catalog knows are masked ("§") once found, so that "6Tzen" never
# reads as a version and a name never ends up inside a value.

_FOLD = {cp: base for cp in range(0xC0, 0x250) if len(base := strip_accents(chr(cp))) == 1 and base != chr(cp)}
_FOLD.update({ord(c): "'" for c in "’‘ʼ`"})
_FOLD.update({ord(c): " " for c in "\u00a0\u202f\u2009\u2007"})
_TAG_RE = re.compile(r"</?[A-Za-z][^<>\n]{0,30}>")
_SENTENCE_END_OR_LINE_RE = re.compile(r"(?<!\bM)[.!?;](?=\s|$)|\n")
_LIST_ITEM_START_RE = re.compile(r"\s*(?:[-*•]|\d+[.)])\s+")
_MASK = "§"
_TOKEN_RE = re.compile(r"[a-z0-9]+")

#: Words of a host that say nothing about which host it is ("le datacenter de la DSI").
_HOST_GENERIC = frozenset(
    "datacenter datacenters data center centre centres serveur serveurs salle salles dsi informatique informatiques "
    "cloud hebergement hebergeur infrastructure infrastructures site sites interne internes ministere ministeres "
    "ministeriel ministerielle etat administration plateforme son sa ses leur leurs notre nos ce cet cette "
    "propre propres prive privee public publique securise securisee souverain souveraine".split())
#: Places and providers a host may be named by, besides those of the catalog's own hosts.
_HOST_PLACES = frozenset(
    "paris lyon lille marseille toulouse bordeaux nantes rennes strasbourg orleans montpellier grenoble dijon "
    "brest rouen metz nancy limoges clermont amiens caen poitiers besancon reims angers roubaix gravelines "
    "bron francfort frankfurt dublin londres amsterdam bruxelles ovh ovhcloud scaleway outscale aws amazon azure "
    "microsoft google gcp atos numspot cloudwatt ionos alibaba".split())
_HOST_VALUE = r"(?P<val>[^.,;:!?()\n«»\"\[\]]{2,80})"
_HOST_CUT_RE = re.compile(
    r"\s(?:et|qui|que|depuis|avec|pour|mais|ou|dont|car|afin|ainsi|alors|lorsque|puis|est|sont|ont|comme"
    r"|contrairement|tandis|utilis\w*|compte|repose|releve|pilot\w*|ger\w*|sous|version|selon)(?=\s|$)|§", re.I)
# (regex, strong): a strong trigger states the host; a weak one ("déployée à") counts only when the
# value names another catalog host or a known place or provider.
_HOST_RES = (
    (re.compile(rf"\bheberg(?:e|ee|es|ees)\s+(?:par|chez|dans|sur|au|aux|a|en)\s+{_HOST_VALUE}", re.I), True),
    (re.compile(rf"\bhebergeur\b[^.;\n]{{0,40}}?(?:\best\b|:)\s*{_HOST_VALUE}", re.I), True),
    (re.compile(rf"\b(?:tourne|deploye\w*|installe\w*|localise\w*|situe\w*|exploite\w*)\s+(?:sur|dans|chez|au|aux|a|en)\s+"
                rf"{_HOST_VALUE}", re.I), False),
)

_VERSION_RES = (
    re.compile(r"\bversion\b(?P<gap>[^.\n\d]{0,45}?)(?:\bv\.?\s*)?(?P<val>\d{1,3}(?: \d{3})+(?!\d)|\d+(?:[.,]\d+)*)", re.I),
    re.compile(r"(?<![\w.])[vV](?P<val>\d+(?:\.\d+)+)\b"),
)
_VERSION_NOT_RE = re.compile(r"\s*(?:utilisat|usager|agent|an\b|ans\b|%|€|euro|jour|mois|personne|/\d|h\b)", re.I)
_VERSION_OTHER_RE = re.compile(
    r"\b(?:prevue?s?|prochaine?s?|future?s?|precedente?s?|ancienne?s?|anterieure?s?|migration|passera|remplacee?"
    r"|jusqu'a|(?:a\s+partir\s+de|depuis|avant|apres)\s+la\s+version|pas|aucune)\b", re.I)

_CIVILITY = r"(?:M|Mme|Mlle|Mr|Dr|Pr|Monsieur|Madame|Mademoiselle)\.?"
_CIVILITY_RE = re.compile(rf"^{_CIVILITY}\s+")
_PERSON = rf"(?P<val>(?:{_CIVILITY}\s+)?[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*){{0,3}})"
_OWNER_RES = (
    re.compile(rf"(?i:\bresponsable\b)[^.;\n]{{0,40}}?(?i:\best\b|:)\s*{_PERSON}"),
    re.compile(rf"(?i:\b(?:pilot|ger|supervis|administr|maintenu|porte)\w*\s+par)\s+{_PERSON}"),
    re.compile(rf"(?i:sous\s+la\s+responsabilite\s+d(?:e\s+|'))\s*{_PERSON}"),
    re.compile(rf"(?i:\b(?:chef(?:fe)?\s+de\s+projet|referent\w*|proprietaire|product\s+owner)\b)[^.;\n]{{0,40}}?"
               rf"(?i:\best\b|:)\s*{_PERSON}"),
    re.compile(rf"(?i:\b(?:contacter|contactez|s'adresser\s+a|adressez-vous\s+a)\s+){_PERSON}"),
)

_QUALIFIER = (r"(?:(?P<qual>environ|env\.|pres\s+de|pres\s+d'|plus\s+de|moins\s+de|quelque|autour\s+de|approximativement"
              r"|a\s+peu\s+pres|pas\s+moins\s+de|au\s+moins|au\s+plus|jusqu'a|~|>|<)\s*)?")
_NUMBER = r"(?P<val>\d{1,3}(?:[ .]\d{3})+(?![\d,]\d)|\d+(?:[.,]\d+)?(?:\s*(?:k|mille|millions?)\b)?)"
_USER_NOUN = r"(?:utilisat(?:eur|rice)s?|usagers?)\b"
_USERS_RES = (
    re.compile(rf"{_QUALIFIER}{_NUMBER}[ \t]+(?:d'|de[ \t]+)?{_USER_NOUN}", re.I),
    re.compile(rf"\b(?:compte|recense|denombre|revendique|reunit|rassemble|utilisee?s?\s+par|sert)\s+{_QUALIFIER}{_NUMBER}"
               rf"\s+(?:agents|personnes|comptes|inscrits)\b", re.I),
    re.compile(rf"\bnombre\s+(?:d'|de\s+){_USER_NOUN}[^.;\n\d]{{0,40}}?(?:\best\b|:|s'eleve\s+a|atteint)\s*"
               rf"(?:de\s+|d'|a\s+)?{_QUALIFIER}{_NUMBER}", re.I),
    re.compile(rf"\b{_USER_NOUN}\s*:\s*{_QUALIFIER}{_NUMBER}", re.I),
)
_USERS_PART_RE = re.compile(
    r"\b(?:dont|parmi|sur|par|chaque|soit|hausse\s+de|baisse\s+de|augmentation\s+de|nouveaux)\s+(?:les\s+)?$", re.I)

_CRITICALITY_WORD = (r"(?P<val>critique|tres\s+elevee?|elevee?|haute|forte|majeure|maximale|moyenne|moyen|moderee?"
                     r"|faible|basse|minimale|mineure)")
_CRITICALITY_LEVEL_RE = re.compile(rf"\bcriticite\b(?P<gap>[^.;\n]{{0,40}}?)[\s«\"'(]{_CRITICALITY_WORD}\b", re.I)
_CRITICAL_YES_RE = re.compile(
    r"(?<![\w'])(?:c'est|est|reste|demeure|consideree?\s+comme|classee?)\s+(?:une\s+application\s+|un\s+(?:systeme|service"
    r"|outil|portail|referentiel)\s+)?(?:tres\s+|hautement\s+)?(?P<val>critique)\b", re.I)
_CRITICAL_NO_RE = re.compile(
    r"\b(?P<val>(?:n'est\s+plus|pas|non|peu)\s+(?:une\s+application\s+|un\s+\w+\s+)?(?:tres\s+)?critique|non-critique)\b", re.I)
_NEGATION_RE = re.compile(r"\b(?:pas|non|plus|ni|aucune?)\b", re.I)
#: What each word of the answer allows the catalog's level to be (the catalog's scale:
#: critique > élevée > moyenne > faible).
_CRITICALITY_LEVELS = {
    "critique": {"critique"}, "maximale": {"critique"}, "tres elevee": {"critique", "elevee"},
    "tres eleve": {"critique", "elevee"}, "haute": {"critique", "elevee"}, "forte": {"critique", "elevee"},
    "majeure": {"critique", "elevee"}, "elevee": {"elevee"}, "eleve": {"elevee"}, "moyenne": {"moyenne"},
    "moyen": {"moyenne"}, "moderee": {"moyenne"}, "modere": {"moyenne"}, "faible": {"faible"}, "basse": {"faible"},
    "minimale": {"faible"}, "mineure": {"faible"},
}

_TECH_CONTEXT_RE = re.compile(
    r"\b(?:utilis(?:e|ent|ant)\b(?!\s+par)|technologies?\b|technos?\b|repos\w*\s+sur|s'appui\w*\s+sur|s'appuyant\s+sur"
    r"|developp\w*\s+(?:en|avec|sous|sur)|ecrit\w*\s+en|construit\w*\s+(?:avec|en|sur)|basee?s?\s+sur"
    r"|pile\s+(?:technique|logicielle)|stack|socle\s+technique|frameworks?\b|langages?\b|bases?\s+de\s+donnees"
    r"|tourne\s+sous|programm\w*\s+en|cod\w*\s+en)", re.I)
#: Technologies an answer may name besides the catalog's own, so that an invented stack is caught.
_OTHER_TECHNOLOGIES = (
    "JavaScript", "TypeScript", "Node.js", "NodeJS", ".NET", "ASP.NET", "C#", "C++", "Ruby", "Rust", "Kotlin", "Scala",
    "Perl", "Hibernate", "Struts", "JBoss", "WildFly", "Tomcat", "Nginx", "Apache", "MongoDB", "Cassandra",
    "SQL Server", "SQLite", "Neo4j", "RabbitMQ", "Docker", "Kubernetes", "OpenShift", "Ansible", "Terraform",
    "Jenkins", "jQuery", "Bootstrap", "WordPress", "Joomla", "SharePoint", "Liferay", "Talend", "Hadoop", "Spark",
    "Solr", "Memcached", "Next.js", "Nuxt", "Svelte", "GraphQL", "Visual Basic", "Delphi", "WinDev",
    "Informix", "Sybase", "Teradata", "Power BI", "Kibana", "Logstash", "Nagios", "Centreon",
    "OpenSearch", "Spring", "Spring MVC", "Laminas", "Zend", "CodeIgniter", "Vue", "AngularJS", "Postgres", "JEE",
    "J2EE", "Java EE", "Jakarta EE", "Golang", "Elixir", "Erlang", "Haskell", "Objective-C", "Flutter", "Xamarin",
    "Matlab", "SPSS",
)
_TECH_ALIASES = {"postgres": "postgresql", "vuejs": "vue js", "vue": "vue js", "angularjs": "angular",
                 "angular js": "angular", "jee": "java", "j2ee": "java", "java ee": "java", "jakarta ee": "java",
                 "nodejs": "node js", "springboot": "spring boot", "golang": "go"}
_NOT_A_SUBJECT = frozenset(
    "elle il elles ils cette cet ce son sa ses le la les un une on nous vous je celle celui ceci cela ca leur "
    "application outil portail plateforme logiciel systeme service actuellement aujourd'hui oui non depuis selon "
    "en pour dans sur avec par au aux du des de et mais donc ainsi enfin toutefois cependant egalement voici "
    "reponse hebergeur responsable version technologies criticite utilisateurs domaine documentation nom sigle".split())
_UNKNOWN_SUBJECT_RE = re.compile(  # used with .match(text, sentence_start): anchored there
    r"[\s>*#•-]*(?:(?:L'application|L'outil|Le portail|La plateforme|Le logiciel|Le service)\s+)?"
    r"(?P<name>[A-Z][\w'+-]*)\s+(?:est|a|compte|utilise|repose|s'appuie|tourne|dispose|releve)\b")
_UPPER_WORD_RE = re.compile(r"(?<![\w'-])[A-Z][A-Z0-9]{2,}(?:[-+][A-Za-z0-9]+)?(?![\w-])")
_COMMON_UPPER = frozenset(
    "DSI DGPR DREAL DDT DDTM DGFIP API APIS SSO SIG PDF URL HTTP HTTPS SQL ETL ERP CRM GUI ICPE AIS DNS VPN LDAP "
    "CNIL RGPD RGAA ANSSI PME TPE PLU SNCF MTES MTE OVH AWS GCP DPO FAQ CSV XML JSON REST SOAP TVA SIRET SIREN "
    "INSEE IGN BRGM ADEME ONF OFB CEREMA DGALN DGITM DGEC DGAMPA DIRM DINUM SGAR RH DRH DAF SAAS PAAS IAAS VM "
    "NB NOTE ATTENTION IMPORTANT OK".split())


def _fold_text(text: str) -> str:
    """``text`` with accents off, ASCII apostrophes and spaces, and HTML tags blanked: same length."""
    folded = text.translate(_FOLD)
    return _TAG_RE.sub(lambda m: " " * len(m.group()), folded) if "<" in folded else folded


def _folded_tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(_fold_text(text).lower())


def _tech_key(name: str) -> str:
    key = " ".join(re.findall(r"[a-z0-9+#]+", _fold_text(name).lower()))
    return _TECH_ALIASES.get(key, _TECH_ALIASES.get(key.replace(" ", ""), key))


def _alternation(names: Iterable[str], before: str, after: str) -> re.Pattern:
    """Any of ``names`` (accents folded) as catalogued, in capitals or capitalised, never in lower case:
    "BALISE", "Balise", never "une balise"; "Agora", "AGORA"."""
    forms = set()
    for name in names:
        name = _fold_text(name.strip())
        if name:
            forms.update({name, name.upper(), name[:1].upper() + name[1:].lower()})
    body = "|".join(re.escape(f) for f in sorted(forms, key=lambda f: (-len(f), f))) or "(?!)"
    return re.compile(f"{before}(?:{body}){after}")


def _version_parts(version: str) -> tuple[str, ...]:
    parts = [p for p in re.split(r"[.,]", version.strip().replace(" ", "")) if p]
    while len(parts) > 1 and parts[-1].strip("0") == "":
        parts.pop()
    return tuple(p.lstrip("0") or "0" for p in parts)


def _parse_count(raw: str) -> float | None:
    raw = raw.strip().lower()
    scale = 1
    for word, factor in (("millions", 1_000_000), ("million", 1_000_000), ("mille", 1_000), ("k", 1_000)):
        if raw.endswith(word):
            raw, scale = raw[: -len(word)].strip(), factor
            break
    if re.fullmatch(r"\d{1,3}(?:[ .]\d{3})+", raw):
        raw = raw.replace(" ", "").replace(".", "")
    try:
        return float(raw.replace(",", ".")) * scale
    except ValueError:
        return None


@dataclass(frozen=True)
class _AppFacts:
    """One application's checkable fields, prepared for comparison."""

    entry: KbEntry
    hebergeur: tuple[str, frozenset] | None = None  # (as catalogued, content tokens)
    version: tuple[str, tuple] | None = None
    responsable: tuple[str, tuple] | None = None  # (as catalogued, name tokens without civility)
    utilisateurs: int | None = None
    criticite: str | None = None  # folded, lower case
    technologies: tuple[tuple[str, str, frozenset], ...] = ()  # (as catalogued, key, key tokens)


@dataclass(frozen=True)
class _KbFacts:
    """Lookup tables of one knowledge base for :func:`faithful_to_kb` (built once per :class:`KbIndex`)."""

    apps: dict  # entry id -> _AppFacts
    name_re: re.Pattern
    app_of: dict  # acronym_key of a folded name -> entry id
    known_upper: frozenset
    host_words: frozenset
    tech_re: re.Pattern
    catalog_tech_keys: frozenset

    @classmethod
    def build(cls, kb: KbIndex) -> "_KbFacts":
        apps, app_of, names, upper, host_words, techs = {}, {}, set(), set(_COMMON_UPPER), set(_HOST_PLACES), set()
        for rec in kb.records:
            for value in [rec.get("text"), *(rec.get("metadata") or {}).values()]:
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, str):
                        upper.update(w.upper() for w in _UPPER_WORD_RE.findall(_fold_text(item)))
        upper.update(w.upper() for t in _OTHER_TECHNOLOGIES for w in _UPPER_WORD_RE.findall(t))
        for rec, entry in zip(kb.records, kb.entries()):
            meta = entry.metadata
            for name in (entry.name, rec.get("title"), meta.get("nom")):
                if isinstance(name, str) and name.strip():
                    names.add(name.strip())
                    app_of.setdefault(acronym_key(_fold_text(name.strip())), entry.id)
            fields: dict[str, Any] = {}
            host = meta.get("hebergeur")
            if isinstance(host, str) and host.strip():
                tokens = frozenset(_folded_tokens(host)) - _STOP
                fields["hebergeur"] = (host.strip(), tokens)
                host_words.update(tokens - _HOST_GENERIC)
            version = meta.get("version")
            if isinstance(version, (str, int, float)) and not isinstance(version, bool) and str(version).strip():
                fields["version"] = (str(version).strip(), _version_parts(str(version)))
            owner = meta.get("responsable")
            if isinstance(owner, str) and owner.strip():
                fields["responsable"] = (owner.strip(), tuple(_folded_tokens(_CIVILITY_RE.sub("", _fold_text(owner.strip())))))
            users = meta.get("utilisateurs")
            if isinstance(users, int) and not isinstance(users, bool):
                fields["utilisateurs"] = users
            level = meta.get("criticite")
            if isinstance(level, str) and level.strip():
                fields["criticite"] = " ".join(_folded_tokens(level))
            stack = meta.get("technologies")
            if isinstance(stack, list):
                listed = []
                for tech in stack:
                    if isinstance(tech, str) and tech.strip():
                        key = _tech_key(tech)
                        listed.append((tech.strip(), key, frozenset(key.split())))
                        techs.add(tech.strip())
                fields["technologies"] = tuple(listed)
            apps[entry.id] = _AppFacts(entry, **fields)
        app_names_upper = {acronym_key(_fold_text(n)) for n in names}
        return cls(
            apps=apps,
            name_re=_alternation(names, r"(?<![\w-])", r"(?![\w+]|[-']\w)"),
            app_of=app_of,
            known_upper=frozenset(u for u in upper if u not in app_names_upper),
            host_words=frozenset(host_words),
            tech_re=_alternation(list(techs) + list(_OTHER_TECHNOLOGIES), r"(?<![\w.#+-])", r"(?![\w#+]|[.-]\w)"),
            catalog_tech_keys=frozenset(_tech_key(t) for t in techs),
        )


@dataclass(frozen=True)
class _Contradiction:
    field: str
    app: str
    said: str
    catalog: str
    span: tuple[int, int]


class _Reading:
    """One answer as :func:`faithful_to_kb` reads it: folded text, sentences, who each sentence is about."""

    def __init__(self, answer: str, facts: _KbFacts, default: Sequence[str]):
        self.answer = answer
        self.fold = _fold_text(answer)
        self.names: list[tuple[int, int, str | None]] = []  # (start, end, app id or None for an unknown name)
        chars = list(self.fold)
        for m in facts.name_re.finditer(self.fold):
            app = facts.app_of.get(acronym_key(m.group()))
            if app is not None:
                self.names.append((m.start(), m.end(), app))
                chars[m.start():m.end()] = _MASK * (m.end() - m.start())
        self.work = "".join(chars) if self.names else self.fold
        for m in _UPPER_WORD_RE.finditer(self.work):
            if m.group().upper() not in facts.known_upper:
                self.names.append((m.start(), m.end(), None))
        self.sentences: list[tuple[int, int]] = []
        start = 0
        for m in _SENTENCE_END_OR_LINE_RE.finditer(self.work):
            if m.end() > start:
                self.sentences.append((start, m.end()))
            start = m.end()
        if start < len(self.work):
            self.sentences.append((start, len(self.work)))
        for s, e in self.sentences:
            m = _UNKNOWN_SUBJECT_RE.match(self.work, s, e)
            if m and m.group("name").lower() not in _NOT_A_SUBJECT and _MASK not in m.group("name"):
                self.names.append((m.start("name"), m.end("name"), None))
        self.names.sort(key=lambda n: n[:2])
        # Who a sentence without a name is about ("Elle compte ..."): the case's applications until a
        # sentence names some; then the case's among those named, else the first named (None: unknown).
        self.carried: list[tuple[str | None, ...]] = []
        subject: tuple[str | None, ...] = tuple(default)
        for s, e in self.sentences:
            self.carried.append(subject)
            inside = [app for a, _, app in self.names if s <= a < e]
            if inside:
                known = [app for app in inside if app is not None]
                about_case = tuple(dict.fromkeys(app for app in known if app in default))
                subject = about_case or ((known[0],) if known and inside[0] is not None else (None,))

    def sentence_of(self, pos: int) -> int:
        """Index of the sentence holding ``pos`` (the last one past the end; -1 when there is none)."""
        for i, (s, e) in enumerate(self.sentences):
            if s <= pos < e:
                return i
        return len(self.sentences) - 1

    def subjects(self, trigger: int, value: int) -> tuple[str, ...]:
        """The applications a statement (trigger word at ``trigger``, value at ``value``) may be about.

        A name between the trigger and the value ("L'hébergeur de GIDAF est ..."), else the names
        before the trigger in the sentence ("GIDAF est hébergée par ..."), else the sentence's carried
        subject. Empty (not checked) when an unknown name is the nearest candidate.
        """
        i = self.sentence_of(trigger)
        if i < 0:
            return ()
        s = self.sentences[i][0]
        between = [app for a, _, app in self.names if trigger <= a < value]
        before = [app for a, _, app in self.names if s <= a < trigger]
        group = between or before
        if group:
            if (between and all(app is None for app in between)) or (not between and group[-1] is None):
                return ()
            return tuple(dict.fromkeys(app for app in group if app is not None))
        return tuple(app for app in self.carried[i] if app is not None) if None not in self.carried[i] else ()

    def sentence_text(self, pos: int) -> str:
        s, e = self.sentences[self.sentence_of(pos)]
        return self.fold[s:e]


def _host_contradicts(value: str, app: _AppFacts, facts: _KbFacts, strong: bool, sentence: str) -> bool:
    tokens = frozenset(_folded_tokens(value)) - _STOP
    catalog = app.hebergeur[1]
    distinct = tokens - _HOST_GENERIC
    extra = distinct - catalog
    if not distinct or not extra:
        return False  # vague ("le datacenter de la DSI") or within the catalog's host ("à Orléans")
    if extra & facts.host_words:
        return True  # names another host, place or provider ("OVHcloud Roubaix")
    if not strong or tokens & catalog:
        return False
    return not (catalog - _HOST_GENERIC) <= set(_folded_tokens(sentence))


def _owner_contradicts(value: str, app: _AppFacts) -> bool:
    said = _folded_tokens(_CIVILITY_RE.sub("", value))
    catalog = app.responsable[1]
    return not all(any(t == c or (len(t) == 1 and c.startswith(t)) for c in catalog) for t in said)


def _users_contradict(value: float, qualifier: str | None, catalog: int) -> bool:
    qualifier = " ".join((qualifier or "").lower().split())
    if qualifier in ("plus de", "pas moins de", "au moins", ">"):
        return catalog < value
    if qualifier in ("moins de", "au plus", "jusqu'a", "<"):
        return catalog > value
    if qualifier:
        return abs(catalog - value) > 0.25 * max(catalog, 1)
    return abs(catalog - value) > 0.01 * catalog


def _tech_matches(key: str, app: _AppFacts) -> bool:
    tokens = frozenset(key.split())
    return any(key == k or tokens <= ts or ts <= tokens for _, k, ts in app.technologies)


def _statements(reading: _Reading, facts: _KbFacts):
    """``(field, subjects, check, said, span)`` for each checkable statement; ``check(app)`` is True
    when the statement contradicts that application's record (and the record has the field)."""
    work, answer = reading.work, reading.answer
    low = work.lower()  # each field's patterns run only when one of its words is there

    def has(words):
        return any(w in low for w in words)

    for regex, strong in _HOST_RES if has(_HOST_WORDS) else ():
        for m in regex.finditer(work):
            raw = m.group("val")
            cut = _HOST_CUT_RE.search(raw)
            end = m.start("val") + (cut.start() if cut else len(raw.rstrip()))
            value = reading.fold[m.start("val"):end].strip()
            if not value:
                continue
            sentence = reading.sentence_text(m.start())
            yield ("hebergeur", reading.subjects(m.start(), m.start("val")),
                   lambda app, v=value, st=strong, se=sentence: app.hebergeur is not None
                   and _host_contradicts(v, app, facts, st, se),
                   answer[m.start("val"):end].strip(), (m.start(), end))
    for regex in _VERSION_RES if "version" in low else _VERSION_RES[1:]:
        for m in regex.finditer(work):
            gap = m.groupdict().get("gap") or ""
            if (_VERSION_NOT_RE.match(work, m.end()) or _NEGATION_RE.search(gap)
                    or _VERSION_OTHER_RE.search(reading.sentence_text(m.start()))):
                continue
            parts = _version_parts(m.group("val"))
            yield ("version", reading.subjects(m.start(), m.start("val")),
                   lambda app, p=parts: app.version is not None and app.version[1][:len(p)] != p,
                   m.group("val"), (m.start(), m.end("val")))
    for regex in _OWNER_RES if has(_OWNER_WORDS) else ():
        for m in regex.finditer(work):
            value = m.group("val")
            if not _CIVILITY_RE.match(value) and len(value.split()) < 2:
                continue  # "la DGPR", "Claire": not a person's full name
            yield ("responsable", reading.subjects(m.start(), m.start("val")),
                   lambda app, v=value: app.responsable is not None and _owner_contradicts(v, app),
                   answer[m.start("val"):m.end("val")], (m.start(), m.end("val")))
    seen_users = set()
    for regex in _USERS_RES if has(_USERS_WORDS) and _DIGIT_RE.search(work) else ():
        for m in regex.finditer(work):
            if m.span("val") in seen_users or _USERS_PART_RE.search(work, max(0, m.start() - 20), m.start()):
                continue
            seen_users.add(m.span("val"))
            count = _parse_count(m.group("val"))
            if count is None:
                continue
            yield ("utilisateurs", reading.subjects(m.start(), m.start("val")),
                   lambda app, c=count, q=m.group("qual"): app.utilisateurs is not None
                   and _users_contradict(c, q, app.utilisateurs),
                   answer[m.start("qual") if m.group("qual") else m.start("val"):m.end("val")], (m.start(), m.end()))
    critical = "critique" in low or "criticite" in low
    for m in _CRITICALITY_LEVEL_RE.finditer(work) if critical else ():
        if _NEGATION_RE.search(m.group("gap")):
            continue
        allowed = _CRITICALITY_LEVELS.get(" ".join(m.group("val").lower().split()))
        yield ("criticite", reading.subjects(m.start(), m.start("val")),
               lambda app, a=allowed: app.criticite in _KNOWN_LEVELS and app.criticite not in a,
               answer[m.start("val"):m.end("val")], (m.start(), m.end("val")))
    for regex, is_critical in ((_CRITICAL_YES_RE, True), (_CRITICAL_NO_RE, False)) if critical else ():
        for m in regex.finditer(work):
            yield ("criticite", reading.subjects(m.start(), m.start("val")),
                   lambda app, c=is_critical: app.criticite in _KNOWN_LEVELS and (app.criticite == "critique") != c,
                   answer[m.start():m.end()], (m.start(), m.end()))
    yield from _technology_statements(reading, facts)


_KNOWN_LEVELS = frozenset({"critique", "elevee", "moyenne", "faible"})
_HOST_WORDS = ("heberg", "tourne", "deploy", "install", "localis", "situe", "exploite")
_OWNER_WORDS = ("responsab", "par ", "contact", "adress", "chef", "referent", "proprietaire", "owner")
_USERS_WORDS = ("utilisat", "usager", "agents", "personnes", "comptes", "inscrits")
_DIGIT_RE = re.compile(r"\d")
# "GIDAF signifie « ... »", "Le sigle GIDAF veut dire ...": an expansion even when it does not spell
# the acronym (which find_expansions requires of the looser forms).
_MEANS_RE = re.compile(
    r"(?P<name>§+)\s+(?:signifie|veut\s+dire|est\s+l'acronyme\s+de|est\s+le\s+sigle\s+de)\s*:?\s*"
    r"(?:(?P<quote>[«\"])\s*(?P<quoted>[^«»\"\n]{3,140}?)\s*[»\"]|(?P<val>[A-Z][^«»\"\n.;:!?()]{2,140}))")


def _technology_statements(reading: _Reading, facts: _KbFacts):
    work = reading.work
    mentions: dict[int, tuple] = {}  # start -> (end, key, subjects)
    for trigger in _TECH_CONTEXT_RE.finditer(work):
        i = reading.sentence_of(trigger.start())
        regions = [(trigger.end(), reading.sentences[i][1])]
        if work[reading.sentences[i][0]:reading.sentences[i][1]].rstrip().endswith(":"):
            for s, e in reading.sentences[i + 1:]:  # "GIDAF utilise :\n- Java\n- PostgreSQL"
                if not _LIST_ITEM_START_RE.match(work, s):
                    break
                regions.append((s, e))
        for k, (s, e) in enumerate(regions):
            for m in facts.tech_re.finditer(work, s, e):
                if m.start() not in mentions:
                    subjects = reading.subjects(trigger.start(), m.start() if k == 0 else trigger.end())
                    mentions[m.start()] = (m.end(), _tech_key(m.group()), subjects)
    groups: dict[tuple, list] = {}
    for start, (end, key, subjects) in sorted(mentions.items()):
        groups.setdefault(subjects, []).append((start, end, key))
    for subjects, found in groups.items():
        def contradicts(app, found=found):
            if not app.technologies:
                return False
            wrong = [key for _, _, key in found if not _tech_matches(key, app)]
            return bool(wrong) and (len(wrong) == len(found) or any(k in facts.catalog_tech_keys for k in wrong))
        said = ", ".join(dict.fromkeys(reading.answer[s:e] for s, e, _ in found))
        yield "technologies", subjects, contradicts, said, (found[0][0], found[-1][1])


def _catalog_value(field: str, app: _AppFacts) -> str:
    if field == "technologies":
        return ", ".join(t for t, _, _ in app.technologies)
    if field == "utilisateurs":
        return f"{app.utilisateurs:,}".replace(",", " ")
    if field == "criticite":
        return str(app.entry.metadata.get("criticite", "")).strip()
    return getattr(app, field)[0]


def find_contradictions(answer: str, kb: KbIndex, kb_ids: Sequence[str] = (), *,
                        threshold: float = 0.8) -> list[_Contradiction]:
    """What ``answer`` states against the catalog records of the applications it is about, in order."""
    facts: _KbFacts = kb.derived("faithful_to_kb", _KbFacts.build)
    default = tuple(dict.fromkeys(e.id for e in map(kb.lookup, kb_ids) if e is not None and e.id in facts.apps))
    reading = _Reading(answer, facts, default)
    found = []
    for field_name, subjects, contradicts, said, span in _statements(reading, facts):
        apps = [facts.apps[a] for a in subjects if a in facts.apps]
        if apps and all(contradicts(app) for app in apps):
            app = apps[-1]
            said = " ".join(_TAG_RE.sub(" ", said).split())
            found.append(_Contradiction(field_name, app.entry.name, said, _catalog_value(field_name, app), span))
    expansions = [(kb.lookup(acronym), expansion, span) for acronym, expansion, span in find_expansions(answer, kb)]
    read = {span[0] for _, _, span in expansions}
    for m in _MEANS_RE.finditer(reading.work):
        app = next((a for s, _, a in reading.names if s == m.start("name")), None)
        group = "quoted" if m.group("quote") else "val"
        if app is not None and m.start() not in read:
            expansions.append((facts.apps[app].entry, answer[m.start(group):m.end(group)].strip(), m.span()))
    for entry, expansion, span in expansions:
        if entry is not None and entry.sigle is not None and not same_phrase(expansion, entry.sigle, threshold=threshold):
            found.append(_Contradiction("sigle", entry.name, expansion, entry.sigle, span))
    return sorted(found, key=lambda c: c.span)


@rule("faithful_to_kb", severity="error", applies=lambda case: case.expect != "unknown", threshold=0.8)
def faithful_to_kb(answer, case, context, *, threshold):
    """The answer states a field of an application unlike the catalog's record of it.

    Checked, offline and from the knowledge base's fields only: host (``hebergeur``), ``version``,
    owner (``responsable``), user count (``utilisateurs``), criticality (``criticite``: the level,
    or "c'est / ce n'est pas une application critique"), ``technologies`` and acronym expansions
    (``sigle``: the forms of :func:`find_expansions`, plus "GIDAF signifie « ... »" even when it
    does not spell the acronym; ``threshold`` as in :func:`no_invented_expansion`). A statement is
    about the application named between its trigger and its value ("Le responsable de GIDAF est
    ..."), else those named before it in its sentence ("GIDAF est hébergée par ..."), else the one
    the answer is about so far: the case's ``kb_ids`` until a sentence names applications, then
    the case's among those, else the first named ("GIDAF-Pro ... . Elle compte ..."). When several
    are candidates, the statement fails only if it contradicts all of them.

    Contradiction, not omission: a field the answer does not state, or states within the record's
    value, passes ("à Orléans" or "le datacenter de la DSI d'Orléans" for "Datacenter DSI Orléans",
    "Mme Dubois", "environ 12 000" (±25 %) or "plus de 10 000 utilisateurs", "version 4" for 4.2,
    part of the stack). Comparisons ignore accents, case and articles. Fails on the first
    contradiction with the field, the application, the answer's value and the catalog's, and the
    statement's span. The catalog's lookup tables are built once per :class:`KbIndex`.

    Known limits: only these phrasings are read ("OVHcloud Roubaix héberge GIDAF", the domain or
    the documentation address are not checked). A host is wrong when it names another catalog
    host, a place or a provider, or when "hébergée par" / "l'hébergeur est" gives a value sharing
    no word with the record; a vague one ("les serveurs du ministère") passes. An owner is checked
    only when the answer gives a person's name (civility or first and last name), so "la DGPR"
    passes. A technology outside the catalog's vocabulary counts only when none of those named is
    right. A planned or former version ("la 4.3 est prévue") is not checked, nor an expansion the
    catalog has no ``sigle`` for (:func:`no_invented_expansion` flags those). A name the catalog
    does not know (ZORGLUB) stops the check of what is said about it; ``expect == "unknown"``
    cases are not checked at all.
    """
    if context.kb is None:
        return ok("not checked: no knowledge base")
    found = find_contradictions(answer, context.kb, case.kb_ids, threshold=threshold)
    if not found:
        return ok()
    first = found[0]
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    return fail(f"{first.field} of {first.app}: the answer says {first.said!r}; the catalog says {first.catalog!r}{more}",
                first.span)


# --- running -----------------------------------------------------------------------------------


def resolve_rules(names: Iterable[str] | None = None, config: Mapping[str, Mapping] | None = None) -> dict[str, dict]:
    """``{name: {"severity", "args"}}`` of the rules a run uses (recorded in the results).

    ``config`` overrides per rule: ``{"length": {"max_chars": 800, "severity": "error"}}``.
    """
    config = dict(config or {})
    names = list(RULES) if names is None else list(names)
    unknown = [n for n in list(names) + list(config) if n not in RULES]
    if unknown:
        raise DyagError(f"unknown rule(s): {', '.join(sorted(set(unknown)))}; known: {', '.join(RULES)}")
    resolved = {}
    for name in names:
        spec, overrides = RULES[name], dict(config.get(name) or {})
        severity = overrides.pop("severity", spec.severity)
        if severity not in SEVERITIES:
            raise DyagError(f"rule {name}: severity must be one of {', '.join(SEVERITIES)}, got {severity!r}")
        bad = [k for k in overrides if k not in spec.defaults]
        if bad:
            raise DyagError(f"rule {name}: unknown argument(s) {', '.join(bad)}; known: {', '.join(spec.defaults) or 'none'}")
        resolved[name] = {"severity": severity, "args": {**spec.defaults, **overrides}}
    return resolved


def run_rules(answer: str, case: Any, context: Any = None, names: Iterable[str] | None = None,
              config: Mapping[str, Mapping] | None = None, *, resolved: Mapping[str, dict] | None = None) -> list[dict]:
    """Run the rules on one answer: ``[{"name", "passed", "severity", "message", "span"}]``.

    Rules whose ``applies(case)`` is false are left out. ``resolved`` (from
    :func:`resolve_rules`) skips re-validating the configuration for every answer.
    """
    case, context = as_case(case), RuleContext.coerce(context)
    resolved = resolved if resolved is not None else resolve_rules(names, config)
    out = []
    for name, setup in resolved.items():
        spec = RULES[name]
        if spec.applies is not None and not spec.applies(case):
            continue
        result = spec.func(answer, case, context, **setup["args"])
        if isinstance(result, bool):
            result = RuleResult(result)
        out.append(RuleResult(result.passed, setup["severity"], result.message, result.span).to_dict(name))
    return out


# Rules with a module of their own register on import.
from dyag.evaluation.rules import echo  # noqa: E402,F401
