"""dyag's public Python API: what the CLI, the pytest plugin and users share.

>>> from dyag import FinetuneConfig, finetune, load_model
>>> result = finetune(FinetuneConfig(dataset="train.jsonl", output="models/x", base_model="smollm2:135m"))  # doctest: +SKIP
>>> load_model("smollm2:135m", result.adapter_dir).answer(["Qui héberge GIDAF ?"])                          # doctest: +SKIP
"""

from __future__ import annotations

from dyag.data.generate import GenerateConfig, generate_training
from dyag.errors import DyagError
from dyag.evaluation.scoring import score_predictions
from dyag.inference.generator import DecodingConfig, Generator, load_model
from dyag.models.registry import get_model_spec, list_models
from dyag.pipeline import EvaluationConfig, evaluate_systems
from dyag.report.render import render_report
from dyag.training.config import FinetuneConfig
from dyag.training.sft import FinetuneResult, finetune

__all__ = [
    "DecodingConfig",
    "DyagError",
    "EvaluationConfig",
    "FinetuneConfig",
    "FinetuneResult",
    "GenerateConfig",
    "Generator",
    "evaluate_systems",
    "finetune",
    "generate_training",
    "get_model_spec",
    "list_models",
    "load_model",
    "render_report",
    "score_predictions",
]
