"""The winner section (dyag/report/sections/winner.py): the best system, its margin, whether the
confidence intervals overlap, and what the training loss says about quality."""

from __future__ import annotations

import html

from dyag.report.render import build_html
from tests.report.helpers import section, small


def test_winner_with_margin_and_ci_overlap(fr_html):
    winner = html.unescape(section(fr_html, "winner"))
    assert "<strong>gemma3:270m/finetuned</strong> obtient le meilleur score moyen : 8,96/10" in winner
    assert "1,93 point(s) devant <strong>smollm2:135m/rag</strong>" in winner
    assert "se chevauchent" in winner


def test_training_loss_does_not_predict_quality(fr_html):
    assert "la perte d'entraînement ne prédit pas la qualité" in html.unescape(fr_html).lower()


def test_loss_consistent_with_quality_is_said_too():
    data = small()
    data["training"]["gemma3:270m"]["train_loss"] = 1.2  # now the lower loss is also the better model
    page = html.unescape(build_html([data], lang="en"))
    assert "does not predict quality" not in page
    assert "ranks the models in the same order as the quality score" in page


def test_separate_confidence_intervals():
    data = small()
    data["aggregates"]["smollm2:135m/rag"]["score"]["ci95"] = [6.0, 8.0]
    data["aggregates"]["gemma3:270m/finetuned"]["score"]["ci95"] = [8.5, 9.4]
    page = build_html([data], lang="en")
    assert "do not overlap" in section(page, "winner")
