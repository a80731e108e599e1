"""People's ratings of answers: the record, stale detection, rank agreement with dyag's score, the CLI."""

from __future__ import annotations

import doctest
import hashlib
import json
from pathlib import Path

import pytest
from scipy import stats

from dyag.errors import DyagError
from dyag.evaluation import agreement as agreement_module
from dyag.evaluation.agreement import Rating, agreement, answer_sha256, read_ratings
from dyag.results import Case, Results, write

GOLDEN = [{"id": f"q{i}", "question": f"Qui héberge APP{i} ?", "reference": f"APP{i} est hébergée à Lyon.",
           "facts": ["Lyon"]} for i in range(8)]


def rated(cases: list[Case], ratings: list[str], rater: str = "alice", **extra) -> list[Rating]:
    return [Rating(id=c.id, system=c.system, answer_sha256=answer_sha256(c.answer), rating=r, rater=rater, **extra)
            for c, r in zip(cases, ratings)]


def doc(scores: list[float], system: str = "m/rag") -> list[Case]:
    """Cases q0, q1... of one system, with these scores."""
    return [Case(id=f"q{i}", system=system, answer=f"Réponse q{i}.", score=s) for i, s in enumerate(scores)]


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows),
                    encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def scored() -> Results:
    """Two systems scored for real (no model): base guesses Paris or says it does not know, rag says Lyon."""
    from dyag.evaluation.scoring import score_predictions

    answers = {"m/base": lambda i: "Je ne sais pas." if i % 2 else f"APP{i} est à Paris.",
               "m/rag": lambda i: f"APP{i} est hébergée à Lyon." if i % 3 else "Lyon peut-être."}
    preds = [{"id": g["id"], "system": s, "answer": answer(i)} for s, answer in answers.items()
             for i, g in enumerate(GOLDEN)]
    return score_predictions(preds, GOLDEN, bertscore=False, progress=False)


def people(results: Results) -> list[dict]:
    """What a person would say of ``scored``: Lyon with hosting is correct, Lyon alone partly, the rest wrong."""
    rows = []
    for c in results.cases:
        rating = "correct" if "hébergée à Lyon" in c.answer else "partly" if "Lyon" in c.answer else "wrong"
        rows.append({"id": c.id, "system": c.system, "answer_sha256": answer_sha256(c.answer), "rating": rating,
                     "comment": "", "rater": "alice"})
    return rows


# ---------------------------------------------------------------- the record


def test_answer_sha256_is_the_utf8_digest():
    assert answer_sha256("hébergée") == hashlib.sha256("hébergée".encode("utf-8")).hexdigest()


@pytest.mark.parametrize("line, message", [
    ({"rating": "meh"}, "rating must be correct, partly or wrong"),
    ({"rating": None}, "rating must be correct, partly or wrong"),
    ({"answer_sha256": "abc"}, "answer_sha256 must be 64 hexadecimal characters"),
    ({"answer_sha256": None}, "answer_sha256 must be 64 hexadecimal characters"),
    ({"id": ""}, "id: must not be empty"),
    ({"system": 3}, "system: Input should be a valid string"),
    ({"comment": ["x"]}, "comment: Input should be a valid string"),
    ({"score": 3}, "unknown field 'score'"),
    ({"id": None, "drop": "id"}, "missing field 'id'"),
    ('{"id": "q0",', "invalid JSON"),
    ("[1, 2]", "expected a JSON object, got list"),
])
def test_rating_errors_are_one_line_naming_file_and_line(tmp_path, line, message):
    good = {"id": "q0", "system": "m/rag", "answer_sha256": "a" * 64, "rating": "correct"}
    if isinstance(line, dict):
        bad = {**good, **line}
        bad.pop(bad.pop("drop", None) or "-", None)
        line = bad
    path = write_jsonl(tmp_path / "ratings.jsonl", [good, "", line])
    with pytest.raises(DyagError) as err:
        read_ratings(path)
    text = str(err.value)
    assert text.startswith(f"{path}:3: ") and message in text and "\n" not in text


def test_a_later_rating_of_the_same_answer_and_rater_replaces_the_earlier(tmp_path):
    base = {"id": "q0", "system": "m/rag", "answer_sha256": "A" * 64}
    first = write_jsonl(tmp_path / "a.jsonl", [{**base, "rating": "wrong", "rater": "alice"},
                                               {**base, "rating": "partly", "rater": "bob"}])
    second = write_jsonl(tmp_path / "b.jsonl", ["", {**base, "rating": "correct", "rater": "alice", "comment": "ok"}])
    ratings = read_ratings([first, second])
    assert [(r.rater, r.rating, r.comment) for r in ratings] == [("bob", "partly", ""), ("alice", "correct", "ok")]
    assert ratings[0].answer_sha256 == "a" * 64  # digests are compared in lower case
    assert read_ratings(write_jsonl(tmp_path / "empty.jsonl", [""])) == []


# ---------------------------------------------------------------- agreement


def test_stale_ratings_are_counted_listed_and_never_used():
    cases = doc([1, 4, 6, 9, 2, 8])
    ratings = rated(cases, ["wrong", "wrong", "partly", "correct", "correct", "partly"])
    before = agreement(Results(cases=cases), ratings, resamples=0)
    assert before.n_used == 6 and before.stale == []
    changed = [c.model_copy(update={"answer": "Autre réponse."}) if c.id == "q4" else c for c in cases]
    after = agreement(Results(cases=changed), ratings, resamples=0)
    assert after.stale == [("q4", "m/rag")] and after.n_used == 5 and after.overall.n == 5
    assert all(d.id != "q4" for d in after.overall.worst)
    scores, values = [1, 4, 6, 9, 8], [0.0, 0.0, 0.5, 1.0, 0.5]
    assert after.overall.spearman == pytest.approx(stats.spearmanr(scores, values).statistic)


def test_correlations_equal_scipy_with_the_mean_of_several_raters():
    rag, base = doc([9.5, 2.0, 7.0, 7.0, 4.5, 1.0, 8.0]), doc([3.0, 6.5, 0.5, 5.0], system="m/base")
    ratings = (rated(rag, ["correct", "wrong", "partly", "correct", "partly", "wrong", "correct"])
               + rated(base, ["wrong", "correct", "wrong", "partly"])
               + rated(rag[:2], ["partly", "partly"], rater="bob"))  # q0: mean 0.75, q1: mean 0.25
    found = agreement(Results(cases=rag + base), ratings, resamples=200)
    rag_values = [0.75, 0.25, 0.5, 1.0, 0.5, 0.0, 1.0]
    base_values = [0.0, 1.0, 0.0, 0.5]
    for block, scores, values in ((found.systems["m/rag"], [c.score for c in rag], rag_values),
                                  (found.systems["m/base"], [c.score for c in base], base_values),
                                  (found.overall, [c.score for c in rag + base], rag_values + base_values)):
        assert block.n == len(scores)
        assert block.spearman == pytest.approx(stats.spearmanr(scores, values).statistic, abs=1e-12)
        assert block.kendall == pytest.approx(stats.kendalltau(scores, values).statistic, abs=1e-12)
        lo, hi = block.spearman_ci95
        assert -1.0 <= lo <= hi <= 1.0 and block.kendall_ci95[0] <= block.kendall_ci95[1]
    assert found.n_used == 13 and list(found.systems) == ["m/rag", "m/base"]
    again = agreement(Results(cases=rag + base), ratings, resamples=200)
    assert again.overall.spearman_ci95 == found.overall.spearman_ci95  # a fixed seed: the same intervals


def test_bootstrap_tau_matches_scipy_per_resample():
    import numpy as np

    rng = np.random.default_rng(3)
    xs, ys = rng.integers(0, 11, (20, 15)).astype(float), rng.choice([0.0, 0.5, 1.0], (20, 15))
    expected = [stats.kendalltau(x, y).statistic for x, y in zip(xs, ys)]
    assert agreement_module._tau_b_rows(xs, ys) == pytest.approx(expected, abs=1e-12)


def test_perfect_order_is_one_and_reversed_order_minus_one():
    ratings_of = ["wrong", "wrong", "partly", "partly", "correct", "correct"]
    ordered = doc([0.0, 0.0, 5.0, 5.0, 10.0, 10.0])
    found = agreement(Results(cases=ordered), rated(ordered, ratings_of), resamples=300)
    assert found.overall.spearman == pytest.approx(1.0) and found.overall.kendall == pytest.approx(1.0)
    assert found.overall.spearman_ci95 == pytest.approx((1.0, 1.0))
    reversed_ = doc([10.0, 10.0, 5.0, 5.0, 0.0, 0.0])
    found = agreement(Results(cases=reversed_), rated(reversed_, ratings_of), resamples=300)
    assert found.overall.spearman == pytest.approx(-1.0) and found.overall.kendall == pytest.approx(-1.0)


def test_confusion_counts_score_at_threshold_against_rated_correct():
    cases = doc([9.0, 7.0, 5.0, 3.0, 1.0, 4.9, 8.0])
    ratings = rated(cases, ["correct", "partly", "wrong", "correct", "wrong", "partly", "correct"])
    ratings += rated(cases[6:], ["partly"], rater="bob")  # mean 0.75: still rated correct
    found = agreement(Results(cases=cases), ratings, resamples=0)
    c = found.overall.confusion
    assert (c.tp, c.fp, c.fn, c.tn) == (2, 2, 1, 2)
    c = agreement(Results(cases=cases), ratings, threshold=8.0, resamples=0).overall.confusion
    assert (c.tp, c.fp, c.fn, c.tn) == (2, 0, 1, 4)


def test_too_few_pairs_or_no_variance_gives_none_not_nan():
    two = doc([2.0, 8.0])
    found = agreement(Results(cases=two), rated(two, ["wrong", "correct"]))
    assert found.overall.n == 2 and found.overall.spearman is None and found.overall.kendall is None
    flat = doc([2.0, 8.0, 5.0, 9.0])
    found = agreement(Results(cases=flat), rated(flat, ["correct"] * 4))
    assert found.overall.spearman is None and found.overall.spearman_ci95 is None
    text = json.dumps(found.to_json(), allow_nan=False)
    assert json.loads(text)["overall"]["spearman"] is None


def test_worst_disagreements_unmatched_and_unscored():
    cases = doc([9.0, 2.0, 6.0, 5.0])
    cases[0] = cases[0].model_copy(update={"answer": "x" * 1000})
    cases.append(Case(id="q9", system="m/rag", answer="Sans score.", score=None))
    ratings = rated(cases, ["wrong", "correct", "partly", "partly", "correct"], comment="<b>non</b>")
    ratings.append(Rating(id="gone", system="m/rag", answer_sha256="0" * 64, rating="wrong"))
    found = agreement(Results(cases=cases), ratings, worst=2, resamples=0)
    assert [(d.id, d.rating, d.gap) for d in found.overall.worst] == [("q0", "wrong", 0.9), ("q1", "correct", 0.8)]
    assert len(found.overall.worst[0].answer) <= 300 and found.overall.worst[0].comment == "<b>non</b>"
    assert found.unmatched == [("gone", "m/rag")] and found.unscored == [("q9", "m/rag")]
    assert found.n_used == 4


def test_agreement_module_examples_hold():
    result = doctest.testmod(agreement_module)
    assert result.attempted > 0 and result.failed == 0


# ---------------------------------------------------------------- command line


@pytest.fixture()
def files(tmp_path, scored):
    results = write(tmp_path / "results.json", scored)
    rows = people(scored)
    rows[0]["comment"] = "Paris ?"
    rows[1]["answer_sha256"] = answer_sha256("an older answer")
    return results, write_jsonl(tmp_path / "ratings.jsonl", rows), rows


def test_cli_prints_the_table_and_writes_the_json(tmp_path, cli, files, scored):
    results, ratings, rows = files
    out = tmp_path / "out" / "agreement.json"
    result = cli("agreement", results, ratings, "--json", out, "--threshold", "6")
    assert result.rc == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split()[:2] == ["system", "n"] and [ln.split()[0] for ln in lines[1:4]] == ["m/base", "m/rag",
                                                                                               "overall"]
    assert "score >= 6" in result.out and "stale: 1 rating(s)" in result.out and "worst disagreements:" in result.out
    data = json.loads(out.read_text(encoding="utf-8"))
    assert set(data["overall"]) >= {"spearman", "kendall", "n"} and set(data["systems"]) == {"m/base", "m/rag"}
    assert data["stale"] == [[rows[1]["id"], rows[1]["system"]]] and data["n_used"] == len(rows) - 1
    used = [(c.score, {"correct": 1.0, "partly": 0.5, "wrong": 0.0}[r["rating"]])
            for c, r in zip(scored.cases, rows) if r is not rows[1]]
    assert data["overall"]["spearman"] == pytest.approx(stats.spearmanr(*zip(*used)).statistic)
    assert data["overall"]["kendall"] == pytest.approx(stats.kendalltau(*zip(*used)).statistic)


@pytest.mark.parametrize("which", ["results", "ratings"])
def test_cli_missing_file_is_one_line_exit_2(tmp_path, cli, files, which):
    results, ratings, _ = files
    missing = tmp_path / "missing.json"
    argv = ("agreement", missing, ratings) if which == "results" else ("agreement", results, missing)
    result = cli(*argv)
    assert result.rc == 2 and len(result.err_lines) == 1
    assert result.err_lines[0].startswith("dyag: error: ") and str(missing) in result.err


def test_cli_bad_json_and_no_match_are_one_line_exit_2(tmp_path, cli, files):
    results, _, rows = files
    bad = write_jsonl(tmp_path / "bad.jsonl", [rows[0], '{"id": '])
    result = cli("agreement", results, bad)
    assert result.rc == 2 and result.err_lines == [f"dyag: error: {bad}:2: invalid JSON (Expecting value)"]
    stale = write_jsonl(tmp_path / "stale.jsonl", [{**rows[0], "answer_sha256": "0" * 64}])
    result = cli("agreement", results, stale)
    assert result.rc == 2 and len(result.err_lines) == 1 and "no rating" in result.err and "1 stale" in result.err
