"""``FinetuneConfig``: the single source of ``dyag finetune``'s options (CLI and YAML)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from dyag.errors import DyagError

PRECISIONS = ("auto", "fp32", "bf16", "bf16-mixed", "fp16")
# Fields that do not change the trained adapter, so they stay out of the cache key.
NON_RESULT_FIELDS = ("dataset", "eval_dataset", "output", "verbose", "no_cache", "overwrite", "cache_dir")


@dataclass
class FinetuneConfig:
    """LoRA fine-tuning options. Every field is a CLI flag and a YAML key.

    >>> FinetuneConfig(dataset="train.jsonl", output="models/x", base_model="tiny-random").lora_alpha
    32
    """

    dataset: str = field(metadata={"help": "training set (JSONL, messages format)"})
    output: str = field(metadata={"help": "output directory: <output>/final (adapter) and <output>/run.json"})
    base_model: str = field(
        default="smollm2:135m", metadata={"help": "registry shortcut, hub id or local model directory"}
    )
    epochs: float = field(default=1.0, metadata={"recipe": True, "help": "passes over the training set"})
    batch_size: int = field(default=4, metadata={"recipe": True, "help": "examples per device step"})
    gradient_accumulation: int = field(default=1, metadata={"recipe": True, "help": "steps accumulated per optimizer update"})
    learning_rate: float = field(default=2e-4, metadata={"recipe": True, "help": "peak learning rate"})
    lora_rank: int = field(default=16, metadata={"recipe": True, "help": "LoRA rank r"})
    lora_alpha: int | None = field(default=None, metadata={"recipe": True, "help": "LoRA alpha (default: 2 x rank)"})
    # 0 trains 1.20x faster on a CPU (peft then skips a dropout of every adapted layer's input), but it is
    # another recipe: its one measured run scored gemma3:270m's paraphrases lower (4.05 -> 3.35, p=0.036),
    # so the default stays (docs/performance.md)
    lora_dropout: float = field(default=0.05, metadata={"recipe": True, "help": "dropout on the LoRA branch's input"})
    target_modules: list[str] | None = field(
        default=None, metadata={"recipe": True, "help": "modules that get LoRA (default: the registry's, all linear layers)"}
    )
    max_length: int = field(default=512, metadata={"recipe": True, "help": "longest tokenized example; longer ones are truncated"})
    max_steps: int = field(default=-1, metadata={"recipe": True, "help": "stop after this many optimizer steps (-1: use epochs)"})
    seed: int = field(default=42, metadata={"recipe": True, "help": "random seed (data order, LoRA init)"})
    eval_dataset: str | None = field(default=None, metadata={"help": "validation set (JSONL) for eval loss"})
    packing: bool = field(
        default=False,
        metadata={"recipe": True, "help": "pack examples into padding-free rows with per-example attention boundaries"},
    )
    padding_free: bool = field(
        default=True,
        metadata={"recipe": True, "help": "batch examples end to end without padding (per-example attention boundaries); "
                          "used when every example fits --max-length"},
    )
    precision: str = field(
        default="auto",
        metadata={"recipe": True, "values": PRECISIONS, "help": "auto | fp32 | bf16 (bf16 frozen weights and autocast, fp32 LoRA weights) | "
                          "bf16-mixed (fp32 weights, bf16 autocast) | fp16 (GPU only); auto: bf16 on GPUs "
                          "that have it (else fp16) and on CPUs with bf16 instructions, else fp32"},
    )
    force_cpu: bool = field(default=False, metadata={"recipe": True, "help": "train on the CPU even if a GPU is present"})
    trust_remote_code: bool = field(default=False, metadata={"recipe": True, "help": "allow model code from the hub (off by default)"})
    allow_pickle: bool = field(default=False, metadata={"recipe": True, "help": "allow pickled .bin weights (safetensors only by default)"})
    verbose: bool = field(default=False, metadata={"help": "print the trainer's logs"})
    no_cache: bool = field(default=False, metadata={"help": "retrain even if the adapter cache has this run"})
    overwrite: bool = field(default=False, metadata={"help": "replace a non-empty --output that is not a dyag output"})
    cache_dir: str | None = field(default=None, metadata={"help": "adapter cache (default: $DYAG_HOME/adapters)"})

    def __post_init__(self) -> None:
        if self.lora_alpha is None:
            self.lora_alpha = 2 * int(self.lora_rank) if isinstance(self.lora_rank, int) else None
        if isinstance(self.target_modules, str):
            self.target_modules = [m.strip() for m in self.target_modules.split(",") if m.strip()]
        self.validate()

    def validate(self) -> None:
        checks = [
            ("epochs", isinstance(self.epochs, (int, float)) and math.isfinite(self.epochs) and self.epochs > 0, "> 0"),
            ("batch_size", _is_int(self.batch_size) and self.batch_size >= 1, "an integer >= 1"),
            ("gradient_accumulation", _is_int(self.gradient_accumulation) and self.gradient_accumulation >= 1, "an integer >= 1"),
            ("learning_rate", isinstance(self.learning_rate, (int, float)) and 0 < self.learning_rate < 1, "in (0, 1)"),
            ("lora_rank", _is_int(self.lora_rank) and self.lora_rank >= 1, "an integer >= 1"),
            ("lora_alpha", _is_int(self.lora_alpha) and self.lora_alpha >= 1, "an integer >= 1"),
            ("lora_dropout", isinstance(self.lora_dropout, (int, float)) and 0 <= self.lora_dropout < 1, "in [0, 1)"),
            ("max_length", _is_int(self.max_length) and self.max_length >= 16, "an integer >= 16"),
            ("max_steps", _is_int(self.max_steps) and (self.max_steps == -1 or self.max_steps >= 1), "-1 or >= 1"),
            ("seed", _is_int(self.seed), "an integer"),
            ("precision", self.precision in PRECISIONS, "one of " + ", ".join(PRECISIONS)),
        ]
        for name, ok, expected in checks:
            if not ok:
                flag = "--" + name.replace("_", "-")
                raise DyagError(f"{flag} must be {expected}, got {getattr(self, name)!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    def hyperparameters(self) -> dict:
        """The options that determine the trained weights (the adapter cache key uses them)."""
        return {k: v for k, v in asdict(self).items() if k not in NON_RESULT_FIELDS}


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)
