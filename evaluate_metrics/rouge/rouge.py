"""ROUGE-1/2/L (rouge-score) with a Unicode tokenizer, as a local ``evaluate`` module.

rouge-score's default tokenizer drops non-ASCII letters ("hébergée" -> "h berg e");
this one keeps letters of any script, lowercases, and does not stem. On ASCII input
the figures equal rouge-score's default. F-measures, 0-1.
"""

import evaluate

from dyag.evaluation.textmetrics import ROUGE_TYPES, rouge_scores
from evaluate_metrics import metric_info

_DESCRIPTION = "ROUGE-1/2/L F-measures from rouge-score, tokenized so accented words are whole tokens."
_CITATION = "Lin, ROUGE: A Package for Automatic Evaluation of Summaries, 2004."
_KWARGS = """
Args:
    predictions: list of answers (str).
    references: list of references, one str or a list of str per prediction (best one counts).
    use_aggregator: True (default) returns means; False returns one list per ROUGE type.
    facts: ignored; accepted so the module runs under ``evaluate.combine`` next to fact_recall.
Returns:
    rouge1, rouge2, rougeL: F-measure (mean, or list with use_aggregator=False).
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class Rouge(evaluate.Metric):
    def _info(self):
        return metric_info(_DESCRIPTION, _KWARGS, citation=_CITATION,
                           reference_urls=("https://github.com/google-research/google-research/tree/master/rouge",))

    def _compute(self, predictions, references, use_aggregator=True, facts=None):
        per_item = [rouge_scores(p, r) for p, r in zip(predictions, references)]
        lists = {name: [s[name] for s in per_item] for name in ROUGE_TYPES}
        if not use_aggregator:
            return lists
        return {name: (sum(values) / len(values) if values else 0.0) for name, values in lists.items()}
