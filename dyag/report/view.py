"""Turn merged results into what the template shows: plain strings and escaped markup.

All decisions (ordering, best values, the winner, the loss-vs-quality finding)
are made here in Python so the template only lays things out, and so they can
be tested without parsing HTML.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from markupsafe import Markup

from dyag.report import fmt
from dyag.report.charts import KIND_COLORS, Bar, bar_chart, kind_legend
from dyag.report.highlight import highlight_answer
from dyag.report.results import MergedResults

KIND_ORDER = ("base", "finetuned", "rag", "rag+finetuned")
QUALITY_METRICS = (
    "bleu",
    "corpus_bleu",
    "rouge1",
    "rouge2",
    "rougeL",
    "bertscore_f1",
    "bertscore_precision",
    "bertscore_recall",
    "fact_recall",
    "exact_match",
    "score",
)
CHART_METRICS = ("score", "bertscore_f1", "fact_recall", "rougeL")
WHY_METRICS = ("bertscore_f1", "fact_recall", "rougeL", "bleu")
# Which system of a model stands for "the fine-tuned model" in the loss-vs-quality finding.
TRAINED_KINDS = ("finetuned", "rag+finetuned")
SEVERITY_ICON = {"error": "❌", "warning": "⚠️", "info": "ℹ️"}


# ---------------------------------------------------------------- small helpers


def split_system(system: str) -> tuple[str, str]:
    """``"smollm2:135m/finetuned"`` -> ``("smollm2:135m", "finetuned")``."""
    model, sep, kind = system.rpartition("/")
    return (model, kind) if sep and model else (system, "")


def _kind_key(kind: str) -> tuple[int, str]:
    return (KIND_ORDER.index(kind), "") if kind in KIND_ORDER else (len(KIND_ORDER), kind)


def mark_best(values: list[float | None], direction: str | None) -> list[bool]:
    """Which values are the best of the row (ties all marked; nothing when all equal)."""
    present = [v for v in values if v is not None]
    if direction not in ("min", "max") or len(present) < 2:
        return [False] * len(values)
    best = min(present) if direction == "min" else max(present)
    if all(math.isclose(v, best, rel_tol=1e-9, abs_tol=1e-12) for v in present):
        return [False] * len(values)
    return [v is not None and math.isclose(v, best, rel_tol=1e-9, abs_tol=1e-12) for v in values]


def _ci(stat: dict[str, Any] | None) -> tuple[float, float] | None:
    if not isinstance(stat, dict):
        return None
    ci = stat.get("ci95")
    if isinstance(ci, (list, tuple)) and len(ci) == 2:
        lo, hi = fmt.as_number(ci[0]), fmt.as_number(ci[1])
        if lo is not None and hi is not None and lo <= hi:
            return (lo, hi)
    return None


def _mean(stat: dict[str, Any] | None) -> float | None:
    return fmt.as_number(stat.get("mean")) if isinstance(stat, dict) else None


def _score_class(score: float | None) -> str:
    if score is None:
        return "s-none"
    return "s-good" if score >= 7 else "s-mid" if score >= 4 else "s-bad"


# ---------------------------------------------------------------- view dataclasses


@dataclass
class Column:
    system: str
    model: str
    kind: str
    kind_label: str
    source: str
    color: str


@dataclass
class ModelGroup:
    model: str
    columns: list[Column]
    training_source: str = ""


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
class RuleView:
    name: str
    icon: str
    severity: str
    message: str


@dataclass
class AnswerView:
    column: Column
    slot: int  # 1-based grid column: the position of its kind, aligned across models
    html: Markup
    missing: bool
    score_text: str
    score_class: str
    failed: list[RuleView]
    passed: list[str]


@dataclass
class QuestionView:
    anchor: str
    id: str
    question: str
    reference: str
    rows: list[list[AnswerView]]  # one row per model, kinds aligned in columns
    n_errors: int
    n_warnings: int

    @property
    def answers(self) -> list[AnswerView]:
        return [a for row in self.rows for a in row]


@dataclass
class ConfigRow:
    label: str
    values: list[str]

    @property
    def same(self) -> bool:
        return len(set(self.values)) <= 1


@dataclass
class ConfigGroup:
    key: str
    title: str
    rows: list[ConfigRow]


@dataclass
class SourceView:
    label: str
    started: str
    finished: str
    profile: str
    systems: list[str]
    n_cases: int
    incomplete: bool


@dataclass
class WinnerView:
    sentence: Markup
    ci_sentence: str = ""
    runner: str = ""
    why_rows: list[tuple[str, str, str, str, bool]] = field(default_factory=list)
    per_model: list[Markup] = field(default_factory=list)
    loss_sentence: Markup | None = None
    loss_predictive: bool | None = None


@dataclass
class RegressionRowView:
    system: str
    metric: str
    baseline: str
    current: str
    delta: str
    p_value: str
    verdict: str
    verdict_label: str


@dataclass
class RegressionView:
    model: str
    baseline: str
    source: str
    failed: bool
    summary: Markup
    baseline_text: Markup
    rows: list[RegressionRowView]
    new_rule_failures: list[tuple[str, str, str, str]]  # (id, anchor, system, rule)
    environment_note: str = ""
    flips_fatal: bool = False


@dataclass
class TableView:
    title: str
    columns: list[str]
    rows: list[list[tuple[str, bool]]]  # (text, numeric)


@dataclass
class PerfView:
    source: str
    tables: list[TableView]


# ---------------------------------------------------------------- the builder


class ReportView:
    """Everything the template needs, computed once from ``MergedResults``."""

    def __init__(self, merged: MergedResults, t: dict[str, str], lang: str):
        self.merged = merged
        self.t = t
        self.lang = lang
        self.multi = len(merged.sources) > 1
        self._case_stats = self._stats_from_cases()
        self.groups = self._model_groups()
        self.columns = [c for g in self.groups for c in g.columns if c.system]
        self.kinds = sorted({c.kind for c in self.columns}, key=_kind_key)
        # question id -> anchor, in order of first appearance
        self.question_index: dict[str, str] = {}
        for case in merged.cases:
            self.question_index.setdefault(str(case["id"]), f"q-{len(self.question_index) + 1}")

    # ---- labels

    def metric_label(self, metric: str) -> str:
        if metric.startswith("rule:"):
            return metric[len("rule:") :]
        return self.t.get(f"m_{metric}", metric)

    def kind_label(self, kind: str) -> str:
        return self.t.get(f"k_{kind}", kind)

    # ---- statistics

    def _stats_from_cases(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Means per system computed from the cases, for systems without aggregates."""
        sums: dict[str, dict[str, list[float]]] = {}
        for case in self.merged.cases:
            per = sums.setdefault(str(case["system"]), {})
            values: dict[str, Any] = dict(case.get("metrics") or {})
            values["score"] = case.get("score")
            for rule in case.get("rules") or []:
                if isinstance(rule, dict) and isinstance(rule.get("passed"), bool) and rule.get("name"):
                    values[f"rule:{rule['name']}"] = 1.0 if rule["passed"] else 0.0
            for metric, value in values.items():
                x = fmt.as_number(value)
                if x is not None:
                    per.setdefault(str(metric), []).append(x)
        return {
            system: {m: {"mean": sum(v) / len(v), "n": len(v)} for m, v in per.items()}
            for system, per in sums.items()
        }

    def stat(self, system: str, metric: str) -> dict[str, Any] | None:
        agg = self.merged.aggregates.get(system)
        if isinstance(agg, dict) and isinstance(agg.get(metric), dict) and _mean(agg[metric]) is not None:
            return agg[metric]
        return self._case_stats.get(system, {}).get(metric)

    def metric_keys(self) -> list[str]:
        keys: dict[str, None] = {}
        for system in self.merged.systems:
            for source in (self.merged.aggregates.get(system) or {}, self._case_stats.get(system, {})):
                for metric in source:
                    keys.setdefault(str(metric), None)
        return list(keys)

    # ---- columns

    def _model_order(self) -> list[str]:
        order: dict[str, None] = {}
        for src in self.merged.sources:
            models = _dict(src.data.get("run")).get("models")
            for model in models if isinstance(models, list) else []:
                if isinstance(model, str):
                    order.setdefault(model, None)
        for model in self.merged.training:
            order.setdefault(model, None)
        for system in self.merged.systems:
            order.setdefault(split_system(system)[0], None)
        return list(order)

    def _model_groups(self) -> list[ModelGroup]:
        by_model: dict[str, list[str]] = {}
        for system in self.merged.systems:
            by_model.setdefault(split_system(system)[0], []).append(system)
        groups = []
        for model in self._model_order():
            systems = sorted(by_model.get(model, []), key=lambda s: _kind_key(split_system(s)[1]))
            if not systems and model not in self.merged.training:
                continue  # named in run.models but nothing measured
            columns = [
                Column(
                    system=s,
                    model=model,
                    kind=split_system(s)[1],
                    kind_label=self.kind_label(split_system(s)[1]) or s,
                    source=self.merged.system_source[s],
                    color=KIND_COLORS.get(split_system(s)[1], "#c07a1a"),
                )
                for s in systems
            ] or [Column("", model, "", self.t["training_only"], "", "#c07a1a")]
            groups.append(ModelGroup(model, columns, self.merged.training_source.get(model, "")))
        return groups

    # ---- quantitative table

    def _training_row(self, key: str, direction: str | None, render: Callable[[dict], str]) -> Row | None:
        values, texts = [], []
        for group in self.groups:
            metrics = self.merged.training.get(group.model) or {}
            values.append(fmt.as_number(metrics.get(key)))
            texts.append(render(metrics) if metrics else fmt.MISSING)
        if all(v is None for v in values):
            return None
        best = mark_best(values, direction)
        cells = [Cell(text, best=b, span=len(g.columns)) for text, b, g in zip(texts, best, self.groups)]
        return Row(key, self.metric_label(key), cells, direction)

    def training_rows(self) -> list[Row]:
        lang = self.lang
        spec: list[tuple[str, str | None, Callable[[dict], str]]] = [
            ("duration_s", "min", lambda m: fmt.fmt_duration(m.get("duration_s"))),
            ("train_loss", "min", lambda m: fmt.fmt_number(m.get("train_loss"), lang)),
            ("eval_loss", "min", lambda m: fmt.fmt_number(m.get("eval_loss"), lang)),
            ("token_accuracy", "max", lambda m: fmt.fmt_number(m.get("token_accuracy"), lang)),
            ("trainable_params", None,
             lambda m: fmt.fmt_params(m.get("trainable_params"), m.get("trainable_pct"), lang)),
            ("samples_per_s", "max", lambda m: fmt.fmt_number(m.get("samples_per_s"), lang)),
            ("tokens_per_s", "max", lambda m: fmt.fmt_number(m.get("tokens_per_s"), lang)),
            ("num_tokens", None, lambda m: fmt.fmt_int(m.get("num_tokens"), lang)),
            ("entropy", None, lambda m: fmt.fmt_number(m.get("entropy"), lang)),
        ]
        return [row for key, d, r in spec if (row := self._training_row(key, d, r))]

    def _quality_row(self, metric: str, direction: str | None, percent: bool = False) -> Row | None:
        """One cell per system: mean and CI; rule pass rates as percentages, never starred."""
        values, cells = [], []
        digits = 2 if metric == "score" else None
        for group in self.groups:
            for col in group.columns:
                stat = self.stat(col.system, metric) if col.system else None
                mean, ci = _mean(stat), _ci(stat)
                values.append(mean)
                if percent:
                    cells.append(Cell(fmt.fmt_percent(mean, self.lang), low=mean is not None and mean < 1.0))
                    continue
                d = digits if digits is not None or mean is None else fmt.auto_digits(mean)
                ci_text = f"[{fmt.fmt_number(ci[0], self.lang, d)}–{fmt.fmt_number(ci[1], self.lang, d)}]" if ci else ""
                cells.append(Cell(fmt.fmt_number(mean, self.lang, d), ci_text))
        if all(v is None for v in values):
            return None
        for cell, best in zip(cells, mark_best(values, direction)):
            cell.best = best
        return Row(metric, self.metric_label(metric), cells, direction, emphasis=metric == "score")

    def table(self) -> list[RowGroup]:
        """Row groups of the quantitative table: training, quality, rules, other."""
        keys = self.metric_keys()
        quality = [r for m in QUALITY_METRICS if m in keys and (r := self._quality_row(m, "max"))]
        rules = [
            r
            for m in sorted(k for k in keys if k.startswith("rule:"))
            if (r := self._quality_row(m, None, percent=True))
        ]
        other = [
            r
            for m in keys
            if m not in QUALITY_METRICS and not m.startswith("rule:") and (r := self._quality_row(m, None))
        ]
        groups = [
            RowGroup(self.t["group_training"], self.training_rows(), training=True),
            RowGroup(self.t["group_quality"], quality),
            RowGroup(self.t["group_rules"], rules),
            RowGroup(self.t["group_other"], other),
        ]
        return [g for g in groups if g.rows]

    # ---- charts

    def charts(self) -> list[Markup]:
        decimal = "," if self.lang == "fr" else "."
        out = []
        for metric in CHART_METRICS:
            bars = []
            for col in self.columns:
                stat = self.stat(col.system, metric)
                mean = _mean(stat)
                if mean is not None:
                    text = fmt.fmt_number(mean, self.lang, 2 if metric == "score" else 3)
                    bars.append(Bar(col.system, mean, _ci(stat), col.kind, text))
            if not bars:
                continue
            top = max([b.value for b in bars] + [b.ci[1] for b in bars if b.ci])
            domain = 10.0 if metric == "score" else max(1.0, math.ceil(top))
            out.append(bar_chart(bars, title=self.metric_label(metric), domain_max=domain, decimal=decimal))
        return out

    def legend(self) -> Markup:
        return kind_legend([(k, self.kind_label(k) or "?") for k in self.kinds])

    # ---- questions

    def questions(self) -> list[QuestionView]:
        order: dict[str, list[dict[str, Any]]] = {}
        for case in self.merged.cases:
            order.setdefault(str(case["id"]), []).append(case)
        col_of = {c.system: c for c in self.columns}
        col_rank = {c.system: i for i, c in enumerate(self.columns)}
        views = []
        for qid, cases in order.items():
            anchor = self.question_index[qid]
            question = next((c["question"] for c in cases if c.get("question")), "")
            reference = next((c["reference"] for c in cases if c.get("reference")), "")
            cases = sorted(cases, key=lambda c: col_rank.get(str(c["system"]), len(col_rank)))
            rows: dict[str, list[AnswerView]] = {}
            for case in cases:
                column = col_of[str(case["system"])]
                rows.setdefault(column.model, []).append(self._answer(case, column))
            answers = [a for row in rows.values() for a in row]
            n_err = sum(1 for a in answers for r in a.failed if r.severity == "error")
            n_warn = sum(1 for a in answers for r in a.failed if r.severity == "warning")
            views.append(QuestionView(anchor, qid, question, reference, list(rows.values()), n_err, n_warn))
        return views

    def _answer(self, case: dict[str, Any], column: Column) -> AnswerView:
        rules = [r for r in case.get("rules") or [] if isinstance(r, dict)]
        failed, passed = [], []
        for rule in rules:
            name = str(rule.get("name", "?"))
            if rule.get("passed") is False:
                severity = rule.get("severity") if rule.get("severity") in SEVERITY_ICON else "error"
                message = rule.get("message")
                failed.append(RuleView(name, SEVERITY_ICON[severity], severity, str(message) if message else ""))
            else:
                passed.append(name)
        failed.sort(key=lambda r: ("error", "warning", "info").index(r.severity))
        answer = case.get("answer")
        score = fmt.as_number(case.get("score"))
        return AnswerView(
            column=column,
            slot=self.kinds.index(column.kind) + 1,
            html=highlight_answer(answer or "", rules),
            missing=not answer,
            score_text=fmt.fmt_number(score, self.lang, 1),
            score_class=_score_class(score),
            failed=failed,
            passed=passed,
        )

    # ---- winner and why

    def winner(self) -> WinnerView | None:
        scored = [(c, self.stat(c.system, "score")) for c in self.columns]
        ranked = sorted(
            [(c, s) for c, s in scored if _mean(s) is not None], key=lambda cs: -(_mean(cs[1]) or 0.0)
        )
        if not ranked:
            return None
        lang = self.lang
        (win, wstat) = ranked[0]
        wmean, wci = _mean(wstat) or 0.0, _ci(wstat)
        ci_label = "IC95" if lang == "fr" else "95% CI"
        ci_text = f" ({ci_label} {fmt.fmt_number(wci[0], lang, 2)}–{fmt.fmt_number(wci[1], lang, 2)})" if wci else ""
        view = WinnerView(sentence=Markup(""))
        if len(ranked) == 1:
            view.sentence = Markup(self.t["winner_alone"]).format(
                system=Markup("<strong>{}</strong>").format(win.system),
                score=fmt.fmt_number(wmean, lang, 2),
                ci=ci_text,
            )
        else:
            run, rstat = ranked[1]
            rmean, rci = _mean(rstat) or 0.0, _ci(rstat)
            view.runner = run.system
            margin = wmean - rmean
            key = "winner_tie" if math.isclose(margin, 0.0, abs_tol=1e-9) else "winner_sentence"
            view.sentence = Markup(self.t[key]).format(
                system=Markup("<strong>{}</strong>").format(win.system),
                score=fmt.fmt_number(wmean, lang, 2),
                ci=ci_text,
                margin=fmt.fmt_number(margin, lang, 2),
                runner=Markup("<strong>{}</strong>").format(run.system),
                runner_score=fmt.fmt_number(rmean, lang, 2),
            )
            n = wstat.get("n") if isinstance(wstat, dict) else None
            if wci and rci:
                overlap = wci[0] <= rci[1] and rci[0] <= wci[1]
                view.ci_sentence = self.t["ci_overlap" if overlap else "ci_separate"].format(
                    n=n if isinstance(n, int) else "?"
                )
            else:
                view.ci_sentence = self.t["ci_unknown"]
            view.why_rows = self._why_rows(win.system, run.system)
        view.per_model = self._best_per_model()
        view.loss_sentence, view.loss_predictive = self._loss_finding()
        return view

    def _why_rows(self, win: str, run: str) -> list[tuple[str, str, str, str, bool]]:
        metrics = list(WHY_METRICS) + sorted(k for k in self.metric_keys() if k.startswith("rule:"))
        rows = []
        for metric in metrics:
            a, b = _mean(self.stat(win, metric)), _mean(self.stat(run, metric))
            if a is None or b is None:
                continue
            if metric.startswith("rule:"):
                if math.isclose(a, b):
                    continue  # identical pass rates explain nothing
                texts = (fmt.fmt_percent(a, self.lang), fmt.fmt_percent(b, self.lang))
                delta = fmt.fmt_signed(100 * (a - b), self.lang, 1) + " pts"
            else:
                texts = (fmt.fmt_number(a, self.lang), fmt.fmt_number(b, self.lang))
                delta = fmt.fmt_signed(a - b, self.lang)
            rows.append((self.metric_label(metric), texts[0], texts[1], delta, a > b))
        return rows

    def _best_per_model(self) -> list[Markup]:
        out = []
        for group in self.groups:
            scored = [(c, _mean(self.stat(c.system, "score"))) for c in group.columns if c.system]
            scored = [(c, s) for c, s in scored if s is not None]
            if scored:
                col, score = max(scored, key=lambda cs: cs[1])
                out.append(
                    Markup(self.t["per_model_item"]).format(
                        model=Markup("<strong>{}</strong>").format(group.model),
                        kind=col.kind_label,
                        score=fmt.fmt_number(score, self.lang, 2),
                    )
                )
        return out

    def _loss_finding(self) -> tuple[Markup | None, bool | None]:
        """The seed's finding: does training loss rank the models like answer quality?"""
        for kind in TRAINED_KINDS:
            pairs = []
            for model, metrics in self.merged.training.items():
                loss = fmt.as_number((metrics or {}).get("train_loss"))
                score = _mean(self.stat(f"{model}/{kind}", "score"))
                if loss is not None and score is not None:
                    pairs.append((model, loss, score))
            if len(pairs) < 2:
                continue
            by_loss = [m for m, _, _ in sorted(pairs, key=lambda p: p[1])]
            by_score = [m for m, _, _ in sorted(pairs, key=lambda p: -p[2])]
            lang = self.lang
            loss_order = " < ".join(
                f"{m} ({fmt.fmt_number(loss, lang)})" for m, loss, _ in sorted(pairs, key=lambda p: p[1])
            )
            score_order = " > ".join(
                f"{m} ({fmt.fmt_number(score, lang, 2)}/10)" for m, _, score in sorted(pairs, key=lambda p: -p[2])
            )
            kind_label = self.kind_label(kind)
            if by_loss != by_score:
                return (
                    Markup(self.t["loss_not_predictive"]).format(
                        loss_order=loss_order, score_order=score_order, kind=kind_label
                    ),
                    False,
                )
            return Markup(self.t["loss_consistent"]).format(order=", ".join(by_score), kind=kind_label), True
        return None, None

    # ---- regression

    def regression(self) -> list[RegressionView]:
        lang = self.lang
        views = []
        for model, reg in self.merged.regression.items():
            rows = []
            for row in reg.get("rows") or []:
                metric = str(row.get("metric", "?"))
                verdict = row.get("verdict") if row.get("verdict") in ("ok", "regressed", "improved") else "ok"
                rows.append(
                    RegressionRowView(
                        system=str(row.get("system", "")),
                        metric=self.metric_label(metric),
                        baseline=fmt.fmt_number(row.get("baseline"), lang),
                        current=fmt.fmt_number(row.get("current"), lang),
                        delta=fmt.fmt_signed(row.get("delta"), lang),
                        p_value=fmt.fmt_p_value(row.get("p_value"), lang),
                        verdict=verdict,
                        verdict_label=self.t[f"v_{verdict}"],
                    )
                )
            rows.sort(key=lambda r: ("regressed", "improved", "ok").index(r.verdict))
            failures = [
                (
                    str(f.get("id", "")),
                    self.question_index.get(str(f.get("id", "")), ""),
                    str(f.get("system", "")),
                    str(f.get("rule", "")),
                )
                for f in reg.get("new_rule_failures") or []
            ]
            if isinstance(reg.get("failed"), bool):
                failed = reg["failed"]
            else:  # results written before the failed flag: any regression or flip counted
                failed = any(r.verdict == "regressed" for r in rows) or bool(failures)
            env_note = ""
            if reg.get("key"):
                env_note = self.t["env_exact" if reg.get("exact") else "env_nearest"].format(
                    key=reg.get("key"), baseline_key=reg.get("baseline_key", "?"))
            summary = Markup(self.t["reg_failed" if failed else "reg_passed"]).format(
                model=Markup("<strong>{}</strong>").format(model)
            )
            views.append(
                RegressionView(
                    model=model,
                    baseline=str(reg.get("baseline", "")),
                    source=self.merged.regression_source.get(model, ""),
                    failed=failed,
                    summary=summary,
                    baseline_text=Markup(self.t["baseline_is"]).format(
                        path=Markup("<code>{}</code>").format(reg.get("baseline", ""))
                    ),
                    rows=rows,
                    new_rule_failures=failures,
                    environment_note=env_note,
                    flips_fatal=bool(reg.get("strict")),
                )
            )
        return views

    # ---- configuration and sources

    def sources(self) -> list[SourceView]:
        views = []
        for src in self.merged.sources:
            run = src.data.get("run") or {}
            systems = [s for s, label in self.merged.system_source.items() if label == src.label]
            views.append(
                SourceView(
                    label=src.label,
                    started=fmt.fmt_timestamp(run.get("started", run.get("created"))),
                    finished=fmt.fmt_timestamp(run.get("finished")),
                    profile=fmt.fmt_plain(run.get("profile"), self.lang),
                    systems=systems,
                    n_cases=len(src.data.get("cases") or []),
                    incomplete=run.get("incomplete") is True,
                )
            )
        return views

    def replaced(self) -> list[Markup]:
        return [
            Markup(self.t["replaced"]).format(system=Markup("<code>{}</code>").format(s), old=old, new=new)
            for s, old, new in self.merged.replaced
        ]

    def _config_items(self, run: dict[str, Any]) -> list[tuple[str, str, str]]:
        """``(group, label, value)`` triples of one run's configuration."""
        lang = self.lang
        t = self.t
        items: list[tuple[str, str, str]] = []

        def add(group: str, label: str, value: Any) -> None:
            if value is not None and value != "" and value != [] and value != {}:
                items.append((group, label, fmt.fmt_plain(value, lang)))

        models = run.get("models")
        add("cfg_models_data", t["models"], ", ".join(map(str, models)) if isinstance(models, list) else models)
        add("cfg_models_data", t["profile"], run.get("profile"))
        dataset = run.get("dataset") if isinstance(run.get("dataset"), dict) else {}
        add("cfg_models_data", t["dataset"], dataset.get("path"))
        sha = dataset.get("sha256")
        add("cfg_models_data", t["dataset_sha256"], sha[:16] + "…" if isinstance(sha, str) and len(sha) > 16 else sha)
        add("cfg_models_data", t["dataset_n"], dataset.get("n", run.get("n_golden")))
        catalog = _dict(run.get("catalog"))
        add("cfg_models_data", t["catalog"], catalog.get("path"))
        sha = catalog.get("sha256")
        add("cfg_models_data", t["catalog_sha256"], sha[:16] + "…" if isinstance(sha, str) and len(sha) > 16 else sha)
        recipe = _dict(run.get("recipe"))
        add("cfg_models_data", t["recipe"], ", ".join(f"{k}={v}" for k, v in recipe.items() if v is not None))
        env = _dict(run.get("environment"))
        add("cfg_machine", t["environment_key"], env.get("key"))
        for key, value in _dict(run.get("hyperparameters")).items():
            add("cfg_hyperparameters", str(key), value)
        machine = _dict(run.get("machine"))
        labels = {"platform": t["platform"], "cpu": t["cpu"], "cores": t["cores"], "cpus": t["cores"],
                  "torch": t["torch"], "device": t["device"]}
        for key in sorted(machine, key=lambda k: list(labels).index(k) if k in labels else len(labels)):
            add("cfg_machine", labels.get(key, str(key)), machine[key])
        for key, value in _dict(run.get("versions")).items():
            add("cfg_versions", str(key), value)
        items += self._scoring_items(_dict(run.get("scoring")))
        return items

    def _scoring_items(self, scoring: dict[str, Any]) -> list[tuple[str, str, str]]:
        """The scorer's setup: encoder, weights, penalties, and one row per rule.

        Accepts the flat form (``bertscore_model``, ``weights``, ``rules`` as a list)
        and the nested one (``bertscore`` and ``quality`` objects, ``rules`` by name).
        """
        lang, t = self.lang, self.t
        items: list[tuple[str, str, str]] = []

        def add(group: str, label: str, value: Any) -> None:
            if value is not None and value != "" and value != [] and value != {}:
                items.append((group, label, fmt.fmt_plain(value, lang)))

        def pairs(d: dict[str, Any]) -> str:
            return ", ".join(f"{k} = {fmt.fmt_plain(v, lang)}" for k, v in d.items())

        encoder = _dict(scoring.get("bertscore"))
        name = scoring.get("bertscore_model") or encoder.get("name") or encoder.get("model_type")
        source = encoder.get("source")
        add("cfg_scoring", t["bertscore_model"], f"{name} ({source})" if name and source else name)
        add("cfg_scoring", t["bertscore_layers"], scoring.get("bertscore_layers", encoder.get("num_layers")))
        quality = _dict(scoring.get("quality"))
        weights = _dict(scoring.get("weights")) or _dict(quality.get("weights"))
        add("cfg_scoring", t["weights"], pairs(weights) if weights else None)
        penalties = _dict(quality.get("penalties"))
        add("cfg_scoring", t["penalties"], pairs(penalties) if penalties else None)
        for key, value in quality.items():
            if key not in ("weights", "penalties"):
                add("cfg_scoring", str(key), pairs(value) if isinstance(value, dict) else value)
        for key, value in scoring.items():
            if key not in ("bertscore", "bertscore_model", "bertscore_layers", "weights", "quality", "rules"):
                add("cfg_scoring", str(key), pairs(value) if isinstance(value, dict) else value)
        rules = scoring.get("rules")
        if isinstance(rules, dict):
            for rule_name, setup in rules.items():
                add("cfg_rules", str(rule_name), _rule_setup_text(setup, lang))
        elif isinstance(rules, list):
            for rule in rules:
                if isinstance(rule, dict) and "name" in rule:
                    add("cfg_rules", str(rule["name"]), _rule_setup_text(rule, lang))
                else:
                    add("cfg_rules", fmt.fmt_plain(rule, lang), "✓")
        return items

    def config(self) -> list[ConfigGroup]:
        per_source = [self._config_items(_dict(s.data.get("run"))) for s in self.merged.sources]
        order: dict[tuple[str, str], None] = {}
        for items in per_source:
            for group, label, _ in items:
                order.setdefault((group, label), None)
        lookup = [{(g, lab): v for g, lab, v in items} for items in per_source]
        groups: dict[str, list[ConfigRow]] = {}
        for group, label in order:
            values = [values.get((group, label), fmt.MISSING) for values in lookup]
            groups.setdefault(group, []).append(ConfigRow(label, values))
        titles = ("cfg_models_data", "cfg_hyperparameters", "cfg_machine", "cfg_versions", "cfg_scoring", "cfg_rules")
        return [ConfigGroup(g, self.t[g], groups[g]) for g in titles if g in groups]

    # ---- performance

    def perf(self) -> list[PerfView]:
        views = []
        for src in self.merged.sources:
            perf = src.data.get("perf")
            if isinstance(perf, dict) and perf:
                views.append(PerfView(src.label, _perf_tables(perf, self.t, self.lang)))
        return views


    def calibration(self) -> list[tuple[str, str, str, bool]]:
        """Rows ``(change, result, target, met)`` of the gate calibration (``make calibrate``), if any."""
        cal = next((src.data["calibration"] for src in self.merged.sources
                    if isinstance(src.data.get("calibration"), dict)), None)
        if not cal:
            return []
        summary = _dict(cal.get("summary"))
        met = _dict(summary.get("met"))
        benign = _dict(summary.get("benign"))
        rows = []
        if benign.get("runs"):
            rows.append((self.t["cal_benign"], f"{benign.get('false_alarms')}/{benign.get('runs')}",
                         "≤ 5 %", bool(met.get("false_alarms"))))
        for how, d in _dict(summary.get("degradations")).items():
            d = _dict(d)
            rows.append((how, f"{d.get('detected')}/{d.get('runs')}", "≥ 90 %", bool(met.get(how))))
        return rows


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _rule_setup_text(setup: Any, lang: str) -> str:
    """``{"severity": "error", "args": {"ngram": 4}}`` -> ``'error · ngram=4'`` (unset arguments left out)."""
    if not isinstance(setup, dict):
        return fmt.fmt_plain(setup, lang)
    args = setup.get("args") if isinstance(setup.get("args"), dict) else {
        k: v for k, v in setup.items() if k not in ("name", "severity", "args")
    }
    parts = [str(setup["severity"])] if setup.get("severity") else []
    shown = ", ".join(f"{k}={fmt.fmt_plain(v, lang)}" for k, v in args.items() if v is not None)
    if shown:
        parts.append(shown)
    return " · ".join(parts) or "✓"


def _cell(value: Any, lang: str) -> tuple[str, bool]:
    return fmt.fmt_plain(value, lang), fmt.as_number(value) is not None


def _perf_tables(perf: dict[str, Any], t: dict[str, str], lang: str) -> list[TableView]:
    """Each key of ``perf`` as a table: a list of objects, an object, or one value."""
    tables = []
    scalars = []
    for key, value in perf.items():
        if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
            columns: dict[str, None] = {}
            for row in value:
                for col in row:
                    columns.setdefault(str(col), None)
            rows = [[_cell(row.get(col), lang) for col in columns] for row in value]
            tables.append(TableView(str(key), list(columns), rows))
        elif isinstance(value, dict):
            rows = [[(str(k), False), (fmt.fmt_plain(v, lang), False)] for k, v in value.items()]
            tables.append(TableView(str(key), [t["key"], t["value"]], rows))
        else:
            scalars.append([(str(key), False), (fmt.fmt_plain(value, lang), False)])
    if scalars:
        tables.insert(0, TableView("", [t["key"], t["value"]], scalars))
    return tables
