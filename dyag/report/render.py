"""Render the HTML comparison report from one or more results JSON files.

The page is self-contained (inline CSS and SVG, no script, no external
resource) and every value from the results is escaped: model answers are
untrusted text. A Content-Security-Policy meta tag forbids scripts as a
second line of defence.

>>> render_report(["runs/a/results.json", "runs/b/results.json"], "reports/index.html")  # doctest: +SKIP
PosixPath('reports/index.html')
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, Sequence

import jinja2

from dyag import __version__
from dyag.errors import DyagError
from dyag.report.i18n import strings
from dyag.report.results import ResultsSource, as_source, merge_results
from dyag.report.view import ReportView
from dyag.utils.atomic import atomic_write_text

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE_NAME = "report.html.j2"
GENERATOR = "dyag-report"
OPEN_QUESTIONS_MAX = 12  # above this many questions, each starts collapsed
MAX_FAILING_LINKS = 200


@functools.lru_cache(maxsize=1)
def report_environment() -> jinja2.Environment:
    """The Jinja environment (built once): autoescape on for every template (``.html.j2`` included)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "htm", "xml", "j2"), default_for_string=True, default=True
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def build_html(sources: Sequence[ResultsSource], *, lang: str = "fr", title: str | None = None) -> str:
    """The report as a string (no file written)."""
    t = strings(lang)
    view = ReportView(merge_results(list(sources)), t, lang)
    questions = view.questions()
    context: dict[str, Any] = {
        "t": t,
        "lang": lang,
        "title": title or t["title"],
        "version": __version__,
        "generator": GENERATOR,
        "multi": view.multi,
        "sources": view.sources(),
        "replaced": view.replaced(),
        "incomplete": view.merged.incomplete_sources,
        "config": view.config(),
        "groups": view.groups,
        "ncols": sum(len(g.columns) for g in view.groups),
        "n_kinds": max(len(view.kinds), 1),
        "columns": view.columns,
        "table": view.table(),
        "charts": view.charts(),
        "legend": view.legend(),
        "winner": view.winner(),
        "regression": view.regression(),
        "questions": questions,
        "n_cases": len(view.merged.cases),
        "n_failing": sum(1 for q in questions if q.n_errors),
        "open_questions": len(questions) <= OPEN_QUESTIONS_MAX,
        "max_links": MAX_FAILING_LINKS,
        "perf": view.perf(),
        "calibration": view.calibration(),
    }
    return report_environment().get_template(TEMPLATE_NAME).render(context)


def _check_output(output: Path, overwrite: bool) -> None:
    if output.is_dir():
        raise DyagError(f"{output}: is a directory; give the path of the HTML file to write")
    if output.exists() and not overwrite and not _is_dyag_report(output):
        raise DyagError(f"{output}: exists and is not a dyag report; refusing to overwrite it (use --overwrite)")


def _is_dyag_report(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(2048)
    except OSError:
        return False
    return f'name="generator" content="{GENERATOR}'.encode() in head


def render_report(
    results: Sequence[dict[str, Any] | str | os.PathLike],
    output: str | os.PathLike,
    *,
    lang: str = "fr",
    title: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Merge ``results`` (paths or dicts, later wins per system) and write the HTML report.

    Every input is checked before anything is written; the file is replaced
    atomically. An existing file that is not a dyag report is kept unless
    ``overwrite``.
    """
    if isinstance(results, (str, os.PathLike, dict)):
        results = [results]
    if not results:
        raise DyagError("no results files to report")
    strings(lang)  # unknown language: fail before reading anything
    sources = [as_source(item, i) for i, item in enumerate(results)]
    output = Path(output)
    _check_output(output, overwrite)
    html = build_html(sources, lang=lang, title=title)
    return atomic_write_text(output, html)
