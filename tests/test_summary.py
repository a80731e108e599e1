"""``dyag summary`` (dyag/summary.py, dyag/commands/summary.py), the summary the plugin writes to
``$GITHUB_STEP_SUMMARY`` and ``--dyag-summary``, the JUnit properties of each gate and the report
pointer of a failed gate's message (dyag/suites.py).

The results are real: a committed baseline (real answers of the quick benchmark) judged by the shipped
gate functions against itself (passing), and the same document with the fine-tuned system's answers
replaced by the untrained base's (failing: its floors and the comparison with the baseline must fail),
recorded as the built-in suites record them.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from dyag.evaluation.compare import compare_to_baseline
from dyag.gates import FLOOR_GATES, RULE_GATES, floor_gate, gate_value, rule_gate
from dyag.results import Regression, Results, TestRecord, read
from dyag.settings import load_config
from dyag.summary import summarize, to_markdown, to_text
from tests.helpers import ROOT

pytest_plugins = ["pytester"]
BASELINE = ROOT / "golden" / "baselines" / "smollm2_135m.cpu-fp32.json"
MODEL = "smollm2:135m"
GATES = load_config(ROOT).gates  # dyag's own [tool.dyag.gates], as tests/test_gates.py judges these answers
FT, BASE, RAG = f"{MODEL}/finetuned", f"{MODEL}/base", f"{MODEL}/rag"


def _judged(results: Results, baseline: Results) -> Results:
    """``results`` with what the built-in suites record: rule and floor gate outcomes per system, and the
    comparison with ``baseline`` (the harness's ``regression`` block and the regression test's record)."""
    comparison = compare_to_baseline(results, baseline)
    records = []
    for system in (BASE, FT, RAG):
        kind = system.split("/")[1]
        for name in RULE_GATES:
            o = rule_gate(results, system, name, gate_value(name, kind=kind, model=MODEL, gates=GATES), comparison)
            records.append(TestRecord(test=f"test_dyag.py::test_rule_gate[{MODEL}-{kind}-{name}]", **o.to_dict()))
        for name in FLOOR_GATES:
            o = floor_gate(results, system, name, gate_value(name, kind=kind, model=MODEL, gates=GATES), comparison)
            records.append(TestRecord(test=f"test_dyag.py::test_floor_gate[{MODEL}-{kind}-{name}]", **o.to_dict()))
    records.append(TestRecord(test=f"test_dyag.py::test_no_regression_against_baseline[{MODEL}]",
                              baseline=str(BASELINE), failed=comparison.failed,
                              regressions=len(comparison.regressions), new_rule_failures=0))
    return results.replace(tests=records, regression={MODEL: Regression(**comparison.block(baseline=str(BASELINE)))})


def _finetuned_answers_as_base(doc: Results) -> Results:
    """The fine-tuned system answering exactly as the untrained base (a fine-tuning that learned nothing)."""
    cases = [c for c in doc.cases if c.system != FT]
    cases += [c.model_copy(update={"system": FT}) for c in doc.cases if c.system == BASE]
    return doc.replace(cases=cases, aggregates={**doc.aggregates, FT: doc.aggregates[BASE]},
                       splits={**doc.splits, FT: doc.splits[BASE]})


@pytest.fixture(scope="module")
def baseline() -> Results:
    return read(BASELINE)


@pytest.fixture(scope="module")
def passing(baseline) -> Results:
    return _judged(baseline, baseline)


@pytest.fixture(scope="module")
def failing(baseline) -> Results:
    return _judged(_finetuned_answers_as_base(baseline), baseline)


def test_a_passing_run_is_one_line_of_verdict(passing):
    s = summarize(passing)
    n_gates = 3 * (len(RULE_GATES) + len(FLOOR_GATES)) + 1
    assert s.passed and s.status == "PASSED" and not s.failed_gates and len(s.passed_gates) == n_gates
    assert s.compared and not s.moved  # the baseline against itself: nothing moved
    md, text = to_markdown(s), to_text(s)
    assert md.splitlines()[0] == f"### ✅ dyag: PASSED: {n_gates} gates passed, no significant regression"
    assert text.splitlines()[0] == f"dyag: PASSED: {n_gates} gates passed, no significant regression"
    assert "No significant regression against" in md and "no significant regression against" in text
    assert "Failed gates" not in md and "failed gates" not in text


def test_a_failing_run_lists_the_failed_gates_with_their_reason(failing):
    s = summarize(failing)
    assert not s.passed and s.status == "FAILED"
    failed = {(g.gate, g.system) for g in s.failed_gates}
    assert ("fact_recall", FT) in failed and ("no_regression", MODEL) in failed
    assert all(g.system != RAG for g in s.failed_gates)  # rag's answers did not change
    reason = next(g.message for g in s.failed_gates if (g.gate, g.system) == ("fact_recall", FT))
    assert "below the floor" in reason
    md, text = to_markdown(s), to_text(s)
    n_gates = len(s.failed_gates) + len(s.passed_gates)
    assert md.startswith(f"### ❌ dyag: FAILED: {len(s.failed_gates)} of {n_gates} gates failed, ")
    assert text.startswith(f"dyag: FAILED: {len(s.failed_gates)} of {n_gates} gates failed, ")
    assert f"{len(s.passed_gates)} gate(s) passed" in md and f"{len(s.passed_gates)} gate(s) passed" in text
    assert "below the floor" in md and "below the floor" in text


def test_only_the_rows_that_moved_are_shown(failing, baseline):
    s = summarize(failing)
    all_rows = compare_to_baseline(failing, baseline).rows
    assert len(all_rows) > len(s.moved) > 0
    assert all(r.verdict in ("regressed", "improved") for r in s.moved)
    assert {r.system for r in s.moved} == {FT}  # base and rag answered the same: no row of theirs moved
    score = next(r for r in s.regressions if r.metric == "score" and r.split is None)
    assert score.current < score.baseline and score.p_value < 0.05
    text = to_text(s)
    table = text[text.index("moved against"):text.index("winner:")]
    assert "score" in table and BASE not in table and RAG not in table
    assert "REGRESSED" in table and f"{score.baseline:.3g} -> {score.current:.3g}" in table
    assert f"{score.baseline:.3g} → {score.current:.3g}" in to_markdown(s)
    assert "no significant regression" not in text


def test_the_winner_is_the_reports_winner(failing, passing):
    from dyag.report.context import ReportContext
    from dyag.report.sections import winner as report_winner

    for doc in (passing, failing):
        s = summarize(doc)
        ctx = ReportContext.of([("results", doc)], lang="en")
        view = report_winner.build(ctx, ctx.t)
        assert s.winner.runner == view.runner and f"<strong>{s.winner.system}</strong>" in str(view.sentence)
        assert s.winner.mean == pytest.approx(doc.aggregates[s.winner.system]["score"].mean)
    s = summarize(failing)
    assert s.winner.system == RAG and s.winner.runner == BASE  # the fine-tuned system fell to the base's score
    assert s.winner.ci == tuple(failing.aggregates[RAG]["score"].ci95)
    for out in (to_markdown(s), to_text(s)):
        assert RAG in out and "95% CI" in out and ("overlap" in out or "clear" in out)


def test_per_split_facts(failing):
    s = summarize(failing)
    assert s.splits == ["seen", "paraphrase", "unseen", "unknown"]
    assert s.facts[RAG]["seen"] == pytest.approx(failing.splits[RAG]["seen"]["fact_recall"].mean)
    assert s.facts[RAG]["unknown"] == pytest.approx(failing.splits[RAG]["unknown"]["rule:admits_unknown"].mean)
    md = to_markdown(s)
    assert "| system | seen | paraphrase | unseen | unknown |" in md
    assert f"| `{RAG}` | {s.facts[RAG]['seen']:.2f} |" in md


def test_markdown_tables_render_and_escape_what_the_answers_say():
    """A reason quoting an answer with ``|``, HTML or markdown is one table cell, shown as written."""
    from dyag.results import Aggregate, Case

    doc = Results(cases=[Case(id="q1", system="m/rag", answer="a", score=6.0)],
                  aggregates={"m/rag": {"score": Aggregate(mean=6.0, n=1)}},
                  tests=[TestRecord(test="t::test_rule_gate[m-rag-x]", gate="x", system="m/rag", passed=False,
                                    message="q1: said <script>a|b</script> *twice*\nUser: hi")])
    md = to_markdown(summarize(doc))
    row = next(line for line in md.splitlines() if line.startswith("| `x` |"))
    assert row == r"| `x` | `m/rag` | q1: said \<script\>a\|b\</script\> \*twice\* User: hi |"
    assert "| gate | system | reason |\n| --- | --- | --- |" in md
    assert md.splitlines()[0].startswith("### ❌ ")
    text = to_text(summarize(doc))
    assert "q1: said <script>a|b</script> *twice* User: hi" in text and "| " not in text


def test_nothing_judged_is_no_verdict():
    from dyag.results import Case

    s = summarize(Results(cases=[Case(id="q1", system="m/rag", answer="a", score=6.0)]))
    assert s.status == "NO VERDICT"
    assert to_markdown(s).startswith("### ℹ️ dyag: NO VERDICT: no gate recorded, no baseline compared")
    assert "No baseline compared." in to_markdown(s)


# --- the command ---------------------------------------------------------------------------------


def test_cli_writes_both_formats(cli, failing, tmp_path):
    from dyag.results import write

    path = write(tmp_path / "results.json", failing)
    md = cli("summary", path)
    assert md.rc == 0 and md.out.startswith("### ❌ dyag: FAILED") and not md.err
    text = cli("summary", path, "--format", "text")
    assert text.rc == 0 and text.out.startswith("dyag: FAILED") and "###" not in text.out
    out = tmp_path / "deep" / "summary.md"
    written = cli("summary", path, "--output", out)
    assert written.rc == 0 and out.read_text(encoding="utf-8") == md.out


def test_cli_compares_with_a_baseline(cli, baseline, tmp_path):
    from dyag.results import write

    now = write(tmp_path / "now.json", _finetuned_answers_as_base(baseline))
    result = cli("summary", now, "--baseline", BASELINE, "--format", "text")
    assert result.rc == 0
    assert f"moved against {BASELINE}" in result.out and "REGRESSED" in result.out
    assert result.out.startswith("dyag: FAILED: no gate recorded, ")


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "absent.json", "no such results file"),
    (lambda d: d, "is a directory"),
    (lambda d: (d / "x.json").write_text('{"a": 1}') and d / "x.json", "not a dyag results file"),
    (lambda d: (d / "y.json").write_text("not json") and d / "y.json", "not valid JSON"),
])
def test_cli_bad_input_is_one_line_exit_2(cli, tmp_path, make, message):
    result = cli("summary", make(tmp_path))
    assert result.rc == 2 and len(result.err_lines) == 1 and not result.out
    assert result.err_lines[0].startswith("dyag: error: ") and message in result.err_lines[0]


def test_cli_bad_baseline_and_output_are_one_line_exit_2(cli, tmp_path):
    gemma = ROOT / "golden" / "baselines" / "gemma3_270m.cpu-fp32.json"
    result = cli("summary", BASELINE, "--baseline", gemma)
    assert result.rc == 2 and len(result.err_lines) == 1 and "no system in common" in result.err
    result = cli("summary", BASELINE, "--output", tmp_path)
    assert result.rc == 2 and len(result.err_lines) == 1 and "is a directory" in result.err
    result = cli("summary", BASELINE, "--format", "html")
    assert result.rc == 2 and "invalid choice" in result.err


# --- what the plugin writes --------------------------------------------------------------------


def test_the_plugin_appends_to_the_step_summary_and_writes_the_file(failing, tmp_path):
    from dyag.pytest_plugin import write_summaries

    step = tmp_path / "step-summary.md"
    step.write_text("earlier step\n", encoding="utf-8")
    path = tmp_path / "out" / "summary.md"
    lines = write_summaries(failing, source="reports/index.json", report="reports/index.html", path=str(path),
                            environ={"GITHUB_STEP_SUMMARY": str(step)})
    assert lines == [f"dyag: summary $GITHUB_STEP_SUMMARY ({step})", f"dyag: summary {path}"]
    text = step.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n### ❌ dyag: FAILED")  # appended, as GitHub expects
    assert "`reports/index.html#quantitative`" in text and "`reports/index.html#regression`" in text
    assert path.read_text(encoding="utf-8") == text.removeprefix("earlier step\n")
    write_summaries(failing, source="r.json", report=None, path=str(path), environ={"GITHUB_STEP_SUMMARY": str(step)})
    assert step.read_text(encoding="utf-8").count("### ❌ dyag") == 2  # each step appends
    assert path.read_text(encoding="utf-8").count("### ❌ dyag") == 1  # --dyag-summary is rewritten
    assert write_summaries(failing, source="r.json", report=None, path=None, environ={}) == []


def test_the_summary_option_is_a_session_option():
    from dyag.session import SessionOptions
    from dyag.utils.options import option_specs

    flags = {f: kw for fl, kw in option_specs(SessionOptions, prefix="--dyag-", dest_prefix="dyag_") for f in fl}
    assert "--dyag-summary" in flags and "GITHUB_STEP_SUMMARY" in flags["--dyag-summary"]["help"]


# --- JUnit properties and the report pointer ---------------------------------------------------


class _Node:
    def __init__(self):
        self.user_properties = []


class _Session:
    def __init__(self, report):
        self.options = type("O", (), {"report": report})()


def test_record_junit_attaches_each_outcome(failing):
    from dyag.suites import record_junit

    node = _Node()
    outcome = floor_gate(failing, FT, "fact_recall", 0.05, compare_to_baseline(failing, read(BASELINE)))
    record_junit(node, outcome.to_dict())
    props = dict(node.user_properties)
    assert props["dyag.gate"] == "fact_recall" and props["dyag.system"] == FT and props["dyag.passed"] == "false"
    assert float(props["dyag.value"]) == pytest.approx(outcome.value) and props["dyag.limit"] == "0.05"
    assert float(props["dyag.baseline"]) == pytest.approx(outcome.baseline)
    assert float(props["dyag.p"]) == pytest.approx(outcome.p_value)
    record_junit(node, {"gate": "g", "passed": True})
    assert dict(node.user_properties[-8:])["dyag.p"] == ""  # a missing value is empty, not "None"


def test_report_hint_names_the_section():
    from dyag.suites import report_hint

    assert report_hint(_Session(None), "quantitative") == ""
    assert report_hint(_Session("reports/index.html"), "quantitative", "row score, column m/finetuned") == (
        "\nreport: reports/index.html#quantitative (row score, column m/finetuned)")


def test_a_run_writes_junit_properties_the_step_summary_and_the_report_pointer(pytester, isolated_home, monkeypatch):
    """A real (tiny) harness run, in a child pytest: tiny-random's untrained base answering 3 questions, three
    gates: the no_dialogue_turns rule gate, the bertscore_f1 floor and a score floor no answer can reach
    (11/10), which must fail."""
    from tests.helpers import write_seed_golden

    monkeypatch.delenv("DYAG_PLUGIN_OFF", raising=False)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    step = pytester.path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step))
    write_seed_golden(pytester.path / "golden.jsonl")
    pytester.makepyfile(test_dyag="from dyag.suites import *  # noqa: F401,F403\n")
    pytester.makepyprojecttoml('[tool.dyag.gates.base]\nscore = 11.0\n')
    result = pytester.runpytest_subprocess(
        "--dyag-models", "tiny-random", "--dyag-golden", "golden.jsonl", "--dyag-systems", "base",
        "-k", "rule_gate and no_dialogue_turns or floor_gate and score", "-p", "no:cacheprovider",
        "--junitxml", "junit.xml", "--dyag-report", "out/report.html", "--dyag-summary", "out/summary.md")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*below the floor 11.0*", "*report: out/report.html#quantitative (row score, column "
                                 "tiny-random/base)*"])
    result.stdout.fnmatch_lines(["*dyag: summary $GITHUB_STEP_SUMMARY*", "*dyag: summary out/summary.md*",
                                 "*dyag: open the report: python -m webbrowser out/report.html*"])
    summary = step.read_text(encoding="utf-8")
    assert summary.startswith("### ❌ dyag: FAILED: 1 of 3 gates failed")
    assert "| `score` | `tiny-random/base` | tiny-random/base score: mean" in summary
    assert (pytester.path / "out" / "summary.md").read_text(encoding="utf-8") == summary
    cases = {c.get("name"): c for c in ET.parse(pytester.path / "junit.xml").getroot().iter("testcase")}
    props = {name: {p.get("name"): p.get("value") for p in case.iter("property")} for name, case in cases.items()}
    floor = props["test_floor_gate[tiny-random-base-score]"]
    assert floor["dyag.gate"] == "score" and floor["dyag.limit"] == "11.0" and floor["dyag.passed"] == "false"
    assert float(floor["dyag.value"]) < 11.0 and floor["dyag.system"] == "tiny-random/base"
    rule = props["test_rule_gate[tiny-random-base-no_dialogue_turns]"]
    assert rule["dyag.gate"] == "no_dialogue_turns" and rule["dyag.limit"] == "0.0"
    assert {"dyag.baseline", "dyag.p"} <= set(rule)


def test_the_docstring_examples_hold():
    import doctest

    import dyag.summary

    failures, tried = doctest.testmod(dyag.summary, optionflags=doctest.ELLIPSIS)
    assert tried and not failures


def test_the_report_opens_with_the_verdict_and_hides_stable_rows_and_bookkeeping(failing, passing):
    """The HTML report's first section is the verdict: the failed gates with their reason, only the rows
    that moved (each linked to its row in the regression section), the seen/paraphrase gap; stable rows
    and the configuration are collapsed further down."""
    import re

    from dyag.report.render import build_html

    page = build_html([failing], lang="en")
    main = page.split("<main", 1)[1]
    sections = re.findall(r'<section class="card[^"]*" id="([a-z]+)"', main)
    assert sections[:2] == ["verdict", "winner"] and sections.index("config") > sections.index("questions")
    verdict = main.split('id="verdict"', 1)[1].split("</section>", 1)[0]
    assert "❌ Failed: " in verdict and "Failed gates" in verdict
    assert f"<code>{FT}</code>" in verdict and "is below the floor" in verdict
    moved = re.findall(r'<a href="#(reg-[^"]+)">', verdict)
    assert moved and all(f'id="{anchor}"' in main for anchor in moved), "each moved row links to its row"
    assert not re.search(r'<a href="#reg-smollm2-135m-base', verdict), "the base did not move: not listed"
    regression = main.split('id="regression"', 1)[1].split("</section>", 1)[0]
    stable = regression.split('<details class="stable-rows">', 1)[1]
    assert 'class="v-ok"' in stable and 'class="v-ok"' not in regression.split('<details class="stable-rows">', 1)[0]
    assert re.search(r'<details class="bookkeeping"[^>]*>', main) and " open" not in re.search(
        r'<details class="bookkeeping"[^>]*>', main).group(0)
    calm = build_html([passing], lang="en").split('id="verdict"', 1)[1].split("</section>", 1)[0]
    assert "✅ Passed: " in calm and "Nothing moved significantly" in calm and "Failed gates" not in calm
