"""Strict JSON Lines (and JSON) reading with errors that name the file and the line."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Iterator

from dyag.errors import DyagError


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def iter_jsonl(path: str | os.PathLike, *, what: str = "file") -> Iterator[tuple[int, dict]]:
    """Yield ``(line_number, object)`` for each non-blank line of ``path``.

    Raises :class:`DyagError` (one line: ``<file>:<line>: <problem>``) on a missing
    file, bytes that are not UTF-8, invalid JSON, NaN/Infinity, or a line that is
    not a JSON object. A UTF-8 byte-order mark and CRLF line ends are accepted.
    """
    path = Path(path)
    if not path.exists():
        raise DyagError(f"{what} not found: {path}")
    if path.is_dir():
        raise DyagError(f"{what} is a directory, expected a JSONL file: {path}")
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DyagError(
                    f"{path}:{lineno}: not UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); "
                    "re-save the file as UTF-8"
                ) from None
            if not line.strip():
                continue
            try:
                obj = json.loads(line, parse_constant=_reject_constant)
            except RecursionError:
                raise DyagError(f"{path}:{lineno}: invalid JSON (nested too deeply)") from None
            except ValueError as exc:
                msg = str(exc).split(": line")[0]
                raise DyagError(f"{path}:{lineno}: invalid JSON ({msg})") from None
            if not isinstance(obj, dict):
                raise DyagError(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}")
            problem = _value_problem(obj)
            if problem:
                raise DyagError(f"{path}:{lineno}: {problem}")
            yield lineno, obj


def _value_problem(value, depth: int = 0) -> str | None:
    """Values JSON parses but nothing downstream can use: 1e999 (infinite) and lone surrogates."""
    if isinstance(value, float):
        return None if math.isfinite(value) else "number out of range (infinite)"
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "string with an invalid \\u escape (lone surrogate)"
        return None
    if isinstance(value, dict):
        items = list(value.keys()) + list(value.values())
    elif isinstance(value, list):
        items = value
    else:
        return None
    for item in items:
        problem = _value_problem(item, depth + 1)
        if problem:
            return problem
    return None


def shown(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters: safe inside a one-line error."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def read_jsonl(path: str | os.PathLike, *, what: str = "file", allow_empty: bool = False) -> list[dict]:
    rows = [obj for _, obj in iter_jsonl(path, what=what)]
    if not rows and not allow_empty:
        raise DyagError(f"{path}: empty {what} (no JSON lines)")
    return rows


def read_json_object(path: str | os.PathLike, *, unreadable_ok: bool = False) -> dict:
    """The JSON object in ``path`` (``{}`` when the file holds another JSON value).

    A missing or invalid file is a one-line DyagError, or ``{}`` with ``unreadable_ok``.

    >>> read_json_object("/nonexistent/config.json", unreadable_ok=True)
    {}
    >>> read_json_object("/nonexistent/config.json")
    Traceback (most recent call last):
    ...
    dyag.errors.DyagError: /nonexistent/config.json: unreadable JSON ([Errno 2] No such file or directory: ...)
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        if unreadable_ok:
            return {}
        raise DyagError(f"{path}: unreadable JSON ({exc})") from exc
    return data if isinstance(data, dict) else {}


def require_field(path, lineno: int, obj: dict, field: str, kind: type | tuple[type, ...], *, nonempty: bool = True):
    """Return ``obj[field]`` checked against ``kind`` or raise a one-line DyagError."""
    if field not in obj:
        raise DyagError(f"{path}:{lineno}: missing field '{field}'")
    value = obj[field]
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise DyagError(f"{path}:{lineno}: field '{field}' must be {_kind_name(kind)}, got bool")
    if not isinstance(value, kind):
        raise DyagError(f"{path}:{lineno}: field '{field}' must be {_kind_name(kind)}, got {type(value).__name__}")
    if nonempty and isinstance(value, (str, list)) and not (value.strip() if isinstance(value, str) else value):
        raise DyagError(f"{path}:{lineno}: field '{field}' is empty")
    if isinstance(value, float) and not math.isfinite(value):
        raise DyagError(f"{path}:{lineno}: field '{field}' is not a finite number")
    return value


def _kind_name(kind) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "a string", list: "a list", dict: "an object", int: "an integer", float: "a number"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)
