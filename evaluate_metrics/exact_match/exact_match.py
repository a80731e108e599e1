"""Normalized exact match as a local ``evaluate`` module (1.0/0.0 per prediction).

Case, accents, punctuation and whitespace are ignored: "GIDAF." matches "gidaf".
"""

import evaluate

from dyag.evaluation.textmetrics import exact_match
from evaluate_metrics import metric_info

_DESCRIPTION = "Exact match after normalization of case, accents, punctuation and whitespace."
_KWARGS = """
Args:
    predictions: list of answers (str).
    references: list of references, one str or a list of str per prediction (any one may match).
    facts: ignored; accepted so the module runs under ``evaluate.combine`` next to fact_recall.
Returns:
    exact_match: mean of per-item matches (0-1).
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class ExactMatch(evaluate.Metric):
    def _info(self):
        return metric_info(_DESCRIPTION, _KWARGS)

    def _compute(self, predictions, references, facts=None):
        matches = [exact_match(p, r) for p, r in zip(predictions, references)]
        return {"exact_match": sum(matches) / len(matches) if matches else 0.0}
