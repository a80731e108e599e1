"""The answers question by question, side by side, with each failed rule's passage highlighted,
and the buttons a person rates them with (people's stored ratings pre-selected with ``--ratings``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from markupsafe import Markup

from dyag.evaluation.agreement import RATINGS, Rating, answer_sha256
from dyag.report import fmt
from dyag.report.context import SystemColumn
from dyag.report.highlight import highlight_answer
from dyag.results import Case

SEVERITY_ICON = {"error": "❌", "warning": "⚠️", "info": "ℹ️"}
SEVERITIES = tuple(SEVERITY_ICON)
OPEN_QUESTIONS_MAX = 12  # above this many questions, each starts collapsed
MAX_FAILING_LINKS = 200
#: The sections that show people's ratings get them in ``build`` (see ``dyag.report.render``).
TAKES_RATINGS = True


@dataclass
class StoredRating:
    """A rating read with ``--ratings``, as its badge shows it."""

    rating: str
    label: str
    rater: str
    comment: str
    stale: bool


@dataclass
class RuleView:
    name: str
    icon: str
    severity: str
    message: str


@dataclass
class AnswerView:
    column: SystemColumn
    slot: int  # 1-based grid column: the position of its kind, aligned across models
    html: Markup
    missing: bool
    score_text: str
    score_class: str
    failed: list[RuleView]
    passed: list[str]
    id: str = ""
    score: float | None = None  # the raw score, for the filters (data-score)
    sha256: str = ""  # of the answer's UTF-8 text: what a rating names the answer by
    ratings: list[StoredRating] = field(default_factory=list)
    selected: StoredRating | None = None  # the fresh stored rating the buttons start on


@dataclass
class QuestionView:
    anchor: str
    id: str
    question: str
    reference: str
    rows: list[list[AnswerView]]  # one row per model, kinds aligned in columns
    n_errors: int
    n_warnings: int
    regressed: bool = False  # a rule newly fails on it against the baseline

    @property
    def answers(self) -> list[AnswerView]:
        return [a for row in self.rows for a in row]


@dataclass
class QuestionsView:
    questions: list[QuestionView]
    n_cases: int
    n_kinds: int
    max_links: int = MAX_FAILING_LINKS
    stamp: str = ""  # with the page title, the key of the ratings kept in the browser's storage
    rating_choices: tuple[str, ...] = RATINGS
    systems: list[str] = field(default_factory=list)  # the "different between two systems" filter's choices
    threshold: float = 5.0  # a score at or above it counts as a correct answer (dyag agreement's default)

    @property
    def n_rated(self) -> int:
        """Answers whose buttons start on a stored rating."""
        return sum(1 for q in self.questions for a in q.answers if a.selected)

    @property
    def failing(self) -> list[QuestionView]:
        return [q for q in self.questions if q.n_errors]

    @property
    def open(self) -> bool:
        return len(self.questions) <= OPEN_QUESTIONS_MAX


def score_class(score: float | None) -> str:
    if score is None:
        return "s-none"
    return "s-good" if score >= 7 else "s-mid" if score >= 4 else "s-bad"


def stored_ratings(sha256: str, ratings: list[Rating], t) -> list[StoredRating]:
    """The badges of the ratings of one answer; a rating of another answer text is stale."""
    return [StoredRating(r.rating, t[f"rating_{r.rating}"], r.rater, r.comment, r.answer_sha256 != sha256)
            for r in ratings]


def answer_view(case: Case, column: SystemColumn, slot: int, lang: str, ratings: list[StoredRating] = (),
                sha256: str | None = None) -> AnswerView:
    failed = sorted((RuleView(r.name, SEVERITY_ICON[r.severity], r.severity, r.message)
                     for r in case.rules if not r.passed), key=lambda r: SEVERITIES.index(r.severity))
    score = fmt.as_number(case.score)
    return AnswerView(
        column=column,
        slot=slot,
        html=highlight_answer(case.answer, [r.model_dump() for r in case.rules]),
        missing=not case.answer,
        score_text=fmt.fmt_number(score, lang, 1),
        score_class=score_class(score),
        failed=failed,
        score=score,
        passed=[r.name for r in case.rules if r.passed],
        id=case.id,
        sha256=sha256 or answer_sha256(case.answer),
        ratings=list(ratings),
        selected=next((r for r in reversed(ratings) if not r.stale), None),
    )


def storage_stamp(ctx, hashes: list[str]) -> str:
    """When the results were made, and a digest of the answers: the same answers share ratings."""
    run = ctx.results.run
    digest = hashlib.sha256("\n".join(hashes).encode()).hexdigest()[:16]
    return f"{run.finished or run.created or run.started or ''}|{digest}"


def build(ctx, t, ratings: list[Rating] | None = None) -> QuestionsView:
    by_answer: dict[tuple[str, str], list[Rating]] = {}
    for rating in ratings or ():
        by_answer.setdefault(rating.key, []).append(rating)
    hashes = []
    by_id: dict[str, list[Case]] = {}
    for case in ctx.results.cases:
        by_id.setdefault(case.id, []).append(case)
    col_of = {c.system: c for c in ctx.columns}
    rank = {c.system: i for i, c in enumerate(ctx.columns)}
    flipped = {f.id for reg in ctx.results.regression.values() for f in reg.new_rule_failures}
    views = []
    for qid, cases in by_id.items():
        rows: dict[str, list[AnswerView]] = {}
        for case in sorted(cases, key=lambda c: rank[c.system]):
            column = col_of[case.system]
            sha256 = answer_sha256(case.answer)
            hashes.append(sha256)
            stored = stored_ratings(sha256, by_answer.get((case.id, case.system), []), t)
            rows.setdefault(column.model, []).append(
                answer_view(case, column, ctx.kinds.index(column.kind) + 1, ctx.lang, stored, sha256))
        answers = [a for row in rows.values() for a in row]
        views.append(QuestionView(
            anchor=ctx.question_anchors[qid],
            id=qid,
            question=next((c.question for c in cases if c.question), ""),
            reference=next((c.reference for c in cases if c.reference), ""),
            rows=list(rows.values()),
            n_errors=sum(1 for a in answers for r in a.failed if r.severity == "error"),
            n_warnings=sum(1 for a in answers for r in a.failed if r.severity == "warning"),
            regressed=qid in flipped,
        ))
    return QuestionsView(views, len(ctx.results.cases), max(len(ctx.kinds), 1), stamp=storage_stamp(ctx, hashes),
                         systems=[c.system for c in ctx.columns if c.system])
