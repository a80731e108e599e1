"""``dyag sweep``'s recipe comparison: the points ranked by one metric, with their intervals."""

from __future__ import annotations

from dataclasses import dataclass

from dyag.report import fmt


@dataclass
class SweepRow:
    rank: int
    label: str
    recipe: str
    mean: str
    ci: str
    n: int
    train_s: str
    best: bool


@dataclass
class SweepView:
    metric: str
    split: str
    rows: list[SweepRow]


def build(ctx, t) -> SweepView | None:
    sweep = next((doc.sweep for _, doc in reversed(ctx.sources) if doc.sweep is not None), None)
    if sweep is None:
        return None
    from dyag.report.i18n import metric_label

    lang = ctx.lang
    rows = [SweepRow(p.rank, p.label, ", ".join(f"{k} = {fmt.fmt_plain(v, lang)}" for k, v in p.recipe.items()),
                     fmt.fmt_number(p.mean, lang, 3),
                     f"[{fmt.fmt_number(p.ci95[0], lang, 3)}–{fmt.fmt_number(p.ci95[1], lang, 3)}]" if p.ci95 else "",
                     p.n, fmt.fmt_number(p.train_s, lang, 0), p.rank == 1)
            for p in sweep.points]
    split = t.get(f"split_{sweep.split}", sweep.split) if sweep.split else t["sweep_all"]
    return SweepView(metric_label(t, sweep.metric), split, rows)
