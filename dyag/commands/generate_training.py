"""``dyag generate-training KB --output PATH``: a question/answer training set from a knowledge base.

Example (the packaged catalog, 100 paraphrased examples split 80/10/10)::

    dyag generate-training sample --method augmented --count 100 --split \\
        --output data/finetuning/dataset_100.jsonl
"""

from __future__ import annotations

import argparse

from dyag.utils.config import add_command

#: how GenerateConfig's fields look here: the knowledge base is the positional KB, ratios a TRAIN,VAL,TEST flag
FLAGS = {"kb": {"cli": True, "positional": True, "metavar": "KB"}, "ratios": {"cli": True, "metavar": "TRAIN,VAL,TEST"}}


def register(subparsers) -> argparse.ArgumentParser:
    from dyag.data.generate import GenerateConfig

    return add_command(
        subparsers, "generate-training", run, GenerateConfig, metadata=FLAGS,
        help="make a French Q/A training set (and a golden test set) from a knowledge base",
        description="Make a French question/answer training set from a knowledge base JSONL.",
    )


def run(config) -> int:
    from dyag.data.generate import generate_training

    result = generate_training(config)
    print(result.summary())
    return 0
