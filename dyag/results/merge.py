"""Merging results documents (harness workers, several runs in one report) and where each system came from."""

from __future__ import annotations

from typing import Iterable, Sequence

from dyag.errors import DyagError
from dyag.results.models import Aggregate, Case, Results

def _union(lists: Iterable[Iterable[str]]) -> list[str]:
    return list(dict.fromkeys(x for items in lists for x in items))


def merge(docs: Sequence[Results], **run_changes) -> Results:
    """One document from several: a later document replaces a system (its cases and aggregates)
    and a model (training, regression) wholesale; test records add up. The run is the first
    document's, with every system and model, and ``run_changes`` applied."""
    if not docs:
        raise DyagError("no results to merge")
    cases: dict[str, list[Case]] = {}
    aggregates: dict[str, dict[str, Aggregate]] = {}
    splits: dict[str, dict[str, dict[str, Aggregate]]] = {}
    training, regression, tests = {}, {}, []
    perf = calibration = missing = sweep = None
    for doc in docs:
        for system in doc.systems:
            cases[system] = doc.cases_of(system)
            aggregates.pop(system, None)
            splits.pop(system, None)
            if system in doc.aggregates:
                aggregates[system] = doc.aggregates[system]
            if system in doc.splits:
                splits[system] = doc.splits[system]
        training.update(doc.training)
        regression.update(doc.regression)
        tests += doc.tests
        perf, calibration, missing = doc.perf or perf, doc.calibration or calibration, doc.missing or missing
        sweep = doc.sweep or sweep
    first = docs[0].run
    run = first.model_copy(update={
        "systems": _union([first.systems] + [d.run.systems for d in docs[1:]] + [list(cases)]),
        "models": _union(d.run.models for d in docs),
        "incomplete": any(d.run.incomplete for d in docs),
        **run_changes,
    })
    return Results(run=run, training=training, cases=[c for s in cases for c in cases[s]], aggregates=aggregates,
                   splits=splits, missing=missing, regression=regression, tests=tests, perf=perf, calibration=calibration,
                   sweep=sweep)


def provenance(labelled: Sequence[tuple[str, Results]]) -> dict[str, str]:
    """``{system: label}``: which document each system of :func:`merge`'s result comes from."""
    out: dict[str, str] = {}
    for label, doc in labelled:
        for system in doc.systems:
            out.pop(system, None)
            out[system] = label
    return out
