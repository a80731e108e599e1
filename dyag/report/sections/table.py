"""The quantitative table: training figures per model, then per system the quality columns of
the metric registry, the rules' pass rates and any other column the results hold."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from dyag.evaluation.builtin_metrics import SCORE
from dyag.evaluation.registry import column, columns
from dyag.report import fmt
from dyag.report.context import ModelGroup, mark_best
from dyag.report.i18n import metric_label
from dyag.results import TrainingMetrics

#: The headline column: the quality score out of 10 (two decimals, emphasised, last of its group).
HEADLINE = SCORE.name


@dataclass
class Cell:
    text: str
    ci: str = ""
    best: bool = False
    span: int = 1
    low: bool = False  # a rule pass rate below 100 %


@dataclass
class Row:
    key: str
    label: str
    cells: list[Cell]
    direction: str | None = None
    emphasis: bool = False


@dataclass
class RowGroup:
    title: str
    rows: list[Row]
    training: bool = False


@dataclass
class TableView:
    groups: list[ModelGroup]  # the header: models, then their systems
    row_groups: list[RowGroup]

    @property
    def ncols(self) -> int:
        return sum(len(g.columns) for g in self.groups)


def _training_spec(lang: str) -> list[tuple[str, str | None, Callable[[TrainingMetrics], str]]]:
    """``(key, direction, render)`` of the training rows."""
    def number(key):
        return lambda m: fmt.fmt_number(getattr(m, key), lang)

    return [
        ("duration_s", "min", lambda m: fmt.fmt_duration(m.duration_s)),
        ("train_loss", "min", number("train_loss")),
        ("eval_loss", "min", number("eval_loss")),
        ("token_accuracy", "max", number("token_accuracy")),
        ("trainable_params", None, lambda m: fmt.fmt_params(m.trainable_params, m.trainable_pct, lang)),
        ("samples_per_s", "max", number("samples_per_s")),
        ("tokens_per_s", "max", number("tokens_per_s")),
        ("num_tokens", None, lambda m: fmt.fmt_int(m.num_tokens, lang)),
        ("entropy", None, number("entropy")),
    ]


def training_rows(ctx, t) -> list[Row]:
    training = ctx.results.training
    rows = []
    for key, direction, render in _training_spec(ctx.lang):
        metrics = [training[g.model] if g.model in training else None for g in ctx.groups]
        values = [fmt.as_number(getattr(m, key)) if m is not None else None for m in metrics]
        if all(v is None for v in values):
            continue
        cells = [Cell(render(m) if m is not None else fmt.MISSING, best=best, span=len(g.columns))
                 for m, best, g in zip(metrics, mark_best(values, direction), ctx.groups)]
        rows.append(Row(key, metric_label(t, key), cells, direction))
    return rows


def column_row(ctx, t, name: str, direction: str | None, *, percent: bool = False, rule: bool = False) -> Row | None:
    """One cell per system: the mean and its CI (a percentage, never starred, for a rule's pass rate)."""
    lang = ctx.lang
    values, cells = [], []
    for col in (c for g in ctx.groups for c in g.columns):
        stat = ctx.stat(col.system, name) if col.system else None
        mean = stat.mean if stat else None
        values.append(mean)
        if percent:
            cells.append(Cell(fmt.fmt_percent(mean, lang), low=rule and mean is not None and mean < 1.0))
            continue
        digits = 2 if name == HEADLINE else None if mean is None else fmt.auto_digits(mean)
        ci = stat.ci if stat else None
        ci_text = f"[{fmt.fmt_number(ci[0], lang, digits)}–{fmt.fmt_number(ci[1], lang, digits)}]" if ci else ""
        cells.append(Cell(fmt.fmt_number(mean, lang, digits), ci_text))
    if all(v is None for v in values):
        return None
    for cell, best in zip(cells, mark_best(values, direction)):
        cell.best = best
    return Row(name, metric_label(t, name), cells, direction, emphasis=name == HEADLINE)


def quality_columns(keys: list[str]) -> list:
    """The registry's columns with a direction that the results hold, the headline last."""
    cols = [c for c in columns() if c.direction is not None and c.name in keys]
    return sorted(cols, key=lambda c: c.name == HEADLINE)


def build(ctx, t) -> TableView:
    keys = ctx.metric_keys
    quality = quality_columns(keys)
    rule_keys = sorted(k for k in keys if k.startswith("rule:"))
    shown = {c.name for c in quality} | set(rule_keys)
    other = [k for k in keys if k not in shown]
    groups = [
        RowGroup(t["group_training"], training_rows(ctx, t), training=True),
        RowGroup(t["group_quality"], [column_row(ctx, t, c.name, c.direction, percent=c.percent) for c in quality]),
        RowGroup(t["group_rules"], [column_row(ctx, t, k, None, percent=True, rule=True) for k in rule_keys]),
        RowGroup(t["group_other"], [column_row(ctx, t, k, None, percent=_percent(k)) for k in other]),
    ]
    for group in groups:
        group.rows = [r for r in group.rows if r is not None]
    return TableView(ctx.groups, [g for g in groups if g.rows])


def _percent(name: str) -> bool:
    col = column(name)
    return bool(col and col.percent)
