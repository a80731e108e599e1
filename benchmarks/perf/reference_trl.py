"""The reference side of the training pair: trl's ``SFTTrainer`` used plainly.

Written the way trl's documentation shows a minimal LoRA run: a conversational
(``messages``) dataset, ``SFTTrainer`` + ``LoraConfig(r=16, target_modules="all-linear")``
+ ``SFTConfig`` with the same epochs, batch size and learning rate as the dyag run; trl's
defaults for everything else (gradient checkpointing on, ``max_length`` 1024, loss on the
whole conversation, LoRA alpha 8 and no LoRA dropout, logging every 10 steps, no packing).

The only settings added for the machine: on a CPU, ``use_cpu=True`` and ``bf16=False``
(trl defaults ``bf16`` to True, a GPU default; the issue's reference figures are fp32 on
CPU and bf16 on GPU). On a GPU nothing is added. ``report_to="none"`` and
``save_strategy="no"`` keep the run self-contained (no tracker, no checkpoint directory
left behind); neither changes what is trained.

Run alone::

    python -m benchmarks.perf.reference_trl --model ~/.cache/dyag/models/smollm2_135m-xxxx \\
        --data train_100.jsonl --epochs 1 --batch-size 4 --learning-rate 2e-4
"""

from __future__ import annotations

import argparse
import json
import time


def train_reference(model: str, data: str, *, epochs: float, batch_size: int, learning_rate: float,
                    lora_rank: int = 16, max_steps: int = -1, output_dir: str = "reference-trl-out") -> dict:
    """Train a LoRA adapter with plain trl; returns the trainer's metrics and ``train_s``."""
    import torch
    from datasets import load_dataset
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer

    dataset = load_dataset("json", data_files=data, split="train")
    dataset = dataset.select_columns(["messages"])
    on_cpu = not torch.cuda.is_available()
    machine = {"use_cpu": True, "bf16": False} if on_cpu else {}
    args = SFTConfig(
        output_dir=output_dir,
        num_train_epochs=epochs,
        max_steps=max_steps,
        per_device_train_batch_size=batch_size,
        learning_rate=learning_rate,
        report_to="none",
        save_strategy="no",
        **machine,
    )
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        peft_config=LoraConfig(r=lora_rank, target_modules="all-linear"),
    )
    t0 = time.perf_counter()
    output = trainer.train()
    train_s = time.perf_counter() - t0
    trainable, total = trainer.model.get_nb_trainable_parameters()
    return {
        "train_s": round(train_s, 3),
        "train_loss": output.training_loss,
        "steps": trainer.state.global_step,
        "examples": len(dataset),
        "trainable_params": trainable,
        "total_params": total,
        "machine_settings": machine,
        "gradient_checkpointing": args.gradient_checkpointing,
        "max_length": args.max_length,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="local model directory")
    parser.add_argument("--data", required=True, help="training set (JSONL, messages)")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--learning-rate", type=float, default=2e-4)
    parser.add_argument("--lora-rank", type=int, default=16)
    parser.add_argument("--max-steps", type=int, default=-1)
    parser.add_argument("--output-dir", default="reference-trl-out")
    args = parser.parse_args(argv)
    metrics = train_reference(args.model, args.data, epochs=args.epochs, batch_size=args.batch_size,
                              learning_rate=args.learning_rate, lora_rank=args.lora_rank, max_steps=args.max_steps,
                              output_dir=args.output_dir)
    print(json.dumps(metrics, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
