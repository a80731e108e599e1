"""The HTML comparison report, rendered from results (``dyag.results.Results``) alone.

>>> from dyag.report import render_report
>>> render_report(["results.json"], "reports/index.html", lang="en")  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

__all__ = ["render_report"]


def __getattr__(name: str) -> Any:
    # Lazy: `dyag --help` imports the report command, which must not pull in jinja2.
    if name == "render_report":
        from dyag.report.render import render_report

        return render_report
    raise AttributeError(f"module 'dyag.report' has no attribute {name!r}")
