"""Bad input, through the CLI: one clear line, exit code 2, no traceback, nothing written.

Each file of ``data/<kind>/`` is fed to every command that reads that kind of file,
next to valid companions and pre-existing outputs; the command must name the file
(and the line, where there is one), and leave every file under ``tmp_path`` (dyag's
caches included) exactly as it was. BOM and CRLF files are accepted and read
exactly like their plain twins. Model names, output directories, YAML configs and
hyperparameters are checked the same way.
"""

from __future__ import annotations

import json
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dyag.errors import DyagError


@dataclass(frozen=True)
class Bad:
    """A file of ``data/<kind>/`` and what its error must point at."""

    kind: str  # kb, training, golden, predictions, questions
    name: str
    line: int | None  # the line the error names; None where there is none (empty file, ids across files)
    mentions: tuple[str, ...] = ()  # fields or ids the error names

    @property
    def id(self) -> str:
        return f"{self.kind}/{self.name}"


# Faults of the JSONL layer, the same for every kind of file (line 1 is valid).
GENERIC = (
    ("invalid_json.jsonl", 2, ()),
    ("single_quotes.jsonl", 2, ()),
    ("truncated.jsonl", 2, ()),  # cut mid-object, no final newline
    ("empty.jsonl", None, ()),
    ("blank_lines.jsonl", None, ()),  # zero records
    ("latin1.jsonl", 2, ("UTF-8",)),
    ("not_object.jsonl", 2, ()),
    ("nan.jsonl", 2, ()),
    ("infinity.jsonl", 2, ()),
    ("overflow.jsonl", 2, ()),  # 1e999 parses to an infinite float
    ("lone_surrogate.jsonl", 2, ()),  # "\ud800": not encodable as UTF-8, crashes any later write
)
KINDS = ("kb", "training", "golden", "predictions", "questions")

SPECIFIC = (
    Bad("kb", "text_number.jsonl", 2, ("text",)),
    Bad("kb", "metadata_string.jsonl", 2, ("metadata",)),
    Bad("kb", "technologies_string.jsonl", 2, ("technologies",)),
    Bad("kb", "utilisateurs_string.jsonl", 2, ("utilisateurs",)),
    Bad("kb", "missing_id.jsonl", 2, ("id",)),
    Bad("kb", "missing_text.jsonl", 2, ("text",)),
    Bad("kb", "empty_id.jsonl", 2, ("id",)),
    Bad("kb", "duplicate_id.jsonl", 3, ("alpha",)),
    Bad("kb", "duplicate_id_control_chars.jsonl", 2, ()),  # an id holding a newline and ESC[2J
    Bad("training", "messages_string.jsonl", 2, ("messages",)),
    Bad("training", "messages_empty.jsonl", 2, ("messages",)),
    Bad("training", "missing_messages.jsonl", 2, ("messages",)),
    Bad("training", "role_unknown.jsonl", 2, ("role",)),
    Bad("training", "content_number.jsonl", 2, ("content",)),
    Bad("training", "content_missing.jsonl", 2, ("content",)),
    Bad("training", "last_not_assistant.jsonl", 2, ("assistant",)),
    Bad("training", "meta_string.jsonl", 2, ("meta",)),
    Bad("golden", "facts_number.jsonl", 2, ("facts",)),
    Bad("golden", "facts_string.jsonl", 2, ("facts",)),
    Bad("golden", "missing_reference.jsonl", 2, ("reference",)),
    Bad("golden", "missing_question.jsonl", 2, ("question",)),
    Bad("golden", "duplicate_id.jsonl", 3, ("alpha-hebergeur-1",)),
    Bad("golden", "unknown_field.jsonl", 2, ("refrence",)),
    Bad("golden", "unknown_field_control_chars.jsonl", 2, ()),
    Bad("golden", "expect_invalid.jsonl", 2, ("expect",)),
    Bad("predictions", "answer_number.jsonl", 2, ("answer",)),
    Bad("predictions", "missing_id.jsonl", 2, ("id",)),
    Bad("predictions", "missing_answer.jsonl", 2, ("answer",)),
    Bad("predictions", "meta_string.jsonl", 2, ("meta",)),
    Bad("predictions", "duplicate_id.jsonl", 3, ("alpha-hebergeur-1",)),
    # Against golden/valid.jsonl: a prediction for an unknown case, and a case nobody answered.
    Bad("predictions", "id_not_in_golden.jsonl", None, ("gamma-version-1",)),
    Bad("predictions", "golden_case_unanswered.jsonl", None, ("beta-utilisateurs-1",)),
    Bad("questions", "question_number.jsonl", 2, ("question",)),
    Bad("questions", "missing_question.jsonl", 2, ("question",)),
    Bad("questions", "duplicate_id.jsonl", 3, ("alpha-hebergeur-1",)),
    Bad("questions", "latin1.txt", 1, ("UTF-8",)),
    Bad("questions", "blank_lines.txt", None, ()),
)

CASES = tuple(Bad(kind, name, line, mentions) for kind in KINDS for name, line, mentions in GENERIC) + SPECIFIC

# The commands that read each kind of file: argv builders over (bad file, valid inputs, outputs).
COMMANDS = {
    "kb": {
        "generate-training": lambda f, ok, out: ["generate-training", f, "--split", "--output", out["dataset"]],
        "score --kb": lambda f, ok, out: ["score", "--predictions", ok["predictions"], "--golden", ok["golden"],
                                          "--kb", f, "--output", out["results"]],
        "evaluate-finetuned --kb": lambda f, ok, out: ["evaluate-finetuned", "--base-model", "tiny-random",
                                                       "--systems", "base", "--golden", ok["golden"], "--kb", f,
                                                       "--output", out["results"]],
    },
    "training": {
        "finetune --dataset": lambda f, ok, out: ["finetune", "--dataset", f, "--output", out["model"],
                                                  "--base-model", "tiny-random", "--max-steps", "1"],
        "finetune --eval-dataset": lambda f, ok, out: ["finetune", "--dataset", ok["training"], "--eval-dataset", f,
                                                       "--output", out["model"], "--base-model", "tiny-random",
                                                       "--max-steps", "1"],
    },
    "golden": {
        "score --golden": lambda f, ok, out: ["score", "--predictions", ok["predictions"], "--golden", f,
                                              "--output", out["results"]],
        "evaluate-finetuned --golden": lambda f, ok, out: ["evaluate-finetuned", "--base-model", "tiny-random",
                                                           "--systems", "base", "--golden", f,
                                                           "--output", out["results"]],
    },
    "predictions": {
        "score --predictions": lambda f, ok, out: ["score", "--predictions", f, "--golden", ok["golden"],
                                                   "--output", out["results"]],
    },
    "questions": {
        "query-finetuned --questions": lambda f, ok, out: ["query-finetuned", "--questions", f, "--base-model",
                                                           "tiny-random", "--output", out["predictions"]],
    },
}

RUNS = [
    pytest.param(case, command, id=f"{case.id}-{command.replace(' ', '')}")
    for case in CASES
    for command in COMMANDS[case.kind]
]


@pytest.fixture()
def workspace(tmp_path, corpus) -> dict:
    """Valid inputs and pre-existing outputs (a previous dataset, model, predictions, results)."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    ok = {}
    for kind in KINDS:
        ok[kind] = inputs / f"valid-{kind}.jsonl"
        shutil.copy(corpus / kind / "valid.jsonl", ok[kind])
    out_dir = tmp_path / "out"
    model = out_dir / "model"
    (model / "final").mkdir(parents=True)
    (model / "final" / "adapter_config.json").write_text("{}\n", encoding="utf-8")
    (model / "run.json").write_text('{"kind": "dyag-adapter"}\n', encoding="utf-8")
    out = {"dataset": out_dir / "ds.jsonl", "model": model, "results": out_dir / "results.json",
           "predictions": out_dir / "preds.jsonl"}
    for name in ("train", "val", "test", "test_golden"):
        (out_dir / f"ds_{name}.jsonl").write_text("previous\n", encoding="utf-8")
    out["dataset"].write_text("previous\n", encoding="utf-8")
    out["results"].write_text('{"previous": true}\n', encoding="utf-8")
    out["predictions"].write_text("previous\n", encoding="utf-8")
    return {"inputs": inputs, "ok": ok, "out": out}


def _bad_copy(corpus: Path, case: Bad, inputs: Path) -> Path:
    path = inputs / f"bad-{case.kind}-{case.name}"
    shutil.copy(corpus / case.kind / case.name, path)
    return path


@pytest.mark.parametrize(("case", "command"), RUNS)
def test_bad_file_is_refused_in_one_line_and_nothing_is_written(
    case, command, corpus, workspace, cli, refused, forbid_model_load, tmp_path
):
    bad = _bad_copy(corpus, case, workspace["inputs"])
    argv = COMMANDS[case.kind][command](bad, workspace["ok"], workspace["out"])
    names = (bad.name,)
    if case.name in ("id_not_in_golden.jsonl", "golden_case_unanswered.jsonl"):
        names = (bad.name, workspace["ok"]["golden"].name)  # either file of the mismatched pair
    refused(tmp_path, lambda: cli(*argv), names=names, line=case.line, mentions=case.mentions)


# --- a 50 MB line -------------------------------------------------------------------------------

BIG = 50 * 1024 * 1024

# Line 2 of a KB, 50 MB long: invalid JSON, a JSON string instead of an object, and a record
# whose 50 MB id has a trailing space (an error message that could echo the value).
BIG_LINES = {
    "invalid-json": lambda blob: '{"id": "big", "title": "Big", "text": "' + blob + "\n",
    "string": lambda blob: '"' + blob + '"\n',
    "echoed-value": lambda blob: json.dumps({"id": blob + " ", "title": "Big", "text": "Big."}) + "\n",
}


@pytest.mark.parametrize("shape", BIG_LINES)
def test_a_50mb_line_is_refused_with_a_short_message(shape, cli, refused, forbid_model_load, tmp_path):
    kb = tmp_path / "in" / f"kb-50mb-{shape}.jsonl"
    kb.parent.mkdir()
    first = json.dumps({"id": "alpha", "title": "ALPHA", "text": "ALPHA est un outil."}) + "\n"
    kb.write_text(first + BIG_LINES[shape]("x" * BIG), encoding="utf-8")
    out = tmp_path / "out" / "ds.jsonl"
    out.parent.mkdir()
    out.write_text("previous\n", encoding="utf-8")
    message = refused(tmp_path, lambda: cli("generate-training", kb, "--output", out), names=(kb.name,), line=2)
    assert len(message) < 500, f"a {len(message)}-character error line"


# --- BOM and CRLF are accepted and read exactly like the plain file -------------------------------


def readers() -> dict:
    """The file readers, by the kind of file they read (plus the bare JSONL layer)."""
    from dyag.commands.query import read_questions
    from dyag.data.golden import read_golden
    from dyag.data.kb import read_kb
    from dyag.data.training_set import read_training_set
    from dyag.evaluation.scoring import read_predictions
    from dyag.utils.jsonl import read_jsonl

    return {"kb": read_kb, "training": read_training_set, "golden": read_golden, "predictions": read_predictions,
            "questions": read_questions, "jsonl": lambda path: read_jsonl(path, allow_empty=True)}


@pytest.mark.parametrize("variant", ["bom.jsonl", "crlf.jsonl"])
@pytest.mark.parametrize("kind", KINDS)
def test_bom_and_crlf_files_read_like_the_plain_file(kind, variant, corpus):
    read = readers()[kind]
    expected = read(str(corpus / kind / "valid.jsonl"))
    got = read(str(corpus / kind / variant))
    assert got == expected
    assert len(got) == 2
    assert "\ufeff" not in repr(got) and "\\r" not in repr(got)


def test_plain_text_questions_with_bom_and_crlf_are_clean(corpus):
    from dyag.commands.query import read_questions

    rows = read_questions(str(corpus / "questions" / "valid.txt"))
    assert [r["question"] for r in rows] == ["Qui héberge ALPHA ?", "Combien d'utilisateurs a Beta ?"]


@pytest.mark.parametrize("variant", ["bom.jsonl", "crlf.jsonl"])
def test_generate_training_on_bom_and_crlf_kb_matches_the_plain_kb(variant, corpus, cli, tmp_path):
    outputs = {}
    for name in ("valid.jsonl", variant):
        out = tmp_path / name.replace(".jsonl", "") / "ds.jsonl"
        result = cli("generate-training", corpus / "kb" / name, "--output", out)
        assert result.rc == 0, result.err
        outputs[name] = out.read_text(encoding="utf-8")
    assert outputs[variant] == outputs["valid.jsonl"]
    assert outputs[variant].count("\n") >= 4


def test_score_reads_bom_predictions_and_crlf_golden(corpus, cli, tmp_path):
    out = tmp_path / "results.json"
    result = cli("score", "--predictions", corpus / "predictions" / "bom.jsonl",
                 "--golden", corpus / "golden" / "crlf.jsonl", "--no-bertscore", "--quiet", "--output", out)
    assert result.rc == 0, result.err
    results = json.loads(out.read_text(encoding="utf-8"))
    assert sorted(c["id"] for c in results["cases"]) == ["alpha-hebergeur-1", "beta-utilisateurs-1"]
    assert all(c["answer"] and not c["answer"].startswith("\ufeff") for c in results["cases"])


# --- model names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_model", "mentions"),
    [
        ("nosuchmodel", ("nosuchmodel",)),
        ("qwen9:99b", ("qwen9:99b",)),  # shortcut syntax, not in the registry
        ("./no/such/model-dir", ("no/such/model-dir",)),  # a path where a shortcut is expected
        ("../../outside/model", ("outside/model",)),
        ("a/../../b", ("a/../../b",)),
        ("", ()),
    ],
)
def test_unknown_model_names_are_refused(base_model, mentions, train_file, cli, refused, tmp_path):
    refused(tmp_path, lambda: cli("finetune", "--dataset", train_file, "--output", tmp_path / "out" / "m",
                                  "--base-model", base_model, "--max-steps", "1"),
            mentions=mentions)


def test_a_directory_that_is_not_a_model_is_refused(train_file, cli, refused, tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "README.txt").write_text("not a model\n", encoding="utf-8")
    refused(tmp_path, lambda: cli("finetune", "--dataset", train_file, "--output", tmp_path / "out" / "m",
                                  "--base-model", notes, "--max-steps", "1"),
            names=("notes",))


def test_an_adapter_given_as_base_model_is_refused(train_file, cli, refused, tmp_path):
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text('{"peft_type": "LORA"}\n', encoding="utf-8")
    refused(tmp_path, lambda: cli("finetune", "--dataset", train_file, "--output", tmp_path / "out" / "m",
                                  "--base-model", adapter, "--max-steps", "1"),
            names=("adapter",), mentions=("adapter",))


def test_a_shortcut_where_an_adapter_path_is_expected_is_refused(cli, refused, forbid_model_load, tmp_path):
    refused(tmp_path, lambda: cli("query-finetuned", "Qui héberge ALPHA ?", "--model", "tiny-random"),
            names=("tiny-random",))


def test_a_shortcut_where_a_dataset_path_is_expected_is_refused(cli, refused, forbid_model_load, tmp_path):
    refused(tmp_path, lambda: cli("finetune", "--dataset", "smollm2:135m", "--output", tmp_path / "out",
                                  "--base-model", "tiny-random"),
            names=("smollm2:135m",))


def test_an_uncached_hub_model_offline_is_refused(train_file, cli, refused, no_network, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    refused(tmp_path, lambda: cli("finetune", "--dataset", train_file, "--output", tmp_path / "out" / "m",
                                  "--base-model", "nobody-here/no-such-model", "--max-steps", "1"),
            mentions=("nobody-here/no-such-model",))
    assert no_network.attempts == []


def test_an_unreachable_hub_model_is_refused(train_file, cli, refused, no_network, monkeypatch, tmp_path):
    """No offline switch set, and the network down: still one line, not a traceback."""
    import huggingface_hub.constants as hub_constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", False)
    refused(tmp_path, lambda: cli("finetune", "--dataset", train_file, "--output", tmp_path / "out" / "m",
                                  "--base-model", "nobody-here/no-such-model", "--max-steps", "1"),
            mentions=("nobody-here/no-such-model",))
    assert no_network.attempts, "the guard saw no download attempt: this test no longer tests anything"


MODEL_NAMES = [
    "qwen2.5:1.5b", "Qwen/Qwen2.5-1.5B-Instruct", "smollm2:135m", "../../etc/passwd", "..", ".", "", "/",
    "/abs/path/model", "a/../../b", "C:\\Windows\\system32", "~/models/x", "name\x00with-nul", "é" * 300,
    ":", "a:b/c..d", "con", "a" * 400, "  spaced  name  ", "\n", "model\\..\\..\\x",
]


def _assert_inside(root: Path, name: str, directory: Path) -> None:
    assert directory.parent == root, f"{name!r} -> {directory}"
    leaf = directory.name
    assert leaf not in ("", ".", ".."), f"{name!r} -> {leaf!r}"
    assert "/" not in leaf and "\\" not in leaf and "\x00" not in leaf, f"{name!r} -> {leaf!r}"
    assert len(leaf.encode("utf-8")) <= 255, f"{name!r} -> a {len(leaf)}-character directory name"
    assert directory.resolve().parent == root.resolve(), f"{name!r} escapes {root}"


@pytest.mark.parametrize("name", MODEL_NAMES, ids=repr)
def test_model_names_map_to_cache_directories_inside_the_cache(name, isolated_home):
    from dyag.models.materialize import model_cache_dir
    from dyag.utils.paths import cache_dir, safe_name

    root = cache_dir("models")
    directory = model_cache_dir(name)
    _assert_inside(root, name, directory)
    assert directory.name == safe_name(name)
    directory.mkdir(parents=True)  # a real, creatable directory name
    assert [p.resolve() for p in root.iterdir()] == [directory.resolve()]


def test_distinct_model_names_get_distinct_cache_directories():
    from dyag.utils.paths import safe_name

    names = ["a:b", "a_b", "a/b", "a.b", "A:B", "a:b ", "../a_b", "a__b"]
    assert len({safe_name(n) for n in names}) == len(names)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(max_size=300))
def test_any_model_name_stays_inside_the_cache(name, isolated_home):
    from dyag.utils.paths import cache_dir, safe_name

    root = cache_dir("models")
    _assert_inside(root, name, root / safe_name(name))


# --- --output into a non-empty directory that is not a dyag output ---------------------------------


def test_finetune_refuses_a_non_empty_foreign_output_dir(train_file, cli, refused, forbid_model_load, tmp_path):
    target = tmp_path / "my-documents"
    target.mkdir()
    (target / "thesis.tex").write_text("\\section{Important}\n", encoding="utf-8")
    refused(tmp_path, lambda: cli("finetune", "--dataset", train_file, "--output", target,
                                  "--base-model", "tiny-random", "--max-steps", "1"),
            names=("my-documents",), mentions=("--overwrite",))


def test_output_dir_check_accepts_overwrite_empty_and_dyag_outputs(tmp_path):
    from dyag.training.sft import check_output_dir

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(DyagError):
        check_output_dir(foreign, overwrite=False)
    check_output_dir(foreign, overwrite=True)
    empty = tmp_path / "empty"
    empty.mkdir()
    check_output_dir(empty, overwrite=False)
    previous = tmp_path / "previous"
    (previous / "final").mkdir(parents=True)
    (previous / "run.json").write_text("{}", encoding="utf-8")
    check_output_dir(previous, overwrite=False)
    check_output_dir(tmp_path / "new", overwrite=False)


def test_finetune_refuses_an_output_that_is_a_file(train_file, cli, refused, forbid_model_load, tmp_path):
    target = tmp_path / "model.txt"
    target.write_text("a file\n", encoding="utf-8")
    refused(tmp_path, lambda: cli("finetune", "--dataset", train_file, "--output", target,
                                  "--base-model", "tiny-random", "--max-steps", "1"),
            names=("model.txt",))


@pytest.mark.parametrize(
    "argv",
    [
        ["generate-training", "{kb}", "--output", "{dir}"],
        ["query-finetuned", "--questions", "{questions}", "--base-model", "tiny-random", "--output", "{dir}"],
        ["score", "--predictions", "{predictions}", "--golden", "{golden}", "--no-bertscore", "--quiet",
         "--output", "{dir}"],
    ],
    ids=["generate-training", "query-finetuned", "score"],
)
def test_an_output_file_that_is_a_directory_is_refused(argv, corpus, cli, refused, forbid_model_load, tmp_path):
    target = tmp_path / "existing-dir"
    target.mkdir()
    (target / "keep.txt").write_text("keep\n", encoding="utf-8")
    values = {"kb": corpus / "kb" / "valid.jsonl", "questions": corpus / "questions" / "valid.jsonl",
              "predictions": corpus / "predictions" / "valid.jsonl", "golden": corpus / "golden" / "valid.jsonl",
              "dir": target}
    refused(tmp_path, lambda: cli(*[a.format(**values) for a in argv]), names=("existing-dir",))


# --- YAML configs and hyperparameters ------------------------------------------------------------

# (file content, whether the error must name the YAML file, what it must mention)
YAML_CASES = [
    ("epoch: 3\n", True, ("epoch",)),  # a typo of epochs: an error, not a warning
    ("lora:\n  rank: 4\n", True, ("lora",)),
    ("learning-rate: 0.001\nwarmup: 10\n", True, ("warmup",)),
    ("epochs: [1\n", True, ()),  # invalid YAML
    ("- epochs: 1\n", True, ()),  # a list, not a mapping
    ("\xe9pochs: 1\n".encode("latin-1"), True, ()),  # not UTF-8
    ("epochs: three\n", False, ("epochs",)),
    ("epochs: 0\n", False, ("epochs",)),
    ("epochs: .nan\n", False, ("epochs",)),
    ("learning_rate: -0.0001\n", False, ("learning",)),
    ("learning_rate: .inf\n", False, ("learning",)),
    ("lora_rank: 0\n", False, ("rank",)),
    ("lora-rank: 2.5\n", False, ("rank",)),
    ("batch_size: true\n", False, ("batch",)),
    ("target_modules: 5\n", False, ("target",)),
    ("force_cpu: 'no'\n", False, ("force",)),  # a quoted string is not a boolean
    ("dataset: 5\n", False, ("dataset",)),
]


@pytest.mark.parametrize(("text", "names_file", "mentions"), YAML_CASES, ids=[repr(c[0]) for c in YAML_CASES])
def test_bad_yaml_configs_are_refused(text, names_file, mentions, train_file, cli, refused, forbid_model_load,
                                      tmp_path):
    config = tmp_path / "in" / "finetune.yaml"
    config.parent.mkdir()
    config.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    argv = ["finetune", "--config", config, "--output", tmp_path / "out" / "m", "--base-model", "tiny-random"]
    if not (isinstance(text, str) and text.startswith("dataset:")):
        argv += ["--dataset", train_file]
    refused(tmp_path, lambda: cli(*argv), names=("finetune.yaml",) if names_file else (), mentions=mentions)


def test_a_missing_yaml_config_is_refused(train_file, cli, refused, forbid_model_load, tmp_path):
    refused(tmp_path, lambda: cli("finetune", "--dataset", train_file, "--output", tmp_path / "out" / "m",
                                  "--config", "no-such-config.yaml"),
            names=("no-such-config.yaml",))


@pytest.mark.parametrize(
    ("flags", "mentions"),
    [
        (["--epochs", "0"], ("--epochs",)),
        (["--epochs", "-1"], ("--epochs",)),
        (["--epochs", "nan"], ("--epochs",)),
        (["--learning-rate=-1e-4"], ("--learning-rate",)),
        (["--learning-rate", "0"], ("--learning-rate",)),
        (["--learning-rate", "inf"], ("--learning-rate",)),
        (["--lora-rank", "0"], ("--lora-rank",)),
        (["--lora-rank", "-8"], ("--lora-rank",)),
        (["--lora-alpha", "0"], ("--lora-alpha",)),
        (["--lora-dropout", "1.5"], ("--lora-dropout",)),
        (["--batch-size", "0"], ("--batch-size",)),
        (["--gradient-accumulation", "0"], ("--gradient-accumulation",)),
        (["--max-length", "0"], ("--max-length",)),
        (["--max-steps", "0"], ("--max-steps",)),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_out_of_range_hyperparameters_are_refused(flags, mentions, train_file, cli, refused, forbid_model_load,
                                                  tmp_path):
    refused(tmp_path, lambda: cli("finetune", "--dataset", train_file, "--output", tmp_path / "out" / "m",
                                  "--base-model", "tiny-random", *flags),
            mentions=mentions)


@pytest.mark.parametrize(
    ("flags", "mentions"),
    [
        (["--max-new-tokens", "0"], ("--max-new-tokens",)),
        (["--temperature", "-1"], ("--temperature",)),
        (["--temperature", "nan"], ("--temperature",)),
        (["--batch-size", "0"], ("--batch-size",)),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_out_of_range_decoding_options_are_refused(flags, mentions, corpus, cli, refused, forbid_model_load,
                                                   tmp_path):
    refused(tmp_path, lambda: cli("query-finetuned", "--questions", corpus / "questions" / "valid.jsonl",
                                  "--base-model", "tiny-random", *flags),
            mentions=mentions)


@pytest.mark.parametrize(
    "argv",
    [
        ["finetune", "--dataset", "t.jsonl", "--output", "m", "--epochs", "three"],
        ["score", "--predictions", "p.jsonl", "--golden", "g.jsonl", "--output", "r.json", "--bertscore-layers", "0"],
        ["query-finetuned", "Q ?", "--max-new-tokens", "many"],
    ],
    ids=["epochs-three", "bertscore-layers-0", "max-new-tokens-many"],
)
def test_argparse_type_errors_exit_2_without_traceback(argv, cli, snapshot, tmp_path):
    before = snapshot(tmp_path)
    result = cli(*argv)
    assert result.rc == 2
    assert "Traceback" not in result.err
    assert "error:" in result.err_lines[-1] and argv[-2] in result.err_lines[-1]
    assert snapshot(tmp_path) == before


# --- the JSONL readers never raise anything but a one-line DyagError ---------------------------------


# (reader, file suffix): read_questions takes plain text as well as JSONL.
FUZZED = [("jsonl", ".jsonl"), ("kb", ".jsonl"), ("golden", ".jsonl"), ("training", ".jsonl"),
          ("predictions", ".jsonl"), ("questions", ".jsonl"), ("questions", ".txt")]

_FIELDS = st.sampled_from(["id", "title", "text", "metadata", "messages", "role", "content", "meta", "facts",
                           "kb_ids", "tags", "lang", "expect", "question", "reference", "system", "answer",
                           "utilisateurs", "technologies", "nom", "unknown", "a\nb", "\x1b[2J"])
_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
_JSON = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(_FIELDS | st.text(max_size=5), inner, max_size=4), max_leaves=12)
_ROLES = st.sampled_from(["system", "user", "assistant", "bot", "", None, 3])
_MESSAGE = st.fixed_dictionaries({}, optional={"role": _ROLES, "content": _SCALARS | _JSON})
_ROW = st.dictionaries(_FIELDS, _JSON | st.lists(_MESSAGE, max_size=3), max_size=6)


def _lines(rows: list, extra: list[bytes]) -> bytes:
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8", "surrogatepass")
    return text + b"".join(extra)


_FILES = (
    st.binary(max_size=400)
    | st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass"))
    | st.builds(_lines, st.lists(_ROW, max_size=4), st.lists(st.sampled_from(
        [b"NaN\n", b'{"a": Infinity}\n', b'{"a": 1e999}\n', b"[" * 3000 + b"\n", b"\xef\xbb\xbf{}\n", b"\r\n",
         b'{"id": "\\ud800"}\n', b"\xff\xfe{\x00}\x00\n", b'{"id": 1', b'"str"\n', b"null\n",
         b'{"a": ' + b"[" * 900 + b"]" * 900 + b"}\n"]), max_size=2))
)


@pytest.mark.parametrize(("reader", "suffix"), FUZZED, ids=[f"{r}{x}" for r, x in FUZZED])
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_FILES)
def test_readers_raise_only_one_line_dyag_errors(reader, suffix, data, tmp_path):
    """iter_jsonl, read_kb, read_golden, read_training_set, read_predictions, read_questions."""
    path = tmp_path / f"fuzz-{reader}{suffix}"
    path.write_bytes(data)
    try:
        readers()[reader](str(path))
    except DyagError as exc:
        message = str(exc)
        assert message and len(message.splitlines()) == 1, f"multi-line error: {message!r}"
        raw = [c for c in message if unicodedata.category(c) == "Cc"]
        assert not raw, f"raw control characters {raw!r} in the error: {message!r}"
