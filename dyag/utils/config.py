"""One typed dataclass per configuration; the CLI flags and YAML files are views of it.

A field's ``metadata`` carries its help string (``help``), an optional CLI
spelling (``flag``) and whether it appears on the command line (``cli``).

>>> @dataclass
... class C:
...     epochs: float = field(default=1, metadata={"help": "passes over the data"})
>>> parser = argparse.ArgumentParser(); add_dataclass_arguments(parser, C)  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import types
import typing
from pathlib import Path
from typing import Any

from dyag.errors import DyagError


def _base_type(tp: Any) -> tuple[Any, bool]:
    """``int | None`` -> (int, True); ``list[str] | None`` -> (list[str], True)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return (args[0] if len(args) == 1 else str), True
    return tp, False


def flag_name(f: dataclasses.Field) -> str:
    return f.metadata.get("flag") or "--" + f.name.replace("_", "-")


def add_dataclass_arguments(parser: argparse.ArgumentParser, cls: type, *, skip: tuple[str, ...] = ()) -> None:
    """Add one flag per field of ``cls`` with default ``None`` (so YAML values can fill in)."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip or not f.metadata.get("cli", True):
            continue
        tp, _ = _base_type(hints[f.name])
        default = f.default if f.default is not dataclasses.MISSING else None
        help_text = f.metadata.get("help", "")
        if default not in (None, False, "") and tp is not bool:
            help_text += f" (default: {default})"
        kwargs: dict[str, Any] = {"dest": f.name, "default": None, "help": help_text}
        if tp is bool:  # a switch that defaults on also gets its --no-... form
            kwargs["action"] = argparse.BooleanOptionalAction if default is True else "store_true"
        elif typing.get_origin(tp) in (list, tuple):
            kwargs["type"] = lambda s: [p.strip() for p in s.split(",") if p.strip()]
            kwargs["metavar"] = "A,B"
        else:
            kwargs["type"] = tp if tp in (int, float) else str
        parser.add_argument(flag_name(f), **kwargs)


def load_yaml_config(path: str | os.PathLike, cls: type) -> dict[str, Any]:
    """Read a YAML mapping whose keys are ``cls`` fields (dashes or underscores)."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise DyagError(f"config file not found: {p}")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise DyagError(f"{p}: invalid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise DyagError(f"{p}: expected a mapping of options, got {type(data).__name__}")
    names = {f.name for f in dataclasses.fields(cls)}
    out = {}
    for key, value in data.items():
        name = str(key).replace("-", "_")
        if name not in names:
            raise DyagError(f"{p}: unknown option '{key}' (known: {', '.join(sorted(names))})")
        out[name] = value
    return out


def check_option_type(name: str, value: Any, hint: Any, *, source: str | None = None) -> None:
    """A one-line DyagError when ``value`` cannot be a ``hint`` (YAML values arrive with any type)."""
    tp, optional = _base_type(hint)
    if value is None and optional:
        return
    if tp is bool:
        ok = isinstance(value, bool)
    elif tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif tp is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif typing.get_origin(tp) in (list, tuple):
        items = value if isinstance(value, (list, tuple)) else None
        ok = isinstance(value, str) or (items is not None and all(
            isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in items))
    elif tp in (str, Path):
        ok = isinstance(value, (str, os.PathLike))
    else:
        ok = True
    if not ok:
        where = f"{source}: " if source else ""
        kind = getattr(tp, "__name__", str(tp))
        raise DyagError(f"{where}option '{name}' must be {kind}, got {type(value).__name__} {value!r}")


def build_config(cls: type, args: argparse.Namespace | None = None, *, config_file: str | None = None, **overrides):
    """Merge defaults < YAML file < CLI flags < ``overrides`` into a ``cls`` instance."""
    values: dict[str, Any] = {}
    if config_file:
        values.update(load_yaml_config(config_file, cls))
    if args is not None:
        for f in dataclasses.fields(cls):
            v = getattr(args, f.name, None)
            if v is not None and v is not False:
                values[f.name] = v
    values.update({k: v for k, v in overrides.items() if v is not None})
    missing = [
        f.name
        for f in dataclasses.fields(cls)
        if f.name not in values and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        flags = ", ".join("--" + m.replace("_", "-") for m in missing)
        raise DyagError(f"missing required option(s): {flags}")
    hints = typing.get_type_hints(cls)
    for name, value in values.items():
        check_option_type(name, value, hints[name], source=config_file)
    try:
        return cls(**values)
    except TypeError as exc:
        raise DyagError(f"invalid configuration: {exc}") from None
