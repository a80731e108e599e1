"""``docs/results-schema.md``, generated from the models (``python -m dyag.results``)."""

from __future__ import annotations

from typing import Any, Union, get_args, get_origin

from dyag.results import models as M

DOC_MODELS = tuple(getattr(M, name) for name in (
    "Results", "Run", "Machine", "Environment", "Scoring", "TrainingMetrics", "Case", "RuleOutcome", "Aggregate",
    "Missing", "Regression", "ComparisonRow", "RuleFlip", "TestRecord", "Perf", "PerfPair", "PerfTarget",
    "Calibration", "Sweep", "SweepPoint"))

_DOC_HEAD = f"""# Results JSON, schema version {M.SCHEMA_VERSION}

<!-- Generated from dyag/results/ by `python -m dyag.results > docs/results-schema.md`; do not edit. -->

`dyag score`, `dyag evaluate-finetuned`, the pytest harness (`--dyag-report`) and `make perf`
write one JSON object (UTF-8, written atomically). The terminal table, the regression
comparison (`dyag compare`), the gates and the HTML report read only this document.
`dyag.results.read(path)` loads, migrates and checks a file; `dyag.results.parse(obj)` an
object in memory; `write`, `dump` and `merge` do the rest. The models are frozen: a
document is built whole and never edited afterwards.

## Versioning

`schema_version` is an integer. A reader refuses a version newer than it knows, with a
one-line error asking to upgrade dyag, and migrates older ones: version 1 files (every
file written before this version, the stored baselines among them) load unchanged in
meaning (`run.machine.cpus` becomes `cores`; a flat `scoring` is nested). Adding an
optional key does not change the version; renaming or removing one, or changing a unit,
does, with a migration.

## Metric columns

The keys of `cases[].metrics` and of `aggregates[system]` are the columns of the metric
registry (`dyag.evaluation.registry`): `score` (0-10), `bleu` (0-100, sentence BLEU),
`corpus_bleu` (0-100, aggregate only), `rouge1`, `rouge2`, `rougeL` (0-1), `fact_recall`
(0-1, null without facts), `exact_match` (0 or 1), `bertscore_f1`, `bertscore_precision`,
`bertscore_recall` (0-1), plus any metric a project registers, and `rule:<name>` (the
pass rate of each rule, 0-1) in the aggregates.
"""


def _type_name(annotation: Any) -> str:
    import re

    if get_origin(annotation) is Union:  # Optional[Literal[...]], shown like `str | None`
        return " | ".join(_type_name(arg) for arg in get_args(annotation))
    text = annotation.__name__ if isinstance(annotation, type) else str(annotation)
    text = re.sub(r"(?:[A-Za-z_]\w*\.)+(?=[A-Za-z_])", "", text)  # typing.Any, __main__.Case -> Any, Case
    return text.replace("NoneType", "null").replace("None", "null")


def schema_markdown() -> str:
    """``docs/results-schema.md``, generated from the models."""
    parts = [_DOC_HEAD]
    for model in DOC_MODELS:
        doc = (model.__doc__ or "").strip().splitlines()[0]
        parts.append(f"\n## `{model.__name__}`\n\n{doc}")
        if model.model_config.get("extra") == "allow":
            parts.append("Other keys are kept as they are.")
        parts.append("\n| key | type | meaning |\n|---|---|---|")
        for name, info in model.model_fields.items():
            parts.append(f"| `{name}` | `{_type_name(info.annotation)}` | {info.description or ''} |")
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"
