"""``dyag generate-training KB --output PATH``: a question/answer training set from a knowledge base.

Example (the packaged catalog, 100 paraphrased examples split 80/10/10)::

    dyag generate-training sample --method augmented --count 100 --split \\
        --output data/finetuning/dataset_100.jsonl
"""

from __future__ import annotations

import argparse

from dyag.utils.config import add_dataclass_arguments, build_config


def register(subparsers) -> argparse.ArgumentParser:
    from dyag.data.generate import GenerateConfig

    parser = subparsers.add_parser(
        "generate-training",
        help="make a French Q/A training set (and a golden test set) from a knowledge base",
        description="Make a French question/answer training set from a knowledge base JSONL.",
    )
    parser.add_argument("kb", metavar="KB", help=GenerateConfig.__dataclass_fields__["kb"].metadata["help"])
    add_dataclass_arguments(parser, GenerateConfig)
    parser.add_argument("--ratios", metavar="TRAIN,VAL,TEST", help=GenerateConfig.__dataclass_fields__["ratios"].metadata["help"])
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from dyag.data.generate import GenerateConfig, generate_training

    config = build_config(GenerateConfig, args)
    result = generate_training(config)
    print(result.summary())
    return 0
