"""``faithful_to_kb``: what an answer states against the catalog's record of the application.

The answer is read by :mod:`~dyag.evaluation.rules.faithful_reading` with the patterns of
:mod:`~dyag.evaluation.rules.faithful_patterns`; here, each statement found is compared with the
record of the applications it may be about.
"""

from __future__ import annotations

from typing import Sequence

from dyag.evaluation.cases import KbIndex
from dyag.evaluation.rules.extract import find_expansions, same_phrase
from dyag.evaluation.rules.faithful_patterns import (
    _CIVILITY_RE,
    _CRITICAL_NO_RE,
    _CRITICAL_YES_RE,
    _CRITICALITY_LEVEL_RE,
    _CRITICALITY_LEVELS,
    _DIGIT_RE,
    _HOST_CUT_RE,
    _HOST_GENERIC,
    _HOST_RES,
    _HOST_WORDS,
    _KNOWN_LEVELS,
    _LIST_ITEM_START_RE,
    _MEANS_RE,
    _NEGATION_RE,
    _OWNER_RES,
    _OWNER_WORDS,
    _TAG_RE,
    _TECH_CONTEXT_RE,
    _USERS_PART_RE,
    _USERS_RES,
    _USERS_WORDS,
    _VERSION_NOT_RE,
    _VERSION_OTHER_RE,
    _VERSION_RES,
    _folded_tokens,
    _parse_count,
    _tech_key,
    _version_parts,
)
from dyag.evaluation.rules.faithful_reading import _AppFacts, _Contradiction, _KbFacts, _Reading
from dyag.evaluation.rules.registry import fail, ok, rule
from dyag.utils.stopwords import FRENCH_STOP_WORDS


def _host_contradicts(value: str, app: _AppFacts, facts: _KbFacts, strong: bool, sentence: str) -> bool:
    tokens = frozenset(_folded_tokens(value)) - FRENCH_STOP_WORDS
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
