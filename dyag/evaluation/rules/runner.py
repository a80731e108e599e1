"""Running the registered rules on one answer: :func:`resolve_rules` (the configuration a run uses)
and :func:`run_rules`."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from dyag.errors import DyagError
from dyag.evaluation.cases import as_case
from dyag.evaluation.rules.context import RuleContext
from dyag.evaluation.rules.registry import RULES, SEVERITIES, RuleResult


def resolve_rules(names: Iterable[str] | None = None, config: Mapping[str, Mapping] | None = None) -> dict[str, dict]:
    """``{name: {"severity", "args"}}`` of the rules a run uses (recorded in the results).

    ``config`` overrides per rule: ``{"length": {"max_chars": 800, "severity": "error"}}``.
    """
    config = dict(config or {})
    names = list(RULES) if names is None else list(names)
    unknown = [n for n in list(names) + list(config) if n not in RULES]
    if unknown:
        raise DyagError(f"unknown rule(s): {', '.join(sorted(set(unknown)))}; known: {', '.join(RULES)}")
    resolved = {}
    for name in names:
        spec, overrides = RULES[name], dict(config.get(name) or {})
        severity = overrides.pop("severity", spec.severity)
        if severity not in SEVERITIES:
            raise DyagError(f"rule {name}: severity must be one of {', '.join(SEVERITIES)}, got {severity!r}")
        bad = [k for k in overrides if k not in spec.defaults]
        if bad:
            raise DyagError(f"rule {name}: unknown argument(s) {', '.join(bad)}; known: {', '.join(spec.defaults) or 'none'}")
        resolved[name] = {"severity": severity, "args": {**spec.defaults, **overrides}}
    return resolved


def run_rules(answer: str, case: Any, context: Any = None, names: Iterable[str] | None = None,
              config: Mapping[str, Mapping] | None = None, *, resolved: Mapping[str, dict] | None = None) -> list[dict]:
    """Run the rules on one answer: ``[{"name", "passed", "severity", "message", "span"}]``.

    Rules whose ``applies(case)`` is false are left out. ``resolved`` (from
    :func:`resolve_rules`) skips re-validating the configuration for every answer.
    """
    case, context = as_case(case), RuleContext.coerce(context)
    resolved = resolved if resolved is not None else resolve_rules(names, config)
    out = []
    for name, setup in resolved.items():
        spec = RULES[name]
        if spec.applies is not None and not spec.applies(case):
            continue
        result = spec.func(answer, case, context, **setup["args"])
        if isinstance(result, bool):
            result = RuleResult(result)
        out.append(RuleResult(result.passed, setup["severity"], result.message, result.span).to_dict(name))
    return out
