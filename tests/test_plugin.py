"""The pytest plugin, driven through pytester on tiny-random (fast, and its answers are garbage:
the gates must catch that)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# pytester's in-process runs drop modules first imported inside them; C extensions such as
# torch cannot be imported twice in one process, so the heavy libraries are imported here.
import peft  # noqa: F401,E402
import sentence_transformers  # noqa: F401,E402
import torch  # noqa: F401,E402
import transformers  # noqa: F401,E402
import trl  # noqa: F401,E402

pytest_plugins = ["pytester"]
ROOT = Path(__file__).resolve().parents[1]

GATE_TEST = '''
import pytest

def test_no_dialogue_turns(predictions, dyag_system, dyag_results):
    rows = predictions(dyag_system)
    failures = [r["id"] for r in rows for res in r["rules"] if res["name"] == "no_dialogue_turns" and not res["passed"]]
    dyag_results.record(gate="no_dialogue_turns", failures=len(failures))
    assert rows

def test_quality_score_floor(dyag_scored, dyag_model, dyag_system):
    mean = dyag_scored["aggregates"][f"{dyag_model}/{dyag_system}"]["score"]["mean"]
    assert mean >= 5.0, f"{dyag_model}/{dyag_system}: mean score {mean:.2f} is below the floor 5.0"
'''


@pytest.fixture(scope="module")
def shared_home(tmp_path_factory):
    """One cache for the module: the tiny adapter is trained once, as it would be across runs."""
    return tmp_path_factory.mktemp("dyag-home")


@pytest.fixture()
def bench(pytester, shared_home, monkeypatch):
    monkeypatch.setenv("DYAG_HOME", str(shared_home))
    golden = pytester.path / "golden.jsonl"
    lines = (ROOT / "golden" / "seed.jsonl").read_text(encoding="utf-8").splitlines()[:3]
    golden.write_text("\n".join(lines) + "\n", encoding="utf-8")
    pytester.makepyfile(test_gates=GATE_TEST)
    return pytester


def _args(*extra):
    return ["--dyag-models", "tiny-random", "--dyag-golden", "golden.jsonl", "-p", "no:cacheprovider", *extra]


def test_gates_run_per_model_and_system_and_catch_a_bad_model(bench):
    result = bench.runpytest_inprocess(*_args("--dyag-systems", "base,finetuned", "--dyag-report", "out/report.html",
                                             "-v"))
    result.stdout.fnmatch_lines([
        "*test_no_dialogue_turns?tiny-random-base? PASSED*",
        "*test_no_dialogue_turns?tiny-random-finetuned? PASSED*",
        "*test_quality_score_floor?tiny-random-finetuned? FAILED*",
        "*dyag: report out/report.html*",
        "*mean score * is below the floor 5.0*",
    ])
    result.assert_outcomes(passed=2, failed=2)
    merged = json.loads((bench.path / "out" / "report.json").read_text())
    assert {c["system"] for c in merged["cases"]} == {"tiny-random/base", "tiny-random/finetuned"}
    assert len(merged["cases"]) == 6 and len(merged["tests"]) == 2
    assert merged["training"]["tiny-random"]["train_loss"] is not None
    assert "<html" in (bench.path / "out" / "report.html").read_text()


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
    result.assert_outcomes(skipped=6)
    result.stdout.fnmatch_lines(["*llama3.2:1b*authentication*"])


def test_markers_are_registered_for_strict_markers(bench):
    bench.makepyfile(test_markers='''
import pytest

@pytest.mark.dyag_bench
@pytest.mark.slow
def test_marked():
    pass

@pytest.mark.gpu
def test_gpu():
    pass
''')
    result = bench.runpytest_inprocess("test_markers.py", "--strict-markers", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=0 if _has_cuda() else 1)


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


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
