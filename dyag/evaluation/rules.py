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
from dyag.evaluation.cases import CaseView, KbIndex, acronym_key, as_case, as_kb_index
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
# A speaker label ("User:", "**Assistant :**", "> Vous :") at the start of a line or after a
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
    rf"(?:^|(?<=[.!?…][ \t]))[ \t>#*•_-]*(?P<role>{_ROLE_WORDS})(?:\*\*|__)?[ \t]*[:：]", re.M | re.I)
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
