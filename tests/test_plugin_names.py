"""The pytest plugin keeps to its own names: installing dyag changes no other project's tests.

Collection only (nothing trains, nothing is generated): a project with its own ``slow`` marker
and ``predictions`` fixture beside dyag's suites; no torch import while collecting; the former
fixture names as deprecated aliases.
"""

from __future__ import annotations

import json

import pytest

from tests.helpers import write_seed_golden

pytest_plugins = ["pytester"]
HEAVY = ("torch", "transformers", "peft", "trl", "sentence_transformers", "accelerate")


@pytest.fixture()
def project(pytester, isolated_home, monkeypatch):
    """A project folder with the dyag plugin on (a 3-question golden set, dyag's suites collected)."""
    monkeypatch.delenv("DYAG_PLUGIN_OFF", raising=False)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    write_seed_golden(pytester.path / "golden.jsonl")
    pytester.makepyfile(test_dyag="from dyag.suites import *  # noqa: F401,F403\n")
    return pytester


ARGS = ("--dyag-models", "tiny-random", "--dyag-golden", "golden.jsonl", "-p", "no:cacheprovider")


def test_collecting_dyag_suites_imports_no_torch(project):
    """The plugin and the suites import neither torch nor transformers while pytest collects, even when
    a collected test carries a ``gpu`` marker (which is not the plugin's business any more)."""
    project.makeconftest(f'''
import json
import sys


def pytest_collection_finish(session):
    loaded = sorted(name for name in {HEAVY!r} if name in sys.modules)
    with open("heavy-modules.json", "w", encoding="utf-8") as fh:
        json.dump({{"loaded": loaded, "items": len(session.items)}}, fh)
''')
    project.makepyfile(test_gpu='''
import pytest

@pytest.mark.gpu
def test_on_a_gpu():
    pass
''')
    result = project.runpytest_subprocess("--collect-only", "-q", *ARGS)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str() + result.stderr.str()
    seen = json.loads((project.path / "heavy-modules.json").read_text(encoding="utf-8"))
    assert seen["loaded"] == []
    assert seen["items"] > 10  # dyag's suites, parametrized over tiny-random and its systems, and test_gpu
    result.stdout.fnmatch_lines(["*test_dyag.py::test_rule_gate*tiny-random*", "*test_gpu.py::test_on_a_gpu*"])


def test_a_project_keeps_its_own_slow_marker_and_predictions_fixture(project):
    """A project's own ``slow`` marker (its ini, its description, ``--strict-markers``) and its own
    ``predictions`` fixture, beside ``from dyag.suites import *``: no collision, the suites still collect."""
    project.makeini('''
[pytest]
addopts = --strict-markers
markers =
    slow: the project's nightly tests
''')
    project.makeconftest('''
import pytest


@pytest.fixture()
def predictions():
    return ["the project's own predictions"]
''')
    project.makepyfile(test_own='''
import pytest

from dyag.suites import *  # noqa: F401,F403


@pytest.mark.slow
def test_uses_its_own_predictions(predictions):
    assert predictions == ["the project's own predictions"]
''')
    # --strict-markers in a child process: in this one, pytest's marker cache may know dyag's own `slow`
    collected = project.runpytest_subprocess("--collect-only", "-q", *ARGS)
    assert collected.ret == pytest.ExitCode.OK, collected.stdout.str()
    collected.stdout.fnmatch_lines(["*test_dyag.py::test_floor_gate*tiny-random*",
                                    "*test_own.py::test_systems_side_by_side?tiny-random?*",
                                    "*test_own.py::test_uses_its_own_predictions*"])
    # -m slow selects the project's test alone: dyag's suites carry no marker of that name
    result = project.runpytest_inprocess("-m", "slow", "-W", "error::DeprecationWarning", *ARGS)
    result.assert_outcomes(passed=1, deselected=collected.parseoutcomes()["tests"] - 1)
    markers = project.runpytest_inprocess("--markers", *ARGS).stdout
    markers.fnmatch_lines(["@pytest.mark.slow: the project's nightly tests"])
    markers.fnmatch_lines(["@pytest.mark.dyag_bench: a dyag benchmark gate"])
    markers.no_fnmatch_line("*takes more than 30 s*")
    markers.no_fnmatch_line("@pytest.mark.gpu*")


def test_the_former_fixture_names_warn_and_return_the_new_fixtures(project):
    """``golden_cases``, ``finetuned`` and ``predictions``: one release of deprecated aliases, each the same
    object as its ``dyag_`` fixture, each with a DeprecationWarning naming the new fixture."""
    project.makeconftest('''
import pytest


@pytest.fixture()
def dyag_finetuned():  # stands in for the trained adapter: nothing trains here
    return object()
''')
    project.makepyfile(test_old='''
def test_old_names(golden_cases, dyag_golden_cases, finetuned, dyag_finetuned, predictions, dyag_predictions):
    assert golden_cases is dyag_golden_cases and len(golden_cases) == 3
    assert finetuned is dyag_finetuned
    assert predictions is dyag_predictions and callable(predictions)
''', test_new='''
def test_new_names(dyag_golden_cases, dyag_predictions):
    assert len(dyag_golden_cases) == 3 and callable(dyag_predictions)
''')
    result = project.runpytest_inprocess("test_old.py", *ARGS)
    result.assert_outcomes(passed=1)
    for old, new in (("golden_cases", "dyag_golden_cases"), ("finetuned", "dyag_finetuned"),
                     ("predictions", "dyag_predictions")):
        result.stdout.fnmatch_lines([f"*test_old.py:1: DeprecationWarning: dyag's fixture '{old}' is deprecated"
                                     f"*use '{new}'*"])
    strict = project.runpytest_inprocess("test_old.py", "-W", "error::DeprecationWarning", *ARGS)
    strict.assert_outcomes(errors=1)
    result = project.runpytest_inprocess("test_new.py", "-W", "error::DeprecationWarning", *ARGS)
    result.assert_outcomes(passed=1)
