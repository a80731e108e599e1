"""The small built-in rules: loops, truncation, language, length, facts, acronym expansions,
consistency across answers, empty answers, and admitting what the catalog does not hold."""

from __future__ import annotations

import re
from collections import Counter

from dyag.evaluation.rules.dialogue import _CHAT_TOKEN_RE
from dyag.evaluation.rules.extract import extract_claims, find_expansions, same_phrase
from dyag.evaluation.rules.registry import fail, ok, rule
from dyag.evaluation.textmetrics import missing_facts
from dyag.utils.stopwords import ALSO_ENGLISH, FRENCH_STOP_WORDS
from dyag.utils.text import normalize_text, word_spans, word_tokens


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


#: Each language's profile: the French stop words but those English uses as much (dyag.utils.stopwords).
_STOPWORDS = {
    "fr": FRENCH_STOP_WORDS - ALSO_ENGLISH,
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
