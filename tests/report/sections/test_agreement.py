"""People's ratings in the report (dyag/report/sections/agreement.py): ratings shown on their answers
and the agreement section; a bad ratings file is one line and writes nothing."""

from __future__ import annotations

import html
import json
from pathlib import Path

from tests.report.helpers import SMALL, article, section, small


def _small_ratings(tmp_path: Path) -> tuple[Path, list[dict]]:
    """A rating for every answer of the fixture (by score band), one stale, one with a hostile comment."""
    from dyag.evaluation.agreement import answer_sha256

    rows = []
    for case in small()["cases"]:
        rating = "correct" if case["score"] >= 7 else "partly" if case["score"] >= 4 else "wrong"
        rows.append({"id": case["id"], "system": case["system"], "answer_sha256": answer_sha256(case["answer"]),
                     "rating": rating, "comment": "", "rater": "alice"})
    rows[0]["answer_sha256"] = answer_sha256("an answer of an older run")
    rows[1]["comment"] = '<script>alert("rated")</script>'
    path = tmp_path / "ratings.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path, rows


def test_report_with_ratings_shows_them_and_the_agreement_section(tmp_path, cli):
    ratings, rows = _small_ratings(tmp_path)
    out = tmp_path / "index.html"
    result = cli("report", SMALL, "--ratings", ratings, "-o", out, "--lang", "en")
    assert result.rc == 0, result.err
    page = out.read_text(encoding="utf-8")
    agreement = section(page, "agreement")
    assert "Agreement with human ratings" in agreement and "Overall" in agreement and '<a href="#agreement">' in page
    assert "23 rating(s) used; 1 stale" in html.unescape(agreement)
    for system in {r["system"] for r in rows}:
        assert f"<code>{system}</code>" in agreement
    stale = article(page, rows[0]["id"], rows[0]["system"])
    assert 'class="rating-badge r-wrong stale"' in stale and "· stale" in stale and "data-rating=" not in stale
    fresh = article(page, rows[-1]["id"], rows[-1]["system"])
    assert f'data-rating="{rows[-1]["rating"]}" data-rater="alice"' in fresh
    assert f'data-value="{rows[-1]["rating"]}" aria-pressed="true"' in fresh
    assert "&lt;script&gt;alert(&#34;rated&#34;)&lt;/script&gt;" in page and 'alert("rated")' not in page
    assert page.lower().count("<script") == 1


def test_a_bad_ratings_file_is_one_line_and_writes_nothing(tmp_path, cli):
    ratings, rows = _small_ratings(tmp_path)
    ratings.write_text(ratings.read_text(encoding="utf-8") + json.dumps({**rows[2], "rating": "bof"}) + "\n",
                       encoding="utf-8")
    out = tmp_path / "index.html"
    result = cli("report", SMALL, "--ratings", ratings, "-o", out)
    assert result.rc == 2 and not out.exists()
    assert result.err_lines == [f"dyag: error: {ratings}:{len(rows) + 1}: rating must be correct, partly or wrong"]
