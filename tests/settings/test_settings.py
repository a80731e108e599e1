"""dyag.settings: one definition per setting, one layering, and the views generated from them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dyag.errors import DyagError
from dyag.settings import (RECIPE_DEFAULTS, ProjectConfig, TrainingSource, base_type, command_defaults, default_recipe,
                           layered, load_config, recipe_fields)
from dyag.settings.views import README_BEGIN, README_END, reference
from tests.helpers import ROOT


def _other_value(name: str, spec, folder: Path):
    """A valid value of setting ``name`` that differs from its default."""
    if spec.path:
        target = folder / f"{name}.jsonl"
        target.write_text('{"id": "x"}\n', encoding="utf-8")
        return [target.name] if base_type(spec.type) is list else target.name
    if spec.choices:
        return next(c for c in spec.choices if c != spec.default)
    base = base_type(spec.type)
    if base is bool:
        return not spec.default
    if base is int:
        return (spec.default if isinstance(spec.default, int) and spec.default > 0 else 1) + 2
    if base is float:
        return spec.default / 2
    if base is list:
        return ["q_proj"]
    return {"precision": "fp32"}.get(name, f"other-{name}")


def _toml(value) -> str:
    return json.dumps(value)


@pytest.mark.parametrize("name", list(recipe_fields()))
def test_every_recipe_setting_reaches_the_command_the_harness_builds(tmp_path, name):
    """One edit adds a setting: a field marked ``recipe`` is a [tool.dyag.train] key, a profile key, a sweep
    key, and its value reaches the configuration the harness gives the command that owns it."""
    from dyag.session import DyagSession, SessionOptions
    from dyag.sweep import parse_grid

    spec = recipe_fields()[name]
    value = _other_value(name, spec, tmp_path)
    (tmp_path / "pyproject.toml").write_text(f"[tool.dyag.train]\n{name} = {_toml(value)}\n", encoding="utf-8")
    project = load_config(tmp_path)
    session = DyagSession(SessionOptions(models=("tiny-random",), rootdir=str(tmp_path), project=project))
    expected = project.train[name]
    assert getattr(session.profile, name) == expected
    if spec.owner is not TrainingSource:
        required = {"dataset": "d.jsonl", "output": "o", "kb": "sample", "adapter": "a"}
        import dataclasses

        needed = {f.name: required[f.name] for f in dataclasses.fields(spec.owner)
                  if f.name in required and (f.name == "adapter" or f.default is dataclasses.MISSING)}
        built = session.profile.config(spec.owner, **needed)
        assert getattr(built, name) in (expected, tuple(expected) if isinstance(expected, list) else expected)
        assert command_defaults((spec.owner,), tmp_path)[0] == {name: expected}, "the command reads it too"
    if not spec.path:
        assert parse_grid([f"{name}={value if not isinstance(value, list) else value[0]}"]), "a sweep key"
    assert f"`{name}`" in reference()


def test_the_readme_reference_is_the_generated_one():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = text.split(README_BEGIN, 1)[1].split(README_END, 1)[0].strip()
    assert shown == reference(), "run: python -m dyag.settings"


def test_defaults_are_the_commands_own_except_the_measured_recipe():
    import dataclasses

    recipe = default_recipe()
    for name, spec in recipe_fields().items():
        own = next(f for f in dataclasses.fields(spec.owner) if f.name == name)
        own_default = own.default if own.default is not dataclasses.MISSING else None
        assert recipe[name] == RECIPE_DEFAULTS.get(name, own_default), name
    # a setting two commands share has one default
    from dyag.data.generate import GenerateConfig
    from dyag.training.config import FinetuneConfig

    assert GenerateConfig.__dataclass_fields__["seed"].default == FinetuneConfig.__dataclass_fields__["seed"].default


def test_layering_the_first_layer_wins_and_none_is_not_given():
    assert layered({"a": None, "b": 2}, {"a": 1, "b": 3}, {"c": 4}) == {"a": 1, "b": 2, "c": 4}
    assert layered(None, {}) == {}


def test_session_options_command_line_over_ini_over_project_over_defaults(tmp_path):
    from dyag.session import session_options
    from dyag.settings import DEFAULT_SYSTEMS

    (tmp_path / "pyproject.toml").write_text('[tool.dyag]\nmodels = ["tiny-random"]\nsystems = ["base"]\n'
                                             'report = "r.html"\n', encoding="utf-8")
    project = load_config(tmp_path)
    options = session_options({}, {}, project=project, rootdir=str(tmp_path))
    assert options.models == ("tiny-random",) and options.systems == ("base",)
    options = session_options({}, {"systems": ("rag",)}, project=project, rootdir=str(tmp_path))
    assert options.systems == ("rag",), "ini over [tool.dyag]"
    options = session_options({"systems": ("finetuned",)}, {"systems": ("rag",)}, project=project, rootdir=str(tmp_path))
    assert options.systems == ("finetuned",), "command line over ini"
    bare = session_options({}, {}, project=ProjectConfig(), rootdir=str(tmp_path))
    assert bare.systems == DEFAULT_SYSTEMS


def test_a_profile_over_train_over_defaults_and_a_sweep_point_over_all(tmp_path):
    from dyag.settings import resolve_profile

    (tmp_path / "pyproject.toml").write_text(
        "[tool.dyag.train]\nepochs = 3.0\nlora_rank = 8\n[tool.dyag.profiles.p]\nepochs = 4.0\n", encoding="utf-8")
    project = load_config(tmp_path)
    recipe = resolve_profile("p", project).recipe
    assert (recipe["epochs"], recipe["lora_rank"], recipe["batch_size"]) == (4.0, 8, 8)
    assert resolve_profile("p", project, {"epochs": 5}).recipe["epochs"] == 5


def test_generate_training_and_finetune_read_the_project_recipe(tmp_path, monkeypatch, cli):
    (tmp_path / "pyproject.toml").write_text("[tool.dyag.train]\ncount = 7\nmethod = \"simple\"\nepochs = 3.0\n",
                                             encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert cli("generate-training", "sample", "--output", "a.jsonl").rc == 0
    assert len((tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()) == 7, "[tool.dyag.train] count"
    assert cli("generate-training", "sample", "--output", "b.jsonl", "--count", "4").rc == 0
    assert len((tmp_path / "b.jsonl").read_text(encoding="utf-8").splitlines()) == 4, "the flag wins"
    from dyag.training.config import FinetuneConfig

    assert command_defaults((FinetuneConfig,), tmp_path) == [{"epochs": 3.0}]


@pytest.mark.parametrize(("table", "message"), [
    ('verbose = true', "unknown key [tool.dyag].train.verbose"),
    ('epochs = "two"', "[tool.dyag].train.epochs must be a number"),
    ('lora_rank = 2.5', "[tool.dyag].train.lora_rank must be an integer"),
    ('context_format = "prose"', "[tool.dyag].train.context_format must be one of fields, card, text"),
    ('dataset = "missing.jsonl"', "[tool.dyag].train.dataset: file not found"),
])
def test_a_bad_recipe_is_one_line_naming_the_key_and_the_file(tmp_path, table, message):
    (tmp_path / "pyproject.toml").write_text(f"[tool.dyag.train]\n{table}\n", encoding="utf-8")
    with pytest.raises(DyagError) as info:
        load_config(tmp_path)
    assert message in str(info.value) and "pyproject.toml" in str(info.value) and "\n" not in str(info.value)


def test_the_sweep_refuses_what_the_recipe_refuses():
    from dyag.sweep import parse_grid

    with pytest.raises(DyagError, match="unknown recipe key 'verbose'"):
        parse_grid(["verbose=true"])
    with pytest.raises(DyagError, match="lora_rank must be an integer"):
        parse_grid(["lora_rank=2.5"])


def test_gates_name_what_the_registries_have(monkeypatch):
    from dyag import gates

    known, floors, splits = gates.gate_names()
    assert "no_prompt_echo" in known and "fact_recall" in floors and "seen" in splits
    monkeypatch.setattr(gates, "RULE_GATES", (*gates.RULE_GATES, "no_such_rule"))
    with pytest.raises(LookupError, match="no_such_rule"):
        gates.gate_names()


def test_init_writes_the_recipe_and_gates_from_the_definitions(tmp_path, cli, monkeypatch):
    from dyag.gates import DEFAULT_GATES

    monkeypatch.chdir(tmp_path)
    assert cli("init").rc == 0
    (tmp_path / "golden").mkdir()
    (tmp_path / "golden" / "questions.jsonl").write_text('{"id": "q"}\n', encoding="utf-8")
    config = load_config(tmp_path)
    assert {k: v for k, v in default_recipe().items() if k in config.train} == config.train
    assert {"epochs", "learning_rate", "prompt_style"} <= set(config.train)
    assert {k: config.gates[k] for k in DEFAULT_GATES} == DEFAULT_GATES
