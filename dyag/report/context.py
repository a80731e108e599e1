"""What every report section reads: the merged :class:`~dyag.results.Results`, the labelled
documents it was merged from, and the columns of the page (one per system, grouped by model).

>>> from dyag.results import Case, Results
>>> doc = Results(cases=[Case(id="q1", system="m/rag", answer="a", score=6.0),
...                      Case(id="q1", system="m/base", answer="b", score=2.0)])
>>> ctx = ReportContext.of([("r.json", doc)], lang="en")
>>> [c.system for c in ctx.columns], ctx.stat("m/rag", "score").mean
(['m/base', 'm/rag'], 6.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Sequence

from dyag import results as contract
from dyag.report import fmt
from dyag.report.charts import KIND_COLORS, OTHER_COLOR
from dyag.report.i18n import kind_label, strings
from dyag.results import Aggregate, Results
from dyag.system import System


@dataclass(frozen=True)
class Stat:
    """A system's mean of one column, with its 95% interval when known."""

    mean: float
    ci: tuple[float, float] | None = None
    n: int | None = None


@dataclass(frozen=True)
class SystemColumn:
    """One column of the page: a system, or a model measured in training only (``system == ""``)."""

    system: str
    model: str
    kind: str
    kind_label: str
    source: str
    color: str


@dataclass(frozen=True)
class ModelGroup:
    model: str
    columns: list[SystemColumn]
    training_source: str = ""


def _stat(agg: Aggregate) -> Stat | None:
    mean = fmt.as_number(agg.mean)
    if mean is None:
        return None
    lo, hi = agg.ci95 if agg.ci95 else (None, None)
    lo, hi = fmt.as_number(lo), fmt.as_number(hi)
    return Stat(mean, (lo, hi) if lo is not None and hi is not None and lo <= hi else None, agg.n)


def mark_best(values: list[float | None], direction: str | None) -> list[bool]:
    """Which values are the best of the row (ties all marked; nothing when all equal)."""
    present = [v for v in values if v is not None]
    if direction not in ("min", "max") or len(present) < 2:
        return [False] * len(values)
    best = min(present) if direction == "min" else max(present)
    if all(math.isclose(v, best, rel_tol=1e-9, abs_tol=1e-12) for v in present):
        return [False] * len(values)
    return [v is not None and math.isclose(v, best, rel_tol=1e-9, abs_tol=1e-12) for v in values]


@dataclass
class ReportContext:
    """The merged document, its labelled sources (``[(label, Results)]``), which source each
    system comes from, and the language."""

    results: Results
    sources: list[tuple[str, Results]]
    provenance: dict[str, str]
    lang: str

    @classmethod
    def of(cls, sources: Sequence[tuple[str, Results]], lang: str = "fr") -> "ReportContext":
        sources = list(sources)
        merged = contract.merge([doc for _, doc in sources])
        return cls(merged, sources, contract.provenance(sources), lang)

    @property
    def t(self) -> dict[str, str]:
        return strings(self.lang)

    @property
    def multi(self) -> bool:
        return len(self.sources) > 1

    # ---- where things come from

    @cached_property
    def systems(self) -> list[str]:
        return self.results.systems

    def _last_source(self, keys_of) -> dict[str, str]:
        out: dict[str, str] = {}
        for label, doc in self.sources:
            out.update(dict.fromkeys(keys_of(doc), label))
        return out

    @cached_property
    def training_source(self) -> dict[str, str]:
        return self._last_source(lambda doc: doc.training)

    @cached_property
    def regression_source(self) -> dict[str, str]:
        return self._last_source(lambda doc: doc.regression)

    @cached_property
    def replaced(self) -> list[tuple[str, str, str]]:
        """``(system, old label, new label)`` for each system a later document replaced."""
        seen: dict[str, str] = {}
        out = []
        for label, doc in self.sources:
            for system in doc.systems:
                if system in seen:
                    out.append((system, seen[system], label))
                seen[system] = label
        return out

    @cached_property
    def incomplete_sources(self) -> list[str]:
        return [label for label, doc in self.sources if doc.run.incomplete]

    # ---- statistics

    @cached_property
    def _stats(self) -> dict[tuple[str, str], Stat]:
        """``{(system, column): Stat}``: the aggregates, else the mean of the cases' values."""
        values: dict[tuple[str, str], list[float]] = {}
        for case in self.results.cases:
            names = [*case.metrics, "score", *(f"rule:{r.name}" for r in case.rules)]
            for name in names:
                x = fmt.as_number(case.value(name))
                if x is not None:
                    values.setdefault((case.system, name), []).append(x)
        stats = {key: Stat(sum(v) / len(v), None, len(v)) for key, v in values.items()}
        for system, columns in self.results.aggregates.items():
            for name, agg in columns.items():
                if (stat := _stat(agg)) is not None:
                    stats[(system, name)] = stat
        return stats

    def stat(self, system: str, name: str) -> Stat | None:
        return self._stats.get((system, name))

    def ranked(self, name: str) -> list[tuple[str, Stat]]:
        """``[(system, stat)]`` of the page's systems that have column ``name``, best mean first (the page's
        column order among ties): the winner and the runner-up, for the report and ``dyag summary``."""
        scored = [(c.system, self.stat(c.system, name)) for c in self.columns]
        return sorted([(s, stat) for s, stat in scored if stat is not None], key=lambda ss: -ss[1].mean)

    def mean(self, system: str, name: str) -> float | None:
        stat = self.stat(system, name)
        return stat.mean if stat else None

    @cached_property
    def metric_keys(self) -> list[str]:
        """Every column measured, in the order the documents name them."""
        keys: dict[str, None] = {}
        for system in self.systems:
            keys.update(dict.fromkeys(self.results.aggregates[system] if system in self.results.aggregates else ()))
            for case in self.results.cases_of(system):
                keys.update(dict.fromkeys([*case.metrics, "score", *(f"rule:{r.name}" for r in case.rules)]))
        return [k for k in keys if any((s, k) in self._stats for s in self.systems)]

    # ---- the columns of the page

    @cached_property
    def _model_order(self) -> list[str]:
        order: dict[str, None] = {}
        for _, doc in self.sources:
            order.update(dict.fromkeys(doc.run.models))
        order.update(dict.fromkeys(self.results.training))
        order.update(dict.fromkeys(System.parse(s).model for s in self.systems))
        return list(order)

    @cached_property
    def groups(self) -> list[ModelGroup]:
        t = self.t
        by_model: dict[str, list[tuple[str, System]]] = {}
        for name in self.systems:
            system = System.parse(name)
            by_model.setdefault(system.model, []).append((name, system))
        groups = []
        for model in self._model_order:
            systems = sorted(by_model.get(model, []), key=lambda ns: ns[1].sort_key)
            if not systems and model not in self.results.training:
                continue  # named in run.models but nothing measured
            columns = [
                SystemColumn(name, model, s.kind, kind_label(t, s.kind) or name, self.provenance[name],
                             KIND_COLORS.get(s.kind, OTHER_COLOR))
                for name, s in systems
            ] or [SystemColumn("", model, "", t["training_only"], "", OTHER_COLOR)]
            groups.append(ModelGroup(model, columns, self.training_source.get(model, "")))
        return groups

    @cached_property
    def columns(self) -> list[SystemColumn]:
        """The systems' columns, model by model, kinds in :attr:`System.sort_key` order."""
        return [c for g in self.groups for c in g.columns if c.system]

    @cached_property
    def kinds(self) -> list[str]:
        return sorted({c.kind for c in self.columns}, key=lambda k: System("", k).sort_key)

    @cached_property
    def question_anchors(self) -> dict[str, str]:
        """``{case id: "q-<n>"}`` in order of first appearance."""
        anchors: dict[str, str] = {}
        for case in self.results.cases:
            anchors.setdefault(case.id, f"q-{len(anchors) + 1}")
        return anchors
