"""The report's languages (dyag/report/i18n.py): French by default, English on request, the same keys."""

from __future__ import annotations

import html

import pytest

from dyag.errors import DyagError
from dyag.report.i18n import STRINGS
from dyag.report.render import render_report
from tests.report.helpers import SMALL


def test_french_by_default_and_english_on_request(tmp_path):
    fr = render_report([SMALL], tmp_path / "fr.html").read_text(encoding="utf-8")
    en = render_report([SMALL], tmp_path / "en.html", lang="en", title="Run 42").read_text(encoding="utf-8")
    assert '<html lang="fr">' in fr and "Tableau quantitatif" in fr and "Perte d&#39;entraînement" in fr
    assert '<html lang="en">' in en and "Quantitative table" in en and "Training loss" in en
    assert "<title>Run 42</title>" in en
    assert "Tableau quantitatif" not in en
    assert "Training loss does not predict quality" in html.unescape(en)
    assert "8,96" in fr and "8.96" in en


def test_language_dictionaries_have_the_same_keys():
    assert set(STRINGS["fr"]) == set(STRINGS["en"])


def test_unknown_language_is_a_user_error(tmp_path):
    with pytest.raises(DyagError, match="unknown report language 'de'"):
        render_report([SMALL], tmp_path / "x.html", lang="de")
    assert not (tmp_path / "x.html").exists()
