"""Compare results with a stored baseline: a real drop fails, noise does not.

For each (system, metric) present in both, the delta of the means is tested on the
per-case values: a paired bootstrap when both runs scored the same case ids (an exact
McNemar test for a rule's pass/fail outcomes), an unpaired bootstrap otherwise. A row is
``regressed`` only when the drop is larger than its tolerance *and* significant
(p < ``alpha``); ``improved`` symmetrically; ``ok`` otherwise. ``corpus_bleu`` has no
per-case values: both corpora are resampled with the same case indices (a paired bootstrap
of corpus BLEU), or it is judged on its tolerance alone when the runs answered other cases.
Rules that passed on a case in the baseline and fail now are listed as new failures; they
fail the comparison only with ``strict_rules=True`` (exact per-case comparison, for a
baseline of the same environment, where answers are deterministic).

The tolerances come from the metric registry (:func:`dyag.evaluation.registry.tolerances`).

>>> from dyag.results import read
>>> cmp = compare_to_baseline(read("results.json"), read("golden/baselines/x.json"))  # doctest: +SKIP
>>> cmp.failed, cmp.summary_lines()[0]  # doctest: +SKIP
(False, 'smollm2:135m/finetuned score: 6.10 -> 6.05 (-0.05, p=0.61, tol 0.5) ok')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from dyag.evaluation import registry, stats
from dyag.results import ComparisonRow, Results, RuleFlip
from dyag.utils.text import sanitize_terminal

ALPHA = 0.05
#: The primary columns over all cases, each tested at ``alpha``. A system's other rows share ``alpha`` by
#: Holm's step-down (:func:`holm`), in two families: its other columns over all cases (every metric and
#: rule pass rate, about 25 tests) and its per-split rows (score and fact recall per golden split, 8
#: tests). Tested each at 0.05 against a one-seed baseline, benign changes of training seed failed one of
#: them by chance (faithful_to_kb p=0.035, exact_match p=0.038, fact_recall@seen p=0.022 while paraphrase
#: rose), while real degradations move the score, a floor or a rule far beyond it.
PRIMARY_COLUMNS = ("score", "fact_recall")
#: The columns compared split by split (besides every column over all cases): few, so that splitting
#: adds little to the number of tests a benign change could fail by chance.
SPLIT_COLUMNS = ("score", "fact_recall")


@dataclass
class Comparison:
    rows: list[ComparisonRow] = field(default_factory=list)
    new_rule_failures: list[RuleFlip] = field(default_factory=list)
    missing_systems: list[str] = field(default_factory=list)
    strict_rules: bool = False

    @property
    def regressions(self) -> list[ComparisonRow]:
        return [r for r in self.rows if r.verdict == "regressed"]

    @property
    def failed(self) -> bool:
        return bool(self.regressions) or (self.strict_rules and any(
            f.severity == "error" for f in self.new_rule_failures))

    def summary_lines(self) -> list[str]:
        lines = []
        for r in self.rows:
            if r.baseline is None or r.current is None:
                continue
            p = f", p={r.p_value:.3g}" if r.p_value is not None else ""
            where = f"{r.metric}@{r.split}" if r.split else r.metric
            lines.append(f"{sanitize_terminal(r.system, single_line=True)} {where}: {r.baseline:.4g} -> "
                         f"{r.current:.4g} ({r.delta:+.4g}{p}, tol {r.tolerance:g}) {r.verdict}")
        for f in self.new_rule_failures:
            lines.append(f"{sanitize_terminal(f.system, single_line=True)} {f.id}: rule {f.rule} now fails "
                         f"({f.severity}): {sanitize_terminal(f.message, single_line=True)}")
        lines.extend(f"{sanitize_terminal(s, single_line=True)}: in the baseline, absent now" for s in self.missing_systems)
        lines.append("FAILED: " + ", ".join(f"{r.system} {r.metric}" + (f"@{r.split}" if r.split else "")
                                            for r in self.regressions)
                     if self.failed else "OK: no significant regression")
        return lines

    def block(self, **where) -> dict:
        """The fields of a :class:`dyag.results.Regression` (``where``: baseline, key, ...)."""
        return {**where, "failed": self.failed, "rows": self.rows, "new_rule_failures": self.new_rule_failures,
                "missing_systems": self.missing_systems}

    def to_dict(self) -> dict:
        return {"failed": self.failed, "rows": [r.model_dump() for r in self.rows],
                "new_rule_failures": [f.model_dump() for f in self.new_rule_failures],
                "missing_systems": self.missing_systems}


def tolerance_for(metric: str, tolerances: Mapping[str, float]) -> float:
    if metric in tolerances:
        return float(tolerances[metric])
    if metric.startswith("rule:") and "rule:*" in tolerances:
        return float(tolerances["rule:*"])
    return float(tolerances.get("*", 0.0))


def _test(base: dict[str, float], cur: dict[str, float], *, binary: bool, resamples: int,
          seed: int) -> stats.PairedTest | None:
    if not base or not cur:
        return None
    if set(base) == set(cur):
        ids = sorted(base)
        a, b = [base[i] for i in ids], [cur[i] for i in ids]
        return stats.mcnemar_exact(a, b) if binary else stats.paired_bootstrap(a, b, resamples=resamples, seed=seed)
    return stats.unpaired_bootstrap(list(base.values()), list(cur.values()), resamples=resamples, seed=seed)


def _corpus_test(base_cases, cur_cases, resamples: int, seed: int) -> stats.PairedTest | None:
    """Corpus BLEU's paired bootstrap, when both runs answered the same case ids (else its tolerance alone)."""
    from dyag.evaluation.scoring import corpus_bleu_paired_test

    before = {c.id: (c.answer, c.reference) for c in base_cases}
    after = {c.id: (c.answer, c.reference) for c in cur_cases}
    if not before or set(before) != set(after):
        return None
    ids = sorted(before)
    return corpus_bleu_paired_test([before[i] for i in ids], [after[i] for i in ids], resamples=resamples, seed=seed)


def _verdict(delta: float, p: float | None, tolerance: float, alpha: float) -> str:
    significant = p is None or p < alpha
    if delta < -tolerance and significant:
        return "regressed"
    if delta > tolerance and significant:
        return "improved"
    return "ok"


def holm(rows: list[ComparisonRow], alpha: float = ALPHA) -> list[ComparisonRow]:
    """The rows with the verdicts of every non-primary row held to Holm's step-down, per system and family.

    The families of a system are its secondary columns over all cases (every column but
    :data:`PRIMARY_COLUMNS`) and its per-split rows. In each, the rows with a p-value are sorted by p;
    the i-th smallest (from 0) of m is significant only if it and every smaller one are under
    ``alpha / (m - i)``. A verdict that rested on a p-value that does not pass becomes ``ok``. The
    primary rows keep their own test at ``alpha``.

    >>> from dyag.results import ComparisonRow as Row
    >>> row = lambda m, p, split=None: Row(system="s", metric=m, split=split, baseline=1, current=0.5, delta=-0.5,
    ...     p_value=p, test="t", tolerance=0.1, n=40, verdict="regressed" if p < 0.05 else "ok")
    >>> rows = [row("rule:a", 0.001), row("rule:b", 0.03), row("bleu", 0.5), row("score", 0.03),
    ...         row("score", 0.03, "seen"), row("score", 0.9, "paraphrase")]
    >>> [r.verdict for r in holm(rows)]
    ['regressed', 'ok', 'ok', 'regressed', 'ok', 'ok']
    """
    out = list(rows)

    def family(r: ComparisonRow):
        if r.split is None and r.metric in PRIMARY_COLUMNS:
            return None
        return (r.system, r.split is not None)

    families: dict = {}
    for i, r in enumerate(out):
        if r.p_value is not None and family(r) is not None:
            families.setdefault(family(r), []).append(i)
    for members in families.values():
        members.sort(key=lambda i: out[i].p_value)
        m, passed = len(members), True
        for rank, i in enumerate(members):
            passed = passed and out[i].p_value < alpha / (m - rank)
            if not passed and out[i].verdict != "ok":
                out[i] = out[i].model_copy(update={"verdict": "ok"})
    return out


def _new_rule_failures(results: Results, baseline: Results) -> list[RuleFlip]:
    before = {(c.system, c.id, r.name): r.passed for c in baseline.cases for r in c.rules}
    return [RuleFlip(system=c.system, id=c.id, rule=r.name, severity=r.severity, message=r.message)
            for c in results.cases for r in c.rules
            if not r.passed and before.get((c.system, c.id, r.name)) is True]


def _directed(metric: str, delta: float) -> float:
    """``delta`` turned so that positive is better (a ``min`` column's drop is an improvement)."""
    col = registry.column(metric)
    return -delta if col is not None and col.direction == "min" else delta


def _compare(results: Results, baseline: Results, system: str, metric: str, split: str | None, base_agg, cur_agg,
             tol, alpha: float, resamples: int, seed: int) -> ComparisonRow | None:
    """One (system, column[, split]) of both runs: the delta of the means, its test and its verdict."""
    if base_agg is None or cur_agg is None or base_agg.mean is None or cur_agg.mean is None:
        return None
    delta = float(cur_agg.mean) - float(base_agg.mean)
    col = registry.column(metric)
    test = None
    if col is None or col.per_case:
        test = _test(baseline.per_case(system, metric, split), results.per_case(system, metric, split),
                     binary=metric.startswith("rule:"), resamples=resamples, seed=seed)
    elif metric == "corpus_bleu":
        test = _corpus_test(baseline.cases_of(system, split), results.cases_of(system, split), resamples, seed)
    tolerance = tolerance_for(metric, tol)
    p = test.p_value if test else None
    return ComparisonRow(
        system=system, metric=metric, split=split, baseline=float(base_agg.mean), current=float(cur_agg.mean),
        delta=delta, p_value=p, test=test.method if test else None, tolerance=tolerance,
        n=test.n if test else int(cur_agg.n or 0), verdict=_verdict(_directed(metric, delta), p, tolerance, alpha))


def compare_to_baseline(results: Results, baseline: Results, *, tolerances: Mapping[str, float] | None = None,
                        alpha: float = ALPHA, strict_rules: bool = False, resamples: int = stats.RESAMPLES,
                        seed: int = stats.SEED) -> Comparison:
    """Compare two results documents system by system and column by column, then :data:`SPLIT_COLUMNS`
    split by split for the systems and splits both runs have."""
    tol = {**registry.tolerances(), **(tolerances or {})}
    comparison = Comparison(strict_rules=strict_rules)
    pairs = []
    for system, base_aggs in baseline.aggregates.items():
        cur_aggs = results.aggregates.get(system)
        if cur_aggs is None:
            comparison.missing_systems.append(system)
            continue
        pairs += [(system, metric, None, agg, cur_aggs.get(metric)) for metric, agg in base_aggs.items()]
    for system, base_splits in baseline.splits.items():
        for split, base_aggs in base_splits.items():
            cur_aggs = results.splits.get(system, {}).get(split, {})
            pairs += [(system, metric, split, base_aggs.get(metric), cur_aggs.get(metric)) for metric in SPLIT_COLUMNS]
    rows = (_compare(results, baseline, *pair, tol, alpha, resamples, seed) for pair in pairs)
    comparison.rows = holm([row for row in rows if row is not None], alpha)
    comparison.new_rule_failures = _new_rule_failures(results, baseline)
    return comparison
