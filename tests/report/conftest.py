"""The report's fixtures: the fixture results document rendered once, in French (the default)."""

from __future__ import annotations

import pytest

from dyag.report.render import build_html
from tests.report.helpers import SMALL


@pytest.fixture(scope="module")
def fr_html() -> str:
    return build_html([SMALL], lang="fr")
