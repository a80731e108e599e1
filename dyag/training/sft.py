"""LoRA supervised fine-tuning: a thin layer over trl's ``SFTTrainer`` and peft.

What dyag adds around the trainer:
- the training set becomes trl's *prompt-completion* format, so the loss covers the
  assistant answer only, and the completion includes the chat template's
  end-of-turn token: the model learns to stop instead of inventing "User:" turns;
- device/dtype picked for the machine, GPU-only trl defaults switched off on CPU;
- a content-hashed adapter cache with a file lock and atomic writes;
- ``<output>/final`` (a plain peft adapter) and ``<output>/run.json`` (manifest).
"""

from __future__ import annotations

import json
import shutil
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from dyag.data.training_set import messages_to_prompt_completion, read_training_set
from dyag.errors import DyagError
from dyag.training.cache import ADAPTER_WEIGHTS, MANIFEST, AdapterCache, adapter_cache_key, library_versions
from dyag.training.config import FinetuneConfig
from dyag.utils.atomic import atomic_dir, sha256_file

#: the numerics dyag chooses for CPU training beyond the hyperparameters (each trains another adapter,
#: so they are part of the adapter cache key): the LM head projects the labelled positions only
#: (:func:`_project_scored_positions_only`), LoRA dropout masks come from 16-bit uniforms
#: (:mod:`dyag.training.dropout`)
CPU_KERNELS = {"lm_head": "labelled-rows", "lora_dropout": "mask16"}


@dataclass
class FinetuneResult:
    output: Path
    adapter_dir: Path
    manifest: dict
    cache_hit: bool
    cache_key: str
    seconds: float = 0.0

    @property
    def metrics(self) -> dict:
        return self.manifest.get("metrics", {})


def check_output_dir(output: Path, overwrite: bool) -> None:
    """Refuse to write into a non-empty directory that is not a dyag output."""
    if output.exists() and not output.is_dir():
        raise DyagError(f"--output {output} exists and is not a directory")
    if output.is_dir() and any(output.iterdir()) and not (output / MANIFEST).is_file() and not overwrite:
        raise DyagError(f"--output {output} is a non-empty directory that is not a dyag output; pass --overwrite")


def finetune(config: FinetuneConfig, *, progress: bool = True) -> FinetuneResult:
    """Train (or reuse from the cache) a LoRA adapter; see :class:`FinetuneConfig`.

    >>> result = finetune(FinetuneConfig(dataset="train.jsonl", output="models/x", base_model="tiny-random"))  # doctest: +SKIP
    >>> result.adapter_dir, result.cache_hit                                                         # doctest: +SKIP
    (PosixPath('models/x/final'), False)
    """
    from dyag.models.loading import resolve_model
    from dyag.utils.device import environment_key, kernel_cpu_flags, pick_device, training_precision

    start = time.perf_counter()
    output = Path(config.output)
    train_rows = read_training_set(config.dataset)
    eval_rows = read_training_set(config.eval_dataset) if config.eval_dataset else None
    check_output_dir(output, config.overwrite)
    resolved = resolve_model(
        config.base_model, trust_remote_code=config.trust_remote_code, allow_pickle=config.allow_pickle
    )
    device = pick_device(config.force_cpu)
    precision = training_precision(config.precision, device)
    dataset_sha = sha256_file(config.dataset)
    eval_sha = sha256_file(config.eval_dataset) if config.eval_dataset else None
    versions = library_versions()
    hyperparameters = {**config.hyperparameters(), "precision": precision, **training_kernels(device.device)}
    # A CPU's bf16 kernels (AMX, avx512_bf16) train different adapters: the cache keeps them apart.
    cpu_bf16 = device.device == "cpu" and precision.startswith("bf16")
    device_id = environment_key(device.device, precision, kernel_cpu_flags()) if cpu_bf16 else device.device
    key = adapter_cache_key(resolved.identity, dataset_sha, eval_sha, hyperparameters, versions, device_id)
    cache = AdapterCache.at(config.cache_dir)

    def train(tmp: Path) -> dict:
        """Train into the cache entry's temporary directory ``tmp``; the run's manifest fields."""
        context = {
            "dataset": {"path": str(config.dataset), "sha256": dataset_sha, "n": len(train_rows)},
            "eval_dataset": {"path": str(config.eval_dataset), "sha256": eval_sha, "n": len(eval_rows)}
            if eval_rows
            else None,
            "versions": versions,
            "hyperparameters": hyperparameters,
            "cache_key": key,
        }
        from dyag.progress import phase  # a line when a session or command made a reporter current

        size = f"{len(train_rows)} examples, {config.epochs:g} epochs"
        with phase("train", resolved.spec.name, detail=f"{size}, {precision}",
                   size=f"{size}, batch {config.batch_size}, max steps {config.max_steps}",
                   env=environment_key(device.device, precision, kernel_cpu_flags())):
            return _train_into(tmp, config, resolved, device, train_rows, eval_rows, cache.workdir(key), context,
                               progress, precision=precision)

    cached = cache.get_or_train(key, train, what=f"LoRA adapter of {resolved.spec.name}", retrain=config.no_cache)
    entry, hit = cached.path, not cached.built
    manifest = _publish(entry, output)
    return FinetuneResult(output, output / "final", manifest, hit, key, time.perf_counter() - start)


def _publish(entry: Path, output: Path) -> dict:
    """Copy a verified cache entry to ``output`` atomically (final/ + run.json)."""
    with atomic_dir(output) as tmp:
        shutil.copytree(entry / "final", tmp / "final")
        shutil.copy2(entry / MANIFEST, tmp / MANIFEST)
    return json.loads((output / MANIFEST).read_text(encoding="utf-8"))


#: weights dtype and trainer autocast flags per precision
PRECISION_SETTINGS = {
    "fp32": ("float32", {}),
    "bf16-mixed": ("float32", {"bf16": True}),
    "bf16": ("bfloat16", {"bf16": True}),
    "fp16": ("float16", {"fp16": True}),
}


def build_trainer(config: FinetuneConfig, resolved, device, train_rows, eval_rows=None, *, output_dir: Path,
                  progress=True, precision: str | None = None):
    """The configured ``SFTTrainer`` (exposed so tests can inspect its data and label mask)."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM
    from trl import SFTConfig, SFTTrainer

    from dyag.models.loading import load_tokenizer
    from dyag.utils.device import training_precision

    precision = precision or training_precision(config.precision, device)
    weights_dtype, autocast = PRECISION_SETTINGS[precision]
    tokenizer = load_tokenizer(resolved, trust_remote_code=config.trust_remote_code)
    model = AutoModelForCausalLM.from_pretrained(
        resolved.path, dtype=getattr(torch, weights_dtype), trust_remote_code=config.trust_remote_code
    )
    model.to(device.device)
    spec = resolved.spec
    targets = config.target_modules or list(spec.lora_target_modules or ()) or "all-linear"
    peft_config = LoraConfig(
        r=config.lora_rank,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=targets,
        task_type="CAUSAL_LM",
    )
    on_gpu = device.device == "cuda"
    padding_free = config.padding_free and not config.packing and _fits(tokenizer, train_rows + (eval_rows or []), config.max_length)
    args = SFTConfig(
        output_dir=str(output_dir),
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size,
        gradient_accumulation_steps=config.gradient_accumulation,
        learning_rate=config.learning_rate,
        max_length=None if padding_free else config.max_length,
        padding_free=padding_free,
        packing=config.packing,
        completion_only_loss=True,
        seed=config.seed,
        data_seed=config.seed,
        bf16=autocast.get("bf16", False),
        fp16=autocast.get("fp16", False),
        use_cpu=not on_gpu,
        activation_checkpointing=False,
        logging_steps=1,
        save_strategy="epoch",
        save_total_limit=1,
        eval_strategy="epoch" if eval_rows else "no",
        report_to="none",
        disable_tqdm=not progress,
        dataloader_pin_memory=on_gpu,
        eos_token=_end_of_turn_token(tokenizer, spec),
    )
    _disable_hub_telemetry()
    _project_scored_positions_only()
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_list([messages_to_prompt_completion(r) for r in train_rows]),
        eval_dataset=Dataset.from_list([messages_to_prompt_completion(r) for r in eval_rows]) if eval_rows else None,
        processing_class=tokenizer,
        peft_config=peft_config,
    )
    if progress and not config.verbose:
        from transformers.trainer_callback import ProgressCallback

        trainer.remove_callback(ProgressCallback)
        trainer.add_callback(loss_progress_callback())
    elif not progress and not config.verbose:  # no bar, and no log dict printed per step either
        from transformers.trainer_callback import PrinterCallback

        trainer.remove_callback(PrinterCallback)
    trainer.add_callback(phase_progress_callback())
    if not on_gpu:
        from dyag.training.dropout import use_mask_dropout

        use_mask_dropout(trainer.model)
    torch.manual_seed(config.seed)
    return trainer


def training_kernels(device: str) -> dict:
    """``{"kernels": CPU_KERNELS}`` for CPU training, else nothing (GPU training uses trl's and torch's own)."""
    return {"kernels": dict(CPU_KERNELS)} if device == "cpu" else {}


def _fits(tokenizer, rows: list[dict], max_length: int) -> bool:
    """True when every example, chat template applied, is at most ``max_length`` tokens.

    Padding-free batching does not truncate, so it is used only when nothing would be cut.
    """
    encoded = tokenizer.apply_chat_template([r["messages"] for r in rows], tokenize=True, return_dict=True)
    return max(map(len, encoded["input_ids"]), default=0) <= max_length


def _disable_hub_telemetry() -> None:
    """trl's trainers ping the Hub when created (huggingface_hub.send_telemetry); dyag sends nothing."""
    import huggingface_hub.constants

    huggingface_hub.constants.HF_HUB_DISABLE_TELEMETRY = True


def _project_scored_positions_only() -> None:
    """Let trl's fused LM head project only the positions that carry a label, on a CPU too.

    With the loss on the completion, the prompt's positions (system prompt and question: most
    of each example) are labelled -100, yet on a device without Triton trl projects every
    position through the full-vocabulary LM head and then zeroes the masked ones, to keep tile
    shapes static for compilers. dyag trains eagerly, so it scores the labelled rows only: the
    same per-token values and gradients, a fraction of the LM head's work (most of the model's
    FLOPs for gemma3's 262k vocabulary). Measured by ``python -m benchmarks.perf.levers --only
    current,all_positions``. A trl without this hook is left as it is.
    """
    import trl.trainer.utils as trl_utils

    decide = getattr(trl_utils, "_use_triton", None)
    if decide is None or getattr(decide, "dyag_compact", False):
        return

    def compact(device) -> bool:
        return device.type == "cpu" or decide(device)

    compact.dyag_compact = True
    compact.wrapped = decide
    trl_utils._use_triton = compact


def _end_of_turn_token(tokenizer, spec) -> str:
    return getattr(spec, "end_of_turn", None) or tokenizer.eos_token


def _train_into(tmp: Path, config, resolved, device, train_rows, eval_rows, workdir: Path, context, progress,
                *, precision: str) -> dict:
    """Train, save the adapter into ``tmp/final`` and return the run's manifest fields (the adapter
    store adds its key, creation time and the files' hashes, and writes ``run.json`` last)."""
    import transformers

    if config.verbose:
        transformers.logging.set_verbosity_info()
    if config.no_cache:
        shutil.rmtree(workdir, ignore_errors=True)
    trainer = build_trainer(config, resolved, device, train_rows, eval_rows, output_dir=workdir, progress=progress,
                            precision=precision)
    resume = _last_checkpoint(workdir)
    t0 = time.perf_counter()
    train_output = trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    duration = time.perf_counter() - t0
    metrics = _training_metrics(trainer, train_output, duration, len(train_rows))
    if eval_rows:
        metrics["eval_loss"] = trainer.evaluate().get("eval_loss")
    trainer.model.save_pretrained(tmp / "final", safe_serialization=True)
    trainer.processing_class.save_pretrained(tmp / "final")
    return {
        "schema_version": 1,
        "kind": "dyag-adapter",
        "base_model": {**resolved.identity, "spec": resolved.spec.name},
        **context,
        "device": {"type": device.device, "dtype": device.dtype_name, "name": device.name},
        "padding_free": bool(trainer.args.padding_free),
        "seed": config.seed,
        "resumed_from": str(resume.name) if resume else None,
        "metrics": metrics,
        "adapter_sha256": sha256_file(tmp / "final" / ADAPTER_WEIGHTS),
    }


def _last_checkpoint(workdir: Path) -> Path | None:
    if not workdir.is_dir():
        return None
    from transformers.trainer_utils import get_last_checkpoint

    last = get_last_checkpoint(str(workdir))
    return Path(last) if last else None


def _training_metrics(trainer, train_output, duration: float, n_examples: int) -> dict:
    """The training metrics run.json records and the report compares across models: duration, loss,
    token accuracy, params, throughput, entropy."""
    history = [h for h in trainer.state.log_history if "loss" in h]
    trainable, total = trainer.model.get_nb_trainable_parameters()
    num_tokens = max((h.get("num_tokens", 0) for h in history), default=0)

    def mean_of(key):
        values = [h[key] for h in history if key in h]
        return statistics.fmean(values) if values else None

    runtime = train_output.metrics.get("train_runtime", duration) or duration
    return {
        "duration_s": round(duration, 3),
        "train_loss": train_output.training_loss,
        "final_loss": history[-1]["loss"] if history else None,
        "token_accuracy": mean_of("mean_token_accuracy"),
        "entropy": mean_of("entropy"),
        "trainable_params": trainable,
        "total_params": total,
        "trainable_pct": round(100.0 * trainable / total, 4) if total else None,
        "samples_per_s": train_output.metrics.get("train_samples_per_second"),
        "tokens_per_s": num_tokens / runtime if runtime else None,
        "num_tokens": int(num_tokens),
        "steps": trainer.state.global_step,
        "examples": n_examples,
    }


def phase_progress_callback():
    """Steps done and time left as phase lines (``dyag.progress``): what a CI log, not a terminal, shows.

    It also skips the checkpoint of the last epoch: epoch checkpoints are there to resume a killed
    run, and after the last step the adapter goes straight into the cache and the work directory
    (checkpoints included) is deleted, so that one was written for nothing (adapter, optimizer
    state and RNG state: about 1 % of a quick CPU training).
    """
    from transformers.trainer_callback import TrainerCallback

    from dyag.progress import advance

    class PhaseProgressCallback(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            advance(state.global_step, state.max_steps, "steps")

        def on_epoch_end(self, args, state, control, **kwargs):
            if state.global_step >= state.max_steps:
                control.should_save = False

    return PhaseProgressCallback()


def loss_progress_callback():
    """transformers' progress bar, with the running loss as its postfix instead of printed log dicts."""
    from transformers.trainer_callback import ProgressCallback

    class LossProgressCallback(ProgressCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if state.is_world_process_zero and self.training_bar is not None and logs and "loss" in logs:
                self.training_bar.set_postfix(loss=f"{logs['loss']:.3f}", refresh=False)

    return LossProgressCallback()
