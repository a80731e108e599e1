"""Memorisation vs generalisation: each system's fact recall and score per golden split (seen,
paraphrase, unseen, unknown), and the seen - paraphrase gap of fact recall."""

from __future__ import annotations

from dataclasses import dataclass

from dyag.report import fmt

#: The columns shown per split, in order.
SPLIT_COLUMNS = ("fact_recall", "score")


@dataclass
class SplitCell:
    values: list[str]  # one per SPLIT_COLUMNS
    n: int


@dataclass
class SplitRow:
    system: str
    cells: list[SplitCell | None]  # one per split
    gap: str  # seen - paraphrase fact recall, signed; "" when either is missing


@dataclass
class SplitsView:
    splits: list[str]
    columns: list[str]  # labels of SPLIT_COLUMNS
    rows: list[SplitRow]


def build(ctx, t) -> SplitsView | None:
    results, lang = ctx.results, ctx.lang
    splits = [s for s in results.split_names if any(s in by for by in results.splits.values())]
    if not splits:
        return None
    from dyag.report.i18n import metric_label

    rows = []
    for system in results.systems:
        by_split = results.splits.get(system)
        if not by_split:
            continue
        cells = []
        for split in splits:
            aggs = by_split.get(split)
            if not aggs or "score" not in aggs:
                cells.append(None)
                continue
            values = [fmt.fmt_number(aggs[c].mean if c in aggs else None, lang, 2) for c in SPLIT_COLUMNS]
            cells.append(SplitCell(values, aggs["score"].n))
        seen, para = results.mean(system, "fact_recall", "seen"), results.mean(system, "fact_recall", "paraphrase")
        gap = fmt.fmt_signed(seen - para, lang, 2) if seen is not None and para is not None else ""
        rows.append(SplitRow(system, cells, gap))
    sizes = {s: max((c.n for r in rows for c, sp in zip(r.cells, splits) if c and sp == s), default=0) for s in splits}
    return SplitsView([f"{t.get(f'split_{s}', s)} (n = {sizes[s]})" for s in splits],
                      [t.get(f"split_col_{c}", metric_label(t, c)) for c in SPLIT_COLUMNS], rows)
