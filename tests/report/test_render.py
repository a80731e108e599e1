"""Rendering the HTML report (dyag/report/render.py): every section of the fixture, a self-contained
page whose only script is dyag's own, escaping, the inputs it takes, one-line errors on bad files, safe
writes, determinism, large reports, and odd but valid documents."""

from __future__ import annotations

import html
import re

import pytest

from dyag import results as contract
from dyag.errors import DyagError
from dyag.report.render import TEMPLATE_NAME, build_html, render_report, report_environment
from tests.report.helpers import EVAL, SMALL, make_results, section, small


def test_renders_every_section_of_the_fixture(tmp_path):
    out = render_report([SMALL], tmp_path / "reports" / "index.html")
    page = out.read_text(encoding="utf-8")
    assert out == tmp_path / "reports" / "index.html"
    assert page.startswith("<!DOCTYPE html>")
    for anchor in ("sources", "config", "quantitative", "charts", "winner", "regression", "questions", "perf"):
        section(page, anchor)
    assert page.count('<details class="q') == 4
    assert page.count('<article class="answer"') == 24
    assert page.count("<svg") == 4  # score, BERTScore, fact recall, ROUGE-L


def test_report_is_self_contained(fr_html):
    assert fr_html.lower().count("<script") == 1  # dyag's own rating script, allowed by its hash in the CSP
    assert not re.search(r'(src|href)="(https?:)?//', fr_html)
    assert "@import" not in fr_html and "url(" not in fr_html
    assert "Content-Security-Policy" in fr_html


def test_the_only_script_is_dyags_own_and_the_policy_allows_it_by_hash(fr_html):
    import base64
    import hashlib

    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", fr_html, re.S)
    assert len(scripts) == 1 and fr_html.lower().count("<script") == 1
    attrs, body = scripts[0]
    assert attrs == ' id="dyag-rating-script"' and "localStorage" in body and "ratings.jsonl" in body
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', fr_html).group(1)
    digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
    assert html.unescape(policy).endswith(f"script-src 'sha256-{digest}'") and "default-src 'none'" in policy
    assert not re.search(r"<[a-z][^>]*\son[a-z]+\s*=", fr_html)  # no inline handler: they would need unsafe-inline
    assert not re.search(r'(src|href)="(https?:)?//', fr_html)


def test_script_answer_is_escaped(fr_html):
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in fr_html
    assert "<script>alert" not in fr_html
    assert "&lt;img src=x onerror=alert(1)&gt;" in fr_html
    assert "<img" not in fr_html


def test_autoescape_is_on_for_the_template_extension():
    env = report_environment()
    assert env.autoescape(TEMPLATE_NAME) is True
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"


def test_markup_in_every_field_is_inert():
    data = small()
    payload = "<img src=x onerror=alert(1)>"
    data["run"]["hyperparameters"]["note"] = payload
    data["run"]["models"].append(payload)
    data["training"][payload] = {"train_loss": 1.0}
    case = data["cases"][0]
    case["question"] = case["reference"] = payload
    case["rules"][0].update(name=payload, message=payload, passed=False, span=[0, 3])
    data["cases"].append(dict(case, system=f"{payload}/base", id=payload))
    data["aggregates"][f"{payload}/base"] = {payload: {"mean": 0.5, "n": 1}}
    data["perf"][payload] = [{payload: payload}]
    data["regression"]["smollm2:135m"]["new_rule_failures"].append(
        {"id": payload, "system": payload, "rule": payload, "severity": "error", "message": payload})
    page = build_html([data], title=payload)
    assert "<img" not in page
    assert page.count("&lt;img src=x onerror=alert(1)&gt;") > 10


def test_optional_keys_may_be_absent():
    assert "<!DOCTYPE html>" in build_html([{"schema_version": 1}])
    assert "<!DOCTYPE html>" in build_html([contract.Results()])
    minimal = {"schema_version": 1, "cases": [
        {"id": "q1", "system": "m/base", "answer": "oui", "score": 4},
        {"id": "q1", "system": "m/rag", "answer": "", "score": 7,
         "rules": [{"name": "r", "passed": False, "severity": "error"}]},
    ]}
    page = build_html([minimal], lang="en")
    assert (
        "<strong>m/rag</strong> has the best mean score: 7.00/10, 3.00 point(s) ahead of <strong>m/base</strong>"
    ) in page
    assert "No confidence interval" in page
    assert "(no answer)" in page


def test_render_accepts_dicts_results_and_paths(tmp_path):
    out = render_report([small(), contract.read(SMALL), SMALL], tmp_path / "index.html")
    sources = section(out.read_text(encoding="utf-8"), "sources")
    assert "<code>results[0]</code>" in sources and "<code>results[1]</code>" in sources
    assert f"<code>{SMALL}</code>" in sources
    one = render_report(contract.read(SMALL), tmp_path / "one.html").read_text(encoding="utf-8")
    assert one.count('<article class="answer"') == 24
    with pytest.raises(DyagError, match=r"results\[0\]: expected a path, a Results or a results dict, got int"):
        render_report([3], tmp_path / "bad.html")


def test_renders_the_scorers_results(tmp_path):
    from dyag.evaluation.scoring import read_predictions, score_predictions
    from dyag.utils.jsonl import read_jsonl

    results = score_predictions(
        read_predictions(EVAL / "predictions.jsonl"),
        list(read_jsonl(EVAL / "golden.jsonl")),
        list(read_jsonl(EVAL / "kb.jsonl")),
        metrics=("bleu", "rouge", "fact_recall", "exact_match"),
        progress=False,
    )
    path = contract.write(tmp_path / "results.json", results)
    page = render_report([path], tmp_path / "index.html", lang="en").read_text(encoding="utf-8")
    assert page == render_report([results], tmp_path / "same.html", lang="en").read_text(encoding="utf-8").replace(
        "results[0]", str(path))  # a file and the Results it holds give the same report
    systems = set(results.systems)
    assert page.count('<article class="answer"') == len(results.cases)
    assert all(f'data-system="{s}"' in page for s in systems)
    assert "has the best mean score" in page
    assert 'data-metric="score"' in page and 'data-metric="rule:no_dialogue_turns"' in page


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", r"bad\.json: not valid JSON \(line 1, column 2"),
        ('{"schema_version": 3}', r"bad\.json: schema_version 3 is newer than this dyag reads \(2\); upgrade dyag"),
        ("[1, 2]", r"bad\.json: not a dyag results file"),
        ('{"schema_version": 2, "cases": {}}', r"bad\.json: cases: Input should be a valid list"),
        ('{"schema_version": 2, "cases": [{"id": "a", "answer": ""}]}',
         r"bad\.json: cases\[0\]\.system: Field required"),
        ('{"schema_version": 1, "cases": [{"id": "a"}]}', r"bad\.json: cases\[0\]\.system: Field required"),
        ('{"schema_version": 1, "cases": {}}', r"bad\.json: cases: Input should be a valid list"),
        ('{"schema_version": 1, "run": []}', r"bad\.json: run: Input should be"),
        ('{"schema_version": 1, "cases": [{"id": "a", "system": "s", "answer": "", "rules": [1]}]}',
         r"bad\.json: cases\[0\]\.rules\[0\]: Input should be a valid dictionary"),
        ('{"schema_version": 1, "aggregates": {"s": 3}}',
         r"bad\.json: aggregates\.s: Input should be a valid dictionary"),
    ],
)
def test_bad_results_files_are_one_line_errors(tmp_path, content, message):
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(DyagError, match=message):
        render_report([SMALL, bad], tmp_path / "index.html")
    assert not (tmp_path / "index.html").exists()


def test_missing_and_non_utf8_files(tmp_path):
    with pytest.raises(DyagError, match="nope.json: no such results file"):
        render_report([SMALL, tmp_path / "nope.json"], tmp_path / "index.html")
    latin = tmp_path / "latin.json"
    latin.write_bytes('{"schema_version": 1, "run": {"profile": "é"}}'.encode("latin-1"))
    with pytest.raises(DyagError, match="latin.json: not UTF-8 text"):
        render_report([latin], tmp_path / "index.html")
    assert not (tmp_path / "index.html").exists()


def test_refuses_to_overwrite_a_file_that_is_not_a_report(tmp_path):
    precious = tmp_path / "notes.html"
    precious.write_text("<p>mes notes</p>", encoding="utf-8")
    with pytest.raises(DyagError, match="not a dyag report"):
        render_report([SMALL], precious)
    assert precious.read_text(encoding="utf-8") == "<p>mes notes</p>"
    render_report([SMALL], precious, overwrite=True)
    render_report([SMALL], precious)  # a dyag report may be replaced
    with pytest.raises(DyagError, match="is a directory"):
        render_report([SMALL], tmp_path)


def test_failed_write_keeps_the_previous_report(tmp_path, monkeypatch):
    out = render_report([SMALL], tmp_path / "index.html")
    before = out.read_bytes()

    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("dyag.utils.atomic.os.replace", no_space)
    with pytest.raises(DyagError, match="No space left on device"):
        render_report([SMALL], out, lang="en")
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"]


def test_rendering_is_deterministic(tmp_path):
    a = render_report([SMALL], tmp_path / "a.html").read_bytes()
    b = render_report([SMALL], tmp_path / "b.html").read_bytes()
    assert a == b


def test_thousand_case_report_stays_small_fast_and_collapsed(tmp_path):
    data = make_results(1000)
    out = render_report([data], tmp_path / "big.html")
    page = out.read_text(encoding="utf-8")
    n_questions = len({c["id"] for c in data["cases"]})
    assert len(data["cases"]) == 1000
    assert out.stat().st_size < 5 * 1024 * 1024
    details = re.findall(r'<details class="q[ "][^>]*>', page)
    assert len(details) == n_questions
    assert not any(" open" in d for d in re.findall(r"<details [^>]*>", page))  # collapsed: the page stays usable
    assert page.count('<article class="answer"') == 1000
    n_failing = len({c["id"] for c in data["cases"] if not c["rules"][0]["passed"]})
    assert f"Questions avec au moins une erreur : {n_failing}." in page
    links = re.search(r'<p class="note failing">.*?</p>', page, re.S).group(0)
    assert links.count('<a href="#q-') == n_failing


def _odd_results():
    """Documents the contract accepts, with hostile text and odd numbers everywhere it allows them."""
    from hypothesis import strategies as st

    text = st.one_of(
        st.text(alphabet=st.sampled_from(list("ab <>&\"'é\n/:\x00")), max_size=30),
        st.sampled_from(["<script>", "<img src=x onerror=alert(1)>"]),
    )
    real = st.one_of(st.integers(-5, 10**7), st.floats(allow_nan=True, allow_infinity=True))
    number = st.one_of(st.none(), real)
    scalar = st.one_of(number, st.booleans(), text)
    severity = st.sampled_from(["error", "warning", "info"])
    span = st.one_of(st.none(), st.tuples(st.integers(-5, 40), st.integers(-5, 40)))
    rule = st.fixed_dictionaries({"name": text, "passed": st.booleans(), "severity": severity, "message": text,
                                  "span": span})
    case = st.fixed_dictionaries({
        "id": text,
        "system": st.sampled_from(["m/base", "m/rag", "n/finetuned", "<b>/x", "solo", "a/"]),
        "answer": text,
        "question": text,
        "metrics": st.dictionaries(st.sampled_from(["bleu", "rougeL", "x", "<i>"]), number, max_size=3),
        "rules": st.lists(rule, max_size=3),
        "score": number,
    })
    stat = st.fixed_dictionaries({"mean": number, "ci95": st.one_of(st.none(), st.tuples(real, real)),
                                  "n": st.integers(0, 5)})
    row = st.fixed_dictionaries({
        "system": text, "metric": st.sampled_from(["score", "rule:<i>", "<i>"]), "baseline": number,
        "current": number, "delta": number, "p_value": number, "test": st.none(), "tolerance": st.just(0.1),
        "n": st.integers(0, 5), "verdict": st.sampled_from(["ok", "regressed", "improved"])})
    flip = st.fixed_dictionaries({"system": text, "id": text, "rule": text, "severity": severity, "message": text})
    regression = st.fixed_dictionaries({
        "baseline": text, "failed": st.booleans(), "key": st.one_of(st.none(), text),
        "rows": st.lists(row, max_size=2), "new_rule_failures": st.lists(flip, max_size=2)})
    figure = st.dictionaries(text, scalar, max_size=2)
    return st.fixed_dictionaries({
        "schema_version": st.just(2),
        "run": st.fixed_dictionaries({
            "models": st.lists(text, max_size=3), "incomplete": st.booleans(), "profile": st.one_of(st.none(), text),
            "hyperparameters": st.one_of(st.none(), figure),
            "scoring": st.fixed_dictionaries({
                "rules": st.dictionaries(text, st.fixed_dictionaries({"severity": text, "args": figure}), max_size=2),
                "quality": st.dictionaries(text, scalar, max_size=2)}),
            "machine": st.dictionaries(st.sampled_from(["cpu", "torch", "<u>"]), text, max_size=2)}),
        "training": st.dictionaries(st.sampled_from(["m", "n", "<z>"]),
                                    st.dictionaries(st.sampled_from(["train_loss", "duration_s"]), number), max_size=2),
        "cases": st.lists(case, max_size=6),
        "aggregates": st.dictionaries(st.sampled_from(["m/base", "m/rag", "q/rag", "<q>/rag"]),
                                      st.dictionaries(st.sampled_from(["score", "bleu", "rule:r", "<c>"]), stat),
                                      max_size=2),
        "regression": st.dictionaries(st.sampled_from(["m", "<m>"]), regression, max_size=1),
        "perf": st.one_of(st.none(), st.fixed_dictionaries({
            "machine": st.dictionaries(st.sampled_from(["cpu", "<v>"]), text, max_size=2),
            "x<t>": st.one_of(scalar, figure, st.lists(figure, max_size=2))})),
        "calibration": st.one_of(st.none(), st.fixed_dictionaries({"summary": st.fixed_dictionaries({
            "benign": st.fixed_dictionaries({"runs": st.integers(0, 3), "false_alarms": st.integers(0, 3)}),
            "degradations": st.dictionaries(text, st.fixed_dictionaries(
                {"runs": st.integers(0, 3), "detected": st.integers(0, 3)}), max_size=2),
            "met": st.dictionaries(text, st.booleans(), max_size=2)})})),
    })


def test_odd_but_valid_results_never_crash_and_never_leak_markup():
    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_odd_results())
    def check(data):
        page = build_html([data], lang="en")
        for tag in ("<script>", "<img", "<b>", "<i>", "<u>", "<z>", "<q>", "<c>", "<m>", "<t>", "<v>"):
            assert tag not in page

    check()
