"""Fine-tuning core on tiny-random: label mask, outputs, cache, bad input."""

from __future__ import annotations

import json

import pytest

from dyag.errors import DyagError
from dyag.training.config import FinetuneConfig
from dyag.utils.options import build_config, load_yaml_config
from tests.helpers import TRAIN_ROWS as ROWS  # what the shared train_file fixture holds


def _config(train_file, out, **kw):
    base = dict(dataset=str(train_file), output=str(out), base_model="tiny-random", batch_size=4, max_steps=2,
                learning_rate=1e-2, lora_rank=4)
    base.update(kw)
    return FinetuneConfig(**base)


def test_label_mask_trains_answer_and_end_of_turn_only(train_file, isolated_home, tmp_path):
    from dyag.models.loading import resolve_model
    from dyag.training.sft import build_trainer
    from dyag.utils.device import pick_device

    cfg = _config(train_file, tmp_path / "out")
    resolved = resolve_model("tiny-random")
    trainer = build_trainer(cfg, resolved, pick_device(True), ROWS, output_dir=tmp_path / "work", progress=False)
    tok = trainer.processing_class
    batch = trainer.data_collator([trainer.train_dataset[0]])
    ids, labels = batch["input_ids"][0].tolist(), batch["labels"][0].tolist()
    trained = [t for t, lab in zip(ids, labels) if lab != -100]
    ignored = [t for t, lab in zip(ids, labels) if lab == -100]
    trained_text = tok.decode(trained)
    assert trained_text.startswith("APP0 est hébergée par le Datacenter 0.")
    end_id = tok.convert_tokens_to_ids("<|im_end|>")
    assert end_id in trained, "the end-of-turn token must be trained so the model learns to stop"
    assert "Qui héberge APP0" in tok.decode(ignored)
    assert "<|im_start|>assistant" in tok.decode(ignored)


def test_finetune_writes_peft_adapter_and_manifest_then_hits_cache(train_file, isolated_home, tmp_path):
    import torch
    from peft import PeftModel
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    from dyag.models.loading import resolve_model
    from dyag.training.sft import finetune

    out = tmp_path / "models" / "a"
    first = finetune(_config(train_file, out), progress=False)
    assert not first.cache_hit
    manifest = json.loads((out / "run.json").read_text())
    for key in ("duration_s", "train_loss", "token_accuracy", "trainable_params", "trainable_pct",
                "samples_per_s", "tokens_per_s", "num_tokens", "entropy"):
        assert manifest["metrics"][key] is not None, key
    assert manifest["dataset"]["sha256"] and manifest["hyperparameters"]["lora_rank"] == 4
    assert manifest["versions"]["trl"] and manifest["device"]["type"] == "cpu"

    # A plain peft load works, and training changed the LoRA weights (B starts at zero).
    base_dir = resolve_model("tiny-random").path
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base_dir), str(out / "final"))
    lora_b = [v for k, v in load_file(out / "final" / "adapter_model.safetensors").items() if "lora_B" in k]
    assert lora_b and any(t.abs().sum() > 0 for t in lora_b)
    base_state = AutoModelForCausalLM.from_pretrained(base_dir).state_dict()
    for name, tensor in model.get_base_model().state_dict().items():
        clean = name.replace(".base_layer", "")
        if "lora_" not in name and clean in base_state:
            assert torch.equal(tensor, base_state[clean]), f"base weight {clean} changed"

    import dyag.training.sft as sft

    def no_training(*args, **kwargs):
        raise AssertionError("a cache hit must not build a trainer")

    sft_build, sft.build_trainer = sft.build_trainer, no_training
    try:
        second = finetune(_config(train_file, tmp_path / "models" / "b"), progress=False)
    finally:
        sft.build_trainer = sft_build
    assert second.cache_hit and second.cache_key == first.cache_key
    assert (tmp_path / "models" / "b" / "final" / "adapter_model.safetensors").read_bytes() == \
        (out / "final" / "adapter_model.safetensors").read_bytes()

    third = finetune(_config(train_file, tmp_path / "models" / "b", no_cache=True), progress=False)
    assert not third.cache_hit


def test_corrupt_cache_entry_is_rebuilt_with_warning(train_file, isolated_home, tmp_path):
    from dyag.training.cache import AdapterCache
    from dyag.training.sft import finetune
    from dyag.utils.warnings import DyagWarning

    first = finetune(_config(train_file, tmp_path / "a"), progress=False)
    weights = AdapterCache.at().entry(first.cache_key) / "final" / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])  # truncated
    with pytest.warns(DyagWarning, match="corrupt"):
        again = finetune(_config(train_file, tmp_path / "b"), progress=False)
    assert not again.cache_hit


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"epochs": 0}, "--epochs must be > 0"),
        ({"learning_rate": -1e-4}, "--learning-rate must be in"),
        ({"lora_rank": 0}, "--lora-rank must be an integer >= 1"),
        ({"batch_size": 0}, "--batch-size must be an integer >= 1"),
    ],
)
def test_out_of_range_hyperparameters_are_user_errors(kw, message):
    with pytest.raises(DyagError, match=message):
        FinetuneConfig(dataset="d.jsonl", output="o", **kw)


def test_yaml_config_is_a_view_of_the_dataclass(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("dataset: d.jsonl\noutput: out\nlora-rank: 8\nepochs: 2\n")
    c = build_config(FinetuneConfig, None, config_file=str(cfg))
    assert (c.lora_rank, c.lora_alpha, c.epochs) == (8, 16, 2)
    cfg.write_text("dataset: d.jsonl\noutput: out\nlora_rnak: 8\n")
    with pytest.raises(DyagError, match="unknown option 'lora_rnak'"):
        load_yaml_config(cfg, FinetuneConfig)


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"messages": "hello"}\n', "messages"),
        ("", "empty"),
        ('{"text": "x"}\n', "messages"),
    ],
)
def test_bad_datasets_exit_2_and_write_nothing(tmp_path, isolated_home, cli, content, message):
    data = tmp_path / "bad.jsonl"
    data.write_text(content)
    out = tmp_path / "out"
    result = cli("finetune", "--dataset", data, "--output", out, "--base-model", "tiny-random")
    assert result.rc == 2 and message in result.err and "Traceback" not in result.err
    assert not out.exists()


def test_refuses_non_dyag_output_dir(train_file, isolated_home, tmp_path, cli):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    result = cli("finetune", "--dataset", train_file, "--output", out, "--base-model", "tiny-random", "--max-steps", "1")
    assert result.rc == 2 and "--overwrite" in result.err
    assert (out / "notes.txt").read_text() == "keep me"


def _trainer(train_file, tmp_path, rows=ROWS, **kw):
    from dyag.models.loading import resolve_model
    from dyag.training.sft import build_trainer
    from dyag.utils.device import pick_device

    cfg = _config(train_file, tmp_path / "out", **kw)
    return build_trainer(cfg, resolve_model("tiny-random"), pick_device(True), rows, output_dir=tmp_path / "work",
                         progress=False)


def test_padding_free_batches_keep_each_example_apart(train_file, isolated_home, tmp_path):
    """Padding-free batching (the default) puts a batch end to end in one row; position_ids carry the
    boundaries, and each example's logits equal those of the example alone."""
    import torch

    trainer = _trainer(train_file, tmp_path, padding_free=True, precision="fp32")  # exact comparison
    assert trainer.args.padding_free and trainer.args.max_length is None
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(4)])
    assert batch["input_ids"].shape[0] == 1 and "attention_mask" not in batch
    model = trainer.model.eval()
    starts = (batch["position_ids"][0] == 0).nonzero().flatten().tolist() + [batch["input_ids"].shape[1]]
    assert len(starts) - 1 == 4
    with torch.no_grad():
        logits = model(**{k: v for k, v in batch.items() if k != "labels"}).logits[0]
        for lo, hi in zip(starts, starts[1:]):
            alone = model(input_ids=batch["input_ids"][:, lo:hi]).logits[0]
            assert torch.allclose(logits[lo:hi], alone, atol=1e-4)


def test_padding_free_is_not_used_when_an_example_would_be_truncated(train_file, isolated_home, tmp_path):
    long_row = {"messages": [{"role": "user", "content": "Décris GIDAF."},
                             {"role": "assistant", "content": "GIDAF " * 80}]}
    trainer = _trainer(train_file, tmp_path, rows=[*ROWS, long_row], padding_free=True, max_length=64)
    assert not trainer.args.padding_free and trainer.args.max_length == 64
    assert max(len(r["input_ids"]) for r in trainer.train_dataset) == 64


def test_bf16_precision_keeps_lora_weights_in_fp32(train_file, isolated_home, tmp_path):
    import torch

    trainer = _trainer(train_file, tmp_path, precision="bf16")
    assert trainer.args.bf16
    params = dict(trainer.model.named_parameters())
    assert {p.dtype for n, p in params.items() if "lora_" in n} == {torch.float32}
    assert {p.dtype for n, p in params.items() if "lora_" not in n and p.ndim == 2} == {torch.bfloat16}


def test_precision_auto_follows_the_device(monkeypatch):
    from dyag.utils import device as dev

    cpu = dev.DeviceChoice("cpu", "float32", "cpu")
    monkeypatch.setattr(dev, "cpu_has_bf16", lambda: False)
    assert dev.training_precision("auto", cpu) == "fp32"
    monkeypatch.setattr(dev, "cpu_has_bf16", lambda: True)
    assert dev.training_precision("auto", cpu) == dev.CPU_AUTO_PRECISION
    assert dev.training_precision("fp32", cpu) == "fp32"
    assert dev.training_precision("auto", dev.DeviceChoice("cuda", "bfloat16", "gpu")) == "bf16"
    assert dev.training_precision("auto", dev.DeviceChoice("cuda", "float16", "gpu")) == "fp16"
    with pytest.raises(DyagError, match="--precision fp16 needs a GPU"):
        dev.training_precision("fp16", cpu)
    with pytest.raises(DyagError, match="--precision must be one of auto, fp32, bf16"):
        FinetuneConfig(dataset="d.jsonl", output="o", precision="int8")


# --- training learns ------------------------------------------------------------------------------

FACT = "GIDAF est hébergée par le Datacenter de Lyon."
FACT_QUESTIONS = ["Qui héberge GIDAF ?", "Où est hébergée GIDAF ?", "Quel est l'hébergeur de GIDAF ?",
                  "GIDAF est hébergée où ?"]


def _answer_nll(generator, question: str, answer: str) -> float:
    """Mean negative log-likelihood (nats per token) of ``answer`` and its end of turn, after ``question``."""
    import torch

    tok = generator.tokenizer
    prompt = generator.render(generator.messages(question))
    prompt_ids = tok(prompt, add_special_tokens=False)["input_ids"]
    ids = tok(prompt + answer + "<|im_end|>", add_special_tokens=False)["input_ids"]
    assert ids[: len(prompt_ids)] == prompt_ids
    with torch.no_grad():
        logits = generator.model(torch.tensor([ids])).logits[0].float()
    logprobs = torch.log_softmax(logits[:-1], dim=-1)
    targets = torch.tensor(ids[1:])
    token_nll = -logprobs[torch.arange(len(targets)), targets]
    return token_nll[len(prompt_ids) - 1:].mean().item()


def _common_prefix(a: str, b: str) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def test_training_lowers_the_loss_and_the_adapter_recalls_the_trained_answer(home_with_models, tmp_path):
    """One fact asked four ways, repeated: 16 steps of LoRA on tiny-random must learn it.

    tiny-random's tied embeddings are tiny (std 0.02, 64 dims) and LoRA leaves them and the final norm
    frozen, so its logits stay small: the loss can only fall by a few nats from ln(49152) = 10.8, but the
    greedy answer (the argmax) is learnt exactly.
    """
    from dyag.inference.generator import load_model
    from dyag.training.sft import finetune
    from dyag.utils.atomic import atomic_write_jsonl

    rows = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": FACT}]}
            for q in FACT_QUESTIONS]
    data = atomic_write_jsonl(tmp_path / "fact.jsonl", rows * 4)
    result = finetune(_config(data, tmp_path / "out", max_steps=16, lora_rank=16, lora_dropout=0.0,
                              precision="fp32", force_cpu=True), progress=False)
    metrics = result.metrics
    assert metrics["steps"] == 16

    base = load_model("tiny-random", force_cpu=True)
    tuned = load_model("tiny-random", result.adapter_dir, force_cpu=True)
    # (a) The loss fell. LoRA starts as the identity (B = 0): the first step's loss is the base model's NLL.
    base_nll = [_answer_nll(base, q, FACT) for q in FACT_QUESTIONS]
    tuned_nll = [_answer_nll(tuned, q, FACT) for q in FACT_QUESTIONS]
    assert min(base_nll) > 10.5, base_nll  # about ln(vocabulary): the base model knows nothing
    assert metrics["final_loss"] < metrics["train_loss"] < max(base_nll), metrics
    assert metrics["final_loss"] < min(base_nll) - 0.5, (metrics, base_nll)
    assert max(tuned_nll) < min(base_nll) - 0.5, (tuned_nll, base_nll)

    # (b) The trained answer is recalled: greedy decoding with the adapter reproduces it (stopping right after
    # it is not always learnt in 16 steps); the base model does not.
    tuned_answers = tuned.answer(FACT_QUESTIONS, max_new_tokens=16, system_prompt=None)
    base_answers = base.answer(FACT_QUESTIONS, max_new_tokens=16, system_prompt=None)
    assert all(a.startswith(FACT) for a in tuned_answers), tuned_answers
    assert all(_common_prefix(a, FACT) < len(FACT) // 4 for a in base_answers), base_answers


def test_epochs_are_checkpointed_for_resume_but_not_the_last(train_file, isolated_home, tmp_path):
    """A killed run resumes from its last epoch checkpoint; after the last step none is written
    (the adapter goes to the cache and the work directory is deleted)."""
    trainer = _trainer(train_file, tmp_path, max_steps=-1, epochs=2)
    trainer.train()
    steps = trainer.state.global_step
    assert steps >= 2 and steps % 2 == 0
    assert sorted(p.name for p in (tmp_path / "work").glob("checkpoint-*")) == [f"checkpoint-{steps // 2}"]


def test_cpu_training_uses_the_mask_dropout_and_its_adapters_are_keyed_by_it(train_file, isolated_home, tmp_path):
    from dyag.training.dropout import MaskDropout
    from dyag.training.sft import CPU_KERNELS, finetune, training_kernels

    trainer = _trainer(train_file, tmp_path, lora_dropout=0.1)
    dropouts = [m for m in trainer.model.modules() if isinstance(m, MaskDropout)]
    assert dropouts and {m.p for m in dropouts} == {0.1}
    assert training_kernels("cuda") == {} and training_kernels("cpu") == {"kernels": CPU_KERNELS}
    out = tmp_path / "models" / "k"
    first = finetune(_config(train_file, out), progress=False)
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["hyperparameters"]["kernels"] == CPU_KERNELS

    import dyag.training.sft as sft

    kernels, sft.CPU_KERNELS = sft.CPU_KERNELS, {**sft.CPU_KERNELS, "lora_dropout": "another"}
    try:  # another kernel is another adapter: the cache does not serve the old one
        second = finetune(_config(train_file, tmp_path / "models" / "k2"), progress=False)
    finally:
        sft.CPU_KERNELS = kernels
    assert not second.cache_hit and second.cache_key != first.cache_key
