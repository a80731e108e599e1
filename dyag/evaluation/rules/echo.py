"""``no_prompt_echo``: an answer that gives back its prompt instead of answering.

Small base models fed a prompt they were not trained on tend to continue it rather than answer
it: they repeat the system prompt ("Tu es l'assistant du catalogue…"), copy the retrieved records
whole, or restate the question ("La question est de la question : …"). Such an answer contains the
reference's words (the context holds them), so metrics alone can score it well. Three checks, on
word runs of the folded text (accents, case and punctuation ignored):

- **instructions**: a run of ``prompt_words`` words or more of the system prompt or of the
  completion prompt's header;
- **context block**: a run of words copied from one retrieved record (its prose or its card) that is
  longer than the answer needs: more than ``context_slack`` words beyond the number of the
  reference's words that the record holds, and at least ``context_words`` words, unless the answer
  states every golden fact (it answers, quoting more than it needs); or a run that crosses two
  field labels ("… Hébergeur : OVHcloud Roubaix. Domaine : …"), whatever it states. An answer that
  quotes one value (a URL, a host, an acronym's expansion) copies few words; one that recites the
  record copies many;
- **question**: the answer opens with the question itself (its first line is the question again)
  or by talking about it ("La question est de …"), or says "la question est …" and adds fewer
  than ``min_new_words`` words of its own.

>>> run = lambda a, **kw: no_prompt_echo(a, as_case({"id": "q", "question": "Qui héberge GIDAF ?",
...     "reference": "GIDAF est hébergée par OVH."}), RuleContext(**kw), prompt_words=6, context_words=14,
...     context_slack=6, min_new_words=3)
>>> run("Tu es l'assistant du catalogue des applications de l'organisation. Réponds en français").passed
False
>>> run("GIDAF est hébergée par OVH.").passed
True
>>> run("La question est : qui héberge GIDAF ?").passed
False
"""

from __future__ import annotations

import re
from typing import Sequence

from dyag.evaluation.cases import as_case  # noqa: F401  (doctest)
from dyag.evaluation.rules.context import RuleContext  # noqa: F401  (doctest)
from dyag.evaluation.rules.registry import fail, ok, rule
from dyag.evaluation.textmetrics import missing_facts
from dyag.utils.text import strip_accents

_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)
#: an answer that opens by talking about the question ("La question est de …", "Cette question porte …")
_OPENING_RE = re.compile(r"\s*(?:la|cette|ta|votre)\s+question\s+(?:est|porte|concerne)\b", re.IGNORECASE)
_RESTATE_RE = re.compile(r"\bla\s+question\s+(?:est|porte|concerne|pos[ée]e)\b|\bquestion\s*:\s*", re.IGNORECASE)


#: a record's field label as a card writes it ("Hébergeur : …", accents folded): a copied run that
#: crosses two of them recites the record field after field
_LABEL_RE = re.compile(r"\b(?:Hebergeur|Domaine|Responsable|Technologies|Criticite|Utilisateurs|Version|Documentation"
                       r"|Sigle|Description)\s*:", re.IGNORECASE)


def _words(text: str) -> list[tuple[str, int, int]]:
    """Folded words with their offsets in ``text``."""
    return [(strip_accents(m.group()).lower(), m.start(), m.end()) for m in _WORD_RE.finditer(text)]


def longest_run(a: Sequence[str], b: Sequence[str]) -> tuple[int, int]:
    """Length and end position in ``a`` of the longest run of words that ``a`` and ``b`` share.

    >>> longest_run("x a b c y".split(), "a b c".split())
    (3, 4)
    """
    best, end = 0, 0
    prev = [0] * (len(b) + 1)
    for i, wa in enumerate(a, 1):
        cur = [0] * (len(b) + 1)
        for j, wb in enumerate(b, 1):
            if wa == wb:
                cur[j] = prev[j - 1] + 1
                if cur[j] > best:
                    best, end = cur[j], i
        prev = cur
    return best, end


def _prompt_texts(meta: dict) -> list[str]:
    from dyag.inference.prompting import COMPLETION_HEADER
    from dyag.prompts import DEFAULT_SYSTEM_PROMPT

    return [t for t in (meta.get("system_prompt"), DEFAULT_SYSTEM_PROMPT, COMPLETION_HEADER) if t]


def _retrieved_texts(context: RuleContext) -> list[tuple[str, str]]:
    """``(record id, text)`` of each retrieved record, as prose and as a card."""
    if context.kb is None or not context.meta.get("retrieved"):
        return []
    from dyag.inference.prompting import record_card, record_text

    by_id = {str(r.get("id")): r for r in context.kb.records}
    out = []
    for doc_id in context.meta["retrieved"]:
        record = by_id.get(str(doc_id))
        if record is not None and record.get("text"):
            out += [(doc_id, record_text(record)), (doc_id, record_card(record))]
    return out


def _same_words(line: Sequence[str], question: Sequence[str]) -> bool:
    """The answer's first line is the question again (at least 80 % of each other's words, in one run)."""
    n = longest_run(line, question)[0]
    return n >= 0.8 * len(question) and n >= 0.8 * len(line)


def _span(words: list[tuple[str, int, int]], end: int, length: int) -> tuple[int, int]:
    return words[end - length][1], words[end - 1][2]


@rule("no_prompt_echo", severity="error", prompt_words=6, context_words=14, context_slack=6, min_new_words=3)
def no_prompt_echo(answer, case, context, *, prompt_words, context_words, context_slack, min_new_words):
    """The answer repeats its instructions, recites a retrieved record, or restates the question."""
    words = _words(answer)
    tokens = [w for w, _, _ in words]
    if not tokens:
        return ok()
    for text in _prompt_texts(context.meta):
        n, end = longest_run(tokens, [w for w, _, _ in _words(text)])
        if n >= prompt_words:
            return fail(f"repeats its instructions ({n} words of the prompt)", _span(words, end, n))
    reference = [w for w, _, _ in _words(case.reference)]
    answered = bool(case.facts) and not missing_facts(answer, case.facts)  # quoting more than needed, but answering
    for doc_id, text in _retrieved_texts(context):
        source = [w for w, _, _ in _words(text)]
        n, end = longest_run(tokens, source)
        needed = len([w for w in reference if w in set(source)])  # the reference's words the record holds
        start, stop = _span(words, end, n) if n else (0, 0)
        labels = len(_LABEL_RE.findall(strip_accents(answer[start:stop + 2])))
        too_long = not answered and n >= context_words and n > needed + context_slack
        if too_long or (n >= context_words // 2 and labels >= 2):
            return fail(f"recites the retrieved record {doc_id} ({n} words copied; the reference needs {needed})",
                        _span(words, end, n))
    question = [w for w, _, _ in _words(case.question)]
    first_line = [w for w, _, _ in _words(answer.lstrip().split("\n", 1)[0])]
    opens = _OPENING_RE.match(answer)
    if opens or (question and first_line and _same_words(first_line, question)):
        end = opens.end() if opens else (answer.find("\n") if "\n" in answer.strip() else len(answer))
        return fail("restates the question instead of answering it", (0, max(end, 1)))
    restated = _RESTATE_RE.search(answer)
    if restated:
        asked = set(question) | {"la", "question", "est", "de", "le", "les", "des", "du", "l", "d"}
        if len({w for w in tokens if w not in asked}) < min_new_words:
            return fail("restates the question instead of answering it", (restated.start(), restated.end()))
    return ok()
