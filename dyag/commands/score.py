"""``dyag score``: score stored predictions against a golden set and write results JSON.

    dyag score --predictions preds.jsonl --golden golden.jsonl --kb kb.jsonl --output results.json
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dyag.utils.options import positive_int


@dataclass
class ScoreConfig:
    """What ``dyag score`` reads, writes, and which metrics it computes."""

    predictions: str = field(metadata={
        "help": 'predictions, one {"id", "system", "answer", "meta"?} a line', "metavar": "P.jsonl"})
    golden: str = field(metadata={"help": "golden cases (id, question, reference, facts...)", "metavar": "G.jsonl"})
    output: str = field(metadata={"help": "where to write the results (atomically)", "metavar": "results.json"})
    kb: str | None = field(default=None, metadata={"project": True,
        "help": "knowledge base, for the acronym-expansion rule", "metavar": "KB.jsonl"})
    bertscore: bool = field(default=True, metadata={
        "help": "compute BERTScore (--no-bertscore: skip it, no encoder is loaded)"})
    bertscore_model: str | None = field(default=None, metadata={
        "help": "BERTScore encoder: a local directory or hub id (default: packaged all-MiniLM-L6-v2)",
        "metavar": "DIR_OR_ID"})
    bertscore_layers: int | None = field(default=None, metadata={
        "help": "encoder layer used by BERTScore", "metavar": "N", "type": positive_int})
    allow_missing: bool = field(default=False, metadata={
        "help": "score what lines up; record unknown ids and unanswered cases in results.missing"})
    quiet: bool = field(default=False, metadata={"help": "no progress bar"})


def _inputs(config: ScoreConfig) -> dict:
    """Paths and content hashes of the input files, so a run can be replayed on the same data."""
    from dyag.data.kb import resolve_kb_path
    from dyag.utils.atomic import sha256_file

    kb = resolve_kb_path(config.kb) if config.kb else None  # "sample": the packaged catalog
    files = {"predictions": config.predictions, "golden": config.golden, "kb": kb}
    return {name: {"path": str(path), "sha256": sha256_file(path)} for name, path in files.items() if path}


def run(config: ScoreConfig) -> int:
    from dyag.errors import DyagError
    from dyag.evaluation.cases import read_golden_cases, read_kb_records
    from dyag.evaluation.registry import metric_names
    from dyag.evaluation.scoring import read_predictions, score_predictions
    from dyag.results import write
    from dyag.evaluation.table import format_table

    if not config.bertscore and (config.bertscore_model or config.bertscore_layers):
        raise DyagError("--no-bertscore cannot be combined with --bertscore-model/--bertscore-layers")
    predictions = read_predictions(config.predictions)
    golden = read_golden_cases(config.golden)
    kb = read_kb_records(config.kb) if config.kb else None
    metrics = tuple(m for m in metric_names() if config.bertscore or m != "bertscore")
    results = score_predictions(
        predictions, golden, kb,
        metrics=metrics,
        bertscore_model=config.bertscore_model,
        bertscore_layers=config.bertscore_layers,
        allow_missing=config.allow_missing,
        sources=(str(config.predictions), str(config.golden)),
        progress=not config.quiet,
        run_info={"command": "score", "inputs": _inputs(config)},
    )
    write(config.output, results)
    print(format_table(results))
    print(f"results: {config.output}")
    return 0
