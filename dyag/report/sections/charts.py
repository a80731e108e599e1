"""Bar charts of the columns the metric registry charts (``Column.chart``), one bar per system."""

from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup

from dyag.evaluation.registry import columns
from dyag.report import fmt
from dyag.report.charts import Bar, bar_chart, kind_legend
from dyag.report.i18n import kind_label, metric_label
from dyag.report.sections.table import HEADLINE

HEADLINE_MAX = 10.0  # the quality score is out of 10


@dataclass
class ChartsView:
    charts: list[Markup]
    legend: Markup


def build(ctx, t) -> ChartsView | None:
    charts = []
    for col in (c for c in columns() if c.chart):
        bars = []
        for system in ctx.columns:
            stat = ctx.stat(system.system, col.name)
            if stat is not None:
                text = fmt.fmt_number(stat.mean, ctx.lang, 2 if col.name == HEADLINE else None)
                bars.append(Bar(system.system, stat.mean, stat.ci, system.kind, text))
        if not bars:
            continue
        top = max([b.value for b in bars] + [b.ci[1] for b in bars if b.ci])
        domain = HEADLINE_MAX if col.name == HEADLINE else max(1.0, math.ceil(top))
        charts.append(bar_chart(bars, title=metric_label(t, col.name), domain_max=domain,
                                decimal=fmt.decimal_mark(ctx.lang)))
    if not charts:
        return None
    return ChartsView(charts, kind_legend([(k, kind_label(t, k) or "?") for k in ctx.kinds]))
