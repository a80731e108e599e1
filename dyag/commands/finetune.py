"""``dyag finetune``: train a LoRA adapter with trl's SFTTrainer (or reuse it from the adapter cache).

Options also load from --config FILE.yaml (flags override it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from dyag.training.config import FinetuneConfig

YAML_CONFIG = True  # --config FILE.yaml fills FinetuneConfig


@dataclass
class FinetuneOutput:
    """How ``dyag finetune`` reports (the training options are :class:`FinetuneConfig`)."""

    json: bool = field(default=False, metadata={"help": "print the run manifest as JSON"})


def run(config: FinetuneConfig, output: FinetuneOutput) -> int:
    from dyag.training.sft import finetune

    result = finetune(config, progress=True)
    if output.json:
        print(json.dumps(result.manifest, indent=2, ensure_ascii=False))
        return 0
    m = result.metrics
    if result.cache_hit:
        print(f"cache hit: reused adapter {result.cache_key} in {result.seconds:.2f} s (--no-cache retrains)")
    else:
        print(f"trained {config.base_model} in {m.get('duration_s', 0):.1f} s")
    rows = [
        ("adapter", str(result.adapter_dir)),
        ("manifest", str(result.output / "run.json")),
        ("train loss", _fmt(m.get("train_loss"))),
        ("token accuracy", _fmt(m.get("token_accuracy"))),
        ("entropy", _fmt(m.get("entropy"))),
        ("trainable params", f"{m.get('trainable_params', 0):,} ({m.get('trainable_pct', 0):.2f}%)"),
        ("samples/s", _fmt(m.get("samples_per_s"))),
        ("tokens/s", _fmt(m.get("tokens_per_s"), 1)),
        ("tokens", str(m.get("num_tokens"))),
        ("precision", _precision(result.manifest)),
    ]
    if m.get("eval_loss") is not None:
        rows.append(("eval loss", _fmt(m["eval_loss"])))
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")
    return 0


def _precision(manifest: dict) -> str:
    precision = (manifest.get("hyperparameters") or {}).get("precision", "?")
    device = (manifest.get("device") or {}).get("type", "?")
    batching = ", padding-free batches" if manifest.get("padding_free") else ""
    return f"{precision} on {device}{batching}"


def _fmt(v, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"
