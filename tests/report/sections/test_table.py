"""The quantitative table (dyag/report/sections/table.py): rows in the seed's order, the best value
marked, and a registered metric reaching the table and the charts."""

from __future__ import annotations

import re

from dyag import results as contract
from dyag.report.context import ReportContext
from dyag.report.i18n import STRINGS
from dyag.report.render import build_html
from dyag.report.sections import table as table_section
from tests.report.helpers import EVAL, SMALL, row_html, section


def test_best_value_is_marked_per_row(fr_html):
    score = row_html(fr_html, "score")
    assert score.count("best") == 1
    assert re.search(r'class="num best">.*?8,96', score, re.S)
    loss = row_html(fr_html, "train_loss")  # lower is better: smollm2 (1.853) beats gemma3 (2.417)
    assert re.search(r'class="num best span" colspan="3">.*?1,853', loss, re.S)
    assert re.search(r'<td class="num span" colspan="3">2,417</td>', loss)
    assert "best" not in row_html(fr_html, "trainable_params")  # no direction: never marked


def test_table_rows_follow_the_seed(fr_html):
    ctx = ReportContext.of([(str(SMALL), contract.read(SMALL))], lang="en")
    keys = [row.key for group in table_section.build(ctx, STRINGS["en"]).row_groups for row in group.rows]
    for key in ("duration_s", "train_loss", "token_accuracy", "trainable_params", "samples_per_s",
                "num_tokens", "entropy", "bleu", "rougeL", "bertscore_f1", "fact_recall", "score",
                "rule:no_dialogue_turns"):
        assert key in keys
    assert keys.index("duration_s") < keys.index("bleu") < keys.index("score") < keys.index("rule:language")


def group_of(page: str, metric: str) -> str:
    """The title of the table's row group that holds ``metric``'s row."""
    before = page[: page.index(f'<tr data-metric="{metric}"')]
    return re.findall(r'<tr class="group"><th colspan="\d+">(.*?)</th></tr>', before)[-1]


def test_a_registered_metric_shows_in_the_table_and_charts():
    from dyag.evaluation.registry import column, metric, unregister
    from dyag.evaluation.scoring import read_predictions, score_predictions
    from dyag.report.fmt import fmt_number
    from dyag.utils.jsonl import read_jsonl


    @metric("answer_words", direction="min", tolerance=5, chart=True)
    def answer_words(answer, case):
        return float(len(answer.split()))

    try:
        results = score_predictions(
            read_predictions(EVAL / "predictions.jsonl"), list(read_jsonl(EVAL / "golden.jsonl")),
            list(read_jsonl(EVAL / "kb.jsonl")), metrics=("rouge", "fact_recall", "answer_words"), progress=False)
        page = build_html([results], lang="en")
    finally:
        unregister("answer_words")
    assert column("answer_words") is None
    assert all(c.metrics["answer_words"] == len(c.answer.split()) for c in results.cases)

    row = row_html(page, "answer_words")
    assert group_of(page, "answer_words") == "Answer quality"
    assert '<th scope="row">answer_words <span class="dir" title="lower is better">↓</span></th>' in row
    means = {s: results.mean(s, "answer_words") for s in results.systems}
    shortest = min(means, key=means.get)
    assert re.search(r'class="num best"><span class="star" title="best value">★</span> '
                     + re.escape(fmt_number(means[shortest], "en")), row)  # fewer words is better
    charts = section(page, "charts")
    assert '<svg class="chart"' in charts and 'aria-label="answer_words"' in charts
    assert charts.count("<svg") == 4  # score, ROUGE-L, fact recall and answer_words (no BERTScore here)
    assert all(f"<title>{s}: " in charts.split('aria-label="answer_words"')[1] for s in results.systems)

    # unregistered, the same column is just another measurement: no direction, not charted
    page = build_html([results], lang="en")
    assert group_of(page, "answer_words") == "Other metrics"
    assert "best" not in row_html(page, "answer_words") and 'aria-label="answer_words"' not in page
