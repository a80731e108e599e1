"""dyag's settings in one place: the project (``[tool.dyag]``), the recipe, the profiles and the gates.

A project configures dyag with a ``[tool.dyag]`` table in ``pyproject.toml`` (or the same keys at
the top of ``dyag.toml``), found from the starting folder (pytest's rootdir, the current folder)
upward. Paths are relative to that file. Every key is optional; :mod:`dyag.settings.views` writes the
README's configuration reference and the section ``dyag init`` writes, both
from the definitions below.

**One default per setting.** A recipe setting is a field of the command that uses it, marked
``"recipe": True`` in its metadata (``"values"``: the allowed values, when the command checks them
itself rather than through argparse's ``choices``) (:class:`dyag.data.generate.GenerateConfig`,
:class:`dyag.training.config.FinetuneConfig`, :class:`dyag.pipeline.EvaluationConfig`, or
:class:`TrainingSource` for the harness's own), with its type, help and default there. Such a
field is at once a command-line flag, a ``[tool.dyag.train]`` and profile key, a ``dyag sweep
--grid`` key, a line of the ``dyag init`` template and a row of the README's reference.
:data:`RECIPE_DEFAULTS` holds the measured recipe where the harness departs from a command's
default.

**One layering.** :func:`layered` merges the layers, the first winning: the command line (or a
sweep point), then pytest's ``dyag_*`` ini keys, then ``[tool.dyag]`` (a profile over
``[tool.dyag.train]``), then the defaults. The pytest plugin, the profiles and every ``dyag``
command go through it.

Unknown keys, wrong types and missing files are one-line :class:`DyagError` naming the key and
the file, raised before anything trains.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from dyag.errors import DyagError

DEFAULT_MODELS = ("smollm2:135m", "gemma3:270m")
DEFAULT_SYSTEMS = ("base", "finetuned", "rag")
DEFAULT_BASELINE = "golden/baselines"

#: The harness's recipe where it departs from the commands' defaults (measured: README, "Recipes").
RECIPE_DEFAULTS = {"method": "augmented", "epochs": 2.0, "batch_size": 8, "learning_rate": 2e-3, "max_new_tokens": 64}

#: dyag's profiles, those of a project that names none. quick: the seed's experiment at CI size
#: (learn the applications the golden questions ask about, then answer them); full: the whole catalog.
BUILTIN_PROFILES = {
    "quick": {},
    "full": {"kb_scope": "all", "count": 600, "max_new_tokens": 128},
}


@dataclass
class TrainingSource:
    """The harness's own recipe settings: where a profile's training set and golden cases come from."""

    dataset: str | None = field(default=None, metadata={"recipe": True, "path": True, "help": (
        "a training set the team already has (messages JSONL); otherwise one is generated from kb")})
    kb_scope: str = field(default="golden", metadata={"recipe": True, "choices": ("golden", "all"), "help": (
        "golden: learn the applications the golden cases name (all of them when none is named); all: the whole "
        "catalog. Either way the applications of unseen cases stay out of training")})
    golden: list[str] | None = field(default=None, metadata={"recipe": True, "path": True, "help": (
        "the profile's golden files")})


# --- the recipe -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecipeField:
    """One recipe setting, as its command declares it."""

    name: str
    type: Any
    default: Any
    help: str
    choices: tuple | None
    owner: type
    path: bool = False


def recipe_sources() -> tuple[type, ...]:
    """The configurations whose ``recipe`` fields make the recipe, in the reference's order."""
    from dyag.data.generate import GenerateConfig
    from dyag.pipeline import EvaluationConfig
    from dyag.training.config import FinetuneConfig

    return (TrainingSource, GenerateConfig, FinetuneConfig, EvaluationConfig)


@cache
def recipe_fields() -> dict[str, RecipeField]:
    """Every recipe setting by name; a name two commands share (``seed``) is declared by the first."""
    out: dict[str, RecipeField] = {}
    for cls in recipe_sources():
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if f.metadata.get("recipe") and f.name not in out:
                default = RECIPE_DEFAULTS.get(f.name, _default(f))
                out[f.name] = RecipeField(f.name, hints[f.name], default, f.metadata.get("help", ""),
                                          f.metadata.get("choices") or f.metadata.get("values"), cls,
                                          bool(f.metadata.get("path")))
    return out


def default_recipe() -> dict[str, Any]:
    """What a recipe sets when neither the profile nor ``[tool.dyag.train]`` does."""
    return {name: f.default for name, f in recipe_fields().items()}


def values_for(cls: type, recipe: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``recipe`` that are recipe fields of the configuration ``cls`` (a field of the same
    name that is not marked ``recipe``, such as the generation batch, is left alone)."""
    names = {f.name for f in dataclasses.fields(cls) if f.metadata.get("recipe")}
    return {k: v for k, v in recipe.items() if k in names}


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


@cache
def _recipe_model():
    from pydantic import ConfigDict, create_model

    fields = {name: (f.type, None) for name, f in recipe_fields().items()}
    return create_model("Recipe", __config__=ConfigDict(extra="forbid", strict=True), **fields)


def check_recipe(table: Any, where: str, path: Path | None) -> dict[str, Any]:
    """A recipe table (``[tool.dyag.train]``, a profile, a sweep point): known keys of the right types and
    choices, paths resolved against ``path``'s folder (the current one for a command-line ``path=None``);
    only the keys it gives."""
    table = _table(table, where, path)
    _validate(_recipe_model(), table, where, path, _recipe_type_name)
    recipe = dict(table)
    for name, value in table.items():
        spec = recipe_fields()[name]
        if spec.choices and value not in spec.choices:
            raise DyagError(f"{_at(path)}{where}.{name} must be one of {', '.join(map(str, spec.choices))}, got {value!r}")
        if spec.path:
            root = path.parent if path is not None else Path.cwd()
            recipe[name] = ([str(_existing(root, v, f"{where}.{name}", path)) for v in _strings(value, f"{where}.{name}", path)]
                            if isinstance(value, list) else str(_existing(root, value, f"{where}.{name}", path)))
    return recipe


def _recipe_type_name(name: str) -> str:
    return _type_name(recipe_fields()[name].type)


def base_type(tp: Any) -> type:
    """The container or scalar type under an optional annotation: ``list[str] | None`` -> ``list``."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        tp = next(a for a in typing.get_args(tp) if a is not type(None))
    return typing.get_origin(tp) or tp


def _type_name(tp: Any) -> str:
    base = base_type(tp)
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false", list: "a list of strings",
            tuple: "a list", dict: "a table"}.get(base, getattr(base, "__name__", str(base)))


# --- profiles ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchProfile:
    """How a benchmark run trains and asks: a named recipe, resolved (every recipe setting has a value)."""

    name: str
    recipe: dict

    def __getattr__(self, name: str):
        if name in recipe_fields():  # a setting left unset (None) is absent from the resolved recipe
            return self.recipe.get(name)
        raise AttributeError(name)

    def config(self, cls: type, **values):
        """``cls`` (a command's configuration) built from the recipe's fields of it, then ``values``."""
        return cls(**{**values_for(cls, self.recipe), **values})


def project_profiles(project: "ProjectConfig") -> dict[str, dict]:
    """The profiles a project can select: its own, else dyag's quick and full."""
    return dict(project.profiles) if project.profiles else dict(BUILTIN_PROFILES)


def resolve_profile(name: str, project: "ProjectConfig", overrides: Mapping[str, Any] | None = None) -> BenchProfile:
    """Profile ``name``: ``overrides`` (a sweep point) > the profile > ``[tool.dyag.train]`` > the defaults."""
    profiles = project_profiles(project)
    if name not in profiles:
        raise DyagError(f"--dyag-profile must be one of {', '.join(profiles)}, got '{name}'")
    return BenchProfile(name, layered(overrides, profiles[name], project.train, default_recipe()))


def layered(*layers: Mapping[str, Any] | None) -> dict[str, Any]:
    """The layers merged, the first one winning; a ``None`` value (or layer) is "not given".

    >>> layered({"epochs": 4, "seed": None}, {"seed": 1}, {"epochs": 2.0, "seed": 42, "rank": 16})
    {'epochs': 4, 'seed': 1, 'rank': 16}
    """
    out: dict[str, Any] = {}
    for layer in reversed(layers):
        out.update({k: v for k, v in (layer or {}).items() if v is not None})
    return out


# --- the project ------------------------------------------------------------------------------

#: the top-level keys of [tool.dyag], in the reference's order: (type, default shown, meaning)
PROJECT_KEYS: dict[str, tuple[Any, str, str]] = {
    "kb": (str, 'dyag\'s sample catalog (`"sample"`)',
           "the catalog JSONL: RAG retrieves from it, training sets are generated from it"),
    "golden": (list[str], "the profile's `golden`", "golden JSONL files (list)"),
    "models": (list[str], "`" + str(list(DEFAULT_MODELS)).replace("'", '"') + "`",
               "registry shortcuts, hub ids or model folders"),
    "systems": (list[str], "`" + str(list(DEFAULT_SYSTEMS)).replace("'", '"') + "`", "also `rag+finetuned`"),
    "baseline": (str, f'`"{DEFAULT_BASELINE}"`',
                 "folder of stored baselines, `<model>[.<profile>].<environment key>.json`"),
    "report": (str, "none", "HTML report path (results JSON beside it)"),
    "train": (dict, "see below", "the recipe every profile starts from"),
    "profiles": (dict, "dyag's `quick` and `full`",
                 "named recipes, `--dyag-profile NAME`; `quick` is used when present, else the first"),
    "endpoints": (dict, "none", "OpenAI-compatible servers by name, `[tool.dyag.endpoints.NAME]` (README, "
                  "\"Serve and scale\"); a system `<kind>@NAME` answers through one"),
    "gates": (dict, "`dyag/gates.py`", "thresholds by gate name; sub-tables per system kind (`[tool.dyag.gates.rag]`), "
              "per model (`[tool.dyag.gates.\"smollm2:135m\"]`) and per model and kind "
              "(`[tool.dyag.gates.\"smollm2:135m\".rag]`)"),
}
GATE_LISTS = {"beats_base"}


@dataclass(frozen=True)
class ProjectConfig:
    """``[tool.dyag]`` as read and checked; ``path`` is the file (None: no configuration found)."""

    path: Path | None = None
    kb: Path | None = None
    golden: tuple[Path, ...] | None = None
    models: tuple[str, ...] | None = None
    systems: tuple[str, ...] | None = None
    baseline: Path | None = None
    report: Path | None = None
    train: dict[str, Any] = field(default_factory=dict)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    gates: dict[str, Any] = field(default_factory=dict)
    endpoints: dict[str, Any] = field(default_factory=dict)

    def values_for(self, cls: type) -> dict[str, Any]:
        """What this project says for the fields of the configuration ``cls``: its recipe
        (``[tool.dyag.train]``) for the fields marked ``recipe``, its ``kb``, ``golden`` and ``systems`` for
        the fields of those names marked ``project``."""
        top = {"kb": str(self.kb) if self.kb else None,
               "golden": [str(g) for g in self.golden] if self.golden else None,
               "systems": tuple(self.systems) if self.systems else None,
               "endpoints": dict(self.endpoints) if self.endpoints else None}
        names = {f.name for f in dataclasses.fields(cls) if f.metadata.get("project")}
        return layered(values_for(cls, self.train), {k: v for k, v in top.items() if k in names})


def find_config(start: str | Path = ".") -> Path | None:
    """The first ``dyag.toml``, or ``pyproject.toml`` with ``[tool.dyag]``, from ``start`` upward."""
    folder = Path(start).resolve()
    for candidate in (folder, *folder.parents):
        if (candidate / "dyag.toml").is_file():
            return candidate / "dyag.toml"
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file() and "dyag" in (_read_toml(pyproject).get("tool") or {}):
            return pyproject
    return None


def load_config(start: str | Path = ".", path: str | Path | None = None) -> ProjectConfig:
    """The project's configuration (an empty one when there is none)."""
    path = Path(path) if path else find_config(start)
    if path is None:
        return ProjectConfig()
    data = _read_toml(path)
    table = data if path.name == "dyag.toml" else (data.get("tool") or {}).get("dyag", {})
    return parse_config(table, path)


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise DyagError(f"{_at(path)}cannot read it ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise DyagError(f"{_at(path)}invalid TOML ({exc})") from None


@cache
def _project_model():
    from pydantic import ConfigDict, create_model

    fields = {name: (tp | str if tp is list[str] else tp, None) for name, (tp, _, _) in PROJECT_KEYS.items()}
    return create_model("Project", __config__=ConfigDict(extra="forbid", strict=True), **fields)


def parse_config(table: dict, path: Path) -> ProjectConfig:
    """Check ``table`` (the ``[tool.dyag]`` content of ``path``) and resolve its paths."""
    where = "[tool.dyag]" if path.name == "pyproject.toml" else "dyag.toml"
    _validate(_project_model(), table, where, path, lambda name: _type_name(PROJECT_KEYS[name][0]))
    root = path.parent
    golden = table.get("golden")
    config = ProjectConfig(
        path=path,
        kb=_catalog(root, table["kb"], f"{where} kb", path) if "kb" in table else None,
        golden=tuple(_existing(root, g, f"{where} golden", path) for g in _strings(golden, f"{where} golden", path))
        if golden is not None else None,
        models=tuple(_strings(table["models"], f"{where} models", path)) if "models" in table else None,
        systems=tuple(_strings(table["systems"], f"{where} systems", path)) if "systems" in table else None,
        baseline=root / table["baseline"] if "baseline" in table else None,
        report=root / table["report"] if "report" in table else None,
        train=check_recipe(table.get("train", {}), f"{where}.train", path),
        profiles={name: check_recipe(recipe, f"{where}.profiles.{name}", path)
                  for name, recipe in _table(table.get("profiles", {}), f"{where}.profiles", path).items()},
        gates=_gates(table.get("gates", {}), f"{where}.gates", path),
        endpoints=_endpoints(table.get("endpoints", {}), f"{where}.endpoints", path),
    )
    if config.systems:
        from dyag.system import check_kinds

        check_kinds(config.systems, option=f"{_at(path)}{where} systems", endpoints=config.endpoints)
    if config.golden is not None and not config.golden:
        raise DyagError(f"{_at(path)}{where} golden is an empty list")
    return config


def _validate(model, table: dict, where: str, path: Path, type_name) -> None:
    """``table`` checked by the pydantic ``model``; its first error as one line naming the key."""
    from pydantic import ValidationError

    try:
        model.model_validate(table)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = str(error["loc"][0])
        if error["type"] == "extra_forbidden":
            raise DyagError(f"{_at(path)}unknown key {where}.{key} (known: {', '.join(sorted(model.model_fields))})") from None
        value = table[key]
        raise DyagError(f"{_at(path)}{where}.{key} must be {type_name(key)}, got {type(value).__name__} {value!r}") from None


def command_defaults(configs: tuple[type, ...], start: str | Path = ".") -> list[dict[str, Any]]:
    """What the project found from ``start`` says for each of a command's configurations (nothing, and no
    configuration read, for a command none of whose fields it can set)."""
    settable = {"kb", "golden", "systems", "endpoints"}
    if not any(f.metadata.get("recipe") or (f.metadata.get("project") and f.name in settable)
               for cls in configs for f in dataclasses.fields(cls)):
        return [{} for _ in configs]
    project = load_config(start)
    return [project.values_for(cls) for cls in configs]


def _at(path: Path | None) -> str:
    """The start of an error about a setting: the file it is in (nothing for a command-line value)."""
    return f"{path}: " if path is not None else ""


def _table(value, where: str, path: Path | None) -> dict:
    if not isinstance(value, dict):
        raise DyagError(f"{_at(path)}{where} must be a table, got {type(value).__name__}")
    return value


def _strings(value, where: str, path: Path) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise DyagError(f"{_at(path)}{where} must be a list of strings, got {value!r}")
    return value


def _existing(root: Path, name: str, where: str, path: Path) -> Path:
    if not isinstance(name, str):
        raise DyagError(f"{_at(path)}{where} must be a string, got {name!r}")
    target = root / name
    if not target.is_file():
        raise DyagError(f"{_at(path)}{where}: file not found: {target}")
    return target


def _catalog(root: Path, name, where: str, path: Path) -> Path:
    """``"sample"`` is dyag's packaged catalog; anything else a file relative to the configuration."""
    from dyag.data.kb import SAMPLE_KB_NAME, sample_kb_path

    return sample_kb_path() if name == SAMPLE_KB_NAME else _existing(root, name, where, path)


def _endpoints(table, where: str, path: Path) -> dict:
    from dyag.inference.endpoint import parse_endpoints

    try:
        return parse_endpoints(table, where)
    except DyagError as exc:
        raise DyagError(f"{_at(path)}{exc}") from None


def _gates(table: dict, where: str, path: Path) -> dict:
    """Gate thresholds: numbers by name, ``beats_base`` a list, sub-tables per kind or per model."""
    from dyag.gates import gate_names

    table = _table(table, where, path)
    known, floors, splits = gate_names()

    def check_level(level: dict, here: str, nested: bool) -> None:
        for key, value in level.items():
            if isinstance(value, dict):
                if not nested:
                    raise DyagError(f"{_at(path)}{here}.{key} is nested too deep")
                check_level(value, f"{here}.{key}", nested=False)
            elif key in GATE_LISTS:
                _strings(value, f"{here}.{key}", path)
            elif (key not in known if "@" not in key else
                  key.split("@", 1)[0] not in floors or key.split("@", 1)[1] not in splits):
                raise DyagError(f"{_at(path)}unknown gate {here}.{key} (known: "
                                f"{', '.join(sorted([*known, *GATE_LISTS]))}, and <{'|'.join(floors)}>@<split> "
                                f"with a split among {', '.join(splits)})")
            elif not isinstance(value, (int, float)) or isinstance(value, bool):
                raise DyagError(f"{_at(path)}{here}.{key} must be a number, got {value!r}")

    for key, value in table.items():
        if isinstance(value, dict):
            check_level(value, f"{where}.{key}", nested=True)
        else:
            check_level({key: value}, where, nested=False)
    return table
