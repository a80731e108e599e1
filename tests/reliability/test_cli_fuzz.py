"""No traceback on any input: every command line of ``dyag`` (each entry of :data:`dyag.cli.COMMANDS`,
and each action of a command group) driven by generated argument lists.

The arguments are drawn from the command's own parser (so a new flag is fuzzed as soon as it exists),
each value by the kind of the flag: paths (missing, a directory, an empty file, binary bytes, malformed
JSON / JSONL / TOML / YAML, valid files, the name ``sample``), model and system names (unknown ones
only), numbers (0, -1, huge, nan, inf, 1e308...), choices (and a wrong one), plus unknown flags. The
working folder may hold a malformed or odd ``pyproject.toml`` / ``dyag.toml``.

Every run must end in exit 0, or exit 2 with one error line (``dyag: error: ...``, or argparse's
``dyag ...: error: ...`` after its usage synopsis), never an exception; a failed run leaves every
file as it was (its outputs not created, a pre-existing output unchanged), and no run touches its inputs.

Nothing trains, generates or loads an encoder: commands that would (finetune, query-finetuned,
evaluate-finetuned, sweep) always get an unknown base model as their last flag, so they must refuse
before loading anything; ``score`` ends with ``--no-bertscore`` or a BERTScore encoder folder without a
``config.json``; ``models pull`` is only given unknown names. A guard turns any model build or load that
still starts into a test failure. ``models list``, ``generate-training`` (on ``sample`` too), ``report``,
``compare`` (which may also exit 1, its documented "regression"), ``summary``, ``agreement`` and ``init`` may
succeed: they are quick.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

DATA_DIR = Path(__file__).parent / "data"

# --- the inputs, written once per module --------------------------------------------------------

# name -> bytes of the files every example may read (None: a directory; absent: see MISSING)
INPUT_FILES: dict[str, bytes | None] = {
    "empty.jsonl": b"",
    "empty.json": b"",
    "binary.jsonl": bytes(range(256)) * 2,
    "binary.json": b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe" + bytes(range(200)),
    "binary.yaml": b"\xff\xfe\x00e\x00p\x00\x00\x80",
    "bad.json": b'{"schema": 1, "cases": [',
    "list.json": b"[1, 2, 3]\n",
    "null.json": b"null\n",
    "nan.json": b'{"schema": NaN, "cases": [{"id": Infinity}]}\n',
    "wrong-schema.json": b'{"schema": "v999", "cases": "none", "aggregates": 5}\n',
    "bad.jsonl": b'{"id": "alpha", "text": "ok"}\n{"id": "beta", "text": \n',
    "not-object.jsonl": b'"just a string"\n[1, 2]\n',
    "bad.toml": b"[tool.dyag\nkb = \n",
    "bad.yaml": b"epochs: [1\n",
    "list.yaml": b"- epochs: 1\n",
    "unknown-key.yaml": b"epoch: 3\n",
    "bad-values.yaml": b"epochs: .nan\nlearning_rate: -1\nlora_rank: 0\n",
    "valid.yaml": b"epochs: 1\nmax_steps: 1\n",
    "questions.txt": "Qui héberge ALPHA ?\n\n\x1b[2J ?\n".encode(),
    "a-dir": None,
    "empty-dir": None,
}
VALID_COPIES = {  # copies of the reliability corpus' valid files
    "kb.jsonl": "kb/valid.jsonl",
    "golden.jsonl": "golden/valid.jsonl",
    "predictions.jsonl": "predictions/valid.jsonl",
    "questions.jsonl": "questions/valid.jsonl",
    "training.jsonl": "training/valid.jsonl",
}
MISSING = ("missing.jsonl", "no-such-dir/x.json", "missing.yaml")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """The files every example reads: bad ones, valid ones, and a results file and ratings made by ``score``."""
    from dyag.cli import main
    from dyag.evaluation.agreement import answer_sha256

    root = tmp_path_factory.mktemp("fuzz-inputs")
    for name, data in INPUT_FILES.items():
        if data is None:
            (root / name).mkdir()
        else:
            (root / name).write_bytes(data)
    (root / "a-dir" / "notes.txt").write_text("not a dyag file\n", encoding="utf-8")
    for name, source in VALID_COPIES.items():
        shutil.copy(DATA_DIR / source, root / name)
    with pytest.MonkeyPatch.context() as mp:  # score's caches go to a throwaway home, not the user's
        mp.setenv("DYAG_HOME", str(tmp_path_factory.mktemp("fuzz-setup-home")))
        mp.chdir(root)
        rc = main(["score", "--predictions", "predictions.jsonl", "--golden", "golden.jsonl", "--no-bertscore",
                   "--quiet", "--output", "results.json"])
    assert rc == 0 and (root / "results.json").is_file()
    cases = json.loads((root / "results.json").read_text(encoding="utf-8"))["cases"]
    ratings = [{"id": c["id"], "system": c["system"], "answer_sha256": answer_sha256(c["answer"]),
                "rating": "correct", "rater": "fuzz"} for c in cases]
    (root / "ratings.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ratings), encoding="utf-8")
    (root / "ratings-bad.jsonl").write_text('{"id": "x", "rating": "great"}\n', encoding="utf-8")
    return root


# --- value pools ----------------------------------------------------------------------------------

INPUT_NAMES = sorted([*INPUT_FILES, *VALID_COPIES, *MISSING, "results.json", "ratings.jsonl", "ratings-bad.jsonl"])
# a path value: ("in", name) is a file of the inputs folder, ("raw", text) is given as it is
PATHS = st.sampled_from([("in", n) for n in INPUT_NAMES]) | st.sampled_from(
    [("raw", v) for v in ("sample", "./sample", "", "-", " ", "sample,sample", "\x00", "~nobody/x.jsonl")])

# outputs: relative to the example's working folder (created fresh for each example)
OUTPUTS = st.sampled_from(["new.json", "new.jsonl", "new.html", "out/new.json", "existing.json", "existing.jsonl",
                           "existing-dir", "existing-dir/inside.json", "new-dir", "missing-parent/deeper/x.jsonl",
                           ".", "", "nul\x00byte.json", "existing.json/inside.json"])

# model names: never one that exists (nothing may load); paths to folders and files that are no model
UNKNOWN_MODELS = st.sampled_from(["nosuchmodel", "qwen9:99b", "nobody-here/no-such-model", "./no/such/model",
                                  "../../outside/model", "", ":", "a/../../b", "sample", "a\x00b"]) \
    | st.sampled_from([("in", n) for n in ("a-dir", "empty-dir", "kb.jsonl", "missing.jsonl", "binary.json")])
SYSTEM_NAMES = st.sampled_from(["base", "finetuned", "rag", "rag+finetuned", "nosuchsystem", "", "BASE",
                                "base,nosuch", "rag,rag", "smollm2:135m/base", "\x1b[2J"])
NUMBERS = st.sampled_from(["0", "-1", "1", "2", "3", "99999999999999999999999999", "nan", "-nan", "inf", "-inf",
                           "1e308", "-1e308", "1e-308", "0.5", "1.5", "2e-3", "abc", "", "0x10", "1_000"])
LISTS = st.sampled_from(["0.8,0.1,0.1", "1,0,0", "0,0,0", "nan,nan,nan", "inf,0,0", "1e308,1e308,-1e308",
                         "0.5,0.5", "-1,1,1", "a,b", "", ",", "q_proj,v_proj", "nosuch_module", "base,rag"])
TEXTS = st.sampled_from(["", "sample", "nosuch", "x" * 300, "Qui héberge ALPHA ?", "\x1b[2J\n?", "epochs=2,4",
                         "nosuch=1", "epochs=", "learning_rate=nan,inf", "score=0.3", "score", "=1", "score=nan",
                         "rule:*=inf", "fact_recall", "seen", "quick", "nosuchprofile", "fp32", "bf16", "fp4",
                         "augmented", "simple", "%s %(x)s {}"])
UNKNOWN_FLAGS = st.sampled_from(["--no-such-flag", "--bogus=1", "-Z", "--outputt", "--epochs=1e308", "---", "-"])

# dests whose value is written to (the rest are read)
OUTPUT_DESTS = {"output", "report", "dir", "cache_dir"}
MODEL_DESTS = {"base_model", "model", "adapter", "bertscore_model", "name"}
SYSTEM_DESTS = {"system", "systems"}
TEXT_DESTS = {"question", "title", "system_prompt", "tolerance", "grid", "metric", "split", "precision", "profile",
              "method"}


def parsers() -> dict[str, argparse.ArgumentParser]:
    """``"command"`` or ``"command action"`` -> its parser, for every entry of COMMANDS (and of its ACTIONS)."""
    from dyag.cli import COMMANDS, build_parser

    def subparsers(parser):
        return next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)

    out = {}
    for name, command in subparsers(build_parser()).choices.items():
        group = subparsers(command)
        if group is None:
            out[name] = command
        for action, parser in (group.choices.items() if group else ()):
            out[f"{name} {action}"] = parser
    assert {key.split()[0] for key in out} == set(COMMANDS), "a command of COMMANDS has no parser"
    return out


PARSERS = parsers()
TARGETS = sorted(PARSERS)


def _value_kind(command: str, action: argparse.Action) -> str:
    dest = action.dest
    if command == "agreement" and dest == "json":
        return "output"  # agreement --json OUT.json writes a file
    if dest in OUTPUT_DESTS:
        return "output"
    if dest in MODEL_DESTS:
        return "model"
    if dest in SYSTEM_DESTS:
        return "system"
    if action.choices:
        return "choice"
    kind = getattr(action.type, "__name__", "")
    if action.type in (int, float) or kind == "positive_int":
        return "number"
    if kind == "list":
        return "list"
    if dest in TEXT_DESTS:
        return "text"
    return "path"


# the valid file of a path flag, drawn about half of the time so that commands get past their first check
VALID_FOR = {"kb": "kb.jsonl", "golden": "golden.jsonl", "predictions": "predictions.jsonl",
             "questions": "questions.jsonl", "dataset": "training.jsonl", "eval_dataset": "training.jsonl",
             "results": "results.json", "baseline": "results.json", "ratings": "ratings.jsonl", "config": "valid.yaml"}


def _values(command: str, action: argparse.Action) -> st.SearchStrategy:
    kind = _value_kind(command, action)
    if kind == "choice":
        return st.sampled_from([*map(str, action.choices), "nosuch", ""])
    if kind == "path" and action.dest in VALID_FOR:
        return st.one_of(st.just(("in", VALID_FOR[action.dest])), PATHS)
    return {"output": OUTPUTS.map(lambda v: ("out", v)), "model": UNKNOWN_MODELS, "system": SYSTEM_NAMES,
            "number": NUMBERS, "list": LISTS, "text": TEXTS, "path": PATHS}[kind]


def _required(action: argparse.Action) -> bool:
    return "(required)" in (action.help or "")


@st.composite
def command_lines(draw, command: str) -> list:
    """One argument list for ``command`` (tokens: str, ("in", name), ("raw", text), ("out", path) or
    ("joined", flag, token)): its positionals and required flags (each sometimes left out or doubled),
    a few other flags, sometimes an unknown flag, in any order."""
    parser = PARSERS[command]
    actions = [a for a in parser._actions if not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction))]
    positionals = [a for a in actions if not a.option_strings]
    optionals = [a for a in actions if a.option_strings]

    def option(action: argparse.Action) -> list:
        flag = draw(st.sampled_from(action.option_strings))
        if action.nargs == 0:
            return [flag]
        if draw(st.integers(0, 29)) == 29:
            return [flag]  # the value left out
        value = draw(_values(command, action))
        if flag.startswith("--") and draw(st.integers(0, 3)) == 3:
            return [("joined", flag, value)]  # --flag=value
        return [flag, value]

    count = st.sampled_from([1] * 8 + [0, 2])
    chunks: list[list] = []
    for action in positionals:
        chunks += [[draw(_values(command, action))] for _ in range(draw(count))]
    for action in filter(_required, optionals):
        chunks += [option(action) for _ in range(draw(count))]
    if optionals:
        chunks += [option(draw(st.sampled_from(optionals))) for _ in range(draw(st.integers(0, 4)))]
    if draw(st.integers(0, 7)) == 7:  # (Hypothesis favours small draws)
        chunks.append([draw(UNKNOWN_FLAGS)])
    argv = [token for chunk in draw(st.permutations(chunks)) for token in chunk]
    return [*command.split(), *argv, *draw(_guard_flags(command))]


def _guard_flags(command: str) -> st.SearchStrategy:
    """The last flags of a command that would train, generate or load an encoder on valid input."""
    name = command.split()[0]
    if name in ("finetune", "query-finetuned", "evaluate-finetuned"):
        return UNKNOWN_MODELS.map(lambda m: ["--base-model", m])
    if name == "sweep":
        return UNKNOWN_MODELS.map(lambda m: ["--model", m])
    if name == "score":
        return st.sampled_from([["--no-bertscore"], ["--bertscore-model", ("in", "empty-dir")],
                                ["--bertscore-model", ("in", "a-dir")]])
    return st.just([])


# the working folder's project configuration: (file name, content) or None
PROJECTS = st.sampled_from([
    None,
    ("pyproject.toml", '[project]\nname = "x"\n'),
    ("pyproject.toml", "[tool.dyag\nkb = \n"),
    ("pyproject.toml", '[tool.dyag]\nkb = "sample"\ngolden = ["IN/golden.jsonl"]\n'),
    ("pyproject.toml", '[tool.dyag]\nkb = 5\ngolden = "missing.jsonl"\nsystems = ["nosuch"]\n'),
    ("dyag.toml", "kb = [\n"),
    ("dyag.toml", 'kb = "sample"\nmodels = ["nosuchmodel"]\n'),
    ("dyag.toml", 'kb = "IN/binary.jsonl"\ngolden = ["IN/a-dir"]\n[profiles.quick]\nepochs = nan\n'),
    ("dyag.toml", b"\xff\xfe not toml \x00"),
])


# --- running one command line ------------------------------------------------------------------


def tree_state(root: Path) -> dict[str, tuple]:
    state: dict[str, tuple] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink() or not path.is_file():
            state[rel] = ("dir",) if path.is_dir() else ("other",)
        else:
            state[rel] = ("file", path.stat().st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest())
    return state


def changes(before: dict, after: dict) -> list[str]:
    return ([f"created {p}" for p in sorted(set(after) - set(before))]
            + [f"removed {p}" for p in sorted(set(before) - set(after))]
            + [f"modified {p}" for p in sorted(set(before) & set(after)) if before[p] != after[p]])


def _workdir(base: Path, project, inputs: Path) -> Path:
    work = Path(tempfile.mkdtemp(prefix="ex-", dir=base))
    (work / "existing.json").write_text('{"previous": true}\n', encoding="utf-8")
    (work / "existing.jsonl").write_text("previous\n", encoding="utf-8")
    (work / "existing-dir").mkdir()
    (work / "existing-dir" / "keep.txt").write_text("keep\n", encoding="utf-8")
    if project:
        name, text = project
        data = text if isinstance(text, bytes) else text.replace("IN/", f"{inputs}/").encode("utf-8")
        (work / name).write_bytes(data)
    return work


def _render(token, inputs: Path) -> str:
    if isinstance(token, str):
        return token
    if token[0] == "joined":
        return f"{token[1]}={_render(token[2], inputs)}"
    kind, value = token
    return str(inputs / value) if kind == "in" else value


def check_run(cli, argv: list, inputs: Path, work: Path, *, allow: tuple[int, ...] = ()) -> None:
    """Run ``dyag *argv`` in ``work``: exit 0, or 2 with one error line and no file changed; inputs untouched."""
    args = [_render(t, inputs) for t in argv]
    inputs_before, work_before = tree_state(inputs), tree_state(work)
    result = cli(*args)  # an exception other than SystemExit propagates: the test fails with its traceback
    where = (f"dyag {' '.join(map(repr, args))}\nrc={result.rc}\n"
             f"stdout:\n{result.out[-1500:]}\nstderr:\n{result.err[-3000:]}")
    assert "Traceback" not in result.err and "Traceback" not in result.out, where
    assert changes(inputs_before, tree_state(inputs)) == [], f"an input changed\n{where}"
    if result.rc == 0 or result.rc in allow:
        return
    assert result.rc == 2, where
    lines = result.err_lines
    if lines and lines[0].startswith("usage:"):  # argparse's usage error: the synopsis, then one error line
        errors = [i for i, line in enumerate(lines) if line.startswith("dyag") and ": error: " in line]
        assert len(errors) == 1, where
        assert all(line.startswith(("usage:", " ")) for line in lines[:errors[0]]), where
        # argparse echoes an unrecognized argument as it is, newlines included (test_argparse_errors_are_one_line)
        assert errors[0] == len(lines) - 1 or any("\n" in a or "\r" in a for a in args), where
    else:
        assert len(lines) == 1 and lines[0].startswith("dyag: error: "), f"expected one error line\n{where}"
    assert changes(work_before, tree_state(work)) == [], f"a failed command changed files\n{where}"


@pytest.fixture()
def no_model_load(monkeypatch) -> None:
    """Building a model or loading an encoder (BERTScore's, RAG's) fails the test: the fuzz must never do real
    work. A hub model cannot be downloaded either (``HF_HUB_OFFLINE=1`` from ``isolated_home``, ``no_network``)."""

    def forbidden(*args, **kwargs):
        raise AssertionError("a model started building or loading: the fuzzed input was not refused first")

    import dyag.evaluation.bertscore as bertscore
    import dyag.inference.rag as rag
    import dyag.models.loading as loading

    monkeypatch.setattr(loading, "materialize", forbidden)  # an embedded model (hub models: offline, no network)
    monkeypatch.setattr(bertscore, "get_scorer", forbidden)  # the BERTScore encoder
    monkeypatch.setattr(rag, "load_encoder", forbidden)  # the RAG retriever's encoder


# commands that may end with another documented exit code
ALLOWED_RC = {"compare": (1,)}  # 1: a significant regression (dyag compare --help)
EXAMPLES = int(os.environ.get("DYAG_FUZZ_EXAMPLES", "100"))  # per command; more for a longer hunt


@pytest.mark.parametrize("command", TARGETS)
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_no_traceback_on_any_command_line(command, data, inputs, cli, no_model_load, no_network, tmp_path):
    """``cli``, ``no_model_load``, ``no_network`` and ``tmp_path`` hold nothing an example changes: each
    example runs in a fresh folder under ``tmp_path`` (removed afterwards); the inputs are module-wide."""
    argv = data.draw(command_lines(command), label="argv")
    project = data.draw(PROJECTS, label="project")
    base = tmp_path / "examples"
    base.mkdir(exist_ok=True)
    work = _workdir(base, project, inputs)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.chdir(work)
            check_run(cli, argv, inputs, work, allow=ALLOWED_RC.get(command.split()[0], ()))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert not no_network.attempts, no_network.attempts


# --- "sample" wherever a catalog is accepted ------------------------------------------------------


def test_score_with_kb_sample_succeeds(inputs, cli, no_model_load, tmp_path):
    """The issue: ``dyag score ... --kb sample`` ended in a traceback."""
    out = tmp_path / "results.json"
    result = cli("score", "--predictions", inputs / "predictions.jsonl", "--golden", inputs / "golden.jsonl",
                 "--kb", "sample", "--no-bertscore", "--quiet", "--output", out)
    assert result.rc == 0, result.err
    results = json.loads(out.read_text(encoding="utf-8"))
    assert len(results["cases"]) == 2
    from dyag.data.kb import sample_kb_path

    assert results["run"]["inputs"]["kb"]["path"] == str(sample_kb_path()), results.get("run")


@pytest.mark.parametrize("argv", [
    ["generate-training", "sample", "--output", "OUT/ds.jsonl"],
    ["generate-training", "sample", "--split", "--count", "20", "--output", "OUT/ds.jsonl"],
    ["score", "--predictions", "IN/predictions.jsonl", "--golden", "IN/golden.jsonl", "--kb", "sample",
     "--no-bertscore", "--quiet", "--output", "OUT/results.json"],
    ["evaluate-finetuned", "--base-model", "nosuchmodel", "--systems", "base,rag", "--golden", "IN/golden.jsonl",
     "--kb", "sample", "--no-bertscore", "--output", "OUT/results.json"],
    ["init", "--kb", "sample", "--dir", "OUT"],
], ids=["generate-training", "generate-training-split", "score", "evaluate-finetuned", "init"])
def test_sample_is_accepted_or_refused_in_one_line(argv, inputs, cli, no_model_load, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    args = [a.replace("IN/", f"{inputs}/").replace("OUT", str(out)) for a in argv]
    result = cli(*args)
    where = f"rc={result.rc}\nstdout:\n{result.out[-1500:]}\nstderr:\n{result.err[-3000:]}"
    assert "Traceback" not in result.err, where
    if argv[0] == "evaluate-finetuned":  # 'sample' is read; the unknown model is what stops it
        assert result.rc == 2 and len(result.err_lines) == 1 and "nosuchmodel" in result.err_lines[0], where
        assert "sample" not in result.err_lines[0], where
    elif argv[0] == "init":
        assert result.rc == 0 or (result.rc == 2 and len(result.err_lines) == 1), where
    else:
        assert result.rc == 0, where


def test_argparse_errors_are_one_line(cli):
    """argparse quotes an unrecognized argument back: dyag's parser keeps it to one line, without control
    characters (a newline used to split the error line, an escape sequence reached the terminal)."""
    result = cli("query-finetuned", "Qui ?", "\x1b[2J\nsecond line")  # one QUESTION too many
    assert result.rc == 2
    assert sum(": error: " in line for line in result.err_lines) == 1
    assert result.err_lines[-1].startswith("dyag: error: ") and "\x1b" not in result.err, result.err
