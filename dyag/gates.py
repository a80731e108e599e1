"""The quality gates, as functions of results: what the benchmark suites assert.

Each gate judges one system of a :class:`dyag.results.Results` and returns a
:class:`GateOutcome`; the suites in ``benchmarks/`` assert ``outcome.passed``, and the
tests run the same functions on known-bad results to prove that each one can fail.

Three kinds of gate:

- **rule gates**: the share of answers breaking a rule must stay under an absolute cap,
  and the rule's pass rate must not drop against the system's own baseline beyond the
  tolerance *and* significantly (exact McNemar test on the paired outcomes);
- **floors**: a metric's mean must stay over an absolute floor, and must not drop against
  the system's own baseline beyond the tolerance *and* significantly (paired bootstrap);
- **comparisons**: the fine-tuned system must beat the untrained base, significantly.

A gate with nothing to judge (no answer the rule applies to, no value of the metric)
fails: a gate that checked nothing must not pass.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Mapping

from dyag.evaluation import stats
from dyag.evaluation.compare import ALPHA, Comparison, tolerance_for
from dyag.results import Results

#: Absolute gate values: rule gates give the largest share of answers allowed to break the
#: rule, floors the lowest mean allowed. Together with the baseline-relative check of every
#: gate, these are the defaults a project overrides per system kind and per model.
DEFAULT_GATES: dict[str, float] = {
    "no_dialogue_turns": 0.0,
    "no_prompt_echo": 0.0,
    "no_repetition": 0.6,
    "not_truncated": 0.6,
    "language": 0.1,
    "bertscore_f1": 0.50,
    "fact_recall": 0.05,
    "score": 0.5,
}
RULE_GATES = ("no_dialogue_turns", "no_prompt_echo", "no_repetition", "not_truncated", "language")
FLOOR_GATES = ("bertscore_f1", "fact_recall", "score")


@dataclass(frozen=True)
class GateOutcome:
    gate: str
    system: str
    passed: bool
    message: str
    value: float | None = None  # the share of failing answers (rule gate) or the mean (floor)
    limit: float | None = None  # the absolute cap or floor
    baseline: float | None = None  # the same quantity in the baseline
    p_value: float | None = None  # of the drop against the baseline (or of the comparison)
    n: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def _row(comparison: Comparison | None, system: str, metric: str, split: str | None = None):
    if comparison is None:
        return None
    return next((r for r in comparison.rows if r.system == system and r.metric == metric and r.split == split), None)


def _drop_text(row) -> str:
    return (f"dropped from {row.baseline:.3g} to {row.current:.3g} against the baseline "
            f"({row.delta:+.3g}, tolerance {row.tolerance:g}, p={row.p_value:.3g})")


def rule_gate(results: Results, system: str, rule: str, max_share: float,
              comparison: Comparison | None = None) -> GateOutcome:
    """At most ``max_share`` of ``system``'s answers break ``rule``, and its pass rate did not regress."""
    applicable, failures = 0, []
    for case in results.cases_of(system):
        for res in case.rules:
            if res.name == rule:
                applicable += 1
                if not res.passed:
                    failures.append(f"{case.id}: {res.message}")
    if not applicable:
        return GateOutcome(rule, system, False, f"{rule}: no answer of {system} to check")
    share = len(failures) / applicable
    row = _row(comparison, system, f"rule:{rule}")
    base_share = None if row is None or row.baseline is None else 1.0 - row.baseline
    problems = []
    if share > max_share:
        problems.append(f"{len(failures)}/{applicable} answers fail ({share:.0%} > {max_share:.0%} allowed)")
    if row is not None and row.verdict == "regressed":
        problems.append("pass rate " + _drop_text(row))
    shown = "; ".join(failures[:5])
    message = (f"{rule}: " + " and ".join(problems) + (f": {shown}" if shown else "")) if problems else (
        f"{rule}: {len(failures)}/{applicable} answers fail ({share:.0%}, {max_share:.0%} allowed)")
    return GateOutcome(rule, system, not problems, message, share, max_share, base_share,
                       row.p_value if row else None, applicable)


def floor_gate(results: Results, system: str, metric: str, floor: float,
               comparison: Comparison | None = None, *, split: str | None = None) -> GateOutcome:
    """``system``'s mean ``metric`` (over one golden ``split``, or all cases) is at least ``floor`` and
    did not regress against the baseline."""
    aggs = results.aggregates.get(system, {}) if split is None else results.splits.get(system, {}).get(split, {})
    agg = aggs.get(metric)
    mean = agg.mean if agg else None
    gate = f"{metric}@{split}" if split else metric
    if mean is None:
        return GateOutcome(gate, system, False, f"{system} has no {gate}")
    row = _row(comparison, system, metric, split)
    problems = []
    if mean < floor:
        problems.append(f"mean {mean:.3f} is below the floor {floor} (95% CI {list(agg.ci95) if agg.ci95 else None})")
    if row is not None and row.verdict == "regressed":
        problems.append(_drop_text(row))
    message = f"{system} {gate}: " + (" and ".join(problems) if problems else f"mean {mean:.3f} >= {floor}")
    return GateOutcome(gate, system, not problems, message, mean, floor, row.baseline if row else None,
                       row.p_value if row else None, agg.n)


def split_gates(gates: Mapping | None, model: str, kind: str) -> list[tuple[str, str]]:
    """The ``(metric, split)`` floors a project sets with keys like ``"fact_recall@seen"``, at any level
    of ``[tool.dyag.gates]`` (see :func:`gate_value`).

    >>> split_gates({"fact_recall@seen": 0.8, "m": {"finetuned": {"score@paraphrase": 2.0}}}, "m", "finetuned")
    [('fact_recall', 'seen'), ('score', 'paraphrase')]
    """
    gates = gates or {}
    per_model = gates.get(model) if isinstance(gates.get(model), Mapping) else {}
    kinds = _kind_levels(kind)
    levels = (gates, *(_sub(gates, k) for k in kinds), per_model, *(_sub(per_model, k) for k in kinds))
    found = dict.fromkeys(tuple(k.split("@", 1)) for level in levels for k, v in level.items()
                          if "@" in k and not isinstance(v, Mapping))
    return list(found)


def beats_gate(results: Results, better: str, worse: str, metric: str, *, alpha: float = ALPHA) -> GateOutcome:
    """``better`` scores higher than ``worse`` on ``metric``, significantly (paired bootstrap on shared cases)."""
    a, b = results.per_case(worse, metric), results.per_case(better, metric)
    ids = sorted(set(a) & set(b))
    gate = f"{metric}: {better} > {worse}"
    if not ids:
        return GateOutcome(gate, better, False, f"{gate}: no case answered by both")
    test = stats.paired_bootstrap([a[i] for i in ids], [b[i] for i in ids])
    passed = test.mean_delta > 0 and test.p_value < alpha
    verdict = "beats" if passed else "does not significantly beat"
    message = (f"{better} {verdict} {worse} on {metric}: {sum(b[i] for i in ids) / len(ids):.3g} vs "
               f"{sum(a[i] for i in ids) / len(ids):.3g} ({test.mean_delta:+.3g}, p={test.p_value:.3g}, "
               f"n={test.n})")
    return GateOutcome(gate, better, passed, message, test.mean_delta, 0.0, None, test.p_value, test.n)


#: The untrained base system is the reference point, not a product: a small base model loops on
#: French questions, so only its own baseline (and invented dialogue turns) gate it by default.
DEFAULT_GATES_BY_KIND: dict[str, dict[str, float]] = {
    "base": {"fact_recall": 0.0, "score": 0.0, "bertscore_f1": 0.0, "no_repetition": 1.0, "not_truncated": 1.0,
             "language": 1.0},
}
#: What the fine-tuned system must beat the untrained base on, significantly.
DEFAULT_BEATS_BASE = ("score", "fact_recall")


def gate_names() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """``(gate names, floor metrics, golden splits)`` a ``[tool.dyag.gates]`` table may use, each name
    checked against its registry: a rule gate must name a registered rule, a floor a registered metric
    column (a renamed rule or metric fails here, not silently in a project's gate)."""
    from dyag.data.golden import SPLITS
    from dyag.evaluation.registry import column
    from dyag.evaluation.rules import RULES

    missing = [n for n in RULE_GATES if n not in RULES] + [n for n in FLOOR_GATES if column(n) is None]
    if missing:
        raise LookupError(f"gates name what no registry has: {', '.join(missing)}")
    return tuple(DEFAULT_GATES), FLOOR_GATES, tuple(sp for sp in SPLITS if sp != "unspecified")


def _kind_levels(kind: str) -> tuple[str, ...]:
    """``kind``, then the kind it answers as when an endpoint answers it (``finetuned`` for ``finetuned@vllm``)."""
    answering = kind.partition("@")[0]
    return (kind, answering) if answering != kind else (kind,)


def _sub(table: Mapping, key: str) -> Mapping:
    return table.get(key) if isinstance(table.get(key), Mapping) else {}


def gate_value(name: str, *, kind: str, model: str, gates: Mapping | None = None):
    """A gate's threshold for one (model, system kind), from a ``[tool.dyag.gates]``-shaped table.

    The most specific wins: ``gates[model][kind]``, ``gates[model]``, ``gates[kind]``, dyag's
    default for the kind (:data:`DEFAULT_GATES_BY_KIND`: the untrained base is not held to the
    product's floors unless the project says so in ``[tool.dyag.gates.base]``), ``gates``, then
    dyag's defaults (:data:`DEFAULT_GATES`, :data:`DEFAULT_BEATS_BASE` for ``beats_base``).

    >>> gate_value("score", kind="finetuned", model="m", gates={"score": 1.0, "m": {"finetuned": {"score": 2.0}}})
    2.0
    >>> gate_value("score", kind="base", model="m", gates={"score": 1.0})
    0.0
    >>> gate_value("score", kind="base", model="m", gates={"base": {"score": 0.1}})
    0.1
    >>> gate_value("beats_base", kind="finetuned", model="m")
    ('score', 'fact_recall')

    A system answered by an endpoint (``finetuned@vllm``) has its own table, then its kind's:

    >>> gate_value("score", kind="base@vllm", model="m", gates={"finetuned": {"score": 3.0}})
    0.0
    >>> gate_value("score", kind="finetuned@vllm", model="m", gates={"finetuned": {"score": 3.0}})
    3.0
    """
    gates = gates or {}
    per_model = gates.get(model) if isinstance(gates.get(model), Mapping) else {}
    kinds = _kind_levels(kind)
    levels = (*(_sub(per_model, k) for k in kinds), per_model, *(_sub(gates, k) for k in kinds),
              DEFAULT_GATES_BY_KIND.get(kinds[-1], {}), gates, {**DEFAULT_GATES, "beats_base": DEFAULT_BEATS_BASE})
    for level in levels:
        value = level.get(name)
        if value is not None and not isinstance(value, Mapping):
            return tuple(value) if isinstance(value, (list, tuple)) else float(value)
    raise KeyError(name)


__all__ = ["DEFAULT_BEATS_BASE", "DEFAULT_GATES", "DEFAULT_GATES_BY_KIND", "FLOOR_GATES", "RULE_GATES", "GateOutcome",
           "beats_gate", "floor_gate", "gate_names", "gate_value", "rule_gate", "split_gates", "tolerance_for"]
