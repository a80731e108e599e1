"""Render the HTML comparison report from one or more results JSON files.

The page is self-contained (inline CSS and SVG, no external resource) and every
value from the results is escaped: model answers are untrusted text. Its one
script is dyag's own (``templates/rating.js``: rate the answers, export and
import ratings JSONL); a Content-Security-Policy meta tag allows that script
by its SHA-256 and forbids any other, as a second line of defence.

>>> render_report(["runs/a/results.json", "runs/b/results.json"], "reports/index.html")  # doctest: +SKIP
PosixPath('reports/index.html')
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
from pathlib import Path
from typing import Any, Sequence, Union

import jinja2
from markupsafe import Markup

from dyag import __version__
from dyag import results as contract
from dyag.errors import DyagError
from dyag.evaluation.agreement import Rating, read_ratings
from dyag.report.context import ReportContext
from dyag.report.i18n import strings
from dyag.report.sections import SECTIONS
from dyag.results import Results
from dyag.utils.atomic import atomic_write_text

#: What ``render_report`` and ``build_html`` accept: a results file, a ``Results``, or its JSON object.
ResultsItem = Union[str, os.PathLike, Results, dict]
#: What ``ratings=`` accepts: ratings JSONL files, or :class:`Rating` records.
RatingsItem = Union[str, os.PathLike, Rating]

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE_NAME = "report.html.j2"
GENERATOR = "dyag-report"
SCRIPT_NAME = "rating.js"


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


@functools.lru_cache(maxsize=1)
def rating_script() -> tuple[Markup, str]:
    """The page's script and its CSP source (``'sha256-...'`` of exactly the text inlined)."""
    text = (TEMPLATES / SCRIPT_NAME).read_text(encoding="utf-8")
    if "</script" in text.lower():
        raise AssertionError(f"{SCRIPT_NAME} must not contain '</script'")
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return Markup(text), Markup(f"'sha256-{digest}'")  # base64: nothing to escape


def load_ratings(items: Sequence[RatingsItem] | None) -> list[Rating] | None:
    """``None`` without ratings; else the records, files read in order (one-line errors)."""
    if items is None:
        return None
    if isinstance(items, (str, os.PathLike, Rating)):
        items = [items]
    out: list[Rating] = []
    for item in items:
        out += [item] if isinstance(item, Rating) else read_ratings(item)
    return out


def labelled(items: Sequence[ResultsItem]) -> list[tuple[str, Results]]:
    """``[(label, Results)]``: a file is read and labelled with its path, anything else
    is ``results[i]``; a one-line ``DyagError`` for the first bad one."""
    out = []
    for i, item in enumerate(items):
        if isinstance(item, (str, os.PathLike)):
            out.append((str(item), contract.read(item)))
        elif isinstance(item, (Results, dict)):
            out.append((f"results[{i}]", contract.parse(item, source=f"results[{i}]")))
        else:
            raise DyagError(f"results[{i}]: expected a path, a Results or a results dict, got {type(item).__name__}")
    return out


def build_html(items: Sequence[ResultsItem], *, lang: str = "fr", title: str | None = None,
               ratings: Sequence[RatingsItem] | None = None) -> str:
    """The report of ``items`` (merged, later wins per system) as a string; no file written."""
    return _html(labelled(items), lang, title, load_ratings(ratings))


def _view(section, ctx: ReportContext, t: dict[str, str], ratings: list[Rating] | None):
    """A section's view; the sections that show people's ratings (``TAKES_RATINGS``) get them."""
    if getattr(section, "TAKES_RATINGS", False):
        return section.build(ctx, t, ratings)
    return section.build(ctx, t)


def _html(sources: list[tuple[str, Results]], lang: str, title: str | None,
          ratings: list[Rating] | None = None) -> str:
    t = strings(lang)
    ctx = ReportContext.of(sources, lang)
    script, script_source = rating_script()
    context: dict[str, Any] = {
        "t": t,
        "lang": lang,
        "title": title or t["title"],
        "version": __version__,
        "generator": GENERATOR,
        "multi": ctx.multi,
        "script": script,
        "script_source": script_source,
        **{name: _view(section, ctx, t, ratings) for name, section in SECTIONS.items()},
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
    results: ResultsItem | Sequence[ResultsItem],
    output: str | os.PathLike,
    *,
    lang: str = "fr",
    title: str | None = None,
    overwrite: bool = False,
    ratings: Sequence[RatingsItem] | None = None,
) -> Path:
    """Merge ``results`` (paths, ``Results`` or results dicts; later wins per system) and write
    the HTML report. With ``ratings`` (ratings JSONL files), each answer shows its stored
    ratings and an "Agreement with human ratings" section compares them with the scores.

    Every input is checked before anything is written; the file is replaced
    atomically. An existing file that is not a dyag report is kept unless
    ``overwrite``.
    """
    if isinstance(results, (str, os.PathLike, dict, Results)):
        results = [results]
    if not results:
        raise DyagError("no results files to report")
    strings(lang)  # unknown language: fail before reading anything
    sources = labelled(results)
    stored = load_ratings(ratings)
    output = Path(output)
    _check_output(output, overwrite)
    html = _html(sources, lang, title, stored)
    return atomic_write_text(output, html)
