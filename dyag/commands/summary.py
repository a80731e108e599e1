"""``dyag summary``: the verdict of a results file in a few lines and tables.

    dyag summary reports/index.json
    dyag summary reports/index.json --baseline golden/baselines/smollm2_135m.cpu-fp32.json --format text
    dyag summary reports/index.json --output summary.md

The failed gates with their reasons and the count of passed ones (the gate outcomes the harness
recorded), the rows that moved against the baseline (the stored baselines the harness compared with,
or ``--baseline``, compared as ``dyag compare`` does), the winner on the quality score with its 95%
interval against the runner-up, and fact recall per golden split. Markdown (GitHub: a job's step
summary, a pull-request comment) or plain text. Exit 0 when it is written (whatever the verdict;
``dyag compare`` and the harness are the gates); 2 on bad input.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SummaryConfig:
    """The results file ``dyag summary`` reads, what it compares it with, and how it writes the verdict."""

    results: str = field(metadata={"help": "the results to summarize", "positional": True, "metavar": "RESULTS.json"})
    baseline: str | None = field(default=None, metadata={
        "help": "compare with these results (e.g. a stored baseline) instead of the comparison stored in RESULTS",
        "metavar": "BASELINE.json"})
    format: str = field(default="markdown", metadata={
        "help": "markdown (GitHub) or text (terminal)", "choices": ("markdown", "text")})
    output: str | None = field(default=None, metadata={
        "help": "write the summary to this file instead of standard output", "metavar": "FILE"})


def run(config: SummaryConfig) -> int:
    from pathlib import Path

    from dyag.errors import DyagError
    from dyag.results import read
    from dyag.summary import summarize, to_markdown, to_text

    results = read(config.results)
    comparison = None
    if config.baseline is not None:
        from dyag.commands.compare import check_comparable
        from dyag.evaluation.compare import compare_to_baseline

        baseline = read(config.baseline)
        check_comparable(baseline, results, config.baseline, config.results)
        comparison = compare_to_baseline(results, baseline)
    summary = summarize(results, source=config.results, baseline_label=config.baseline or "",
                        comparison=comparison)
    text = to_markdown(summary) if config.format == "markdown" else to_text(summary)
    if config.output is None:
        print(text, end="")
        return 0
    out = Path(config.output)
    if out.is_dir():
        raise DyagError(f"{config.output}: is a directory (--output names a file)")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the name
        raise DyagError(f"{config.output}: cannot write: {getattr(exc, 'strerror', None) or exc}") from None
    print(f"dyag: summary {config.output}")
    return 0
