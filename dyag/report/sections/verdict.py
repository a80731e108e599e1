"""The top of the page: the verdict a reviewer reads first (:func:`dyag.summary.summarize`, the same one
``dyag summary`` and the CI step summary print): the gates that failed and why, how many passed, only the
rows that moved against the baseline, the winner, and each system's seen/paraphrase gap."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dyag.report import fmt


@dataclass
class FailedGate:
    gate: str
    system: str
    reason: str


@dataclass
class GapRow:
    system: str
    seen: str
    paraphrase: str
    gap: str
    wide: bool  # paraphrases recall less than half of what the seen questions recall


@dataclass
class VerdictView:
    status: str  # passed | failed | none
    headline: str
    failed_gates: list[FailedGate] = field(default_factory=list)
    passed_gates: int = 0
    compared: bool = False
    moved: list = field(default_factory=list)  # RegressionRow (dyag.report.sections.regression)
    gaps: list[GapRow] = field(default_factory=list)


def row_anchor(system: str, metric: str, split: str | None) -> str:
    """The id of a regression row in the report (``reg-<system>-<metric>[-<split>]``, safe characters)."""
    return "reg-" + re.sub(r"[^A-Za-z0-9_.-]+", "-", "-".join(x for x in (system, metric, split) if x))


def build(ctx, t) -> VerdictView:
    from dyag.summary import summarize

    lang, s = ctx.lang, summarize(ctx.results, ctx=ctx)
    if s.failed_gates or s.regression_failed:
        status = "failed"
    elif s.passed_gates or s.compared:
        status = "passed"
    else:
        status = "none"
    what = ", ".join(t[key].format(n=n) for key, n in (("n_failed_gates", len(s.failed_gates)),
                                                       ("n_regressions", len(s.regressions))) if n)
    headline = t[f"verdict_{status}"].format(what=what or t["n_regressions"].format(n=0), passed=len(s.passed_gates))
    view = VerdictView(status, headline, passed_gates=len(s.passed_gates), compared=s.compared)
    view.failed_gates = [FailedGate(g.gate, g.system, g.message) for g in s.failed_gates]
    from dyag.report.sections.regression import regression_row

    view.moved = [regression_row(r, t, lang) for r in s.moved]
    for system, facts in s.facts.items():
        seen, para = facts.get("seen"), facts.get("paraphrase")
        if seen is None or para is None:
            continue
        view.gaps.append(GapRow(system, fmt.fmt_number(seen, lang), fmt.fmt_number(para, lang),
                                fmt.fmt_signed(para - seen, lang), seen > 0 and para < seen / 2))
    return view
