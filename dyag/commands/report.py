"""``dyag report``: render the HTML comparison report from results JSON files.

Merges one or more results JSON files (later files win for a system present in several) into one
self-contained HTML report::

    dyag report runs/a/results.json runs/b/results.json -o reports/index.html --lang en

Each answer carries rating buttons (correct / partly / wrong) and the page exports the ratings
as JSONL for ``dyag agreement``. ``--ratings ratings.jsonl`` (repeatable) shows stored ratings on
the answers (stale ones marked) and adds the "Agreement with human ratings" section.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LANGS = ("fr", "en")


@dataclass
class ReportConfig:
    """The results files ``dyag report`` merges, and the page it writes."""

    results: list[str] = field(metadata={"help": "results files (schema v1)", "positional": True,
                                         "metavar": "RESULTS.json"})
    output: str = field(default="reports/index.html", metadata={"help": "HTML file to write", "flag": ("-o", "--output")})
    lang: str = field(default="fr", metadata={"help": "report language", "choices": LANGS})
    title: str | None = field(default=None, metadata={"help": "page title (default: a title in --lang)"})
    overwrite: bool = field(default=False, metadata={"help": "replace --output even if it is not a dyag report"})
    ratings: list[str] = field(default_factory=list, metadata={
        "help": "a ratings JSONL file to show on the answers and compare with the scores (repeatable)",
        "repeat": True, "metavar": "RATINGS.jsonl"})


def run(config: ReportConfig) -> int:
    from dyag.report.render import render_report

    path = render_report(config.results, config.output, lang=config.lang, title=config.title,
                         overwrite=config.overwrite, ratings=config.ratings or None)
    print(path)
    return 0
