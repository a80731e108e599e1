"""The summary: the best system and by how much, why (compared with the runner-up on the quality
columns and the rules), the best system of each model, and whether training loss predicted quality."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from markupsafe import Markup

from dyag.report import fmt
from dyag.report.i18n import kind_label, metric_label
from dyag.report.sections.table import HEADLINE, quality_columns
from dyag.system import SYSTEM_KINDS, System, uses_adapter

#: Which system of a model stands for "the fine-tuned model" in the loss-vs-quality finding, in order.
TRAINED_KINDS = tuple(k for k in SYSTEM_KINDS if uses_adapter(k))


@dataclass
class WhyRow:
    label: str
    winner: str
    runner: str
    delta: str
    better: bool


@dataclass
class WinnerView:
    sentence: Markup
    ci_sentence: str = ""
    runner: str = ""
    why_rows: list[WhyRow] = field(default_factory=list)
    per_model: list[Markup] = field(default_factory=list)
    loss_sentence: Markup | None = None
    loss_predictive: bool | None = None


def _strong(text: str) -> Markup:
    return Markup("<strong>{}</strong>").format(text)


def build(ctx, t) -> WinnerView | None:
    lang = ctx.lang
    ranked = ctx.ranked(HEADLINE)
    if not ranked:
        return None
    win, wstat = ranked[0]
    ci_text = ""
    if wstat.ci:
        lo, hi = (fmt.fmt_number(x, lang, 2) for x in wstat.ci)
        ci_text = f" ({t['ci_label']} {lo}–{hi})"
    if len(ranked) == 1:
        view = WinnerView(Markup(t["winner_alone"]).format(
            system=_strong(win), score=fmt.fmt_number(wstat.mean, lang, 2), ci=ci_text))
    else:
        runner, rstat = ranked[1]
        margin = wstat.mean - rstat.mean
        key = "winner_tie" if math.isclose(margin, 0.0, abs_tol=1e-9) else "winner_sentence"
        view = WinnerView(Markup(t[key]).format(
            system=_strong(win), score=fmt.fmt_number(wstat.mean, lang, 2), ci=ci_text,
            margin=fmt.fmt_number(margin, lang, 2), runner=_strong(runner),
            runner_score=fmt.fmt_number(rstat.mean, lang, 2)))
        view.runner = runner
        if wstat.ci and rstat.ci:
            overlap = wstat.ci[0] <= rstat.ci[1] and rstat.ci[0] <= wstat.ci[1]
            view.ci_sentence = t["ci_overlap" if overlap else "ci_separate"].format(
                n=wstat.n if wstat.n is not None else "?")
        else:
            view.ci_sentence = t["ci_unknown"]
        view.why_rows = why_rows(ctx, t, win, runner)
    view.per_model = best_per_model(ctx, t)
    view.loss_sentence, view.loss_predictive = loss_finding(ctx, t)
    return view


def why_rows(ctx, t, win: str, runner: str) -> list[WhyRow]:
    """The winner against the runner-up on the quality columns, then on the rules, where they differ."""
    lang = ctx.lang
    names = [(c.name, c.direction) for c in quality_columns(ctx.metric_keys) if c.name != HEADLINE]
    names += [(k, "max") for k in sorted(k for k in ctx.metric_keys if k.startswith("rule:"))]
    rows = []
    for name, direction in names:
        a, b = ctx.mean(win, name), ctx.mean(runner, name)
        if a is None or b is None or math.isclose(a, b):
            continue  # identical values explain nothing
        if name.startswith("rule:"):
            texts = (fmt.fmt_percent(a, lang), fmt.fmt_percent(b, lang))
            delta = fmt.fmt_signed(100 * (a - b), lang, 1) + " pts"
        else:
            texts = (fmt.fmt_number(a, lang), fmt.fmt_number(b, lang))
            delta = fmt.fmt_signed(a - b, lang)
        rows.append(WhyRow(metric_label(t, name), *texts, delta, a < b if direction == "min" else a > b))
    return rows


def best_per_model(ctx, t) -> list[Markup]:
    out = []
    for group in ctx.groups:
        scored = [(c, ctx.mean(c.system, HEADLINE)) for c in group.columns if c.system]
        scored = [(c, s) for c, s in scored if s is not None]
        if scored:
            col, score = max(scored, key=lambda cs: cs[1])
            out.append(Markup(t["per_model_item"]).format(
                model=_strong(group.model), kind=col.kind_label, score=fmt.fmt_number(score, ctx.lang, 2)))
    return out


def loss_finding(ctx, t) -> tuple[Markup | None, bool | None]:
    """Does training loss rank the models like the quality of their fine-tuned system?"""
    lang = ctx.lang
    for kind in TRAINED_KINDS:
        pairs = []
        for model, metrics in ctx.results.training.items():
            loss = fmt.as_number(metrics.train_loss)
            score = ctx.mean(str(System(model, kind)), HEADLINE)
            if loss is not None and score is not None:
                pairs.append((model, loss, score))
        if len(pairs) < 2:
            continue
        by_loss = sorted(pairs, key=lambda p: p[1])
        by_score = sorted(pairs, key=lambda p: -p[2])
        if [p[0] for p in by_loss] != [p[0] for p in by_score]:
            loss_order = " < ".join(f"{m} ({fmt.fmt_number(loss, lang)})" for m, loss, _ in by_loss)
            score_order = " > ".join(f"{m} ({fmt.fmt_number(score, lang, 2)}/10)" for m, _, score in by_score)
            return Markup(t["loss_not_predictive"]).format(
                loss_order=loss_order, score_order=score_order, kind=kind_label(t, kind)), False
        return Markup(t["loss_consistent"]).format(
            order=", ".join(p[0] for p in by_score), kind=kind_label(t, kind)), True
    return None, None
