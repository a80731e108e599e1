"""The verdict of a results document in a few lines: what ``dyag summary`` prints, and what the pytest
plugin writes to ``$GITHUB_STEP_SUMMARY`` and ``--dyag-summary``.

Four parts, each read from the one results document (:class:`dyag.results.Results`):

- **gates**: every gate outcome the built-in suites recorded (``Results.tests``, written through
  ``dyag_results.record(...)``): the failed ones with their one-line reason, the count of passed ones;
- **regressions**: only the rows that moved (``regressed`` or ``improved``), from the harness's
  comparison with the stored baseline (``Results.regression``), or from
  :func:`dyag.evaluation.compare.compare_to_baseline` against another results file;
- **winner**: the best system on the headline column ``score``, ranked as the HTML report ranks it
  (:class:`dyag.report.context.ReportContext`), with its 95% interval against the runner-up's;
- **per-split facts**: fact recall per system and golden split (``Results.splits``), and for the
  ``unknown`` split (questions with no facts to recall) the share of answers that admit not knowing.

>>> from dyag.results import Aggregate, Case, Results
>>> doc = Results(cases=[Case(id="q1", system="m/rag", answer="a", score=6.0),
...                      Case(id="q1", system="m/base", answer="b", score=2.0)])
>>> s = summarize(doc)
>>> s.passed, s.winner.system, s.winner.runner
(True, 'm/rag', 'm/base')
>>> print(to_text(s).splitlines()[0])
dyag: NO VERDICT: no gate recorded, no baseline compared
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dyag.results import ComparisonRow, Results, SPLIT_ORDER
from dyag.utils.text import sanitize_terminal

if TYPE_CHECKING:
    from dyag.evaluation.compare import Comparison
    from dyag.report.context import ReportContext

#: The headline column the winner is chosen on (the report's ``HEADLINE``).
PRIMARY = "score"
#: A failed gate's reason is cut to this many characters (the whole message is in the results and the log).
REASON_CHARS = 240
#: What the per-split table shows: fact recall where the split has facts, else whether the answer
#: admits not knowing (``unknown`` questions are about applications absent from the catalog).
SPLIT_COLUMNS = {"seen": "fact_recall", "paraphrase": "fact_recall", "unseen": "fact_recall",
                 "unknown": "rule:admits_unknown"}


@dataclass(frozen=True)
class GateResult:
    """One gate's outcome, as a suite recorded it (:class:`dyag.gates.GateOutcome`'s fields)."""

    gate: str
    system: str
    passed: bool
    message: str
    value: float | None = None
    limit: float | None = None
    baseline: float | None = None
    p_value: float | None = None
    test: str = ""


@dataclass(frozen=True)
class Winner:
    """The best system on :data:`PRIMARY`, and the runner-up (``None`` when it is alone)."""

    system: str
    mean: float
    ci: tuple[float, float] | None
    n: int | None
    runner: str | None = None
    runner_mean: float | None = None
    runner_ci: tuple[float, float] | None = None

    @property
    def margin(self) -> float | None:
        return None if self.runner_mean is None else self.mean - self.runner_mean

    @property
    def verdict(self) -> str:
        """``alone``, ``tie``, ``separate`` (the 95% intervals do not overlap), ``overlap`` or ``unknown``."""
        if self.runner is None:
            return "alone"
        if math.isclose(self.margin, 0.0, abs_tol=1e-9):
            return "tie"
        if self.ci is None or self.runner_ci is None:
            return "unknown"
        overlap = self.ci[0] <= self.runner_ci[1] and self.runner_ci[0] <= self.ci[1]
        return "overlap" if overlap else "separate"


@dataclass(frozen=True)
class Summary:
    """The verdict of one results document (see the module's docstring)."""

    source: str = ""
    failed_gates: list[GateResult] = field(default_factory=list)
    passed_gates: list[GateResult] = field(default_factory=list)
    compared: bool = False  # whether any baseline comparison exists (stored, or --baseline)
    baselines: list[str] = field(default_factory=list)
    moved: list[ComparisonRow] = field(default_factory=list)  # regressed first, then improved
    regression_failed: bool = False
    new_rule_failures: int = 0
    winner: Winner | None = None
    splits: list[str] = field(default_factory=list)
    facts: dict[str, dict[str, float | None]] = field(default_factory=dict)  # {system: {split: mean}}
    incomplete: bool = False
    report: str | None = None

    @property
    def regressions(self) -> list[ComparisonRow]:
        return [r for r in self.moved if r.verdict == "regressed"]

    @property
    def passed(self) -> bool:
        return not self.failed_gates and not self.regression_failed

    @property
    def judged(self) -> bool:
        """Whether anything was judged: a gate recorded, or a baseline compared (else there is no verdict)."""
        return bool(self.failed_gates or self.passed_gates or self.compared)

    @property
    def status(self) -> str:
        """``PASSED``, ``FAILED``, or ``NO VERDICT`` when nothing was judged (a run without gates or baseline)."""
        return "FAILED" if not self.passed else "PASSED" if self.judged else "NO VERDICT"

    def headline(self) -> str:
        """``PASSED: 14 gates passed, no significant regression`` or ``FAILED: 2 of 14 gates failed, ...``."""
        n_gates = len(self.failed_gates) + len(self.passed_gates)
        if not n_gates:
            gates = "no gate recorded"
        elif self.failed_gates:
            gates = f"{len(self.failed_gates)} of {n_gates} gate{'s' * (n_gates != 1)} failed"
        else:
            gates = f"{n_gates} gate{'s' * (n_gates != 1)} passed"
        n_reg = len(self.regressions)
        if not self.compared:
            reg = "no baseline compared"
        elif n_reg:
            reg = f"{n_reg} significant regression{'s' * (n_reg != 1)}"
        elif self.regression_failed:
            reg = f"{self.new_rule_failures} rule(s) newly failing (strict)"
        else:
            reg = "no significant regression"
        return f"{self.status}: {gates}, {reg}" + (" (incomplete run)" if self.incomplete else "")


# --- building the summary ----------------------------------------------------------------------


def _number(x: Any) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) else None


def _gate(data: dict, test: str) -> GateResult:
    return GateResult(gate=str(data.get("gate", "?")), system=str(data.get("system", "")), passed=bool(data["passed"]),
                      message=str(data.get("message", "")), value=_number(data.get("value")),
                      limit=_number(data.get("limit")), baseline=_number(data.get("baseline")),
                      p_value=_number(data.get("p_value")), test=test)


def _param(nodeid: str) -> str:
    """``test_x[smollm2:135m]`` -> ``smollm2:135m``."""
    match = re.search(r"\[(.*)\]$", nodeid)
    return match.group(1) if match else ""


def gate_results(results: Results) -> list[GateResult]:
    """The gate outcomes the built-in suites recorded: one per rule or floor gate, one per outcome of
    ``split_floors`` and ``finetuned_beats_base``, and the baseline comparison as gate ``no_regression``."""
    out = []
    for record in results.tests:
        data = record.model_dump()
        if "passed" in data and "gate" in data:
            out.append(_gate(data, record.test))
        elif isinstance(data.get("outcomes"), list):
            out += [_gate(o, record.test) for o in data["outcomes"] if isinstance(o, dict) and "passed" in o]
        elif "failed" in data and "baseline" in data:
            n = data.get("regressions") or 0
            message = (f"{n} significant regression(s) against {data['baseline']}" if n else
                       f"rules newly failing against {data['baseline']} (strict)" if data["failed"] else
                       f"no significant regression against {data['baseline']}")
            out.append(GateResult("no_regression", _param(record.test), not data["failed"], message, value=float(n),
                                  limit=0.0, test=record.test))
    return out


def _moved(rows: list[ComparisonRow]) -> list[ComparisonRow]:
    order = {"regressed": 0, "improved": 1}
    moved = [r for r in rows if r.verdict in order and r.baseline is not None and r.current is not None]
    return sorted(moved, key=lambda r: (order[r.verdict], r.system, r.metric, r.split or ""))


def winner_of(results: Results, ctx: "ReportContext | None" = None) -> Winner | None:
    """The best system on :data:`PRIMARY` and the runner-up, ranked by the HTML report's own ranking
    (:meth:`ReportContext.ranked`); ``ctx``: the report's context when the report is being rendered."""
    from dyag.report.context import ReportContext

    ranked = (ctx or ReportContext.of([("results", results)], lang="en")).ranked(PRIMARY)
    if not ranked:
        return None
    (win, w), runner = ranked[0], (ranked[1] if len(ranked) > 1 else None)
    if runner is None:
        return Winner(win, w.mean, w.ci, w.n)
    return Winner(win, w.mean, w.ci, w.n, runner[0], runner[1].mean, runner[1].ci)


def split_facts(results: Results) -> tuple[list[str], dict[str, dict[str, float | None]]]:
    """``(splits, {system: {split: value}})``: :data:`SPLIT_COLUMNS` per system and golden split."""
    present = {split for per in results.splits.values() for split in per}
    splits = [s for s in SPLIT_ORDER if s in present and s in SPLIT_COLUMNS]
    facts = {}
    for system in results.systems:
        per = results.splits.get(system)
        if per:
            facts[system] = {s: results.mean(system, SPLIT_COLUMNS[s], s) for s in splits}
    return splits, facts


def summarize(results: Results, baseline: Results | None = None, *, source: str = "",
              baseline_label: str = "", comparison: "Comparison | None" = None,
              report: str | None = None, ctx: "ReportContext | None" = None) -> Summary:
    """The :class:`Summary` of ``results``: against ``baseline`` when given (the comparison of ``dyag
    compare``; pass ``comparison`` to reuse one already made), else against the stored baselines the
    harness compared with (``results.regression``). ``report``: the HTML report, for its anchors."""
    gates = gate_results(results)
    if baseline is not None or comparison is not None:
        if comparison is None:
            from dyag.evaluation.compare import compare_to_baseline

            comparison = compare_to_baseline(results, baseline)
        compared, baselines = True, [baseline_label or "the baseline"]
        rows, failed, flips = comparison.rows, comparison.failed, len(comparison.new_rule_failures)
    else:
        blocks = list(results.regression.values())
        compared, baselines = bool(blocks), [b.baseline for b in blocks]
        rows = [r for b in blocks for r in b.rows]
        failed = any(b.failed and b.enforced for b in blocks)
        flips = sum(len(b.new_rule_failures) for b in blocks)
    splits, facts = split_facts(results)
    return Summary(source=source, failed_gates=[g for g in gates if not g.passed],
                   passed_gates=[g for g in gates if g.passed], compared=compared, baselines=baselines,
                   moved=_moved(rows), regression_failed=failed, new_rule_failures=flips,
                   winner=winner_of(results, ctx), splits=splits, facts=facts, incomplete=results.run.incomplete,
                   report=report)


# --- formatting --------------------------------------------------------------------------------


def _num(x: float | None, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}g}"


def _ci(ci: tuple[float, float] | None) -> str:
    return "" if ci is None else f", 95% CI {ci[0]:.2f}-{ci[1]:.2f}"


def _one_line(text: str, limit: int = REASON_CHARS) -> str:
    text = sanitize_terminal(text, single_line=True)
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _where(row: ComparisonRow) -> str:
    return row.split or "all"


_WHY = {"tie": "tied with the runner-up",
        "separate": "the 95% intervals do not overlap: the gap is clear",
        "overlap": "the 95% intervals overlap: the gap is not significant",
        "unknown": "no confidence interval: whether the gap is significant is unknown"}


def _winner_sentence(w: Winner, name=str) -> str:
    """``rag: score 1.88/10 (95% CI 0.93-2.93, n=46), +0.06 ahead of finetuned (1.82/10, ...); why``;
    ``name`` formats a system's name (a code span in markdown)."""
    n = f", n={w.n}" if w.n is not None else ""
    head = f"{name(w.system)}: {PRIMARY} {w.mean:.2f}/10 ({_ci(w.ci).removeprefix(', ') or 'no CI'}{n})"
    if w.runner is None:
        return head + ", the only system scored"
    return (f"{head}, {w.margin:+.2f} ahead of {name(w.runner)} ({w.runner_mean:.2f}/10{_ci(w.runner_ci)}); "
            f"{_WHY[w.verdict]}")


def _report_links(summary: Summary) -> list[tuple[str, str]]:
    if not summary.report:
        return []
    links = [("report", summary.report)]
    if summary.failed_gates:
        links.append(("gates (the quantitative table)", f"{summary.report}#quantitative"))
    if summary.compared:
        links.append(("regressions", f"{summary.report}#regression"))
    if summary.splits:
        links.append(("per-split facts", f"{summary.report}#splits"))
    return links


def _table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [(indent + "  ".join(c.ljust(w) for c, w in zip(r, widths))).rstrip() for r in rows]


def to_text(summary: Summary) -> str:
    """The summary as plain fixed-width text for a terminal."""
    t = lambda s: sanitize_terminal(s, single_line=True)  # noqa: E731
    lines = [f"dyag: {summary.headline()}"]
    if summary.source:
        lines.append(f"results: {t(summary.source)}")
    if summary.failed_gates:
        lines += ["", "failed gates:"]
        lines += _table([["gate", "system", "reason"]] + [[t(g.gate), t(g.system), _one_line(g.message)]
                                                          for g in summary.failed_gates])
    if summary.passed_gates or summary.failed_gates:
        lines.append(f"{len(summary.passed_gates)} gate(s) passed")
    lines.append("")
    if not summary.compared:
        lines.append("regressions: no baseline compared")
    else:
        against = ", ".join(t(b) for b in summary.baselines)
        if summary.moved:
            lines.append(f"moved against {against}:")
            lines += _table([["metric", "system", "split", "baseline -> now", "delta", "p", "tolerance", "verdict"]] + [
                [r.metric, t(r.system), _where(r), f"{r.baseline:.3g} -> {r.current:.3g}", f"{r.delta:+.3g}",
                 _num(r.p_value), f"{r.tolerance:g}", r.verdict.upper() if r.verdict == "regressed" else r.verdict]
                for r in summary.moved])
        if not summary.regressions:
            lines.append(f"no significant regression against {against}")
        if summary.new_rule_failures:
            lines.append(f"{summary.new_rule_failures} rule(s) newly failing on single cases"
                         + (" (fatal: strict)" if summary.regression_failed and not summary.regressions else ""))
    lines.append("")
    lines.append("winner: " + (t(_winner_sentence(summary.winner)) if summary.winner else "no quality score"))
    if summary.facts:
        lines += ["", "per golden split (fact recall; unknown: share admitting not knowing):"]
        lines += _table([["system", *summary.splits]] + [
            [t(system), *("-" if v is None else f"{v:.2f}" for v in per.values())]
            for system, per in summary.facts.items()])
    links = _report_links(summary)
    if links:
        lines += [""] + [f"{label}: {target}" for label, target in links]
    return "\n".join(lines) + "\n"


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|<>#])")


def _md(text: str) -> str:
    """Text safe in a GitHub markdown table cell: one line, markdown and HTML characters escaped."""
    return _MD_SPECIAL.sub(r"\\\1", _one_line(text, 10_000))


def _code(text: str) -> str:
    return "`" + sanitize_terminal(text, single_line=True).replace("`", "'") + "`"


def _md_table(header: list[str], rows: list[list[str]], right: set[int] = frozenset()) -> list[str]:
    align = ["---:" if i in right else "---" for i in range(len(header))]
    return ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"] + [
        "| " + " | ".join(r) + " |" for r in rows]


def to_markdown(summary: Summary) -> str:
    """The summary as GitHub-flavoured markdown (a ✅/❌ headline, then tables)."""
    mark = {"PASSED": "✅", "FAILED": "❌"}.get(summary.status, "ℹ️")
    lines = [f"### {mark} dyag: {_md(summary.headline())}", ""]
    if summary.source:
        lines += [f"Results: {_code(summary.source)}", ""]
    if summary.failed_gates:
        lines += ["#### Failed gates", ""]
        lines += _md_table(["gate", "system", "reason"], [[_code(g.gate), _code(g.system), _md(_one_line(g.message))]
                                                          for g in summary.failed_gates])
        lines.append("")
    if summary.passed_gates or summary.failed_gates:
        lines += [f"{len(summary.passed_gates)} gate(s) passed.", ""]
    lines += ["#### Regressions", ""]
    if not summary.compared:
        lines += ["No baseline compared.", ""]
    else:
        against = ", ".join(_code(b) for b in summary.baselines)
        if summary.moved:
            lines += [f"Rows that moved against {against}:", ""]
            lines += _md_table(["metric", "system", "split", "baseline → now", "delta", "p", "tolerance", "verdict"], [
                [_code(r.metric), _code(r.system), _where(r), f"{r.baseline:.3g} → {r.current:.3g}", f"{r.delta:+.3g}",
                 _num(r.p_value), f"{r.tolerance:g}", "❌ regressed" if r.verdict == "regressed" else "⬆️ improved"]
                for r in summary.moved], right={4, 5, 6})
            lines.append("")
        if not summary.regressions:
            lines += [f"No significant regression against {against}.", ""]
        if summary.new_rule_failures:
            lines += [f"{summary.new_rule_failures} rule(s) newly failing on single cases.", ""]
    lines += ["#### Winner", ""]
    lines += [(_winner_sentence(summary.winner, _code) if summary.winner else "No quality score: no winner."), ""]
    if summary.facts:
        lines += ["#### Per golden split", ""]
        lines += _md_table(["system", *summary.splits], [
            [_code(system), *("-" if v is None else f"{v:.2f}" for v in per.values())]
            for system, per in summary.facts.items()], right=set(range(1, len(summary.splits) + 1)))
        lines += ["", "Fact recall; `unknown`: the share of answers admitting not knowing.", ""]
    links = _report_links(summary)
    if links:
        lines += [" · ".join(f"{label}: {_code(target)}" for label, target in links), ""]
    return "\n".join(lines)


__all__ = ["GateResult", "Summary", "Winner", "gate_results", "split_facts", "summarize", "to_markdown", "to_text",
           "winner_of"]
