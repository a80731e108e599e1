"""``dyag generate-training KB --output PATH``: a question/answer training set from a knowledge base.

Example (the packaged catalog, 100 paraphrased examples split 80/10/10)::

    dyag generate-training sample --method augmented --count 100 --split \\
        --output data/finetuning/dataset_100.jsonl
"""

from __future__ import annotations

from dyag.data.generate import GenerateConfig


def run(config: GenerateConfig) -> int:
    from dyag.data.generate import generate_training

    result = generate_training(config)
    print(result.summary())
    return 0
