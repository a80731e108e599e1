"""``dyag compare``: gate one stored results file against another, outside pytest.

    dyag compare golden/baselines/smollm2_135m.cpu-bf16.json reports/index.json

The same paired comparison as the harness's regression test (:func:`dyag.evaluation.compare.compare_to_baseline`):
per (system, metric) the delta of the means, its tolerance and a paired test (bootstrap, or exact
McNemar for a rule's pass rate); a drop beyond tolerance that is also significant is a regression.
Exit 0: nothing regressed; 1: a regression; 2: bad input (unreadable file, unknown schema,
no system in common, different questions).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass
class CompareConfig:
    """The two results files ``dyag compare`` pairs, and how strictly it judges."""

    baseline: str = field(metadata={
        "help": "the reference results (e.g. a stored baseline)", "positional": True, "metavar": "BASELINE.json"})
    results: str = field(metadata={"help": "the results to judge", "positional": True, "metavar": "RESULTS.json"})
    strict: bool = field(default=False, metadata={
        "help": "a rule that passed on a case in the baseline and fails now is a regression"})
    tolerance: list[str] = field(default_factory=list, metadata={
        "help": "override a tolerance (repeatable), e.g. --tolerance score=0.3 --tolerance 'rule:*=0.2'",
        "repeat": True, "metavar": "METRIC=VALUE"})
    alpha: float | None = field(default=None, metadata={
        "help": "significance level of the paired tests (default: the regression gate's)"})
    json: bool = field(default=False, metadata={"help": "print the comparison as JSON instead of a table"})


def _tolerances(items: list[str]) -> dict[str, float]:
    from dyag.errors import DyagError

    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise DyagError(f"--tolerance expects METRIC=NUMBER, got {item!r}") from None
        if not sep or not name.strip():
            raise DyagError(f"--tolerance expects METRIC=NUMBER, got {item!r}")
    return out


def check_comparable(baseline, results, baseline_label: str, results_label: str) -> None:
    """Bad input (DyagError, exit 2) unless both files score the same questions for a system in common."""
    from dyag.errors import DyagError

    def ids(data) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for case in data.cases:
            out.setdefault(case.system, set()).add(case.id)
        return out

    before, now = ids(baseline), ids(results)
    common = sorted(set(before) & set(now))
    if not common:
        raise DyagError(f"{results_label}: no system in common with {baseline_label} "
                        f"({', '.join(sorted(now)) or 'none'} vs {', '.join(sorted(before)) or 'none'})")
    for system in common:
        if before[system] != now[system]:
            only_b, only_r = sorted(before[system] - now[system]), sorted(now[system] - before[system])
            raise DyagError(f"{results_label}: {system} answers other questions than in {baseline_label} "
                            f"(only in the baseline: {', '.join(only_b[:5]) or '-'}; "
                            f"only here: {', '.join(only_r[:5]) or '-'})")


def run(config: CompareConfig) -> int:
    from dyag.evaluation.compare import ALPHA, compare_to_baseline
    from dyag.results import read

    baseline, results = read(config.baseline), read(config.results)
    check_comparable(baseline, results, config.baseline, config.results)
    comparison = compare_to_baseline(results, baseline, tolerances=_tolerances(config.tolerance),
                                     alpha=ALPHA if config.alpha is None else config.alpha, strict_rules=config.strict)
    if config.json:
        print(json.dumps({"baseline": config.baseline, "results": config.results, **comparison.to_dict()},
                         ensure_ascii=False, indent=2))
    else:
        print(format_comparison(comparison))
    return 1 if comparison.failed else 0


def format_comparison(comparison) -> str:
    """The comparison as a fixed-width table, regressions first, then the rules newly failing."""
    from dyag.utils.text import sanitize_terminal

    order = {"regressed": 0, "improved": 1, "ok": 2}
    rows = sorted((r for r in comparison.rows if r.baseline is not None and r.current is not None),
                  key=lambda r: (order[r.verdict], r.system, r.metric, r.split or ""))
    header = ("system", "metric", "baseline", "current", "delta", "p", "tol", "verdict")
    table = [header] + [(sanitize_terminal(r.system, single_line=True), r.metric + (f"@{r.split}" if r.split else ""),
                         f"{r.baseline:.4g}",
                         f"{r.current:.4g}", f"{r.delta:+.4g}", "" if r.p_value is None else f"{r.p_value:.3g}",
                         f"{r.tolerance:g}", r.verdict.upper() if r.verdict == "regressed" else r.verdict)
                        for r in rows]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table]
    flips = comparison.new_rule_failures
    if flips:
        fatal = "fatal with --strict" if not comparison.strict_rules else "fatal"
        lines.append(f"rules newly failing on single cases ({fatal}):")
        lines += ["  " + sanitize_terminal(f"{f.system} {f.id}: {f.rule} ({f.severity}): {f.message}",
                                           single_line=True) for f in flips]
    lines += [f"{sanitize_terminal(s, single_line=True)}: in the baseline, absent now"
              for s in comparison.missing_systems]
    lines.append(comparison.summary_lines()[-1])
    return "\n".join(lines)
