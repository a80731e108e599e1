"""Base models: the registry of shortcuts, resolution to a local directory, and tokenizers.

Importing this package is cheap: torch and transformers load only when a model does.
"""

from dyag.models.loading import (
    ResolvedModel,
    load_tokenizer,
    model_availability,
    pull_model,
    resolve_model,
)
from dyag.models.registry import ModelSpec, get_model_spec, list_models, register_model
from dyag.models.turns import end_of_turn_ids

__all__ = [
    "ModelSpec",
    "ResolvedModel",
    "end_of_turn_ids",
    "get_model_spec",
    "list_models",
    "load_tokenizer",
    "model_availability",
    "pull_model",
    "register_model",
    "resolve_model",
]
