"""``dyag generate-training KB --output PATH``: a question/answer training set from a knowledge base.

Example (the packaged catalog, 100 paraphrased examples split 80/10/10)::

    dyag generate-training sample --method augmented --count 100 --split \\
        --output data/finetuning/dataset_100.jsonl

With ``--split``, beside ``dataset_100_{train,val,test}.jsonl`` come two golden files:
``dataset_100_test_golden.jsonl`` (the test rows, ``unseen`` cases: their (application,
field) groups are not trained on) and ``dataset_100_golden.jsonl`` (for each group of the
train split, a ``seen`` case asked exactly as trained and a ``paraphrase`` case asked with a
held-out phrasing that no training row uses, both with the trained reference answer).
"""

from __future__ import annotations

from dyag.data.generate import GenerateConfig


def run(config: GenerateConfig) -> int:
    from dyag.data.generate import generate_training

    result = generate_training(config)
    print(result.summary())
    return 0
