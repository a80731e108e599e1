"""The pytest plugin, driven through pytester on tiny-random (fast, and its answers are garbage:
the gates must catch that)."""

from __future__ import annotations

import json

import pytest

from tests.helpers import write_seed_golden

# pytester's in-process runs drop modules first imported inside them; C extensions such as
# torch cannot be imported twice in one process, and a class pickled later (trl's SFTConfig, in a training
# checkpoint) must stay one object: the heavy libraries, and the trainer's modules, are imported here.
import peft  # noqa: F401,E402
import sentence_transformers  # noqa: F401,E402
import torch  # noqa: F401,E402
import transformers  # noqa: F401,E402
import trl  # noqa: F401,E402
from trl import SFTConfig, SFTTrainer  # noqa: F401,E402

pytest_plugins = ["pytester"]

SUITES = "from dyag.suites import *  # noqa: F401,F403\n"


@pytest.fixture(scope="module")
def shared_home(tmp_path_factory):
    """One cache for the module: the tiny adapter is trained once, as it would be across runs."""
    return tmp_path_factory.mktemp("dyag-home")


@pytest.fixture()
def bench(pytester, shared_home, monkeypatch):
    monkeypatch.setenv("DYAG_HOME", str(shared_home))
    write_seed_golden(pytester.path / "golden.jsonl")
    pytester.makepyfile(test_dyag=SUITES)  # the shipped suites, as a project uses them
    return pytester


def _args(*extra):
    return ["--dyag-models", "tiny-random", "--dyag-golden", "golden.jsonl", "-p", "no:cacheprovider", *extra]


@pytest.mark.slow  # 93 s with -n 2, 131 s alone (trains the quick recipe); the gates' verdicts: tests/test_gates.py
def test_shipped_gates_run_per_model_and_system_and_catch_a_bad_model(bench):
    """tiny-random answers garbage: its fine-tuned system must fail the shipped floors and comparisons."""
    result = bench.runpytest_inprocess(*_args("--dyag-systems", "base,finetuned", "--dyag-report", "out/report.html",
                                             "-v", "-rs"))
    for line in ("*test_rule_gate?tiny-random-base-no_dialogue_turns? PASSED*",
                 "*test_floor_gate?tiny-random-finetuned-score? FAILED*",
                 "*test_finetuned_beats_base?tiny-random? FAILED*",
                 "*dyag: report out/report.html*"):
        result.stdout.fnmatch_lines([line])
    result.stdout.fnmatch_lines(["*mean 0.* is below the floor 0.5*"])
    result.stdout.fnmatch_lines(["*no baseline for tiny-random*--dyag-update-baseline*"])
    result.stdout.fnmatch_lines(["*dyag: results*", "system*score/10*", "tiny-random/base*"])  # the table, in the log
    merged = json.loads((bench.path / "out" / "report.json").read_text())
    assert {c["system"] for c in merged["cases"]} == {"tiny-random/base", "tiny-random/finetuned"}
    assert len(merged["cases"]) == 6
    assert merged["training"]["tiny-random"]["train_loss"] is not None
    assert merged["run"]["environment"]["key"].startswith(("cpu-fp32", "cpu-bf16", "cuda-"))
    assert merged["run"]["catalog"]["sha256"] and merged["run"]["recipe"]["name"] == "quick"
    assert "<html" in (bench.path / "out" / "report.html").read_text()


def test_baseline_is_written_for_the_environment_and_then_gates(bench):
    """No baseline fails in CI mode; --dyag-update-baseline writes <model>.<environment>.json; the next run
    compares with it (same answers: no regression); another environment falls back to the nearest baseline."""
    args = _args("--dyag-systems", "base", "-k", "regression", "--dyag-baseline", "baselines")
    result = bench.runpytest_inprocess(*args, "--dyag-require-baseline")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*no baseline for tiny-random*--dyag-require-baseline*"])
    result = bench.runpytest_inprocess(*args, "--dyag-update-baseline")
    result.assert_outcomes(passed=1)
    written = sorted(p.name for p in (bench.path / "baselines").iterdir())
    assert written == ["tiny-random.cpu-untrained.json"]
    result = bench.runpytest_inprocess(*args, "--dyag-require-baseline", "--dyag-strict")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*dyag: baselines*", "*same environment, cpu-untrained*"])
    # the same baseline under another key: compared as the nearest one, statistically
    (bench.path / "baselines" / written[0]).rename(bench.path / "baselines" / "tiny-random.cpu-other.json")
    result = bench.runpytest_inprocess(*args, "--dyag-require-baseline", "--dyag-strict")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*no baseline for environment cpu-untrained*nearest, cpu-other*"])


def test_unknown_values_are_usage_errors(bench):
    result = bench.runpytest_inprocess("--dyag-models", "nosuchmodel", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*nosuchmodel*"])
    result = bench.runpytest_inprocess("--dyag-profile", "huge", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result = bench.runpytest_inprocess("--dyag-models", "tiny-random", "--dyag-systems", "oracle", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_unavailable_model_is_skipped_with_its_reason(bench, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    result = bench.runpytest_inprocess("--dyag-models", "llama3.2:1b", "--dyag-golden", "golden.jsonl",
                                       "-p", "no:cacheprovider", "-rs")
    outcomes = result.parseoutcomes()
    assert outcomes.get("skipped", 0) > 0 and not outcomes.get("failed") and not outcomes.get("passed")
    result.stdout.fnmatch_lines(["*llama3.2:1b*authentication*"])
    # in CI mode a model that cannot load fails, with its reason
    result = bench.runpytest_inprocess("--dyag-models", "llama3.2:1b", "--dyag-golden", "golden.jsonl",
                                       "--dyag-require-baseline", "-p", "no:cacheprovider")
    assert result.parseoutcomes().get("errors", 0) > 0 and not result.parseoutcomes().get("passed")
    result.stdout.fnmatch_lines(["*llama3.2:1b*--dyag-require-baseline*"])


def test_the_plugin_registers_dyag_bench_and_no_generic_marker(bench):
    """``dyag_bench`` is the plugin's one marker; ``slow`` and ``gpu`` are dyag's own suite's (conftest.py,
    pyproject.toml), so a project without them gets ``--strict-markers`` errors for them, not dyag's meaning."""
    bench.makepyfile(test_markers='''
import pytest

@pytest.mark.dyag_bench
def test_marked():
    pass
''', test_generic='''
import pytest

@pytest.mark.slow
def test_slow():
    pass
''')
    # in a child process: in this one, pytest's marker cache already knows this suite's own `slow`
    result = bench.runpytest_subprocess("test_markers.py", "test_generic.py", "--strict-markers",
                                        "--continue-on-collection-errors", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*ERROR collecting test_generic.py*",
                                 "'slow' not found in `markers` configuration option"])
    markers = bench.runpytest_inprocess("--markers", "-p", "no:cacheprovider").stdout.str()
    assert "@pytest.mark.dyag_bench" in markers
    assert "@pytest.mark.slow" not in markers and "@pytest.mark.gpu" not in markers


def test_ctrl_c_keeps_partial_results_marked_incomplete(bench):
    bench.makepyfile(test_interrupt='''
def test_first(dyag_results):
    dyag_results.record(gate="first", value=1)

def test_second():
    raise KeyboardInterrupt
''')
    result = bench.runpytest_subprocess("test_interrupt.py", "--dyag-models", "tiny-random",
                                        "--dyag-report", "r/index.html", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    merged = json.loads((bench.path / "r" / "index.json").read_text())
    assert merged["run"]["incomplete"] is True
    assert [t["gate"] for t in merged["tests"]] == ["first"]
    result.stdout.fnmatch_lines(["*interrupted: results are marked incomplete*"])


def test_endpoint_systems_are_gated_and_reported_beside_the_others(bench):
    """[tool.dyag.endpoints] names a server (a loopback stub); its systems get the same gates, rows and report,
    and an adapter the server already serves is not trained here."""
    from tests.inference.test_endpoint import Stub

    with Stub(models=[{"id": "m", "object": "model"}, {"id": "m-catalogue", "object": "model"}]) as stub:
        bench.makepyprojecttoml(f"""
[tool.dyag]
systems = ["base@stub", "finetuned@stub"]

[tool.dyag.endpoints.stub]
url = "{stub.url}"
base = "m"
finetuned = "m-catalogue"
concurrency = 2
""")
        result = bench.runpytest_inprocess(*_args("--dyag-report", "out/report.html", "-v"))
        asked = {s.body["model"] for s in stub.seen}
    result.stdout.fnmatch_lines(["*test_rule_gate?tiny-random-base@stub-no_dialogue_turns? PASSED*"])
    result.stdout.fnmatch_lines(["*test_floor_gate?tiny-random-finetuned@stub-score? FAILED*"])
    result.stdout.fnmatch_lines(["*test_finetuned_beats_base?tiny-random? FAILED*"])  # finetuned@stub vs base@stub
    merged = json.loads((bench.path / "out" / "report.json").read_text())
    assert {c["system"] for c in merged["cases"]} == {"tiny-random/base@stub", "tiny-random/finetuned@stub"}
    assert all(c["answer"].startswith("answer to ") for c in merged["cases"])
    assert not merged["training"]  # nothing was trained: the server serves the adapter
    assert asked == {"m", "m-catalogue"}
    assert "tiny-random/finetuned@stub" in (bench.path / "out" / "report.html").read_text(encoding="utf-8")
