"""The project's configuration: a ``[tool.dyag]`` table in ``pyproject.toml`` (or the same keys in ``dyag.toml``).

Read by the pytest plugin and the CLI, found from the starting folder (pytest's rootdir, the
current folder) upward: the first ``dyag.toml``, or ``pyproject.toml`` that has a
``[tool.dyag]`` table. Paths are relative to the file's folder. Every key is optional::

    [tool.dyag]
    kb = "data/applications_rag_optimal.jsonl"     # the catalog (default: dyag's sample)
    golden = ["golden/questions.jsonl"]            # golden sets (default: the profile's)
    models = ["smollm2:135m"]
    systems = ["base", "finetuned", "rag"]
    baseline = "golden/baselines"                  # stored baselines folder
    report = "reports/index.html"

    [tool.dyag.train]                              # the recipe: a training set you have...
    dataset = "data/finetuning/dataset_100_train.jsonl"
    epochs = 3                                     # ...and any FinetuneConfig field

    [tool.dyag.profiles.nightly]                   # named recipes: --dyag-profile nightly
    method = "augmented"                           # or generate-training settings
    count = 600
    epochs = 2

    [tool.dyag.gates]                              # thresholds by gate name...
    score = 0.5
    beats_base = ["score", "fact_recall"]
    [tool.dyag.gates.base]                         # ...per system kind
    score = 0.0
    [tool.dyag.gates."smollm2:135m".rag]           # ...per model, and per model and kind
    no_dialogue_turns = 0.1

Unknown keys, wrong types and missing files are one-line :class:`DyagError` naming the key and
the file, raised before anything trains.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dyag.errors import DyagError

#: recipe keys besides FinetuneConfig's fields
RECIPE_KEYS = {
    "dataset": str,  # a training set the project already has (messages JSONL)
    "method": str,  # generate-training: simple | augmented
    "count": int,  # generate-training: examples to make
    "seed": int,  # generate-training and training seed
    "kb_scope": str,  # golden: train on the applications the golden cases ask about; all: the whole catalog
    "max_new_tokens": int,  # longest answer
    "top_k": int,  # RAG: retrieved records per question
    "context_format": str,  # RAG: card (one field a line) | text
    "shots": int,  # worked examples before a completion prompt's question
    "prompt_style": str,  # the rag system's: auto (by the registry's instruct flag) | chat | completion
    "golden": list,  # the profile's golden sets
}
#: FinetuneConfig fields a recipe may not set: the harness owns them
HARNESS_FIELDS = {"dataset", "output", "base_model", "eval_dataset", "verbose", "no_cache", "overwrite", "cache_dir"}
TOP_KEYS = {"kb": str, "golden": list, "models": list, "systems": list, "baseline": str, "report": str,
            "train": dict, "profiles": dict, "gates": dict}
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
        raise DyagError(f"{path}: cannot read it ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise DyagError(f"{path}: invalid TOML ({exc})") from None


def parse_config(table: dict, path: Path) -> ProjectConfig:
    """Check ``table`` (the ``[tool.dyag]`` content of ``path``) and resolve its paths."""
    where = "[tool.dyag]" if path.name == "pyproject.toml" else "dyag.toml"
    _check_keys(table, TOP_KEYS, where, path)
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
        train=_recipe(table.get("train", {}), f"{where}.train", path),
        profiles={name: _recipe(_table(recipe, f"{where}.profiles.{name}", path), f"{where}.profiles.{name}", path)
                  for name, recipe in _table(table.get("profiles", {}), f"{where}.profiles", path).items()},
        gates=_gates(table.get("gates", {}), f"{where}.gates", path),
    )
    if config.golden is not None and not config.golden:
        raise DyagError(f"{path}: {where} golden is an empty list")
    return config


def _check_keys(table: dict, allowed: dict[str, type], where: str, path: Path) -> None:
    for key, value in table.items():
        if key not in allowed:
            raise DyagError(f"{path}: unknown key {where}.{key} (known: {', '.join(sorted(allowed))})")
        expected = allowed[key]
        ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
        if expected is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok:
            raise DyagError(f"{path}: {where}.{key} must be {_type_name(expected)}, got {type(value).__name__} "
                            f"{value!r}")


def _type_name(t: type) -> str:
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false", list: "a list",
            dict: "a table"}.get(t, t.__name__)


def _table(value, where: str, path: Path) -> dict:
    if not isinstance(value, dict):
        raise DyagError(f"{path}: {where} must be a table, got {type(value).__name__}")
    return value


def _strings(value, where: str, path: Path) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise DyagError(f"{path}: {where} must be a list of strings, got {value!r}")
    return value


def _existing(root: Path, name: str, where: str, path: Path) -> Path:
    if not isinstance(name, str):
        raise DyagError(f"{path}: {where} must be a string, got {name!r}")
    target = root / name
    if not target.is_file():
        raise DyagError(f"{path}: {where}: file not found: {target}")
    return target


def _catalog(root: Path, name, where: str, path: Path) -> Path:
    """``"sample"`` is dyag's packaged catalog; anything else a file relative to the configuration."""
    from dyag.data.kb import SAMPLE_KB_NAME, sample_kb_path

    return sample_kb_path() if name == SAMPLE_KB_NAME else _existing(root, name, where, path)


def _recipe(table: dict, where: str, path: Path) -> dict:
    """A recipe: RECIPE_KEYS plus FinetuneConfig's fields, types checked against the dataclass."""
    from dyag.training.config import FinetuneConfig

    fields = {f.name: f for f in dataclasses.fields(FinetuneConfig) if f.name not in HARNESS_FIELDS}
    allowed = {**{name: _field_type(f) for name, f in fields.items()}, **RECIPE_KEYS}
    _check_keys(table, allowed, where, path)
    recipe = dict(table)
    if "dataset" in recipe:
        recipe["dataset"] = str(_existing(path.parent, recipe["dataset"], f"{where}.dataset", path))
    if "golden" in recipe:
        recipe["golden"] = [str(_existing(path.parent, g, f"{where}.golden", path))
                            for g in _strings(recipe["golden"], f"{where}.golden", path)]
    if recipe.get("method", "augmented") not in ("simple", "augmented"):
        raise DyagError(f"{path}: {where}.method must be simple or augmented, got {recipe['method']!r}")
    if recipe.get("kb_scope", "golden") not in ("golden", "all"):
        raise DyagError(f"{path}: {where}.kb_scope must be golden or all, got {recipe['kb_scope']!r}")
    return recipe


def _field_type(f: dataclasses.Field) -> type:
    text = str(f.type)
    if text.startswith("float"):
        return float
    if text.startswith("int"):
        return int
    if text.startswith("bool"):
        return bool
    if text.startswith("list"):
        return list
    return str


def _gates(table: dict, where: str, path: Path) -> dict:
    """Gate thresholds: numbers by name, ``beats_base`` a list, sub-tables per kind or per model."""
    from dyag.data.golden import SPLITS
    from dyag.gates import DEFAULT_GATES, FLOOR_GATES

    SPLIT_GATES = [sp for sp in SPLITS if sp != "unspecified"]
    table = _table(table, where, path)

    def check_level(level: dict, here: str, nested: bool) -> None:
        for key, value in level.items():
            if isinstance(value, dict):
                if not nested:
                    raise DyagError(f"{path}: {here}.{key} is nested too deep")
                check_level(value, f"{here}.{key}", nested=False)
            elif key in GATE_LISTS:
                _strings(value, f"{here}.{key}", path)
            elif (key not in DEFAULT_GATES if "@" not in key else
                  key.split("@", 1)[0] not in FLOOR_GATES or key.split("@", 1)[1] not in SPLIT_GATES):
                raise DyagError(f"{path}: unknown gate {here}.{key} (known: "
                                f"{', '.join(sorted([*DEFAULT_GATES, *GATE_LISTS]))}, and <{'|'.join(FLOOR_GATES)}>@<split> "
                                f"with a split among {', '.join(SPLIT_GATES)})")
            elif not isinstance(value, (int, float)) or isinstance(value, bool):
                raise DyagError(f"{path}: {here}.{key} must be a number, got {value!r}")

    for key, value in table.items():
        if isinstance(value, dict):
            check_level(value, f"{where}.{key}", nested=True)
        else:
            check_level({key: value}, where, nested=False)
    return table
