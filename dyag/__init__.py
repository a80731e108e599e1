"""dyag: fine-tune small LLMs on a knowledge base, compare with RAG, gate answer quality.

The public API lives in :mod:`dyag.api` and is re-exported here lazily, so that
``import dyag`` does not import torch.
"""

from __future__ import annotations

__version__ = "0.1.0"

_API = (
    "generate_training",
    "finetune",
    "FinetuneConfig",
    "FinetuneResult",
    "load_model",
    "Generator",
    "score_predictions",
    "evaluate_systems",
    "render_report",
    "get_model_spec",
    "list_models",
    "DyagError",
    "DecodingConfig",
    "EvaluationConfig",
    "GenerateConfig",
)

__all__ = list(_API) + ["__version__"]


def __getattr__(name: str):
    if name in _API:
        from dyag import api

        return getattr(api, name)
    raise AttributeError(f"module 'dyag' has no attribute {name!r}")
