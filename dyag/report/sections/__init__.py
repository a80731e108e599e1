"""One module per report section: ``build(ctx, t)`` turns the :class:`~dyag.report.context.ReportContext`
into that section's view, which ``templates/sections/<name>.html.j2`` lays out.

All decisions (ordering, best values, the winner, the loss-vs-quality finding) are made in
Python so the templates only lay things out, and so they can be tested without parsing HTML.
"""

from __future__ import annotations

from dyag.report.sections import (agreement, calibration, charts, config, perf, questions, regression, sources,
                                  splits, sweep, table, verdict, winner)

#: ``{name: module}``: each view goes to the page template under its section's name, in the page's order:
#: the verdict first, the bookkeeping (sources, configuration) last and collapsed.
SECTIONS = {m.__name__.rpartition(".")[2]: m for m in (
    verdict, winner, sweep, table, splits, charts, regression, questions, agreement, calibration, perf, sources, config)}
