"""Views of :mod:`dyag.settings`: the section ``dyag init`` writes and the README's configuration reference.

Both are written from the settings' definitions (``python -m dyag.settings`` rewrites the README's).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from dyag.settings import PROJECT_KEYS, _default, recipe_fields

def toml_value(value: Any) -> str:
    """``value`` as TOML: ``"a \\"b\\""``, ``true``, ``[1, 2]``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return repr(value)


def _shown_default(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, float) and 0 < abs(value) < 1e-2:
        return f"{value:.0e}".replace("e-0", "e-")
    return toml_value(value).strip('"')


#: the recipe settings ``dyag init`` writes as keys; the others are written as comments
INIT_RECIPE = ("method", "kb_scope", "epochs", "batch_size", "learning_rate", "lora_rank", "max_new_tokens",
               "top_k", "context_format", "shots", "prompt_style")


def init_recipe_lines() -> list[str]:
    """The ``[tool.dyag.train]`` body ``dyag init`` writes: the main settings with their defaults, the rest
    commented out."""
    lines = []
    for name, f in recipe_fields().items():
        if name in ("golden", "seed"):
            continue
        if f.default is None:
            text = f"# {name} ="
        else:
            value = _shown_default(f.default) if isinstance(f.default, float) else toml_value(f.default)
            text = f"{name} = {value}" if name in INIT_RECIPE else f"# {name} = {value}"
        lines.append(f"{text:<42}# {_first_sentence(f.help)}")
    return lines


def init_gate_lines() -> list[str]:
    """The ``[tool.dyag.gates]`` body ``dyag init`` writes: dyag's default thresholds."""
    from dyag.gates import DEFAULT_BEATS_BASE, DEFAULT_GATES, FLOOR_GATES

    notes = {next(n for n in DEFAULT_GATES if n not in FLOOR_GATES): "largest share of answers allowed to break the rule",
             next(n for n in DEFAULT_GATES if n in FLOOR_GATES): "lowest mean allowed"}
    lines = [f"{name} = {toml_value(value)}" for name, value in DEFAULT_GATES.items()]
    lines = [f"{line:<42}# {notes[name]}" if name in notes else line for line, name in zip(lines, DEFAULT_GATES)]
    return lines + [f"{'beats_base = ' + toml_value(DEFAULT_BEATS_BASE):<42}# the fine-tuned system must beat the base on these"]


def _first_sentence(text: str) -> str:
    text = text.split(" (default", 1)[0]
    return text.split(". ", 1)[0].split("; ", 1)[0]


def reference() -> str:
    """The README's configuration reference (``python -m dyag.settings`` rewrites it)."""
    lines = ["| key | default | meaning |", "|---|---|---|"]
    for name, (_, default, meaning) in PROJECT_KEYS.items():
        key = f"`[tool.dyag.{name}]`" if name in ("train", "gates") else (
            "`[tool.dyag.profiles.<name>]`" if name == "profiles" else f"`{name}`")
        lines.append(f"| {key} | {default} | {meaning} |")
    lines += ["", "Recipe keys (`train` and each profile; a profile's keys win). Each is also a flag of the "
              "command in the last column, which reads `[tool.dyag.train]` too (the keys it sets; its flags win):", "",
              "| key | default | meaning | command |", "|---|---|---|---|"]
    commands = {"TrainingSource": "the harness", "GenerateConfig": "`generate-training`",
                "FinetuneConfig": "`finetune`", "EvaluationConfig": "`evaluate-finetuned`"}
    for name, f in recipe_fields().items():
        default = "`all`" if name == "count" else f"`{_shown_default(f.default)}`"
        own = _default(next(x for x in dataclasses.fields(f.owner) if x.name == name))
        if own != f.default:  # RECIPE_DEFAULTS: the harness departs from the command's own default
            default += f" (the command alone: `{_shown_default(own)}`)"
        meaning = f.help.replace("|", "\\|")
        lines.append(f"| `{name}` | {default} | {meaning} | {commands[f.owner.__name__]} |")
    return "\n".join(lines)


README_BEGIN, README_END = "<!-- settings reference: python -m dyag.settings -->", "<!-- end of settings reference -->"


def write_reference(readme: Path) -> bool:
    """Rewrite the reference between the README's markers; True when it changed."""
    from dyag.utils.atomic import atomic_write_text

    text = readme.read_text(encoding="utf-8")
    head, _, rest = text.partition(README_BEGIN)
    _, _, tail = rest.partition(README_END)
    new = f"{head}{README_BEGIN}\n{reference()}\n{README_END}{tail}"
    if new != text:
        atomic_write_text(readme, new)
    return new != text


