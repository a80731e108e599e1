"""One typed dataclass per configuration; the CLI flags, pytest options and YAML files are views of it.

:func:`option_specs` is the one derivation: each field becomes ``(flags, kwargs)``, which
``argparse``'s ``add_argument`` and pytest's ``parser.addoption`` both accept. A field's
``metadata`` says how it looks on the command line (all keys optional):

- ``help``: the help string; the default is appended (``(required)`` without one), or put where the
  help says ``{default}``;
- ``flag``: the spelling(s), e.g. ``"--model"`` or ``("-o", "--output")`` (default ``--field-name``);
- ``positional``: a positional argument (a list field takes one or more values);
- ``choices``: the allowed values (of each item, for a list field);
- ``metavar``, ``type`` (a ``str -> value`` parser replacing the one the annotation implies);
- ``repeat``: a list field given as a repeatable flag (``--golden a --golden b``), not ``a,b``;
- ``cli``: ``False`` keeps the field off the command line (YAML only).

Types: ``bool`` is a switch (``--x``; ``--x/--no-x`` when it defaults to true), ``int``/``float``
parse as such, ``list[...]``/``tuple[...]`` take ``a,b,c`` (items parsed by their type), the rest
are strings. Every flag defaults to ``None`` so that lower layers (YAML, ``[tool.dyag]``, the
dataclass) fill in what the command line leaves out; :func:`build_config` merges them.

>>> @dataclass
... class C:
...     epochs: float = field(default=1, metadata={"help": "passes over the data"})
...     models: tuple[str, ...] = field(default=("a", "b"), metadata={"help": "models", "flag": "--model-list"})
>>> [(flags, kw["help"]) for flags, kw in option_specs(C)]
[(['--epochs'], 'passes over the data (default: 1)'), (['--model-list'], 'models (default: a,b)')]
>>> parser = argparse.ArgumentParser(); add_dataclass_arguments(parser, C)
>>> build_config(C, parser.parse_args(["--model-list", "x,y"]))
C(epochs=1, models=('x', 'y'))
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field  # noqa: F401  (the doctest above)
from pathlib import Path
from typing import Any

from dyag.errors import DyagError

#: the keyword arguments a spec may carry: what argparse's add_argument and pytest's addoption share
SPEC_KEYS = ("dest", "action", "default", "help", "type", "choices", "metavar", "nargs")


def _base_type(tp: Any) -> tuple[Any, bool]:
    """``int | None`` -> (int, True); ``list[str] | None`` -> (list[str], True)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return (args[0] if len(args) == 1 else str), True
    return tp, False


def _field_default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def _meta(f: dataclasses.Field, metadata: Mapping[str, Mapping] | None) -> dict:
    """The field's metadata, refined by a command's ``metadata[field name]``."""
    return {**f.metadata, **((metadata or {}).get(f.name) or {})}


def cli_fields(cls: type, metadata: Mapping[str, Mapping] | None = None) -> list[tuple[dataclasses.Field, dict]]:
    """``(field, metadata)`` of the fields of ``cls`` that appear on the command line."""
    out = []
    for f in dataclasses.fields(cls):
        meta = _meta(f, metadata)
        if meta.get("cli", True):
            out.append((f, meta))
    return out


def flag_names(f: dataclasses.Field, meta: Mapping | None = None, *, prefix: str = "--") -> list[str]:
    """The spellings of a field's flag: ``metadata['flag']`` or ``<prefix>field-name``."""
    meta = f.metadata if meta is None else meta
    if meta.get("positional"):
        return [f.name]
    flag = meta.get("flag")
    if flag:
        return [flag] if isinstance(flag, str) else list(flag)
    return [prefix + f.name.replace("_", "-")]


def flag_name(f: dataclasses.Field, meta: Mapping | None = None, *, prefix: str = "--") -> str:
    """The name a user error quotes: the long spelling (``--output``), or ``KB`` for a positional."""
    meta = f.metadata if meta is None else meta
    if meta.get("positional"):
        return meta.get("metavar") or f.name.upper()
    return flag_names(f, meta, prefix=prefix)[-1]


def _scalar_parser(tp: Any) -> Callable[[str], Any]:
    return tp if tp in (int, float) else str


def _item_type(tp: Any) -> Any:
    args = [a for a in typing.get_args(tp) if a is not Ellipsis]
    return args[0] if args and all(a == args[0] for a in args) else str


def _checked(parse: Callable[[str], Any], choices: tuple | None) -> Callable[[str], Any]:
    """``parse`` that also refuses values outside ``choices`` (items of a list are checked one by one)."""
    if not choices:
        return parse

    def check(text: str) -> Any:
        value = parse(text)
        if value not in choices:
            raise argparse.ArgumentTypeError(f"unknown value {text!r} (choose from {', '.join(map(str, choices))})")
        return value

    check.__name__ = getattr(parse, "__name__", "value")
    return check


def _list_parser(item: Callable[[str], Any], container: type) -> Callable[[str], Any]:
    """``"a, b,c"`` -> ``container`` of parsed items (empty parts dropped)."""

    def parse(text: str):
        try:
            return container(item(p.strip()) for p in str(text).split(",") if p.strip())
        except (TypeError, ValueError):
            kind = getattr(item, "__name__", "value")
            raise argparse.ArgumentTypeError(f"expected a comma list of {kind}, got {text!r}") from None

    parse.__name__ = "list"
    return parse


def format_default(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def is_empty(value: Any) -> bool:
    """Nothing worth showing as a default: None, a switch that is off, an empty string or list."""
    return value is None or value is False or (isinstance(value, (str, list, tuple)) and not value)


def _help(f: dataclasses.Field, meta: Mapping, default: Any) -> str:
    text = meta.get("help", "")
    if default is dataclasses.MISSING:
        if not meta.get("positional"):
            text += " (required)"
    elif "{default}" in text:
        text = text.replace("{default}", format_default(default))
    elif not is_empty(default) and "default" not in text:
        text += f" (default: {format_default(default)})"
    return text.strip().replace("%", "%%")  # argparse %-formats help strings


def option_specs(
    cls: type, *, prefix: str = "--", dest_prefix: str = "", metadata: Mapping[str, Mapping] | None = None
) -> list[tuple[list[str], dict[str, Any]]]:
    """``(flags, kwargs)`` per command-line field of ``cls``, for ``add_argument`` or pytest's ``addoption``.

    ``dest`` is ``dest_prefix + field name``; every default is ``None`` (the dataclass default is
    shown in the help and applied by :func:`build_config`). ``metadata`` refines fields by name.
    """
    hints = typing.get_type_hints(cls)
    specs = []
    for f, meta in cli_fields(cls, metadata):
        tp, _ = _base_type(hints[f.name])
        default = _field_default(f)
        positional = bool(meta.get("positional"))
        choices = tuple(meta["choices"]) if meta.get("choices") else None
        kwargs: dict[str, Any] = {"help": _help(f, meta, default)}
        if not positional:
            kwargs["dest"] = dest_prefix + f.name
        is_list = typing.get_origin(tp) in (list, tuple)
        if tp is bool:
            kwargs["action"] = argparse.BooleanOptionalAction if default is True else "store_true"
        elif is_list:
            container = tuple if typing.get_origin(tp) is tuple else list
            item = meta.get("type") or _scalar_parser(_item_type(tp))
            if positional:
                kwargs["type"] = _checked(item, choices)
                kwargs["nargs"] = "+" if default is dataclasses.MISSING else "*"
            elif meta.get("repeat"):
                kwargs["action"] = "append"
                kwargs["type"] = _checked(item, choices)
            else:
                kwargs["type"] = _list_parser(_checked(item, choices), container)
                kwargs["metavar"] = "A,B"
        else:
            kwargs["type"] = meta.get("type") or _scalar_parser(tp)
            if choices:
                kwargs["choices"] = choices
            if positional and default is not dataclasses.MISSING:
                kwargs["nargs"] = "?"
        if "metavar" in meta:
            kwargs["metavar"] = meta["metavar"]
        elif meta.get("flag") and "metavar" not in kwargs and tp is not bool:  # --model, not ADAPTER
            kwargs["metavar"] = flag_name(f, meta).lstrip("-").replace("-", "_").upper()
        kwargs["default"] = None
        specs.append((flag_names(f, meta, prefix=prefix), kwargs))
    return specs


def add_dataclass_arguments(
    parser: argparse.ArgumentParser, *classes: type, metadata: Mapping[str, Mapping] | None = None
) -> None:
    """Add one argument per command-line field of each of ``classes`` (see :func:`option_specs`)."""
    for cls in classes:
        for flags, kwargs in option_specs(cls, metadata=metadata):
            parser.add_argument(*flags, **kwargs)


def parse_option_text(kwargs: Mapping[str, Any], text: str, *, name: str) -> Any:
    """A spec's value from text that did not come through argparse (a pytest ini key), checked the same way."""
    parse = kwargs.get("type") or str
    try:
        value = parse(text)
    except (argparse.ArgumentTypeError, TypeError, ValueError) as exc:
        detail = str(exc) if isinstance(exc, argparse.ArgumentTypeError) else f"invalid {parse.__name__} value"
        raise DyagError(f"{name}: {detail}: {text!r}") from None
    choices = kwargs.get("choices")
    if choices and value not in choices:
        raise DyagError(f"{name} must be one of {', '.join(map(str, choices))}, got {text!r}")
    return [value] if kwargs.get("action") == "append" else value


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


def given_values(cls: type, get: Callable[[str], Any], *, dest_prefix: str = "",
                 metadata: Mapping[str, Mapping] | None = None) -> dict[str, Any]:
    """The command-line fields of ``cls`` that were given: ``get(dest)`` is not None."""
    values = {}
    for f, _ in cli_fields(cls, metadata):
        value = get(dest_prefix + f.name)
        if value is not None:
            values[f.name] = value
    return values


def build_config(cls: type, args: argparse.Namespace | None = None, *, config_file: str | None = None,
                 defaults: Mapping[str, Any] | None = None, metadata: Mapping[str, Mapping] | None = None,
                 **overrides):
    """Merge dataclass defaults < ``defaults`` (a project's ``[tool.dyag]``) < YAML file < CLI flags < ``overrides``
    into a ``cls`` instance (:func:`dyag.settings.layered`)."""
    from dyag.settings import layered

    given = given_values(cls, lambda dest: getattr(args, dest, None), metadata=metadata) if args is not None else {}
    values = layered(overrides, given, load_yaml_config(config_file, cls) if config_file else None, defaults)
    missing = [
        flag_name(f, _meta(f, metadata))
        for f in dataclasses.fields(cls)
        if f.name not in values and _field_default(f) is dataclasses.MISSING
    ]
    if missing:
        raise DyagError(f"missing required option(s): {', '.join(missing)}")
    hints = typing.get_type_hints(cls)
    for name, value in values.items():
        check_option_type(name, value, hints[name], source=config_file)
    try:
        return cls(**values)
    except TypeError as exc:
        raise DyagError(f"invalid configuration: {exc}") from None


def positive_int(text: str) -> int:
    """An argument parser for counts: ``"3"`` -> 3; ``"0"`` is refused."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


# --- commands: parse the configuration(s), then run --------------------------------------------


def _plain(doc: str) -> str:
    """A docstring as terminal text: dedented, without reStructuredText's roles, quotes and ``::``."""
    import inspect
    import re

    text = re.sub(r":\w+:`([^`]*)`", r"\1", inspect.cleandoc(doc))  # :func:`name` -> name
    return text.replace("``", "").replace("::\n", ":\n")


def run_configs(run: Callable[..., int]) -> tuple[type, ...]:
    """The configuration dataclasses ``run`` takes: its annotated parameters, in order."""
    hints = typing.get_type_hints(run)
    hints.pop("return", None)
    return tuple(hints.values())


def add_command(
    subparsers: Any,
    name: str,
    run: Callable[..., int] | None,
    *configs: type,
    help: str,
    description: str | None = None,
    yaml_config: bool = False,
    metadata: Mapping[str, Mapping] | None = None,
    actions: Mapping[str, tuple[Callable[..., int], str]] | None = None,
) -> argparse.ArgumentParser:
    """A subcommand whose flags are the fields of ``configs`` (default: ``run``'s annotated parameters);
    ``run(*instances)`` gets them built. ``description`` may be a docstring (its ``rst`` quotes are dropped).

    With ``yaml_config``, ``--config FILE.yaml`` fills the first configuration (flags override it).
    ``actions`` (name -> (run, help)) makes a group of subcommands; the group alone prints its help, exit 2.

    >>> sub = argparse.ArgumentParser(prog="x").add_subparsers()
    >>> @dataclass
    ... class Hello:
    ...     name: str = field(metadata={"help": "who", "positional": True})
    >>> def hello(config: Hello) -> int:
    ...     return print("hi", config.name) or 0
    >>> args = add_command(sub, "hello", hello, help="say hello").parse_args(["you"])
    >>> args.func(args)
    hi you
    0
    """
    parser = subparsers.add_parser(name, help=help, description=_plain(description or help),
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    if yaml_config:
        parser.add_argument("--config", metavar="FILE.yaml", help="read these options from a YAML file (flags override it)")
    configs = configs or (run_configs(run) if run else ())
    add_dataclass_arguments(parser, *configs, metadata=metadata)
    if actions:
        group = parser.add_subparsers(dest=f"{name}_command", metavar="ACTION")
        for action, (action_run, action_help) in actions.items():
            add_command(group, action, action_run, help=action_help)

    def func(args: argparse.Namespace) -> int:
        if run is None:
            parser.print_help()
            return 2
        from dyag.settings import command_defaults

        config_file = getattr(args, "config", None) if yaml_config else None
        built = [build_config(cls, args, config_file=config_file if i == 0 else None, defaults=defaults,
                              metadata=metadata)
                 for i, (cls, defaults) in enumerate(zip(configs, command_defaults(configs)))]
        return run(*built)

    parser.set_defaults(func=func)
    return parser
