"""Bootstrap CIs, paired tests, the quality formula and the baseline comparison."""

from __future__ import annotations

import numpy as np
import pytest

from dyag.evaluation import stats
from dyag.evaluation.compare import compare_to_baseline
from dyag.evaluation.registry import tolerances
from dyag.evaluation.quality import QUALITY, quality_config, quality_score, semantic_component
from dyag.evaluation.scoring import aggregate_cases
from dyag.results import RuleFlip, parse

# --- stats ------------------------------------------------------------------------------------------


def test_bootstrap_ci_brackets_the_mean_and_is_deterministic():
    values = np.random.default_rng(1).normal(6.0, 2.0, size=200)
    lo, hi = stats.bootstrap_ci(values)
    assert lo < values.mean() < hi
    assert hi - lo == pytest.approx(2 * 1.96 * values.std(ddof=1) / np.sqrt(200), rel=0.2)
    assert stats.bootstrap_ci(values) == (lo, hi)
    assert stats.bootstrap_ci([3.0]) == (3.0, 3.0)
    assert stats.bootstrap_ci([]) is None
    assert stats.summarize([1.0, 2.0, 3.0])["n"] == 3


def test_bootstrap_handles_many_cases_in_chunks():
    values = np.arange(10_000, dtype=float)
    lo, hi = stats.bootstrap_ci(values, resamples=1000)
    assert lo < 4999.5 < hi


def test_mcnemar_exact_values():
    assert stats.mcnemar_exact([1] * 10, [0] * 10).p_value == pytest.approx(2 / 1024)
    # 2 newly fail, 1 newly passes, 1 concordant: only the 3 discordant pairs count
    result = stats.mcnemar_exact([1, 1, 0, 1], [0, 0, 1, 1])
    assert (result.n, result.p_value, result.mean_delta) == (4, 1.0, -0.25)
    assert stats.mcnemar_exact([1, 0], [1, 0]).p_value == 1.0
    # five flips one way are not enough at alpha 0.05 (p = 0.0625); six are (p = 0.03125)
    assert stats.mcnemar_exact([1] * 5, [0] * 5).p_value == pytest.approx(0.0625)
    assert stats.mcnemar_exact([1] * 6 + [0] * 4, [0] * 10).p_value == pytest.approx(0.03125)


def test_paired_bootstrap_separates_shift_from_noise():
    rng = np.random.default_rng(2)
    a = rng.uniform(4, 9, size=40)
    shifted = stats.paired_bootstrap(a, a - 1.5 + rng.normal(0, 0.3, size=40))
    assert shifted.mean_delta == pytest.approx(-1.5, abs=0.2) and shifted.p_value < 0.01
    noise = stats.paired_bootstrap(a, a + rng.normal(0, 0.3, size=40))
    assert noise.p_value > 0.05
    assert stats.paired_bootstrap(a, a).p_value == 1.0
    with pytest.raises(ValueError):
        stats.paired_bootstrap([1, 2], [1])


# --- quality ------------------------------------------------------------------------------------------


def test_quality_formula_and_penalties():
    perfect = {"bertscore_f1": 1.0, "fact_recall": 1.0, "rougeL": 1.0}
    assert quality_score(perfect, [], encoder="all-MiniLM-L6-v2") == 10.0
    rules = [{"passed": False, "severity": "error"}, {"passed": False, "severity": "warning"},
             {"passed": False, "severity": "info"}, {"passed": True, "severity": "error"}]
    assert quality_score(perfect, rules, encoder="all-MiniLM-L6-v2") == 6.0
    assert quality_score({"rougeL": 0.1, "fact_recall": 0.0}, rules) == 0.0  # floored


def test_quality_without_bertscore_and_without_facts():
    # No BERTScore: ROUGE-L stands in for the semantic part (0.4 + 0.2 of the weight).
    assert quality_score({"rougeL": 0.5, "fact_recall": 1.0}, []) == pytest.approx(10 * (0.4 * 0.5 + 0.4 + 0.2 * 0.5))
    # No facts: weights renormalized over the other parts.
    assert quality_score({"rougeL": 0.5, "fact_recall": None}, []) == pytest.approx(5.0)
    assert quality_score({}, []) == 0.0


def test_bertscore_is_rescaled_by_the_encoder_floor():
    floor = QUALITY["bertscore_floor"]["all-MiniLM-L6-v2"]
    assert semantic_component({"bertscore_f1": floor}, encoder="all-MiniLM-L6-v2") == 0.0
    assert semantic_component({"bertscore_f1": 0.2}, encoder="all-MiniLM-L6-v2") == 0.0
    assert semantic_component({"bertscore_f1": 0.8}, encoder="other") == pytest.approx(0.8)
    config = quality_config({"bertscore_floor": {"other": 0.5}, "penalties": {"warning": 2.0}})
    assert semantic_component({"bertscore_f1": 0.75}, encoder="other", config=config) == pytest.approx(0.5)
    assert config["penalties"] == {"error": 3.0, "warning": 2.0, "info": 0.0}
    assert QUALITY["penalties"]["warning"] == 1.0  # the defaults are not modified


# --- compare --------------------------------------------------------------------------------------------


def _results(scores, *, system="smollm2:135m/finetuned", rule_passes=None, ids=None):
    ids = ids or [f"q{i}" for i in range(len(scores))]
    cases = []
    for i, (cid, score) in enumerate(zip(ids, scores)):
        passed = True if rule_passes is None else rule_passes[i]
        cases.append({"id": cid, "system": system, "answer": "...", "score": float(score),
                      "metrics": {"rougeL": float(score) / 10},
                      "rules": [{"name": "no_dialogue_turns", "passed": passed, "severity": "error",
                                 "message": "" if passed else "invented conversation turn 'User'", "span": None}]})
    return parse({"schema_version": 2, "cases": cases, "aggregates": aggregate_cases(cases, resamples=500)})


BASE = np.random.default_rng(3).uniform(4.0, 9.0, size=20)


def test_a_real_drop_fails():
    rng = np.random.default_rng(4)
    current = np.clip(BASE - 2.0 + rng.normal(0, 0.3, size=20), 0, 10)
    cmp = compare_to_baseline(_results(current), _results(BASE))
    row = next(r for r in cmp.rows if r.metric == "score")
    assert row.verdict == "regressed" and row.test == "paired_bootstrap" and row.p_value < 0.05
    assert cmp.failed
    assert any("FAILED" in line for line in cmp.summary_lines())


def test_noise_passes():
    rng = np.random.default_rng(5)
    for _ in range(5):
        current = np.clip(BASE + rng.normal(0, 0.5, size=20), 0, 10)
        cmp = compare_to_baseline(_results(current), _results(BASE))
        assert not cmp.failed, cmp.summary_lines()


def test_a_consistent_small_drop_within_tolerance_passes():
    cmp = compare_to_baseline(_results(BASE - 0.3), _results(BASE))
    row = next(r for r in cmp.rows if r.metric == "score")
    assert row.p_value < 0.05 and row.verdict == "ok" and not cmp.failed


def test_a_large_but_not_significant_drop_passes():
    # Two cases, one down by 5 and one up by 3: big mean drop, no evidence.
    cmp = compare_to_baseline(_results([2.0, 9.0]), _results([7.0, 6.0]))
    row = next(r for r in cmp.rows if r.metric == "score")
    assert row.delta == pytest.approx(-1.0) and row.p_value >= 0.05 and row.verdict == "ok"


def test_improvement_and_unpaired_comparison():
    cmp = compare_to_baseline(_results(np.clip(BASE + 2.5, 0, 10)), _results(BASE))
    assert next(r for r in cmp.rows if r.metric == "score").verdict == "improved" and not cmp.failed
    other_ids = [f"z{i}" for i in range(20)]
    cmp = compare_to_baseline(_results(BASE - 3.0, ids=other_ids), _results(BASE))
    row = next(r for r in cmp.rows if r.metric == "score")
    assert row.test == "unpaired_bootstrap" and row.verdict == "regressed"


def test_new_rule_failures_are_listed_and_fail_only_when_strict():
    passes = [True] * 20
    now = list(passes)
    now[3] = False
    cmp = compare_to_baseline(_results(BASE, rule_passes=now), _results(BASE, rule_passes=passes))
    assert cmp.new_rule_failures == [RuleFlip(system="smollm2:135m/finetuned", id="q3", rule="no_dialogue_turns",
                                              severity="error", message="invented conversation turn 'User'")]
    assert not cmp.failed
    strict = compare_to_baseline(_results(BASE, rule_passes=now), _results(BASE, rule_passes=passes), strict_rules=True)
    assert strict.failed


def test_tolerances_and_missing_systems():
    assert tolerances()["score"] == 0.5 and tolerances()["rule:*"] == 0.1
    cmp = compare_to_baseline(_results(BASE - 0.3), _results(BASE), tolerances={"score": 0.1})
    assert next(r for r in cmp.rows if r.metric == "score").verdict == "regressed"
    cmp = compare_to_baseline(_results(BASE, system="other"), _results(BASE))
    assert cmp.missing_systems == ["smollm2:135m/finetuned"] and not cmp.rows
    assert "rows" in cmp.to_dict()


def test_corpus_bleu_is_judged_by_a_paired_bootstrap():
    """Corpus BLEU's drop fails the gate only when the same questions show it: answers made wrong on
    every case do; a large drop carried by two of thirty answers does not."""
    from dyag.evaluation.scoring import corpus_bleu_paired_test

    references = [f"L'application APP{i} est hébergée au centre de données de Lyon depuis {2000 + i}." for i in range(30)]
    before = [(r, r) for r in references]
    assert corpus_bleu_paired_test(before, before).p_value == 1.0
    wrong = [("Je ne sais pas.", r) for r in references]
    drop = corpus_bleu_paired_test(before, wrong)
    assert drop.mean_delta < -50 and drop.p_value < 0.05 and drop.method == "paired_bootstrap" and drop.n == 30
    # two answers lose most of their words: corpus BLEU moves, but only two questions say so
    few = [("L'application.", r) if i < 2 else (r, r) for i, r in enumerate(references)]
    noisy = corpus_bleu_paired_test(before, few)
    assert noisy.mean_delta < -5 and noisy.p_value >= 0.05
