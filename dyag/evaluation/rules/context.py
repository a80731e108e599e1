"""What a rule sees besides the answer and its golden case: :class:`RuleContext` (the prediction's
meta, the knowledge base) and :class:`SystemAnswers` (the same system's other answers, with their
claims extracted once, for cross-answer rules)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Sequence

from dyag.evaluation.cases import KbIndex, as_kb_index
from dyag.evaluation.rules.extract import extract_claims


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
