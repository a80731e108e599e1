"""Fact recall as a local ``evaluate`` module: share of golden facts present in each answer.

Facts are compared case-, accent- and whitespace-insensitively, as whole words/numbers.
A prediction without facts has no recall (``None`` per item) and is left out of the mean
rather than counted as 1.0; the mean is ``None`` when no prediction has facts.
"""

import datasets
import evaluate

from dyag.evaluation.textmetrics import fact_recall
from evaluate_metrics import metric_info

_DESCRIPTION = "Share of the golden facts found in the answer (case-, accent- and whitespace-insensitive)."
_KWARGS = """
Args:
    predictions: list of answers (str).
    facts: list of golden facts (list of str) per prediction.
Returns:
    fact_recall: mean over predictions that have facts (None if none has).
    fact_recall_per_item: list of float or None.
Examples:
    >>> m = evaluate.load("evaluate_metrics/fact_recall")  # doctest: +SKIP
    >>> m.compute(predictions=["GIDAF est hébergée à Lyon"], facts=[["Lyon", "Java"]])["fact_recall"]  # doctest: +SKIP
    0.5
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class FactRecall(evaluate.Metric):
    def _info(self):
        text = datasets.Value("string")
        return metric_info(_DESCRIPTION, _KWARGS,
                           features=datasets.Features({"predictions": text, "facts": datasets.Sequence(text)}))

    def _compute(self, predictions, facts):
        per_item = [fact_recall(p, f) for p, f in zip(predictions, facts)]
        known = [v for v in per_item if v is not None]
        return {"fact_recall": sum(known) / len(known) if known else None, "fact_recall_per_item": per_item}
