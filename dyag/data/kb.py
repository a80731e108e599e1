"""The knowledge base: one application a line, validated up front.

A record (:class:`CatalogRecord`) needs ``id``, ``title`` and ``text`` (non-empty strings, the
``id`` without surrounding spaces); ``metadata`` is an optional object whose known keys are
type-checked (:class:`CatalogMetadata`; ``None`` counts as absent). Other keys, at either
level, are kept as they are. The reader returns each line as the plain dict it was, once
validated: the catalog's consumers read records as dicts.

>>> records = read_kb(sample_kb_path())
>>> records[0]["id"]
'gidaf'
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Annotated, get_origin

from pydantic import AfterValidator, ConfigDict, StrictInt

from dyag.utils.jsonl import shown
from dyag.utils.records import Record, Text, allowed_types, read_records


def _no_surrounding_spaces(value: str) -> str:
    if value != value.strip():
        raise ValueError(f"has leading or trailing spaces: {shown(value)}")
    return value


def _not_empty(value: list) -> list:
    if not value:
        raise ValueError("is empty")
    return value


def _not_negative(value: int) -> int:
    if value < 0:
        raise ValueError(f"must be >= 0, got {value}")
    return value


class CatalogMetadata(Record):
    """The known keys of a record's ``metadata`` and their types; other keys are kept."""

    model_config = ConfigDict(extra="allow")

    nom: Text | None = None
    description: Text | None = None
    hebergeur: Text | None = None
    technologies: Annotated[list[Text], AfterValidator(_not_empty)] | None = None
    domaine: Text | None = None
    responsable: Text | None = None
    criticite: Text | None = None
    utilisateurs: Annotated[StrictInt, AfterValidator(_not_negative)] | None = None
    version: Text | None = None
    documentation: Text | None = None
    sigle: Text | None = None


class CatalogRecord(Record):
    """One application of the catalog: one line of a knowledge-base JSONL file; other keys are kept."""

    model_config = ConfigDict(extra="allow")

    id: Annotated[Text, AfterValidator(_no_surrounding_spaces)]
    title: Text
    text: Text
    metadata: CatalogMetadata | None = None


#: Known metadata keys and the type each must have (``None`` counts as absent).
METADATA_TYPES: dict[str, type] = {
    name: get_origin(kind) or kind
    for name, info in CatalogMetadata.model_fields.items()
    for kind in allowed_types(info.annotation)[:1]
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
    return read_records(path, CatalogRecord, what="knowledge base", as_read=True)


def app_name(record: dict) -> str:
    """The name used in questions: ``metadata.nom`` or, failing that, ``title``."""
    metadata = record.get("metadata") or {}
    return metadata.get("nom") or record["title"]
