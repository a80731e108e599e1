"""BLEU (sacrebleu) as a local ``evaluate`` module: corpus BLEU and smoothed sentence BLEU.

Load it offline with ``evaluate.load(evaluate_metrics.metric_path("bleu"))``.
Scores are on sacrebleu's 0-100 scale and equal ``sacrebleu.corpus_bleu`` and
``sacrebleu.sentence_bleu`` (13a tokenizer, "exp" smoothing, effective order per sentence).
"""

import evaluate

from dyag.evaluation.textmetrics import corpus_bleu, sentence_bleu
from evaluate_metrics import metric_info

_DESCRIPTION = "BLEU from sacrebleu: corpus BLEU and smoothed sentence BLEU per prediction (0-100)."
_CITATION = "Post, A Call for Clarity in Reporting BLEU Scores, WMT 2018."
_KWARGS = """
Args:
    predictions: list of answers (str).
    references: list of references, one str or a list of str per prediction.
    facts: ignored; accepted so the module runs under ``evaluate.combine`` next to fact_recall.
Returns:
    bleu: corpus BLEU (float, 0-100).
    sentence_bleu: list of sentence BLEU scores (0-100).
Examples:
    >>> bleu = evaluate.load("evaluate_metrics/bleu")  # doctest: +SKIP
    >>> bleu.compute(predictions=["GIDAF est une application."], references=["GIDAF est une application."])["bleu"]  # doctest: +SKIP
    100.00000000000004
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class Bleu(evaluate.Metric):
    def _info(self):
        return metric_info(_DESCRIPTION, _KWARGS, citation=_CITATION, reference_urls=("https://github.com/mjpost/sacrebleu",))

    def _compute(self, predictions, references, facts=None):
        return {
            "bleu": corpus_bleu(predictions, references),
            "sentence_bleu": [sentence_bleu(p, r) for p, r in zip(predictions, references)],
        }
