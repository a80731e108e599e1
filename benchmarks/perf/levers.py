"""Training levers, measured not guessed: each variant of dyag's training against the current one.

``python -m benchmarks.perf.levers [--model smollm2:135m] [--examples 60] [--reps 2] [--only a,b]``

Every variant runs in its own child process (``worker train_dyag``), variants interleaved
in a rotating order within each repetition; tokens/s counts the same real tokens for all.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from benchmarks.perf.common import ROOT, ChildFailed, median, ratio, run_worker, training_rows
from dyag.utils.device import machine_info

#: name -> overrides of the worker's train_dyag parameters
VARIANTS: dict[str, dict] = {
    "current": {},
    "all_positions": {"all_positions": True},
    "torch_dropout": {"torch_dropout": True},
    "padding_free": {"sft_extra": {"padding_free": True, "max_length": None}},
    "packing_bfd": {"packing": True},
    "group_by_length": {"sft_extra": {"train_sampling_strategy": "group_by_length"}},
    "padded_group_by_length": {"config_extra": {"padding_free": False},
                               "sft_extra": {"train_sampling_strategy": "group_by_length"}},
    "bf16_autocast": {"sft_extra": {"bf16": True}},
    "batch8_fp32": {"batch_size": 8},
    "batch8_bf16": {"batch_size": 8, "sft_extra": {"bf16": True}},
    "lora_dropout_0": {"config_extra": {"lora_dropout": 0.0}},
    "torch_compile": {"sft_extra": {"torch_compile": True}},
    "fused_adamw": {"sft_extra": {"optim": "adamw_torch_fused"}},
    "flush_denormal": {"flush_denormal": True},
    "torch_compile_dropout_0": {"sft_extra": {"torch_compile": True}, "config_extra": {"lora_dropout": 0.0}},
    "threads_1": {"threads": 1},
    "dataloader_workers_1": {"sft_extra": {"dataloader_num_workers": 1}},
    "padding_free_dropout_0": {"sft_extra": {"padding_free": True, "max_length": None}, "config_extra": {"lora_dropout": 0.0}},
    # FinetuneConfig's own switches (the "current" run follows its defaults)
    "fp32": {"config_extra": {"precision": "fp32", "padding_free": False}},
    "fp32_padding_free": {"config_extra": {"precision": "fp32", "padding_free": True}},
    "bf16_padding_free": {"config_extra": {"precision": "bf16", "padding_free": True}},
    "bf16_mixed_padding_free": {"config_extra": {"precision": "bf16-mixed", "padding_free": True}},
    "bf16_weights": {"config_extra": {"precision": "bf16", "padding_free": False}},
}


def measure_levers(model: str, examples: int, reps: int, names: list[str], workdir: Path, *, batch_size: int = 4,
                   epochs: float = 1.0, log=print) -> list[dict]:
    data = str(training_rows(examples, workdir))
    base = dict(model=model, data=data, epochs=epochs, batch_size=batch_size, learning_rate=2e-4)
    runs: dict[str, list[dict]] = {n: [] for n in names}
    for rep in range(reps):
        order = names[rep % len(names):] + names[: rep % len(names)]
        for name in order:
            params = {**base, **VARIANTS[name], "workdir": str(workdir / f"{name}-{rep}")}
            try:
                r = run_worker("train_dyag", params)
            except ChildFailed as exc:
                log(f"{name}: FAILED {str(exc)[-400:]}")
                runs[name].append({"error": str(exc)[-400:]})
                continue
            tokens = r["tokens_per_epoch"] * r["epochs"]
            r["tokens_per_s"] = round(tokens / r["train_s"], 2)
            r["samples_per_s"] = round(r["examples"] * r["epochs"] / r["train_s"], 3)
            runs[name].append(r)
            log(f"rep {rep} {name:<24} train {r['train_s']:7.2f}s  {r['tokens_per_s']:8.1f} tok/s  "
                f"steps {r['steps']}  loss {r['train_loss']:.3f}  rss {r['peak_rss_mb']:.0f} MB")
    base_tps = median([r.get("tokens_per_s") for r in runs.get("current", [])])
    rows = []
    for name in names:
        ok = [r for r in runs[name] if "tokens_per_s" in r]
        tps = median([r["tokens_per_s"] for r in ok])
        rows.append({
            "lever": name, "tokens_per_s": tps, "vs_current": ratio(tps, base_tps),
            "train_s": median([r["train_s"] for r in ok]), "steps": ok[0]["steps"] if ok else None,
            "train_loss": median([r["train_loss"] for r in ok]), "peak_rss_mb": median([r["peak_rss_mb"] for r in ok]),
            "runs": [r.get("tokens_per_s") for r in runs[name]],
        })
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="measure dyag's training levers")
    parser.add_argument("--model", default="smollm2:135m")
    parser.add_argument("--examples", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--only", help="comma list of variants (default: all)")
    parser.add_argument("--output", default=str(ROOT / "reports" / "perf_levers.json"))
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(VARIANTS)
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {unknown}; known: {list(VARIANTS)}")
    with tempfile.TemporaryDirectory(prefix="dyag-levers-") as tmp:
        rows = measure_levers(args.model, args.examples, args.reps, names, Path(tmp), batch_size=args.batch_size)
    print(f"\n{'lever':<24} {'tok/s':>9} {'vs current':>10} {'train s':>8} {'steps':>6} {'loss':>7} {'RSS MB':>7}")
    for r in rows:
        print(f"{r['lever']:<24} {r['tokens_per_s'] or 0:>9.1f} {r['vs_current'] or 0:>10.3f} {r['train_s'] or 0:>8.2f} "
              f"{r['steps'] or 0:>6} {r['train_loss'] or 0:>7.3f} {r['peak_rss_mb'] or 0:>7.0f}")
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": machine_info(versions_and_load=True), "model": args.model, "examples": args.examples,
                               "batch_size": args.batch_size, "reps": args.reps, "levers": rows}, indent=2),
                   encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
