"""The rule registry: :func:`rule` records a check of one answer under a name, with its severity,
its default arguments and the golden cases it applies to; :data:`RULES` holds them in registration
order, the order reports list them in.

A rule returns a :class:`RuleResult`, made with :func:`ok` or :func:`fail`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from dyag.evaluation.cases import CaseView

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class RuleResult:
    passed: bool
    severity: str = ""  # filled by run_rules from the rule's registration (or its override)
    message: str = ""
    span: tuple[int, int] | None = None

    def to_dict(self, name: str) -> dict:
        span = [int(self.span[0]), int(self.span[1])] if self.span else None
        return {"name": name, "passed": self.passed, "severity": self.severity, "message": self.message, "span": span}


def ok(message: str = "") -> RuleResult:
    return RuleResult(True, message=message)


def fail(message: str, span: tuple[int, int] | None = None) -> RuleResult:
    return RuleResult(False, message=message, span=span)


@dataclass(frozen=True)
class RuleSpec:
    name: str
    func: Callable[..., RuleResult]
    severity: str
    defaults: dict
    applies: Callable[[CaseView], bool] | None = None


RULES: dict[str, RuleSpec] = {}


def rule(name: str, *, severity: str = "error", applies: Callable[[CaseView], bool] | None = None, **defaults):
    """Register ``func(answer, case, context, **args) -> RuleResult`` under ``name``.

    ``applies(case)`` restricts the rule to some golden cases (e.g. ``expect == "unknown"``);
    ``defaults`` are the rule's arguments, overridable per run (``run_rules(config=...)``).
    """
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {SEVERITIES}, got {severity!r}")

    def register(func):
        RULES[name] = RuleSpec(name, func, severity, dict(defaults), applies)
        return func

    return register
