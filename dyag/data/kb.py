"""The knowledge base: one application a line, validated up front.

A record needs ``id``, ``title`` and ``text`` (non-empty strings); ``metadata`` is an
optional object whose known keys are type-checked (see :data:`METADATA_TYPES`).
Other keys, at either level, are kept as they are.

>>> records = read_kb(sample_kb_path())
>>> records[0]["id"]
'gidaf'
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from dyag.errors import DyagError
from dyag.utils.jsonl import iter_jsonl, require_field, shown

#: Known metadata keys and the type each must have (``None`` counts as absent).
METADATA_TYPES: dict[str, type] = {
    "nom": str,
    "description": str,
    "hebergeur": str,
    "technologies": list,
    "domaine": str,
    "responsable": str,
    "criticite": str,
    "utilisateurs": int,
    "version": str,
    "documentation": str,
    "sigle": str,
}

SAMPLE_KB_NAME = "sample"


def sample_kb_path() -> Path:
    """Path of the packaged fictional catalog (about fifty applications, in French)."""
    return Path(str(resources.files("dyag.data.sample").joinpath("applications.jsonl")))


def resolve_kb_path(kb: str | os.PathLike) -> Path:
    """``"sample"`` -> the packaged catalog; anything else is a path (``./sample`` for a file named so)."""
    if str(kb) == SAMPLE_KB_NAME:
        return sample_kb_path()
    return Path(kb)


def read_kb(path: str | os.PathLike) -> list[dict]:
    """Read and validate a knowledge base; every error is one line ``<file>:<line>: ...``."""
    path = Path(path)
    records: list[dict] = []
    first_line: dict[str, int] = {}
    for lineno, obj in iter_jsonl(path, what="knowledge base"):
        record = validate_record(path, lineno, obj)
        rid = record["id"]
        if rid in first_line:
            raise DyagError(f"{path}:{lineno}: field 'id': duplicate id {shown(rid)} (first at line {first_line[rid]})")
        first_line[rid] = lineno
        records.append(record)
    if not records:
        raise DyagError(f"{path}: empty knowledge base (no JSON lines)")
    return records


def validate_record(path: Path, lineno: int, obj: dict) -> dict:
    """Check one record's required fields and known metadata types; return it unchanged."""
    for name in ("id", "title", "text"):
        require_field(path, lineno, obj, name, str)
    if obj["id"] != obj["id"].strip():
        raise DyagError(f"{path}:{lineno}: field 'id' has leading or trailing spaces: {shown(obj['id'])}")
    metadata = obj.get("metadata")
    if metadata is None:
        return obj
    if not isinstance(metadata, dict):
        raise DyagError(f"{path}:{lineno}: field 'metadata' must be an object, got {type(metadata).__name__}")
    for key, kind in METADATA_TYPES.items():
        value = metadata.get(key)
        if value is not None:
            _check_metadata_value(path, lineno, key, value, kind)
    return obj


def _check_metadata_value(path: Path, lineno: int, key: str, value, kind: type) -> None:
    where = f"{path}:{lineno}: field 'metadata.{key}'"
    if isinstance(value, bool) or not isinstance(value, kind):
        expected = {str: "a string", list: "a list of strings", int: "an integer"}[kind]
        raise DyagError(f"{where} must be {expected}, got {type(value).__name__}")
    if kind is str and not value.strip():
        raise DyagError(f"{where} is empty")
    if kind is int and value < 0:
        raise DyagError(f"{where} must be >= 0, got {value}")
    if kind is list:
        if not value:
            raise DyagError(f"{where} is empty")
        for item in value:
            if not isinstance(item, str) or not item.strip():
                raise DyagError(f"{where} must be a list of non-empty strings, got item {item!r}")


def app_name(record: dict) -> str:
    """The name used in questions: ``metadata.nom`` or, failing that, ``title``."""
    metadata = record.get("metadata") or {}
    return metadata.get("nom") or record["title"]
