"""The data layer: knowledge base, training sets, golden sets, splits and training-set generation.

>>> from dyag.data import read_kb, sample_kb_path
>>> len(read_kb(sample_kb_path())) >= 45
True
"""

from dyag.data.generate import GenerateConfig, GenerateResult, generate_training
from dyag.data.golden import GoldenCase, read_golden, write_golden
from dyag.data.kb import read_kb, sample_kb_path
from dyag.data.splits import parse_ratios, split_groups
from dyag.data.training_set import messages_to_prompt_completion, read_training_set

__all__ = [
    "GenerateConfig",
    "GenerateResult",
    "GoldenCase",
    "generate_training",
    "messages_to_prompt_completion",
    "parse_ratios",
    "read_golden",
    "read_kb",
    "read_training_set",
    "sample_kb_path",
    "split_groups",
    "write_golden",
]
