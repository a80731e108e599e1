"""Inference core on tiny-random: batching, determinism, cache, adapter checks, RAG."""

from __future__ import annotations

import json

import pytest

from dyag.errors import DyagError

QUESTIONS = ["Qui héberge GIDAF ?", "Qu'est-ce que 6Tzen ?", "Quelle est la version de GIDAF ?",
             "Combien d'utilisateurs a GIDAF ?", "Où trouve-t-on la documentation ?"]


@pytest.fixture(scope="module")
def tiny():
    from dyag.inference.generator import load_model

    return load_model("tiny-random", force_cpu=True)


def test_greedy_answers_do_not_depend_on_batch_size(tiny):
    one = tiny.answer(QUESTIONS, batch_size=1, max_new_tokens=12)
    many = tiny.answer(QUESTIONS, batch_size=4, max_new_tokens=12)
    assert one == many
    assert tiny.answer(QUESTIONS, batch_size=4, max_new_tokens=12) == many  # and repeatable


def test_answers_contain_no_template_tokens(tiny):
    for text in tiny.answer(QUESTIONS[:2], max_new_tokens=12):
        assert "<|im_start|>" not in text and "<|im_end|>" not in text


def test_generation_cache_reuses_answers(tiny, tmp_path):
    from dyag.inference.cache import GenerationCache
    from dyag.inference.generator import DecodingConfig
    from dyag.inference.predict import generate_predictions

    cache = GenerationCache(tmp_path / "gen")
    cases = [{"id": f"c{i}", "question": q} for i, q in enumerate(QUESTIONS)]
    dec = DecodingConfig(max_new_tokens=8)
    first = generate_predictions(tiny, cases, system="tiny-random/base", decoding=dec, cache=cache, progress=False)
    assert not any(p["meta"]["cached"] for p in first)
    cases[1] = {"id": "c1", "question": "Qui est le responsable de GIDAF ?"}  # one case edited
    second = generate_predictions(tiny, cases, system="tiny-random/base", decoding=dec, cache=cache, progress=False)
    assert [p["meta"]["cached"] for p in second] == [True, False, True, True, True]
    assert [p["answer"] for i, p in enumerate(second) if i != 1] == [p["answer"] for i, p in enumerate(first) if i != 1]


def test_cached_answers_load_no_model(tiny, tmp_path):
    """A ModelRef is loaded only for answers the cache lacks: a re-run finds every answer and loads nothing."""
    from dyag.inference.cache import GenerationCache
    from dyag.inference.generator import DecodingConfig, ModelRef
    from dyag.inference.predict import generate_predictions

    cache = GenerationCache(tmp_path / "gen")
    cases = [{"id": f"c{i}", "question": q} for i, q in enumerate(QUESTIONS[:3])]
    dec = DecodingConfig(max_new_tokens=8)
    first_ref = ModelRef("tiny-random", force_cpu=True)
    assert first_ref.identity == tiny.identity
    first = generate_predictions(first_ref, cases, system="tiny-random/base", decoding=dec, cache=cache, progress=False)
    assert first_ref.loaded
    assert [p["answer"] for p in first] == tiny.answer(QUESTIONS[:3], max_new_tokens=8)
    again = ModelRef("tiny-random", force_cpu=True)
    second = generate_predictions(again, cases, system="tiny-random/base", decoding=dec, cache=cache, progress=False)
    assert not again.loaded and all(p["meta"]["cached"] for p in second)
    assert [p["answer"] for p in second] == [p["answer"] for p in first]


def test_a_fully_cached_evaluation_imports_no_torch(tmp_path, home_with_models, cli):
    """The warm re-run's promise: every answer, retrieval and BERTScore cached -> torch, transformers,
    peft and sentence-transformers stay unimported (checked in a fresh process)."""
    import subprocess
    import sys

    golden = tmp_path / "golden.jsonl"
    golden.write_text(json.dumps({"id": "g1", "question": QUESTIONS[0], "reference": "GIDAF est hébergée à Lyon.",
                                  "kb_ids": ["gidaf"]}, ensure_ascii=False) + "\n", encoding="utf-8")
    argv = ["evaluate-finetuned", "--base-model", "tiny-random", "--systems", "base,rag", "--golden", str(golden),
            "--kb", "sample", "--max-new-tokens", "6", "--output", str(tmp_path / "results.json")]
    assert cli.spawn(*argv).rc == 0  # cold: fills the caches
    check = ("import sys; from dyag.cli import main; rc = main(sys.argv[1:]); "
             "heavy = sorted({'torch', 'transformers', 'peft', 'sentence_transformers', 'bert_score'} & set(sys.modules)); "
             "print('HEAVY', heavy); raise SystemExit(rc)")
    warm = subprocess.run([sys.executable, "-c", check, *argv], capture_output=True, text=True, timeout=300)
    assert warm.returncode == 0, warm.stderr[-2000:]
    assert "HEAVY []" in warm.stdout


def test_not_an_adapter_dir_is_a_user_error(tmp_path, cli):
    (tmp_path / "x").mkdir()
    result = cli("query-finetuned", "Qui ?", "--model", tmp_path / "x", "--base-model", "tiny-random")
    assert result.rc == 2 and "not a peft adapter" in result.err


def test_adapter_from_another_base_is_refused(tmp_path):
    from dyag.inference.generator import _check_same_base
    from dyag.models.loading import resolve_model

    resolved = resolve_model("tiny-random")
    manifest = {"base_model": {**resolved.identity, "name": "smollm2:135m", "spec": "smollm2:135m", "sha256": "x"}}
    with pytest.raises(DyagError, match="trained on base model 'smollm2:135m'"):
        _check_same_base(manifest, resolved, tmp_path)


def test_query_questions_file_writes_predictions(tmp_path, isolated_home, cli):
    qfile = tmp_path / "q.txt"
    qfile.write_text("\n".join(QUESTIONS[:3]) + "\n", encoding="utf-8")
    out = tmp_path / "preds.jsonl"
    result = cli("query-finetuned", "--questions", qfile, "--base-model", "tiny-random",
                 "--max-new-tokens", "6", "--output", out)
    assert result.rc == 0, result.err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["q1", "q2", "q3"]
    assert all(r["system"] == "tiny-random/base" and "tokens" in r["meta"] for r in rows)


def test_rag_retrieves_the_right_application():
    from dyag.data.kb import read_kb, sample_kb_path
    from dyag.inference.rag import Retriever

    kb = read_kb(sample_kb_path())
    retriever = Retriever.build(kb, top_k=3)
    hits = retriever.retrieve(["Qui héberge GIDAF ?", "Qu'est-ce que 6Tzen ?"])
    assert hits[0][0][0] == "gidaf"
    assert "6tzen" in [doc for doc, _ in hits[1]]
    assert all(-1.0 <= s <= 1.0 for row in hits for _, s in row)
