"""Each model's comparison with its stored baseline: the verdict, the rows (regressions first)
and the rules newly failing on a question, linked to it."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from dyag.report import fmt
from dyag.report.i18n import metric_label
from dyag.report.sections.verdict import row_anchor

VERDICT_ORDER = ("regressed", "improved", "ok")


@dataclass
class RegressionRow:
    anchor: str  # the row's id, which the verdict's moved rows and a failed gate's message link to
    system: str
    metric: str
    baseline: str
    current: str
    delta: str
    p_value: str
    verdict: str
    verdict_label: str
    tolerance: str = ""


def regression_row(r, t, lang: str) -> RegressionRow:
    """One compared row (:class:`dyag.results.ComparisonRow`) as the page shows it, with its anchor."""
    return RegressionRow(row_anchor(r.system, r.metric, r.split), r.system,
                         metric_label(t, r.metric) + (f" · {r.split}" if r.split else ""),
                         fmt.fmt_number(r.baseline, lang), fmt.fmt_number(r.current, lang), fmt.fmt_signed(r.delta, lang),
                         fmt.fmt_p_value(r.p_value, lang), r.verdict, t[f"v_{r.verdict}"], fmt.fmt_number(r.tolerance, lang))


@dataclass
class RuleFlipRow:
    id: str
    anchor: str  # the question's anchor, "" when it is not in the report
    system: str
    rule: str


@dataclass
class RegressionView:
    model: str
    baseline: str
    source: str
    failed: bool
    summary: Markup
    baseline_text: Markup
    rows: list[RegressionRow]
    new_rule_failures: list[RuleFlipRow]
    environment_note: str = ""
    flips_fatal: bool = False


def build(ctx, t) -> list[RegressionView]:
    lang = ctx.lang
    views = []
    for model, reg in ctx.results.regression.items():
        rows = sorted(
            (regression_row(r, t, lang) for r in reg.rows),
            key=lambda r: VERDICT_ORDER.index(r.verdict))
        flips = [RuleFlipRow(f.id, ctx.question_anchors.get(f.id, ""), f.system, f.rule) for f in reg.new_rule_failures]
        env_note = ""
        if reg.key:
            env_note = t["env_exact" if reg.exact else "env_nearest"].format(
                key=reg.key, baseline_key=reg.baseline_key or "?")
        views.append(RegressionView(
            model=model,
            baseline=reg.baseline,
            source=ctx.regression_source.get(model, ""),
            failed=reg.failed,
            summary=Markup(t["reg_failed" if reg.failed else "reg_passed"]).format(
                model=Markup("<strong>{}</strong>").format(model)),
            baseline_text=Markup(t["baseline_is"]).format(path=Markup("<code>{}</code>").format(reg.baseline)),
            rows=rows,
            new_rule_failures=flips,
            environment_note=env_note,
            flips_fatal=reg.strict,
        ))
    return views
