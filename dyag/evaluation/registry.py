"""The metric registry: a metric is one registered function, and everything else follows.

``@metric`` registers a function computing one answer's value (or several named values)
with how to read it: which direction is better, how far its mean may drop before the
regression comparison calls it a regression, whether the report charts it, and the label
of its terminal-table column. The scorer, the results' aggregates, the terminal table,
the HTML report and the regression tolerances all read this registry.

>>> @metric("answer_words", direction="min", tolerance=5.0, label="words", fmt=".0f")
... def answer_words(answer, case):
...     return float(len(answer.split()))
>>> column("answer_words").tolerance, "answer_words" in metric_names()
(5.0, True)
>>> unregister("answer_words")

A family computing several values names them with ``columns``, e.g. ROUGE's
``rouge1``, ``rouge2`` and ``rougeL``. The quality score (``score``) and corpus BLEU
are columns too, computed by the scorer rather than per answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from dyag.errors import DyagError

DIRECTIONS = ("max", "min", None)


@dataclass(frozen=True)
class Column:
    """One value of the results' ``metrics`` (and of the aggregates): how it is read."""

    name: str
    direction: str | None = "max"  # "max": higher is better; "min": lower is better; None: informative
    tolerance: float = 0.05  # how far the mean may move the wrong way before it can regress (metric's unit)
    chart: bool = False  # drawn in the report's charts
    label: str | None = None  # terminal-table header; None: not a terminal-table column
    fmt: str = ".2f"
    percent: bool = False  # shown as a percentage in the report
    per_case: bool = True  # False: an aggregate-only value (corpus BLEU), no per-case test

    def __post_init__(self):
        if self.direction not in DIRECTIONS:
            raise DyagError(f"metric {self.name!r}: direction must be 'max', 'min' or None, got {self.direction!r}")


@dataclass(frozen=True)
class Metric:
    """A registered family: ``compute(answer, case)`` -> a value, or ``{column: value}``.

    ``batched`` families compute ``compute(answers, cases, options)`` -> ``(rows, info)``
    over every answer at once (BERTScore loads an encoder), ``info`` going to
    ``run.scoring``. ``default`` families run unless the caller names others.
    """

    name: str
    compute: Callable | None
    columns: tuple[Column, ...]
    batched: bool = False
    default: bool = True


_METRICS: dict[str, Metric] = {}
_COLUMNS: dict[str, Column] = {}
_ORDER: list[str] = []  # column order: the terminal table's and the report's


def _register(family: Metric) -> None:
    _ensure_builtins()
    _add(family)


def _add(family: Metric) -> None:
    taken = [c.name for c in family.columns if c.name in _COLUMNS and _owner(c.name) != family.name]
    if taken:
        raise DyagError(f"metric column(s) {', '.join(taken)} already registered")
    unregister(family.name)
    _METRICS[family.name] = family
    for col in family.columns:
        _COLUMNS[col.name] = col
        _ORDER.append(col.name)


def _owner(column_name: str) -> str | None:
    return next((m.name for m in _METRICS.values() if any(c.name == column_name for c in m.columns)), None)


def metric(name: str, direction: str | None = "max", tolerance: float = 0.05, *, chart: bool = False,
           label: str | None = None, fmt: str = ".2f", percent: bool = False,
           columns: Iterable[Column] | None = None, batched: bool = False, default: bool = True):
    """Register the decorated function as metric family ``name`` (one column of that name,
    unless ``columns`` names several)."""

    def decorate(fn: Callable) -> Callable:
        cols = tuple(columns) if columns is not None else (
            Column(name, direction, tolerance, chart, label, fmt, percent),)
        _register(Metric(name, fn, cols, batched=batched, default=default))
        return fn

    return decorate


def register_column(col: Column, *, family: str | None = None) -> Column:
    """A column computed by the scorer itself (``score``, ``corpus_bleu``), not per answer."""
    _register(Metric(family or col.name, None, (col,), default=False))
    return col


def unregister(name: str) -> None:
    """Remove family ``name`` and its columns (tests register metrics of their own)."""
    family = _METRICS.pop(name, None)
    for col in family.columns if family else ():
        _COLUMNS.pop(col.name, None)
        _ORDER.remove(col.name)


def families(names: Iterable[str] | None = None) -> list[Metric]:
    """The families to compute: ``names`` in order (unknown ones are a one-line error), else the defaults."""
    _ensure_builtins()
    if names is None:
        return [m for m in _METRICS.values() if m.default and m.compute is not None]
    names = list(names)
    known = [n for n, m in _METRICS.items() if m.compute is not None]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise DyagError(f"unknown metric(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return [_METRICS[n] for n in names]


def metric_names() -> list[str]:
    """Every registered family that computes per answer (what ``--metrics`` accepts)."""
    _ensure_builtins()
    return [n for n, m in _METRICS.items() if m.compute is not None]


def column(name: str) -> Column | None:
    """How column ``name`` is read; ``rule:<name>`` pass rates and unknown names get None."""
    _ensure_builtins()
    return _COLUMNS.get(name)


def columns() -> list[Column]:
    """Every column in registration order (score first)."""
    _ensure_builtins()
    return [_COLUMNS[n] for n in _ORDER]


#: Tolerances of what the registry does not name: rule pass rates, and anything else.
RULE_TOLERANCE = 0.1
OTHER_TOLERANCE = 0.05


def tolerances() -> dict[str, float]:
    """``{column: tolerance}`` plus ``rule:*`` and ``*``: the regression comparison's defaults."""
    return {**{c.name: c.tolerance for c in columns()}, "rule:*": RULE_TOLERANCE, "*": OTHER_TOLERANCE}


_builtins_loaded = False


def _ensure_builtins() -> None:
    """Register dyag's own metrics (:data:`dyag.evaluation.builtin_metrics.BUILTINS`) on first use of
    the registry, before any other (so they lead the table).

    The one place the registry reads that module, and it is read here, when used: the module imports
    this one's classes and registers nothing itself, so neither can find the other half-imported. When
    the import or a registration fails, the error is raised and the next use tries again (a family
    registered twice replaces itself).
    """
    global _builtins_loaded
    if _builtins_loaded:
        return
    from dyag.evaluation.builtin_metrics import BUILTINS

    for family in BUILTINS:
        _add(family)
    _builtins_loaded = True
