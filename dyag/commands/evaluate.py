"""``dyag evaluate-finetuned``: base vs finetuned vs RAG on a golden set, scored, in one command.

Generates (batched, cached), scores (BLEU, ROUGE, BERTScore, fact recall, format rules), prints a
comparison table and writes the results JSON (and an HTML report with --report).

The generation and scoring flags are :class:`dyag.pipeline.EvaluationConfig`'s fields; what to read
and write are :class:`EvaluateFiles`'s.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from dyag.errors import DyagError
from dyag.pipeline import EvaluationConfig


@dataclass
class EvaluateFiles:
    """What ``dyag evaluate-finetuned`` reads (golden cases, catalog) and writes (results, report)."""

    output: str = field(metadata={"help": "results JSON"})
    golden: list[str] | None = field(default=None, metadata={"project": True,
        "help": "golden cases (JSONL; repeatable; default: [tool.dyag] golden of the project here)", "repeat": True})
    kb: str | None = field(default=None, metadata={"project": True,
        "help": "knowledge base (JSONL, or 'sample') for RAG and acronym checks "
                "(default: [tool.dyag] kb of the project here)"})
    report: str | None = field(default=None, metadata={"help": "also write the HTML report here"})
    lang: str = field(default="fr", metadata={"help": "report language", "choices": ("fr", "en")})
    limit: int | None = field(default=None, metadata={"help": "evaluate only the first N golden cases"})


def run(config: EvaluationConfig, files: EvaluateFiles) -> int:
    from dyag.data.golden import read_golden
    from dyag.data.kb import read_kb, sample_kb_path
    from dyag.evaluation.table import format_table
    from dyag.pipeline import evaluate_systems
    from dyag.results import write

    if Path(files.output).is_dir():
        raise DyagError(f"--output {files.output} is a directory")
    golden = files.golden  # default: [tool.dyag] golden (dyag.settings.command_defaults)
    if not golden:
        raise DyagError("--golden is required (no [tool.dyag] golden in this project)")
    cases = [c for path in golden for c in read_golden(path)]
    if files.limit is not None:
        if files.limit < 1:
            raise DyagError(f"--limit must be >= 1, got {files.limit}")
        cases = cases[: files.limit]
    kb_path = (sample_kb_path() if files.kb == "sample" else files.kb) if files.kb else None
    kb = read_kb(kb_path) if kb_path else None
    if config.base_model is not None and not config.endpoint:  # an unusable model: refused before the RAG encoder
        from dyag.commands.sweep import check_model

        check_model(config.base_model, flag="--base-model")
    results = evaluate_systems(config, cases, kb)
    write(files.output, results)
    print(format_table(results))
    print(f"results: {files.output}", file=sys.stderr)
    if files.report:
        from dyag.report.render import render_report

        render_report([results], files.report, lang=files.lang)
        print(f"report: {files.report}", file=sys.stderr)
    return 0
