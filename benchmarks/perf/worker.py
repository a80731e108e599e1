"""One measurement, in its own process: ``python -m benchmarks.perf.worker TASK --params JSON --out FILE``.

Tasks: ``train_dyag`` (dyag's ``finetune``), ``train_trl`` (the plain-trl reference),
``generate`` (batched merged, or sequential unmerged), ``score`` (scoring N stored
predictions), ``matmul`` (the machine's matmul peak). Each writes one JSON object
with what it measured and its peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from benchmarks.perf.common import count_tokens, peak_rss_mb

TASKS = {}


def task(fn):
    TASKS[fn.__name__] = fn
    return fn


def _set_threads(params: dict) -> None:
    if params.get("threads"):
        import torch

        torch.set_num_threads(int(params["threads"]))
    if params.get("flush_denormal"):
        import torch

        torch.set_flush_denormal(True)


def _tokens_of(model_path, data: str, max_length: int) -> int:
    from transformers import AutoTokenizer

    from dyag.utils.jsonl import read_jsonl

    tokenizer = AutoTokenizer.from_pretrained(str(model_path))
    return count_tokens(tokenizer, read_jsonl(data), max_length)


def _patch_sft_config(extra: dict) -> None:
    """Measured levers that FinetuneConfig does not expose go straight into trl's SFTConfig."""
    if not extra:
        return
    import trl

    original = trl.SFTConfig

    def patched(*args, **kwargs):
        kwargs.update(extra)
        return original(*args, **kwargs)

    trl.SFTConfig = patched


@task
def train_dyag(p: dict) -> dict:
    """``dyag.training.sft.finetune`` with ``no_cache=True``; time = ``trainer.train()`` wall."""
    _set_threads(p)
    _patch_sft_config(p.get("sft_extra") or {})
    if p.get("all_positions"):  # trl's own choice: project every position (dyag's hook sees itself installed)
        import trl.trainer.utils

        trl.trainer.utils._use_triton.dyag_compact = True
    if p.get("torch_dropout"):  # torch's nn.Dropout on the LoRA branches, as peft builds them
        import dyag.training.dropout

        dyag.training.dropout.use_mask_dropout = lambda model: 0
    from dyag.models.loading import resolve_model
    from dyag.training.config import FinetuneConfig
    from dyag.training.sft import finetune

    work = Path(p["workdir"])
    config = FinetuneConfig(
        dataset=p["data"], output=str(work / "dyag-out"), base_model=p["model"], epochs=p["epochs"],
        batch_size=p["batch_size"], learning_rate=p["learning_rate"], lora_rank=p.get("lora_rank", 16),
        max_steps=p.get("max_steps", -1), packing=p.get("packing", False), no_cache=True, overwrite=True,
        cache_dir=str(work / "adapters"), **(p.get("config_extra") or {}),
    )
    t0 = time.perf_counter()
    result = finetune(config, progress=False)
    total_s = time.perf_counter() - t0
    m = result.metrics
    tokens = _tokens_of(resolve_model(p["model"]).path, p["data"], config.max_length)
    return {
        "train_s": m["duration_s"], "total_s": round(total_s, 3), "tokens_per_epoch": tokens,
        "epochs": p["epochs"], "examples": m["examples"], "steps": m["steps"], "train_loss": m["train_loss"],
        "total_params": m["total_params"], "trainable_params": m["trainable_params"],
        "adapter_dir": str(result.adapter_dir), "peak_rss_mb": peak_rss_mb(),
    }


@task
def train_trl(p: dict) -> dict:
    """The reference script (plain ``SFTTrainer``), on the same model directory and data."""
    _set_threads(p)
    from benchmarks.perf.reference_trl import train_reference
    from dyag.models.loading import resolve_model

    path = resolve_model(p["model"]).path
    t0 = time.perf_counter()
    m = train_reference(str(path), p["data"], epochs=p["epochs"], batch_size=p["batch_size"],
                        learning_rate=p["learning_rate"], lora_rank=p.get("lora_rank", 16),
                        max_steps=p.get("max_steps", -1), output_dir=str(Path(p["workdir"]) / "trl-out"))
    total_s = time.perf_counter() - t0
    # trl's default max_length (1024) is above every example here, as is dyag's (512).
    tokens = _tokens_of(path, p["data"], m["max_length"] or 10**9)
    return {**m, "total_s": round(total_s, 3), "tokens_per_epoch": tokens, "epochs": p["epochs"],
            "peak_rss_mb": peak_rss_mb()}


@task
def generate(p: dict) -> dict:
    """Answers to golden questions: ``batched`` (merged, Generator.generate: dyag's greedy loop) or
    ``sequential`` (unmerged PeftModel, transformers' ``generate()`` one question at a time)."""
    _set_threads(p)
    from dyag.data.golden import read_golden
    from dyag.inference.generator import DecodingConfig, load_model

    questions = [c.question for c in read_golden(p["golden"])][: p["n"]]
    t0 = time.perf_counter()
    merged = p["mode"] == "batched"
    gen = load_model(p["model"], p.get("adapter"), force_cpu=p.get("force_cpu", False), merge=merged)
    load_s = time.perf_counter() - t0
    decoding = DecodingConfig(max_new_tokens=p["max_new_tokens"])
    prompts = [gen.render(gen.messages(q, system_prompt=decoding.system_prompt)) for q in questions]
    t0 = time.perf_counter()
    if merged:
        answers = gen.generate(prompts, decoding, batch_size=p["batch_size"])
    else:  # transformers' own generate(), so that "identical answers" checks dyag's greedy loop against it
        gen.retire_finished = False
        answers = [gen.generate([prompt], decoding, batch_size=1)[0] for prompt in prompts]
    gen_s = time.perf_counter() - t0
    return {
        "mode": p["mode"], "n": len(prompts), "load_s": round(load_s, 3), "generate_s": round(gen_s, 3),
        "answers": [a.text for a in answers], "new_tokens": sum(a.tokens for a in answers),
        "stopped": sum(a.finish_reason == "stop" for a in answers), "peak_rss_mb": peak_rss_mb(),
    }


@task
def score(p: dict) -> dict:
    """``score_predictions`` (no BERTScore) over ``n`` stored predictions built from the golden set."""
    from benchmarks.perf.growth import synthetic_predictions
    from dyag.data.kb import read_kb, sample_kb_path
    from dyag.evaluation.scoring import score_predictions

    predictions, cases = synthetic_predictions(p["golden"], p["n"])
    kb = read_kb(sample_kb_path())
    t0 = time.perf_counter()
    results = score_predictions(predictions, cases, kb, bertscore=False, progress=False)
    seconds = time.perf_counter() - t0
    return {"n": len(results.cases), "score_s": round(seconds, 3), "peak_rss_mb": peak_rss_mb()}


@task
def matmul(p: dict) -> dict:
    from benchmarks.perf.matmul import matmul_peak

    return {name: matmul_peak(name, size=p.get("size", 2048)) for name in p.get("dtypes", ("float32", "bfloat16"))}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("task", choices=sorted(TASKS))
    parser.add_argument("--params", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    result = TASKS[args.task](json.loads(args.params))
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
