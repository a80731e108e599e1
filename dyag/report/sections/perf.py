"""``make perf``'s figures, one block per results file that has them: the scalars first, then each
table (``pairs``, ``targets`` and any list of rows) and each figure (``machine``, ``settings`` and any
object) as a table of its own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dyag.report import fmt
from dyag.results import Perf


@dataclass
class PerfTable:
    title: str
    columns: list[str]
    rows: list[list[tuple[str, bool]]]  # (text, numeric)


@dataclass
class PerfView:
    source: str
    tables: list[PerfTable]


def _cell(value: Any, lang: str) -> tuple[str, bool]:
    return fmt.fmt_plain(value, lang), fmt.as_number(value) is not None


def _is_table(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(r, dict) for r in value)


def tables(perf: Perf, t: dict[str, str], lang: str) -> list[PerfTable]:
    """What the producer wrote (unset defaults left out), in the model's order then the extra keys'."""
    out, scalars = [], []
    for key, value in perf.model_dump(mode="json", exclude_unset=True).items():
        if _is_table(value):
            names = list(dict.fromkeys(str(col) for row in value for col in row))
            out.append(PerfTable(key, names, [[_cell(row.get(col), lang) for col in names] for row in value]))
        elif isinstance(value, dict):
            rows = [[(str(k), False), (fmt.fmt_plain(v, lang), False)] for k, v in value.items()]
            out.append(PerfTable(key, [t["key"], t["value"]], rows))
        else:
            scalars.append([(key, False), (fmt.fmt_plain(value, lang), False)])
    if scalars:
        out.insert(0, PerfTable("", [t["key"], t["value"]], scalars))
    return out


def build(ctx, t) -> list[PerfView]:
    views = [PerfView(label, tables(doc.perf, t, ctx.lang)) for label, doc in ctx.sources if doc.perf is not None]
    return [v for v in views if v.tables]
