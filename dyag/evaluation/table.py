"""A compact per-system table of a results object, safe to print in a terminal.

>>> print(format_table(results))  # doctest: +SKIP
system                    n  score/10        BLEU  ROUGE-L  BERTScore F1  facts  rule failures
smollm2:135m/base        10  3.1 [2.2-4.0]   4.2   0.21     0.61          0.30   6E 3W
smollm2:135m/finetuned   10  6.4 [5.5-7.2]   18.9  0.45     0.78          0.70   1E 2W
BERTScore: all-MiniLM-L6-v2, layer 6
"""

from __future__ import annotations

from typing import Mapping

from dyag.utils.text import sanitize_terminal

COLUMNS = ("system", "n", "score/10", "BLEU", "ROUGE-L", "BERTScore F1", "facts", "rule failures")


def _mean(agg: Mapping, name: str, fmt: str) -> str:
    entry = agg.get(name)
    if not entry or entry.get("mean") is None:
        return "-"
    return format(entry["mean"], fmt)


def _score(agg: Mapping) -> str:
    entry = agg.get("score")
    if not entry or entry.get("mean") is None:
        return "-"
    ci = entry.get("ci95")
    return f"{entry['mean']:.1f}" + (f" [{ci[0]:.1f}-{ci[1]:.1f}]" if ci else "")


def _rule_failures(results: Mapping, system: str) -> str:
    counts = {"error": 0, "warning": 0}
    for case in results.get("cases", []):
        if case.get("system") == system:
            for r in case.get("rules", []):
                if not r.get("passed") and r.get("severity") in counts:
                    counts[r["severity"]] += 1
    return f"{counts['error']}E {counts['warning']}W"


def table_rows(results: Mapping) -> list[list[str]]:
    """One row of cells per system (strings, sanitized), in results order."""
    rows = []
    for system, agg in results.get("aggregates", {}).items():
        n = (agg.get("score") or {}).get("n", "-")
        bleu = _mean(agg, "corpus_bleu", ".1f") if "corpus_bleu" in agg else _mean(agg, "bleu", ".1f")
        rows.append([
            sanitize_terminal(system, single_line=True), str(n), _score(agg), bleu,
            _mean(agg, "rougeL", ".2f"), _mean(agg, "bertscore_f1", ".2f"), _mean(agg, "fact_recall", ".2f"),
            _rule_failures(results, system),
        ])
    return rows


def format_table(results: Mapping) -> str:
    """The per-system table (score with its 95% CI, corpus BLEU, ROUGE-L, BERTScore F1,
    fact recall, failed rules as errors/warnings) and which encoder computed BERTScore."""
    rows = [list(COLUMNS)] + table_rows(results)
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
    encoder = ((results.get("run") or {}).get("scoring") or {}).get("bertscore")
    if encoder:
        lines.append(sanitize_terminal(f"BERTScore: {encoder.get('name')}, layer {encoder.get('num_layers')}",
                                       single_line=True))
    missing = results.get("missing") or {}
    skipped = len(missing.get("unknown_ids", [])) + sum(len(v) for v in missing.get("unanswered", {}).values())
    if skipped:
        lines.append(f"not scored: {skipped} prediction(s)/case(s) without a counterpart (see results['missing'])")
    return "\n".join(lines)
