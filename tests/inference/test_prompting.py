"""Prompts follow the kind of model: chat template for instruction-tuned models and adapters,
completion prompts with worked examples and stop strings for base models; records as cards."""

from __future__ import annotations

import pytest

from dyag.errors import DyagError
from dyag.inference.prompting import (
    STOP_SEQUENCES, PromptConfig, build_prompt, prompt_style, record_card, worked_examples,
)


def _record(catalog, app_id):
    return next(r for r in catalog if r["id"] == app_id)


def test_the_registry_knows_which_models_are_instruction_tuned():
    from dyag.models.registry import get_model_spec, guess_instruct

    assert get_model_spec("smollm2:135m").instruct and get_model_spec("qwen2.5:1.5b").instruct
    assert not get_model_spec("gemma3:270m").instruct
    assert guess_instruct("Qwen/Qwen2.5-0.5B-Instruct") and guess_instruct("google/gemma-3-1b-it")
    assert not guess_instruct("google/gemma-3-1b-pt") and not guess_instruct("HuggingFaceTB/SmolLM2-135M")
    assert get_model_spec("someone/base-model-7b").instruct is False


def test_a_base_model_is_asked_in_completion_style_unless_it_answers_with_its_adapter():
    from dyag.models.registry import get_model_spec

    gemma, smol = get_model_spec("gemma3:270m"), get_model_spec("smollm2:135m")
    assert prompt_style(gemma, uses_adapter=False) == "completion"
    assert prompt_style(gemma, uses_adapter=True) == "chat"  # the adapter was trained on the chat template
    assert prompt_style(smol, uses_adapter=False) == "chat"
    assert PromptConfig(style="completion").stop == STOP_SEQUENCES and PromptConfig().stop == ()


def test_a_card_gives_one_field_a_line(catalog):
    card = record_card(_record(catalog, "gidaf")).splitlines()
    assert card[0] == "Application : GIDAF"
    assert "Hébergeur : Datacenter DSI Orléans" in card
    assert "Technologies : Java, Spring Boot, PostgreSQL et Angular" in card
    assert "Utilisateurs : 12 000" in card and "Version : 4.2" in card
    bare = {"id": "x", "title": "X", "text": "X est une application."}
    assert record_card(bare) == "X : X est une application."


def test_worked_examples_are_about_other_applications_one_field_each(catalog):
    examples = worked_examples(catalog, 5, exclude=["gidaf"], question="Qui héberge 6Tzen ?")
    assert len(examples) == 5
    ids = [e.record["id"] for e in examples]
    assert len(set(ids)) == 5 and "gidaf" not in ids and "6tzen" not in ids
    assert examples[0].question.startswith("Qui héberge") and examples[0].record["metadata"]["hebergeur"] in examples[0].answer
    # the same examples for every question that names none of them: one shared prompt prefix per batch
    assert [e.record["id"] for e in worked_examples(catalog, 5, question="Qui héberge GIDAF ?")] == \
        [e.record["id"] for e in worked_examples(catalog, 5, question="Qui héberge Agora ?")]


def test_a_completion_prompt_ends_on_the_answer_label(catalog):
    gidaf = _record(catalog, "gidaf")
    prompt = build_prompt(PromptConfig(style="completion", shots=2), "Qui héberge GIDAF ?",
                          context_records=[gidaf], kb=catalog, exclude=["gidaf"])
    assert isinstance(prompt, str)
    assert prompt.endswith("Question : Qui héberge GIDAF ?\nRéponse :")
    assert prompt.count("Question :") == 3 and prompt.count("Contexte :") == 3
    assert "Hébergeur : Datacenter DSI Orléans" in prompt.split("Question :")[-2]  # the asked record, last
    assert "Tu es l'assistant" not in prompt  # no chat system prompt to echo
    base = build_prompt(PromptConfig(style="completion", shots=2), "Qui héberge GIDAF ?", context_records=None,
                        kb=catalog, exclude=["gidaf"])
    assert "Contexte" not in base and base.count("Réponse :") == 3


def test_a_chat_prompt_is_zero_shot_with_the_context_before_the_question(catalog):
    config = PromptConfig(style="chat", shots=5, system_prompt="Réponds.")
    rag = build_prompt(config, "Qui héberge GIDAF ?", context_records=[_record(catalog, "gidaf")], kb=catalog,
                       exclude=["gidaf"])
    assert [m["role"] for m in rag] == ["system", "user"]
    assert rag[-1]["content"].startswith("Contexte :\nApplication : GIDAF\n")
    assert rag[-1]["content"].endswith("\n\nQuestion : Qui héberge GIDAF ?")
    plain = build_prompt(config, "Qui héberge GIDAF ?", context_records=None, kb=catalog)
    assert plain == [{"role": "system", "content": "Réponds."}, {"role": "user", "content": "Qui héberge GIDAF ?"}]


def test_prompt_settings_are_checked():
    with pytest.raises(DyagError, match="--context-format"):
        PromptConfig(context_format="xml")
    with pytest.raises(DyagError, match="--shots"):
        PromptConfig(shots=-1)


def test_an_answer_ends_at_the_first_stop_string():
    from dyag.inference.generator import Generator

    class Tok:
        def decode(self, ids, skip_special_tokens=True):
            return "".join(chr(i) for i in ids)

    gen = Generator.__new__(Generator)
    gen.tokenizer, gen.end_ids = Tok(), {0}
    text = " GIDAF est hébergée par OVH.\n\nQuestion : Qui héberge 6Tzen ?"
    answer = gen._decode([ord(c) for c in text], 0.1, STOP_SEQUENCES)
    assert answer.text == "GIDAF est hébergée par OVH." and answer.finish_reason == "stop"
    assert gen._decode([ord(c) for c in "OVH"], 0.1, STOP_SEQUENCES).finish_reason == "length"


def test_completion_prompts_reach_the_model_with_their_stop_strings(catalog, tmp_path):
    """generate_predictions renders a base model's questions as completion prompts, stops them at the
    next label, and keys the cache on the prompt (a chat answer of the same question is another entry)."""
    from dyag.inference.cache import GenerationCache
    from dyag.inference.generator import Answer, DecodingConfig
    from dyag.inference.predict import generate_predictions
    from dyag.models.registry import get_model_spec

    seen = {}

    class Loaded:
        def render(self, prompt):
            return prompt if isinstance(prompt, str) else "CHAT:" + prompt[-1]["content"]

        def generate(self, prompts, decoding, batch_size, progress):
            seen.update(prompts=prompts, stop=decoding.stop)
            return [Answer("OVH.", 2, "stop", 0.0) for _ in prompts]

    class Ref:
        identity = {"model": "fake"}
        device = type("D", (), {"device": "cpu", "dtype_name": "float32"})()
        resolved = type("R", (), {"spec": get_model_spec("gemma3:270m")})()

        def load(self):
            return Loaded()

    cases = [{"id": "q1", "question": "Qui héberge GIDAF ?", "kb_ids": ["gidaf"]}]
    cache = GenerationCache(tmp_path / "gen")
    rows = generate_predictions(Ref(), cases, system="gemma3:270m/base", decoding=DecodingConfig(max_new_tokens=8),
                                cache=cache, progress=False, kb=catalog)
    assert rows[0]["answer"] == "OVH."
    assert seen["stop"] == STOP_SEQUENCES and seen["prompts"][0].endswith("Question : Qui héberge GIDAF ?\nRéponse :")
    chat = generate_predictions(Ref(), cases, system="gemma3:270m/finetuned", decoding=DecodingConfig(max_new_tokens=8),
                                cache=cache, progress=False, kb=catalog)
    assert not chat[0]["meta"]["cached"] and seen["stop"] == () and seen["prompts"][0] == "CHAT:Qui héberge GIDAF ?"


def test_a_fields_context_keeps_the_fields_the_question_asks_for(catalog):
    from dyag.inference.rag import Retriever

    retriever = Retriever.build(catalog, top_k=1)
    rank = retriever.field_ranker(3)
    assert rank("Qui héberge GIDAF ?")[0] == "hebergeur"
    assert rank("Quelle est la version de 6Tzen ?")[0] == "version"
    prompt = build_prompt(PromptConfig(style="completion", context_format="fields", shots=1), "Qui héberge GIDAF ?",
                          context_records=[_record(catalog, "gidaf")], kb=catalog, exclude=["gidaf"], rank_fields=rank)
    asked = prompt.split("Contexte :")[-1]
    assert "Hébergeur : Datacenter DSI Orléans" in asked and len(asked.strip().splitlines()) == 1 + 3 + 2
    assert "Description :" not in asked
