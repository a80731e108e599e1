"""A compact per-system table of a results document, safe to print in a terminal.

The columns are the metric registry's labelled ones (:mod:`dyag.evaluation.registry`):
a metric registered with a ``label`` gets a column with no other edit.

>>> print(format_table(results))  # doctest: +SKIP
system                    n   score/10       BLEU  ROUGE-L  facts  BERTScore F1  rule failures
smollm2:135m/base        10  3.1 [2.2-4.0]   4.2   0.21     0.30   0.61          6E 3W
smollm2:135m/finetuned   10  6.4 [5.5-7.2]   18.9  0.45     0.70   0.78          1E 2W
BERTScore: all-MiniLM-L6-v2, layer 6
"""

from __future__ import annotations

from dyag.evaluation.registry import Column, column, columns
from dyag.results import Aggregate, Results
from dyag.utils.text import sanitize_terminal


def table_columns() -> list[Column]:
    """The registry's columns that have a terminal-table label, in registry order."""
    return [c for c in columns() if c.label]


def _cell(agg: Aggregate | None, col: Column) -> str:
    if agg is None or agg.mean is None:
        return "-"
    text = format(agg.mean, col.fmt)
    if col.name == "score" and agg.ci95:
        text += f" [{agg.ci95[0]:{col.fmt}}-{agg.ci95[1]:{col.fmt}}]"
    return text


def _rule_failures(results: Results, system: str) -> str:
    counts = {"error": 0, "warning": 0}
    for case in results.cases_of(system):
        for r in case.rules:
            if not r.passed and r.severity in counts:
                counts[r.severity] += 1
    return f"{counts['error']}E {counts['warning']}W"


def table_rows(results: Results) -> list[list[str]]:
    """One row of cells per system (strings, sanitized), in results order."""
    rows = []
    for system, agg in results.aggregates.items():
        n = agg["score"].n if "score" in agg else "-"
        rows.append([sanitize_terminal(system, single_line=True), str(n),
                     *[_cell(agg.get(c.name), c) for c in table_columns()], _rule_failures(results, system)])
    return rows


#: What the per-split table shows: the memorisation-vs-generalisation view.
SPLIT_COLUMNS = ("fact_recall", "score")


def split_lines(results: Results) -> list[str]:
    """Per system and split (seen / paraphrase / unseen / unknown): fact recall and score, and the
    seen - paraphrase gap of fact recall (memorised but not generalised). Empty without splits."""
    splits = [s for s in results.split_names if any(s in by for by in results.splits.values())]
    if not splits:
        return []
    header = ["system", *[f"{s} (n)" for s in splits], "seen-paraphrase gap"]
    rows = [header]
    for system, by_split in results.splits.items():
        cells = [sanitize_terminal(system, single_line=True)]
        for split in splits:
            aggs = by_split.get(split, {})
            n = aggs["score"].n if "score" in aggs else 0
            values = ["-" if aggs.get(name) is None or aggs[name].mean is None else format(aggs[name].mean, column(name).fmt)
                      for name in SPLIT_COLUMNS if column(name)]
            cells.append(f"{' / '.join(values)} ({n})" if n else "-")
        seen, para = results.mean(system, "fact_recall", "seen"), results.mean(system, "fact_recall", "paraphrase")
        cells.append(f"{seen - para:+.2f}" if seen is not None and para is not None else "-")
        rows.append(cells)
    shown = " / ".join(column(n).label or n for n in SPLIT_COLUMNS if column(n))
    return ["", f"per split ({shown}):"] + _aligned(rows)


def _aligned(rows: list[list[str]]) -> list[str]:
    """Rows of cells as lines, each column as wide as its widest cell."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]


def format_table(results: Results) -> str:
    """The per-system table (score with its 95% CI, then each labelled metric, failed rules as
    errors/warnings) and which encoder computed BERTScore."""
    header = ["system", "n", *[c.label for c in table_columns()], "rule failures"]
    lines = _aligned([header] + table_rows(results))
    encoder = results.run.scoring.bertscore if results.run.scoring else None
    if encoder:
        lines.append(sanitize_terminal(f"BERTScore: {encoder.get('name')}, layer {encoder.get('num_layers')}",
                                       single_line=True))
    lines += split_lines(results)
    missing = results.missing
    skipped = len(missing.unknown_ids) + sum(len(v) for v in missing.unanswered.values()) if missing else 0
    if skipped:
        lines.append(f"not scored: {skipped} prediction(s)/case(s) without a counterpart (see results.missing)")
    return "\n".join(lines)
