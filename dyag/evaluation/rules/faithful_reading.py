"""How :mod:`dyag.evaluation.rules.faithful` reads the catalog (:class:`_KbFacts`, once per
knowledge base) and an answer (:class:`_Reading`: folded text, sentences, who each is about)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

from dyag.evaluation.cases import KbEntry, KbIndex, acronym_key
from dyag.evaluation.rules.faithful_patterns import (
    _CIVILITY_RE,
    _COMMON_UPPER,
    _HOST_GENERIC,
    _HOST_PLACES,
    _MASK,
    _NOT_A_SUBJECT,
    _OTHER_TECHNOLOGIES,
    _SENTENCE_END_OR_LINE_RE,
    _UNKNOWN_SUBJECT_RE,
    _UPPER_WORD_RE,
    _alternation,
    _fold_text,
    _folded_tokens,
    _tech_key,
    _version_parts,
)
from dyag.utils.stopwords import FRENCH_STOP_WORDS


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
                tokens = frozenset(_folded_tokens(host)) - FRENCH_STOP_WORDS
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
