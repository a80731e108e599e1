"""The sources section (dyag/report/sections/sources.py): where each system came from when files are
merged, and the banner of an incomplete run."""

from __future__ import annotations

import html
import re

from dyag.report.render import build_html, render_report
from tests.report.helpers import DIALOGUE_QUESTION, SMALL, article, second_file, section, small, write


def test_merged_report_says_where_each_system_came_from(tmp_path):
    first = write(tmp_path / "first.json", small())
    rerun = second_file(tmp_path)
    page = render_report([first, rerun], tmp_path / "index.html").read_text(encoding="utf-8")
    assert page.count('<article class="answer"') == 24
    assert "Réponse rejouée pour gidaf-hebergeur-1." in page
    card = article(page, DIALOGUE_QUESTION, "smollm2:135m/rag")
    assert "Réponse rejouée" in card and "centre serveur de Toulouse" not in card
    sources = html.unescape(section(page, "sources"))
    assert f"{first} remplacé par {rerun}" in sources
    header = re.search(r'<th class="kind" data-system="smollm2:135m/rag">.*?</th>', page).group(0)
    assert f'<div class="src">{rerun}</div>' in header


def test_incomplete_banner_only_when_incomplete(fr_html, tmp_path):
    assert 'class="banner incomplete"' not in fr_html
    data = small()
    data["run"]["incomplete"] = True
    partial = write(tmp_path / "partial.json", data)
    page = build_html([SMALL, partial])
    assert f'class="banner incomplete" role="alert">⚠️ Exécution incomplète : {partial}.' in page
    assert "Exécution incomplète : results[0]." in build_html([data])
