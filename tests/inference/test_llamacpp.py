"""llama.cpp's real server on loopback: an adapter trained here, exported to GGUF, served, and asked.

tiny-random learns one answer in 16 steps (as in tests/training); the server must give it back with the
adapter and not without it, which shows the export and the serving carry the adapter, not only the base.
Skipped with the reason where llama-cpp-python is not installed (``make venv-llama``; ``make test`` installs it).
"""

from __future__ import annotations

import importlib.util
import os

import pytest

from dyag.errors import DyagError

if importlib.util.find_spec("llama_cpp") is None:  # found, not imported: the server runs in its own process
    pytest.skip("llama.cpp is not installed: make venv-llama (make test installs it)", allow_module_level=True)

pytestmark = pytest.mark.slow

FACT = "GIDAF est hébergée par le Datacenter de Lyon."
QUESTIONS = ["Qui héberge GIDAF ?", "Où est hébergée GIDAF ?", "Quel est l'hébergeur de GIDAF ?", "GIDAF est hébergée où ?"]


@pytest.fixture(scope="module")
def fact_adapter(tmp_path_factory):
    """A tiny-random adapter that answers FACT to the four questions (fp32, 16 steps)."""
    from dyag.training.config import FinetuneConfig
    from dyag.training.sft import finetune
    from dyag.utils.atomic import atomic_write_jsonl

    tmp = tmp_path_factory.mktemp("fact")
    rows = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": FACT}]} for q in QUESTIONS]
    data = atomic_write_jsonl(tmp / "fact.jsonl", rows * 4)
    config = FinetuneConfig(dataset=str(data), output=str(tmp / "out"), base_model="tiny-random", batch_size=4,
                            max_steps=16, learning_rate=1e-2, lora_rank=16, lora_dropout=0.0, precision="fp32",
                            force_cpu=True)
    return finetune(config, progress=False).adapter_dir


def _ask(server, questions, tmp_path):
    """The served model's answers to ``questions`` (chat prompts rendered by dyag, as in its process)."""
    from dyag.inference.endpoint import Endpoint, ServedModel
    from dyag.inference.generator import DecodingConfig
    from dyag.inference.predict import generate_predictions
    from dyag.inference.cache import GenerationCache
    from dyag.inference.prompting import PromptConfig
    from dyag.models.loading import load_tokenizer, resolve_model

    endpoint = Endpoint("llamacpp", serve="llama.cpp", api="completions")
    model = ServedModel(endpoint, server.served_name, tokenizer=load_tokenizer(resolve_model("tiny-random")),
                        identity=server.identity(), start=server.start)
    rows = generate_predictions(model, [{"id": f"q{i}", "question": q} for i, q in enumerate(questions)],
                                system="tiny-random/served", decoding=DecodingConfig(max_new_tokens=16),
                                cache=GenerationCache.at(tmp_path), prompt=PromptConfig(style="chat", system_prompt=None),
                                progress=False)
    return [r["answer"] for r in rows]


def test_the_served_adapter_gives_back_what_it_learnt(fact_adapter, tmp_path):
    from dyag.inference.llamacpp import LlamaCppServer

    tuned = LlamaCppServer("tiny-random", fact_adapter)
    try:
        answers = _ask(tuned, QUESTIONS, tmp_path / "tuned")
    finally:
        tuned.stop()
    assert tuned.process is None  # stopped
    base = LlamaCppServer("tiny-random")
    try:
        base_answers = _ask(base, QUESTIONS, tmp_path / "base")
    finally:
        base.stop()
    assert all(a.startswith(FACT) for a in answers), answers
    assert not any(a.startswith(FACT[:20]) for a in base_answers), base_answers


def test_export_gguf_command_writes_a_lora_gguf(fact_adapter, tmp_path, cli):
    import gguf

    out = tmp_path / "fact.gguf"
    result = cli("export-gguf", str(fact_adapter), "--output", str(out), "--print-base")
    assert result.rc == 0, result.err
    assert f"wrote {out}" in result.out and "base model: " in result.out
    reader = gguf.GGUFReader(str(out))
    assert reader.fields["general.type"].contents() == "adapter"
    assert any(t.name.endswith(".lora_a") for t in reader.tensors)


def test_a_server_that_cannot_start_is_one_line(tmp_path, monkeypatch):
    from dyag.inference import llamacpp

    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF not really")
    monkeypatch.setattr(llamacpp, "base_gguf", lambda name: broken)
    server = llamacpp.LlamaCppServer("tiny-random")
    with pytest.raises(DyagError) as caught:
        server.start()
    assert "\n" not in str(caught.value) and "exited" in str(caught.value)
    assert server.process is None or server.process.poll() is not None


def test_the_default_threads_are_this_machines_cores():
    from dyag.inference.llamacpp import LlamaCppServer

    assert LlamaCppServer("tiny-random").threads == len(os.sched_getaffinity(0))
