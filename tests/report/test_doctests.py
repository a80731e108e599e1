"""The docstring examples of the report's modules (context, fmt, charts, highlight, i18n) run and hold."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("name", ["dyag.report.context", "dyag.report.fmt", "dyag.report.charts",
                                  "dyag.report.highlight", "dyag.report.i18n"])
def test_report_docstring_examples_hold(name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
