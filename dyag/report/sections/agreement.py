"""How far dyag's score agrees with people's ratings (``dyag report --ratings``): Spearman and
Kendall per system and overall with their intervals, the confusion counts, and the worst
disagreements linked to their question. Without ratings the section is absent."""

from __future__ import annotations

from dataclasses import dataclass

from dyag.evaluation.agreement import Agreement, AgreementStats, Rating, agreement
from dyag.report import fmt

#: The sections that show people's ratings get them in ``build`` (see ``dyag.report.render``).
TAKES_RATINGS = True


@dataclass
class AgreementRow:
    system: str  # "" for the overall row
    n: int
    spearman: str
    spearman_ci: str
    kendall: str
    kendall_ci: str
    tp: int
    fp: int
    fn: int
    tn: int


@dataclass
class DisagreementRow:
    id: str
    anchor: str  # the question's anchor, "" when it is not in the report
    system: str
    score: str
    rating: str
    rating_label: str
    answer: str
    comment: str


@dataclass
class AgreementView:
    rows: list[AgreementRow]
    worst: list[DisagreementRow]
    threshold: str
    n_used: int
    n_stale: int
    n_unmatched: int


def _ci(ci: tuple[float, float] | None, lang: str) -> str:
    return f"[{fmt.fmt_signed(ci[0], lang, 2)} – {fmt.fmt_signed(ci[1], lang, 2)}]" if ci else ""


def _row(system: str, stats: AgreementStats, lang: str) -> AgreementRow:
    c = stats.confusion
    return AgreementRow(system, stats.n, fmt.fmt_signed(stats.spearman, lang, 3), _ci(stats.spearman_ci95, lang),
                        fmt.fmt_signed(stats.kendall, lang, 3), _ci(stats.kendall_ci95, lang), c.tp, c.fp, c.fn, c.tn)


def view(found: Agreement, ctx, t) -> AgreementView:
    lang = ctx.lang
    rows = [_row(system, stats, lang) for system, stats in found.systems.items()]
    rows.append(_row("", found.overall, lang))
    worst = [DisagreementRow(d.id, ctx.question_anchors.get(d.id, ""), d.system, fmt.fmt_number(d.score, lang, 1),
                             d.rating, t[f"rating_{d.rating}"], d.answer, d.comment)
             for d in found.overall.worst]
    return AgreementView(rows, worst, fmt.fmt_plain(found.threshold, lang), found.n_used, len(found.stale),
                         len(found.unmatched))


def build(ctx, t, ratings: list[Rating] | None = None) -> AgreementView | None:
    if ratings is None:
        return None
    return view(agreement(ctx.results, ratings), ctx, t)
