"""``dyag finetune``: train a LoRA adapter (or reuse it from the adapter cache)."""

from __future__ import annotations

import json

from dyag.training.config import FinetuneConfig
from dyag.utils.config import add_dataclass_arguments, build_config


def register(sub) -> None:
    p = sub.add_parser(
        "finetune",
        help="train a LoRA adapter on a training set",
        description="Train a LoRA adapter with trl's SFTTrainer. Options also load from --config FILE.yaml.",
    )
    p.add_argument("--config", metavar="FILE.yaml", help="read these options from a YAML file (flags override it)")
    p.add_argument("--json", action="store_true", help="print the run manifest as JSON")
    add_dataclass_arguments(p, FinetuneConfig)
    p.set_defaults(func=run)


def run(args) -> int:
    from dyag.training.sft import finetune

    config = build_config(FinetuneConfig, args, config_file=args.config)
    result = finetune(config, progress=True)
    if args.json:
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
