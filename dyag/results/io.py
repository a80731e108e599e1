"""Reading and writing results documents: :func:`parse` (any known version), :func:`read`, :func:`dump`,
:func:`write`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dyag.errors import DyagError
from dyag.results.migrations import MIGRATIONS
from dyag.results.models import SCHEMA_VERSION, Results

def parse(data: Any, *, source: str = "results") -> Results:
    """A :class:`Results` from a JSON object (any known version); a one-line error naming ``source``."""
    if isinstance(data, Results):
        return data
    if not isinstance(data, dict) or "schema_version" not in data:
        raise DyagError(f"{source}: not a dyag results file (expected a JSON object with schema_version)")
    version = data["schema_version"]
    if not isinstance(version, int) or isinstance(version, bool):
        raise DyagError(f"{source}: schema_version must be an integer, got {version!r}")
    if version > SCHEMA_VERSION:
        raise DyagError(f"{source}: schema_version {version} is newer than this dyag reads ({SCHEMA_VERSION}); upgrade dyag")
    while version < SCHEMA_VERSION:
        if version not in MIGRATIONS:
            raise DyagError(f"{source}: unsupported schema_version {version} (this dyag reads {SCHEMA_VERSION})")
        data = MIGRATIONS[version](data)
        version = data["schema_version"]
    try:
        return Results.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
        raise DyagError(f"{source}: {where}: {err['msg']}" + (f" (and {exc.error_count() - 1} more)"
                                                               if exc.error_count() > 1 else "")) from None


def dump(results: Results) -> dict:
    """The JSON object of ``results`` (what :func:`write` stores)."""
    return results.model_dump(mode="json", exclude_none=False)


def read(path: str | os.PathLike) -> Results:
    """Load, migrate and check one results file; a one-line ``DyagError`` naming it otherwise."""
    label = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise DyagError(f"{label}: no such results file") from None
    except IsADirectoryError:
        raise DyagError(f"{label}: is a directory, not a results JSON file") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        raise DyagError(f"{label}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DyagError(f"{label}: not UTF-8 text (byte {exc.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DyagError(f"{label}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise DyagError(f"{label}: not valid JSON (nested too deeply)") from None
    return parse(data, source=label)


def write(path: str | os.PathLike, results: Results) -> Path:
    """Write ``results`` atomically (UTF-8, indented)."""
    from dyag.utils.atomic import atomic_write_json

    try:
        return atomic_write_json(path, dump(results))
    except ValueError as exc:  # NaN/Infinity smuggled in through prediction meta
        raise DyagError(f"{path}: results are not valid JSON ({exc})") from None
