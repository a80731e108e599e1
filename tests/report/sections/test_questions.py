"""The questions section (dyag/report/sections/questions.py): each answer's rule icons, its sha256 and
rating buttons, questions open on a small report."""

from __future__ import annotations

import html
import re

from tests.report.helpers import article, section, small


def test_rule_icons_per_severity(fr_html):
    card = html.unescape(article(fr_html, "gidaf-definition-1", "smollm2:135m/base"))
    assert "❌ <code>no_repetition</code>" in card
    assert "⚠️ <code>not_truncated</code>" in card
    assert "✅ no_dialogue_turns" in card and "✅ language" in card


def test_small_reports_open_their_questions(fr_html):
    questions = re.findall(r'<details class="q[ "][^>]*>', fr_html)
    assert questions and all(" open" in d for d in questions)


def test_each_answer_carries_its_sha256_and_rating_buttons(fr_html):
    from dyag.evaluation.agreement import answer_sha256

    for case in small()["cases"]:
        block = article(fr_html, case["id"], case["system"])
        assert f'data-sha256="{answer_sha256(case["answer"])}"' in block
        assert f'data-id="{html.escape(case["id"])}"' in block and "data-rating=" not in block
        assert [v for v in ("correct", "partly", "wrong") if f'data-value="{v}"' in block] == ["correct", "partly",
                                                                                              "wrong"]
        assert 'class="rate-comment"' in block
    questions = section(fr_html, "questions")
    assert '<button type="button" id="rate-export"' in questions and "Exporter les notes (JSONL)" in questions
    assert 'type="file" id="rate-import"' in questions and 'id="rate-rater"' in questions
    assert 'id="agreement"' not in fr_html  # no ratings, no agreement section
