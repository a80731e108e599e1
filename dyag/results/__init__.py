"""The results contract: one typed document that scoring writes and everything else reads.

``dyag score``, ``dyag evaluate-finetuned``, the pytest harness and ``make perf`` write a
:class:`Results` (JSON, UTF-8, atomic); the terminal table, the regression comparison, the
gates and the HTML report read only it. The models are frozen: a document is built whole
(:func:`dyag.evaluation.scoring.score_predictions`, :func:`merge`) and never edited after.

>>> doc = Results(run=Run(systems=["m/base"]), cases=[Case(id="q1", system="m/base", answer="Oui.")],
...               aggregates={"m/base": {"score": Aggregate(mean=5.0, ci95=(4.0, 6.0), n=1)}})
>>> parse(dump(doc)) == doc
True
>>> doc.cases[0].system_value.kind
'base'

``docs/results-schema.md`` is generated from these models (``python -m dyag.results``);
a test fails when the two disagree. Version-1 files are migrated on reading.

The package: the models (:mod:`~dyag.results.models`), reading and writing
(:mod:`~dyag.results.io`), version migrations (:mod:`~dyag.results.migrations`), merging
(:mod:`~dyag.results.merge`) and the schema document (:mod:`~dyag.results.schema`); everything
is imported from ``dyag.results``.
"""

from dyag.results.io import dump, parse, read, write
from dyag.results.merge import merge, provenance
from dyag.results.migrations import MIGRATIONS
from dyag.results.models import (
    SCHEMA_VERSION,
    SPLIT_ORDER,
    Aggregate,
    Calibration,
    Case,
    ComparisonRow,
    Environment,
    Machine,
    Missing,
    Perf,
    PerfPair,
    PerfTarget,
    Regression,
    Results,
    RuleFlip,
    RuleOutcome,
    Run,
    Scoring,
    Sweep,
    SweepPoint,
    TestRecord,
    TrainingMetrics,
)
from dyag.results.schema import DOC_MODELS, schema_markdown

__all__ = [
    "DOC_MODELS", "MIGRATIONS", "SCHEMA_VERSION", "SPLIT_ORDER", "Aggregate", "Calibration", "Case", "ComparisonRow",
    "Environment", "Machine", "Missing", "Perf", "PerfPair", "PerfTarget", "Regression", "Results", "RuleFlip",
    "RuleOutcome", "Run", "Scoring", "Sweep", "SweepPoint", "TestRecord", "TrainingMetrics", "dump", "merge", "parse",
    "provenance", "read", "schema_markdown", "write",
]
