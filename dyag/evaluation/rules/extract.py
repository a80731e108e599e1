"""What the rules read in an answer: acronyms and their expansions (:func:`find_expansions`), phrase
comparison (:func:`same_phrase`) and key statements (:func:`extract_claims`)."""

from __future__ import annotations

import re
from typing import Sequence

from dyag.evaluation.cases import KbIndex, acronym_key
from dyag.utils.stopwords import FRENCH_STOP_WORDS
from dyag.utils.text import normalize_text, strip_accents, word_tokens

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
        while j < len(words) and words[j].lower() in FRENCH_STOP_WORDS:
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
    return {t for t in word_tokens(normalize_text(text)) if t not in FRENCH_STOP_WORDS}


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
