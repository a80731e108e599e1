"""Read, check and merge results JSON files (schema v1) for the report.

The report reads nothing else: a results file is self-describing. Several
files merge by system (cases and aggregates) and by model (training,
regression); when a system appears in two files the later file wins and the
merge remembers which file each system came from.

>>> merged = merge_results([load_results("a.json"), load_results("b.json")])  # doctest: +SKIP
>>> merged.system_source["smollm2:135m/rag"]                                  # doctest: +SKIP
'b.json'
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dyag.errors import DyagError

SCHEMA_VERSION = 1


@dataclass
class ResultsSource:
    """One results document and the label the report shows for it (its path)."""

    label: str
    data: dict[str, Any]


@dataclass
class MergedResults:
    sources: list[ResultsSource]
    cases: list[dict[str, Any]] = field(default_factory=list)
    aggregates: dict[str, dict[str, Any]] = field(default_factory=dict)
    training: dict[str, dict[str, Any]] = field(default_factory=dict)
    regression: dict[str, dict[str, Any]] = field(default_factory=dict)
    system_source: dict[str, str] = field(default_factory=dict)
    training_source: dict[str, str] = field(default_factory=dict)
    regression_source: dict[str, str] = field(default_factory=dict)
    replaced: list[tuple[str, str, str]] = field(default_factory=list)  # (system, old, new)

    @property
    def systems(self) -> list[str]:
        return list(self.system_source)

    @property
    def incomplete_sources(self) -> list[str]:
        return [s.label for s in self.sources if _run(s.data).get("incomplete") is True]


def load_results(path: str | os.PathLike) -> ResultsSource:
    """Read and check one results file; a one-line ``DyagError`` naming it otherwise."""
    path = Path(path)
    label = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DyagError(f"{label}: no such results file") from None
    except IsADirectoryError:
        raise DyagError(f"{label}: is a directory, not a results JSON file") from None
    except OSError as exc:
        raise DyagError(f"{label}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DyagError(f"{label}: not UTF-8 text (byte {exc.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DyagError(f"{label}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise DyagError(f"{label}: not valid JSON (nested too deeply)") from None
    validate_results(data, label)
    return ResultsSource(label, data)


def as_source(item: Any, index: int) -> ResultsSource:
    """A path, a dict or a ``ResultsSource`` as a checked ``ResultsSource``."""
    if isinstance(item, ResultsSource):
        validate_results(item.data, item.label)
        return item
    if isinstance(item, dict):
        label = f"results[{index}]"
        validate_results(item, label)
        return ResultsSource(label, item)
    if isinstance(item, (str, os.PathLike)):
        return load_results(item)
    raise DyagError(f"results[{index}]: expected a path or a results dict, got {type(item).__name__}")


def _fail(label: str, where: str, msg: str) -> DyagError:
    return DyagError(f"{label}: {where}: {msg}" if where else f"{label}: {msg}")


def _expect(label: str, where: str, value: Any, kind: type | tuple[type, ...], kind_name: str) -> None:
    if not isinstance(value, kind) or isinstance(value, bool) and bool not in _as_tuple(kind):
        raise _fail(label, where, f"must be {kind_name}, got {_type_name(value)}")


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def validate_results(data: Any, label: str) -> None:
    """Check the structure the report relies on; optional keys may be absent.

    Raises ``DyagError("<file>: cases[3]: 'system' must be a string, got int")``.
    """
    if not isinstance(data, dict) or "schema_version" not in data:
        raise _fail(label, "", "not a dyag results file (expected a JSON object with schema_version)")
    version = data["schema_version"]
    if version != SCHEMA_VERSION or isinstance(version, bool):
        raise _fail(label, "", f"unsupported schema_version {version!r} (this dyag reads {SCHEMA_VERSION})")
    for key in ("run", "training", "aggregates", "regression", "perf", "calibration"):
        if data.get(key) is not None:
            _expect(label, key, data[key], dict, "an object")
    cases = data.get("cases")
    if cases is not None:
        _expect(label, "cases", cases, list, "a list")
        for i, case in enumerate(cases):
            _validate_case(label, f"cases[{i}]", case)
    for system, metrics in (data.get("aggregates") or {}).items():
        _expect(label, f"aggregates[{system!r}]", metrics, dict, "an object")
    for model, metrics in (data.get("training") or {}).items():
        _expect(label, f"training[{model!r}]", metrics, dict, "an object")
    for model, reg in (data.get("regression") or {}).items():
        where = f"regression[{model!r}]"
        _expect(label, where, reg, dict, "an object")
        for key in ("rows", "new_rule_failures"):
            if reg.get(key) is not None:
                _expect(label, f"{where}.{key}", reg[key], list, "a list")
                for j, row in enumerate(reg[key]):
                    _expect(label, f"{where}.{key}[{j}]", row, dict, "an object")


def _validate_case(label: str, where: str, case: Any) -> None:
    _expect(label, where, case, dict, "an object")
    for key in ("id", "system"):
        if key not in case:
            raise _fail(label, where, f"missing {key!r}")
        _expect(label, f"{where}.{key}", case[key], (str, int), "a string")
    for key in ("question", "reference", "answer"):
        if case.get(key) is not None:
            _expect(label, f"{where}.{key}", case[key], str, "a string")
    if case.get("metrics") is not None:
        _expect(label, f"{where}.metrics", case["metrics"], dict, "an object")
    rules = case.get("rules")
    if rules is not None:
        _expect(label, f"{where}.rules", rules, list, "a list")
        for j, rule in enumerate(rules):
            _expect(label, f"{where}.rules[{j}]", rule, dict, "an object")


def _run(data: dict[str, Any]) -> dict[str, Any]:
    run = data.get("run")
    return run if isinstance(run, dict) else {}


def _systems_of(data: dict[str, Any]) -> list[str]:
    seen: dict[str, None] = {}
    for case in data.get("cases") or []:
        seen.setdefault(str(case["system"]), None)
    for system in data.get("aggregates") or {}:
        seen.setdefault(str(system), None)
    return list(seen)


def merge_results(sources: list[ResultsSource]) -> MergedResults:
    """Merge results by system and model; a later file replaces a system wholesale."""
    if not sources:
        raise DyagError("no results to report")
    merged = MergedResults(sources=list(sources))
    cases_by_system: dict[str, list[dict[str, Any]]] = {}
    for src in sources:
        data = src.data
        for system in _systems_of(data):
            if system in merged.system_source:
                merged.replaced.append((system, merged.system_source[system], src.label))
            merged.system_source[system] = src.label
            cases_by_system[system] = []
            merged.aggregates.pop(system, None)
        for case in data.get("cases") or []:
            cases_by_system[str(case["system"])].append(case)
        for system, metrics in (data.get("aggregates") or {}).items():
            merged.aggregates[str(system)] = metrics
        for model, metrics in (data.get("training") or {}).items():
            merged.training[model] = metrics
            merged.training_source[model] = src.label
        for model, reg in (data.get("regression") or {}).items():
            merged.regression[model] = reg
            merged.regression_source[model] = src.label
    merged.cases = [c for system in merged.system_source for c in cases_by_system[system]]
    return merged
