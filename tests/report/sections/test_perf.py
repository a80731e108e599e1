"""The performance section (dyag/report/sections/perf.py): any table of the perf results rendered."""

from __future__ import annotations

import html

from tests.report.helpers import section


def test_perf_tables_rendered_generically(fr_html):
    perf = html.unescape(section(fr_html, "perf"))
    assert "generate: batch 4 vs batch 1" in perf and "a_median" in perf and "2,52" in perf
