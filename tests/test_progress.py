"""Phase lines (dyag.progress): start and done lines with the elapsed time, durations recorded, the
estimate from the last run; and, through the pytest plugin, the lines in a non-terminal run's log."""

from __future__ import annotations

import json

import pytest

from dyag import progress
from dyag.progress import PhaseReporter, format_duration
from tests.helpers import write_seed_golden

pytest_plugins = ["pytester"]


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def reporter(tmp_path, clock=None) -> tuple[PhaseReporter, list[str]]:
    lines: list[str] = []
    return PhaseReporter(lines.append, store=tmp_path / "durations.json", clock=clock or Clock()), lines


def test_first_run_has_no_estimate_and_records_the_duration(tmp_path):
    clock = Clock()
    rep, lines = reporter(tmp_path, clock)
    with rep.phase("train", "smollm2:135m", detail="87 examples, 2 epochs, bf16", env="cpu-bf16", size="87"):
        clock.now += 102
    assert lines == ["dyag: smollm2:135m: train: start (87 examples, 2 epochs, bf16; no estimate yet)",
                     "dyag: smollm2:135m: train: done in 1 min 42 s"]
    stored = json.loads((tmp_path / "durations.json").read_text())
    assert list(stored.values()) == [[102.0]]


def test_second_run_is_estimated_from_the_recorded_duration(tmp_path):
    clock = Clock()
    rep, lines = reporter(tmp_path, clock)
    for took in (100, 104):
        with rep.phase("train", "smollm2:135m", detail="87 examples", env="cpu-bf16", size="87"):
            clock.now += took
    assert lines[2] == "dyag: smollm2:135m: train: start (87 examples; estimate ~1 min 40 s from the last run here)"
    assert lines[3] == "dyag: smollm2:135m: train: done in 1 min 44 s"
    # a new reporter (the next run) reads the same file: the median of the runs recorded
    rep, lines = reporter(tmp_path, clock)
    with rep.phase("train", "smollm2:135m", detail="87 examples", env="cpu-bf16", size="87"):
        pass
    assert lines[0].endswith("(87 examples; estimate ~1 min 42 s from the last 2 runs here)")


def test_estimates_are_kept_apart_by_phase_subject_environment_and_size(tmp_path):
    clock = Clock()
    rep, lines = reporter(tmp_path, clock)
    with rep.phase("train", "smollm2:135m", env="cpu-bf16", size="87"):
        clock.now += 60
    for other in ({"env": "cpu-fp32", "size": "87"}, {"env": "cpu-bf16", "size": "600"}):
        with rep.phase("train", "smollm2:135m", **other):
            pass
    with rep.phase("train", "gemma3:270m", env="cpu-bf16", size="87"):
        pass
    with rep.phase("score", "smollm2:135m", env="cpu-bf16", size="87"):
        pass
    starts = [line for line in lines if ": start " in line]
    assert all(line.endswith("(no estimate yet)") for line in starts[1:]), starts


def test_units_scale_the_estimate(tmp_path):
    clock = Clock()
    rep, lines = reporter(tmp_path, clock)
    with rep.phase("generate answers", "tiny-random", detail="base: 30 of 30 answers to generate", units=30):
        clock.now += 30
    with rep.phase("generate answers", "tiny-random", detail="base: 12 of 30 answers to generate", units=12):
        clock.now += 12
    assert lines[2] == ("dyag: tiny-random: generate answers: start "
                        "(base: 12 of 30 answers to generate; estimate ~12 s from the last run here)")


def test_a_failed_phase_says_so_and_is_not_recorded(tmp_path):
    clock = Clock()
    rep, lines = reporter(tmp_path, clock)
    with pytest.raises(RuntimeError):
        with rep.phase("train", "tiny-random"):
            clock.now += 3
            raise RuntimeError("out of memory")
    assert lines[-1] == "dyag: tiny-random: train: failed after 3.0 s"
    assert not (tmp_path / "durations.json").exists()


def test_an_unwritable_store_or_a_broken_writer_never_fails_the_run(tmp_path):
    (tmp_path / "file").write_text("")

    def broken(line):
        raise OSError("closed")

    rep = PhaseReporter(broken, store=tmp_path / "file" / "durations.json")
    with rep.phase("score", "tiny-random"):
        pass
    (tmp_path / "corrupt.json").write_text("{not json")
    rep = PhaseReporter([].append, store=tmp_path / "corrupt.json")
    with rep.phase("score", "tiny-random") as phase:
        assert phase.estimate_text() == "no estimate yet"
    assert len(json.loads((tmp_path / "corrupt.json").read_text())) == 1  # rewritten with this run


def test_the_default_store_is_under_the_dyag_home(tmp_path, monkeypatch):
    monkeypatch.setenv("DYAG_HOME", str(tmp_path))
    assert PhaseReporter().store == tmp_path / progress.DURATIONS_FILE


def test_phase_reports_to_the_current_reporter_only(tmp_path, capsys):
    with progress.phase("train", "tiny-random"):  # no reporter current: nothing written
        pass
    assert capsys.readouterr().err == ""
    rep, lines = reporter(tmp_path)
    with progress.using(rep):
        with progress.phase("train", "tiny-random"):
            pass
    assert [line.split(" (")[0] for line in lines] == ["dyag: tiny-random: train: start",
                                                        "dyag: tiny-random: train: done in 0.0 s"]
    assert progress.current() is None


def test_default_writer_is_standard_error(tmp_path, capsys):
    rep = PhaseReporter(store=tmp_path / "d.json")
    with rep.phase("score", "tiny-random", detail="6 answers"):
        pass
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "dyag: tiny-random: score: start (6 answers; no estimate yet)"
    assert err[1].startswith("dyag: tiny-random: score: done in ")


@pytest.mark.parametrize("seconds, shown", [(0.04, "0.0 s"), (9.96, "10 s"), (59.6, "1 min"), (60, "1 min"),
                                             (3600, "1 h"), (7322, "2 h 2 min")])
def test_format_duration(seconds, shown):
    assert format_duration(seconds) == shown


def test_progress_lines_say_what_is_left_at_most_every_interval(tmp_path, monkeypatch):
    clock = Clock()
    rep, lines = reporter(tmp_path, clock)
    monkeypatch.delenv("DYAG_PROGRESS_EVERY", raising=False)
    progress.advance(1, 4, "steps")  # no phase running: nothing
    with progress.using(rep), progress.phase("train", "m"):
        for step, now in ((1, 1010), (2, 1031), (3, 1040), (4, 1080)):
            clock.now = now
            progress.advance(step, 4, "steps")
    assert lines[1:] == ["dyag: m: train: 2/4 steps, 31 s so far, ~31 s left", "dyag: m: train: done in 1 min 20 s"]


# --- through the pytest plugin ---------------------------------------------------------------

PROJECT = """
[tool.dyag]
golden = ["golden.jsonl"]

[tool.dyag.profiles.tiny]  # a couple of training steps: the phases, not the adapter, are under test
max_steps = 2
"""

TESTS = """
def test_first():
    pass

def test_answers(dyag_scored):
    assert dyag_scored.cases
"""


@pytest.mark.slow  # about 40 s: materializes tiny-random, trains two steps, generates and scores, twice
def test_phase_lines_reach_a_non_terminal_log_before_the_results(pytester, tmp_path, monkeypatch):
    monkeypatch.setenv("DYAG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DYAG_PROGRESS_EVERY", "0")  # a progress line at every step
    write_seed_golden(pytester.path / "golden.jsonl")
    pytester.makefile(".toml", pyproject=PROJECT)
    pytester.makepyfile(test_phases=TESTS)
    args = ("--dyag-models", "tiny-random", "--dyag-systems", "base,finetuned", "--dyag-profile", "tiny",
            "-p", "no:cacheprovider", "-q")

    result = pytester.runpytest_subprocess(*args)  # its output is a file, not a terminal
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([
        "dyag: profile tiny: generate training set: start (* catalog records; no estimate yet)",
        "dyag: profile tiny: generate training set: done in *",
        "dyag: tiny-random: materialize: start (random weights; no estimate yet)",
        "dyag: tiny-random: materialize: done in *",
        "dyag: tiny-random: train: start (* examples, * epochs, *; no estimate yet)",
        "dyag: tiny-random: train: 1/2 steps, * so far, ~* left",
        "dyag: tiny-random: train: done in *",
        "dyag: tiny-random: generate answers: start (base: 3 of 3 answers to generate; no estimate yet)",
        "dyag: tiny-random: generate answers: done in *",
        "dyag: tiny-random: generate answers: start (finetuned: 3 of 3 answers to generate; no estimate yet)",
        "dyag: tiny-random: generate answers: done in *",
        "dyag: tiny-random: score: start (6 answers, BERTScore; no estimate yet)",
        "dyag: tiny-random: score: done in *",
        "*2 passed*",
    ])
    # every phase line is a line of its own, never after the progress dots
    assert all(line.startswith("dyag: ") for line in result.outlines
               if "dyag: " in line and not line.startswith("=")), result.outlines  # "=== dyag: results ===" headers

    # the next run: the adapter and the answers come from the caches, the scoring is estimated
    result = pytester.runpytest_subprocess(*args)
    result.assert_outcomes(passed=2)
    phases = [line for line in result.outlines if line.startswith("dyag: ") and ": start (" in line]
    assert len(phases) == 1, result.outlines
    assert phases[0].startswith("dyag: tiny-random: score: start (6 answers, BERTScore; estimate ~")
    assert phases[0].endswith(" from the last run here)")
