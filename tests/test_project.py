"""dyag in a team's own repository: its catalog, golden set and [tool.dyag], the shipped suites, dyag init.

Each test builds a project in a temporary folder and runs `dyag` and `pytest` there as a team would
(subprocesses, its own DYAG_HOME), on tiny-random so that it stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dyag.data.kb import sample_kb_path
from dyag.utils.atomic import sha256_file
from tests.helpers import Cli, CliResult, child_env

# A catalog of the team's own: two of the sample's applications under other names, so that what
# the run trains on and answers can only come from this file.
RENAMES = {"GIDAF-Pro": "QUIXO", "GIDAF": "ZORBA", "gidaf-pro": "quixo", "gidaf": "zorba"}
GOLDEN = [
    {"id": "zorba-hebergeur", "question": "Qui héberge ZORBA ?", "reference": "ZORBA est hébergée par "
     "Datacenter DSI Orléans.", "facts": ["Datacenter DSI Orléans"], "kb_ids": ["zorba"], "lang": "fr"},
    {"id": "quixo-responsable", "question": "Qui est responsable de QUIXO ?", "reference": "Le responsable de "
     "QUIXO est M. Julien Martin.", "facts": ["Julien Martin"], "kb_ids": ["quixo"], "lang": "fr"},
]
# tiny-random answers garbage: the project sets its own thresholds so that its gate passes, and
# the regression gate is what is exercised.
GATES = """
[tool.dyag.gates]
no_dialogue_turns = 1.0
no_repetition = 1.0
not_truncated = 1.0
language = 1.0
bertscore_f1 = 0.0
fact_recall = 0.0
score = 0.0
beats_base = []
"""


def _rename(text: str) -> str:
    for old, new in RENAMES.items():
        text = text.replace(old, new)
    return text


@pytest.fixture()
def project(tmp_path):
    root = tmp_path / "team"
    root.mkdir()
    lines = [line for line in sample_kb_path().read_text(encoding="utf-8").splitlines()
             if json.loads(line)["id"] in ("gidaf", "gidaf-pro")]
    (root / "catalog.jsonl").write_text("\n".join(_rename(line) for line in lines) + "\n", encoding="utf-8")
    (root / "golden.jsonl").write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in GOLDEN),
                                       encoding="utf-8")
    (root / "pyproject.toml").write_text('[project]\nname = "team"\nversion = "0"\n', encoding="utf-8")
    return root


def _env(root: Path) -> dict:
    """The team's environment: its own dyag home beside the project, and no PYTHONPATH into dyag's checkout."""
    env = child_env(DYAG_HOME=str(root.parent / "home"))
    env.pop("PYTHONPATH", None)
    return env


def _dyag(root: Path, *argv: str) -> CliResult:
    return Cli.spawn(*argv, cwd=root, env=_env(root))


def _pytest(root: Path, *args: str) -> CliResult:
    return Cli.spawn("benchmarks", "-q", "-p", "no:cacheprovider", *args, module="pytest", cwd=root, env=_env(root))


def _configure(root: Path) -> None:
    """dyag init, then the team's choices: tiny-random, two systems, its thresholds."""
    proc = _dyag(root, "init", "--kb", "catalog.jsonl", "--golden", "golden.jsonl")
    assert proc.rc == 0, proc.err
    text = (root / "pyproject.toml").read_text(encoding="utf-8")
    text = text.replace('models = ["smollm2:135m"]', 'models = ["tiny-random"]')
    text = text.replace('systems = ["base", "finetuned", "rag"]', 'systems = ["base", "finetuned"]')
    text = text[: text.index("[tool.dyag.gates]")] + GATES
    (root / "pyproject.toml").write_text(text, encoding="utf-8")


@pytest.mark.slow
def test_a_project_trains_on_its_catalog_gates_against_its_baseline_and_compares(project):
    _configure(project)
    assert (project / "benchmarks" / "test_dyag.py").read_text(encoding="utf-8").count("from dyag.suites import *")

    first = _pytest(project, "--dyag-update-baseline", "--dyag-report", "reports/index.html")
    assert first.rc == 0, first.out[-3000:] + first.err[-2000:]
    baselines = sorted((project / "golden" / "baselines").glob("tiny-random.*.json"))
    assert len(baselines) == 1, "the baseline is written into the project's own folder"
    results = json.loads((project / "reports" / "index.json").read_text(encoding="utf-8"))
    assert {c["id"] for c in results["cases"]} == {c["id"] for c in GOLDEN}, "exactly the project's questions"
    assert results["run"]["catalog"] == {"path": "catalog.jsonl", "sha256": sha256_file(project / "catalog.jsonl")}
    assert results["run"]["recipe"]["name"] == "quick" and results["run"]["config"] == "pyproject.toml"
    train_rows = Path(results["run"]["dataset"]["path"]).read_text(encoding="utf-8")
    assert "ZORBA" in train_rows and "QUIXO" in train_rows and "GIDAF" not in train_rows, "trained on the catalog"

    second = _pytest(project, "--dyag-require-baseline")
    assert second.rc == 0, second.out[-3000:]
    assert "same environment" in second.out and "tiny-random" in second.out

    compare = _dyag(project, "compare", str(baselines[0]), "reports/index.json")
    assert compare.rc == 0, compare.out + compare.err
    assert "OK: no significant regression" in compare.out


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t.replace("[tool.dyag]\n", "[tool.dyag]\nmodel = \"x\"\n"), "unknown key [tool.dyag].model"),
    (lambda t: t.replace('baseline = "golden/baselines"', "baseline = 3"), "[tool.dyag].baseline must be a string"),
    (lambda t: t.replace('kb = "catalog.jsonl"', 'kb = "nowhere.jsonl"'), "kb: file not found"),
    (lambda t: t.replace("epochs = 2.0", "epochs = \"two\""), "[tool.dyag].train.epochs must be a number"),
    (lambda t: t.replace("score = 0.0", "score = 0.0\nscroe = 1"), "unknown gate [tool.dyag].gates.scroe"),
])
def test_configuration_errors_are_one_line_usage_errors_before_anything_trains(project, edit, message):
    _configure(project)
    path = project / "pyproject.toml"
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    proc = _pytest(project)
    assert proc.rc == 4, proc.out[-2000:] + proc.err[-2000:]
    errors = [line for line in proc.err.splitlines() if line.strip()]
    assert len(errors) == 1 and message in errors[0] and "pyproject.toml" in errors[0], proc.err
    assert not (project.parent / "home").exists(), "nothing trained or written"


def test_an_empty_golden_file_is_a_usage_error(project):
    _configure(project)
    (project / "golden.jsonl").write_text("", encoding="utf-8")
    proc = _pytest(project)
    assert proc.rc == 4 and "golden.jsonl" in proc.err, proc.err
    assert not (project.parent / "home").exists()


def test_init_refuses_to_overwrite_and_writes_dyag_toml_without_pyproject(tmp_path, project):
    _configure(project)
    again = _dyag(project, "init")
    assert again.rc == 2 and "already has a [tool.dyag] section" in again.err
    bare = tmp_path / "bare"
    bare.mkdir()
    proc = _dyag(bare, "init")
    assert proc.rc == 0, proc.err
    assert 'kb = "sample"' in (bare / "dyag.toml").read_text(encoding="utf-8")
    assert _dyag(bare, "init").rc == 2
    from dyag.settings import load_config

    (bare / "golden").mkdir()
    (bare / "golden" / "questions.jsonl").write_text(json.dumps(GOLDEN[0]) + "\n", encoding="utf-8")
    config = load_config(bare)
    assert config.path == bare / "dyag.toml" and config.train["epochs"] == 2.0 and config.gates["score"] == 0.5


def test_the_cli_reads_the_same_configuration(project):
    """dyag evaluate-finetuned takes golden and kb from [tool.dyag]; a bad configuration is exit 2, one line."""
    _configure(project)
    path = project / "pyproject.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("[tool.dyag]\n", "[tool.dyag]\nmodel = 1\n"),
                    encoding="utf-8")
    proc = _dyag(project, "evaluate-finetuned", "--systems", "base",
                "--base-model", "tiny-random", "--output", "out.json")
    assert proc.rc == 2 and proc.err.count("\n") == 1 and "unknown key [tool.dyag].model" in proc.err
    bare = project.parent / "bare"
    bare.mkdir()
    proc = _dyag(bare, "evaluate-finetuned", "--systems", "base",
                "--base-model", "tiny-random", "--output", "out.json")
    assert proc.rc == 2 and "--golden is required" in proc.err
    assert not (bare / "out.json").exists()
