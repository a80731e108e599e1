"""dyag's metrics as local ``evaluate`` modules, loadable with no network.

``evaluate.load("bleu")`` fetches a script from the Hub and fails offline; these load
from this folder. Each lives in ``evaluate_metrics/<name>/<name>.py`` (evaluate requires
the script to be named like its folder) and imports its computation from
:mod:`dyag.evaluation.textmetrics` or :mod:`dyag.evaluation.bertscore`, which the scorer
calls directly (evaluate's module machinery is too slow for 10,000 predictions).

They are for people who compose metrics with ``evaluate``; dyag itself never loads them,
so they live beside the ``dyag`` package, not in it (a checkout has them; ``pip install
dyag`` does not). The folder above this one must be importable (the repository root: pytest
puts it on ``sys.path``; elsewhere, ``PYTHONPATH``).

>>> import evaluate                                            # doctest: +SKIP
>>> evaluate.load(metric_path("rouge")).compute(predictions=["a b"], references=["a b"])  # doctest: +SKIP
{'rouge1': 1.0, 'rouge2': 1.0, 'rougeL': 1.0}
>>> combo = evaluate.combine([load_metric("bleu"), load_metric("fact_recall")])  # doctest: +SKIP
>>> combo.compute(predictions=p, references=r, facts=f)       # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from dyag.errors import DyagError

METRIC_NAMES = ("bleu", "rouge", "bertscore", "fact_recall", "exact_match")

_HERE = Path(__file__).resolve().parent
_LOADED: dict[tuple, object] = {}


def metric_path(name: str) -> str:
    """Absolute path of the module directory of metric ``name`` (what ``evaluate.load`` takes)."""
    if name not in METRIC_NAMES:
        raise DyagError(f"unknown metric {name!r}; known: {', '.join(METRIC_NAMES)}")
    return str(_HERE / name)


def load_metric(name: str, **init_kwargs):
    """``evaluate.load`` on the local module, cached per (name, arguments) for the process.

    Modules are kept in memory (no Arrow cache files under ~/.cache/huggingface/metrics).
    """
    key = (name, tuple(sorted(init_kwargs.items())))
    if key not in _LOADED:
        import evaluate

        init_kwargs.setdefault("keep_in_memory", True)
        _LOADED[key] = evaluate.load(metric_path(name), **init_kwargs)
    return _LOADED[key]


def text_pair_features() -> list:
    """The input schemas shared by the reference-based modules: one reference, or a list of them."""
    import datasets

    text = datasets.Value("string")
    return [
        datasets.Features({"predictions": text, "references": datasets.Sequence(text)}),
        datasets.Features({"predictions": text, "references": text}),
    ]


def metric_info(description: str, inputs_description: str, *, citation: str = "", features=None,
                reference_urls: tuple[str, ...] = ()):
    """The ``evaluate.MetricInfo`` of one of these modules; ``features`` default to :func:`text_pair_features`."""
    import evaluate

    return evaluate.MetricInfo(
        description=description,
        citation=citation,
        inputs_description=inputs_description,
        features=text_pair_features() if features is None else features,
        reference_urls=list(reference_urls),
    )
