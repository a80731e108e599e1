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

The package's modules:

- :mod:`~dyag.evaluation.rules.registry`: ``@rule``, :data:`RULES`, :class:`RuleResult`, ``ok``/``fail``;
- :mod:`~dyag.evaluation.rules.context`: :class:`RuleContext`, :class:`SystemAnswers`;
- :mod:`~dyag.evaluation.rules.extract`: acronym expansions, phrase comparison, claims;
- the built-in rules, registered on import in this order (the reports' order):
  :mod:`~dyag.evaluation.rules.dialogue` (``no_dialogue_turns``), :mod:`~dyag.evaluation.rules.basic`
  (``no_repetition`` ... ``admits_unknown``), :mod:`~dyag.evaluation.rules.faithful` (``faithful_to_kb``,
  reading with :mod:`~dyag.evaluation.rules.faithful_reading` and
  :mod:`~dyag.evaluation.rules.faithful_patterns`), :mod:`~dyag.evaluation.rules.echo` (``no_prompt_echo``);
- :mod:`~dyag.evaluation.rules.runner`: :func:`resolve_rules`, :func:`run_rules`.
"""

from __future__ import annotations

from dyag.evaluation.cases import CaseView
from dyag.evaluation.rules.context import RuleContext, SystemAnswers
from dyag.evaluation.rules.extract import content_tokens, extract_claims, find_expansions, is_acronym, same_phrase
from dyag.evaluation.rules.registry import RULES, SEVERITIES, RuleResult, RuleSpec, fail, ok, rule
from dyag.evaluation.rules.runner import resolve_rules, run_rules

# The built-in rules register on import, in this order.
from dyag.evaluation.rules import dialogue, basic, faithful, echo  # noqa: I001  (this order is the reports')
from dyag.evaluation.rules.dialogue import no_dialogue_turns
from dyag.evaluation.rules.basic import (
    admits_unknown,
    consistent_across_answers,
    language,
    length,
    no_invented_expansion,
    no_repetition,
    not_empty,
    not_truncated,
    required_facts,
)
from dyag.evaluation.rules.faithful import faithful_to_kb, find_contradictions
from dyag.evaluation.rules.echo import no_prompt_echo

__all__ = [
    "RULES", "SEVERITIES", "CaseView", "RuleContext", "RuleResult", "RuleSpec", "SystemAnswers",
    "content_tokens", "extract_claims", "fail", "find_contradictions", "find_expansions", "is_acronym", "ok",
    "resolve_rules", "rule", "run_rules", "same_phrase",
    "admits_unknown", "consistent_across_answers", "faithful_to_kb", "language", "length", "no_dialogue_turns",
    "no_invented_expansion", "no_prompt_echo", "no_repetition", "not_empty", "not_truncated", "required_facts",
    "basic", "dialogue", "echo", "faithful",
]
