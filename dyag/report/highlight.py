"""Highlight the passages of an answer that failed rules, without trusting the answer.

The answer is cut at the span boundaries and every piece is escaped on its
own; only the ``<mark>`` tags are markup. A span is ``[start, end)`` in
characters of the answer; spans that overlap are merged, spans that fall
outside the answer are clipped, and malformed spans are ignored.

>>> str(highlight_answer("a <b> c", [{"name": "r", "passed": False, "severity": "error", "span": [2, 5]}]))
'a <mark class="sev-error" title="r">&lt;b&gt;</mark> c'
"""

from __future__ import annotations

from typing import Any, Iterable

from markupsafe import Markup, escape

SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}


def _span_of(rule: dict[str, Any], length: int) -> tuple[int, int] | None:
    span = rule.get("span")
    if not isinstance(span, (list, tuple)) or len(span) != 2:
        return None
    start, end = span
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
        return None
    start, end = max(0, start), min(length, end)
    return (start, end) if start < end else None


def failed_spans(rules: Iterable[Any], length: int) -> list[tuple[int, int, str, list[str]]]:
    """Merged ``(start, end, worst_severity, rule_names)`` of the failed rules' spans."""
    raw = []
    for rule in rules:
        if not isinstance(rule, dict) or rule.get("passed") is not False:
            continue
        span = _span_of(rule, length)
        if span:
            severity = rule.get("severity") if rule.get("severity") in SEVERITY_RANK else "error"
            raw.append((span[0], span[1], severity, str(rule.get("name", "?"))))
    raw.sort()
    merged: list[tuple[int, int, str, list[str]]] = []
    for start, end, severity, name in raw:
        if merged and start < merged[-1][1]:
            m_start, m_end, m_sev, names = merged[-1]
            worst = min(m_sev, severity, key=SEVERITY_RANK.__getitem__)
            merged[-1] = (m_start, max(m_end, end), worst, names + [name] if name not in names else names)
        else:
            merged.append((start, end, severity, [name]))
    return merged


def highlight_answer(answer: str, rules: Iterable[Any]) -> Markup:
    """The escaped answer with each failed rule's span wrapped in ``<mark>``."""
    answer = answer or ""
    out = []
    pos = 0
    for start, end, severity, names in failed_spans(rules, len(answer)):
        out.append(escape(answer[pos:start]))
        out.append(
            Markup('<mark class="sev-{}" title="{}">{}</mark>').format(
                severity, ", ".join(names), answer[start:end]
            )
        )
        pos = end
    out.append(escape(answer[pos:]))
    return Markup("").join(out)
