"""Failed rules' spans highlighted in an answer (dyag/report/highlight.py), each piece escaped."""

from __future__ import annotations

import html

from dyag.report.highlight import failed_spans, highlight_answer
from tests.report.helpers import DIALOGUE_QUESTION, DIALOGUE_SYSTEM, article


def test_highlight_escapes_each_piece_separately():
    rules = [{"name": "r", "passed": False, "severity": "error", "span": [1, 6]}]
    assert str(highlight_answer("<b>bold</b>", rules)) == (
        '&lt;<mark class="sev-error" title="r">b&gt;bol</mark>d&lt;/b&gt;'
    )


def test_highlight_merges_clips_and_ignores_bad_spans():
    rules = [
        {"name": "a", "passed": False, "severity": "warning", "span": [0, 4]},
        {"name": "b", "passed": False, "severity": "error", "span": [2, 6]},
        {"name": "c", "passed": False, "severity": "error", "span": [8, 99]},
        {"name": "d", "passed": True, "severity": "error", "span": [0, 9]},
        {"name": "e", "passed": False, "severity": "error", "span": [5, 2]},
        {"name": "f", "passed": False, "severity": "error", "span": ["0", 1]},
        {"name": "g", "passed": False, "severity": "error", "span": None},
    ]
    assert failed_spans(rules, 10) == [(0, 6, "error", ["a", "b"]), (8, 10, "error", ["c"])]
    assert str(highlight_answer("0123456789", rules)) == (
        '<mark class="sev-error" title="a, b">012345</mark>67<mark class="sev-error" title="c">89</mark>'
    )


def test_dialogue_turn_span_is_highlighted(fr_html):
    card = article(fr_html, DIALOGUE_QUESTION, DIALOGUE_SYSTEM)
    assert (
        'hergée par le centre serveur de Toulouse' not in card
    )  # the card is the fine-tuned answer, not the reference
    assert (
        'aides financières.\n<mark class="sev-error" title="no_dialogue_turns">'
        "Utilisateur : Et qui l&#39;héberge ?\nAssistant : Le centre serveur de Paris.</mark></p>"
    ) in card
    assert "❌ <code>no_dialogue_turns</code> — invented dialogue turn" in html.unescape(card)
