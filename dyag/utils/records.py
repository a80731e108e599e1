"""Input records: one pydantic model per kind of input line, one reader, errors in one line.

A golden case (:class:`dyag.data.golden.GoldenCase`), a catalog record
(:class:`dyag.data.kb.CatalogRecord`) and a prediction (:class:`dyag.evaluation.scoring.Prediction`)
are each one :class:`Record` model. :func:`read_records` reads a JSONL file of them (through
:func:`dyag.utils.jsonl.iter_jsonl`) and :func:`validate_records` checks objects already in
memory; both refuse duplicate keys. Every error is one :class:`~dyag.errors.DyagError` line,
``<file>:<line>: <what is wrong>`` (``<what> #<n>: <what is wrong>`` in memory).

>>> class Row(Record):
...     id: Text
...     note: Text = "-"
>>> validate_records([{"id": "a"}, {"id": "b", "note": "ok"}], Row)[1].note
'ok'
>>> validate_records([{"id": "a", "note": 2}], Row, what="row")
Traceback (most recent call last):
...
dyag.errors.DyagError: row #1: field 'note' must be a string, got int
>>> validate_records([{"id": "a"}, {"id": "a"}], Row, what="row")
Traceback (most recent call last):
...
dyag.errors.DyagError: row #2: field 'id': duplicate id 'a' (first at row #1)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Hashable, Iterable, Literal, Mapping, TypeVar, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, StrictStr, ValidationError, ValidationInfo

from dyag.errors import DyagError
from dyag.utils.jsonl import iter_jsonl, shown

__all__ = ["LENIENT", "Record", "Text", "allowed_types", "read_records", "record_problem", "validate_record",
           "validate_records"]

#: Validation context that accepts empty strings where a :data:`Text` is expected (for partial
#: objects built in code, e.g. a golden case of ``{"id": "q", "kb_ids": [...]}`` given to a rule).
LENIENT = {"lenient": True}


def _nonblank(value: str, info: ValidationInfo) -> str:
    if not value.strip() and not (info.context or {}).get("lenient"):
        raise ValueError("is empty")
    return value


#: A string with something in it besides spaces (no coercion: ``3`` is not ``"3"``).
Text = Annotated[StrictStr, AfterValidator(_nonblank)]

M = TypeVar("M", bound="Record")


class Record(BaseModel):
    """An input record: closed (an unknown key is an error), unique in its file by :meth:`record_key`."""

    model_config = ConfigDict(extra="forbid")

    def record_key(self) -> Hashable:
        """What must be unique among the records of one file (the ``id``)."""
        return self.id  # type: ignore[attr-defined]

    def duplicate(self, first: str) -> str:
        """The error for a second record with this key; ``first`` says where the first one is."""
        return f"field 'id': duplicate id {shown(self.record_key())} (first at {first})"


def read_records(path: str | os.PathLike, model: type[M], *, what: str, allow_empty: bool = False,
                 as_read: bool = False) -> list:
    """The records of a JSONL file, each line validated by ``model``; duplicates refused.

    ``what`` names the file in errors (``"golden set"``: "golden set not found: ...", "empty golden
    set"). ``as_read=True`` returns the JSON objects as read (key order and all), once each has
    been validated, instead of the models.
    """
    path = Path(path)
    records: list = []
    first: dict[Hashable, str] = {}
    for lineno, obj in iter_jsonl(path, what=what):
        where = f"{path}:{lineno}"
        record = validate_record(obj, model, where=where)
        _refuse_duplicate(record, first, f"line {lineno}", where)
        records.append(obj if as_read else record)
    if not records and not allow_empty:
        raise DyagError(f"{path}: empty {what} (no JSON lines)")
    return records


def validate_records(items: Iterable[Any], model: type[M], *, what: str = "record",
                     context: dict | None = None) -> list[M]:
    """``items`` (models, mappings or objects with the fields as attributes) as ``model``\\ s; duplicates refused."""
    records: list[M] = []
    first: dict[Hashable, str] = {}
    for number, item in enumerate(items, start=1):
        where = f"{what} #{number}"
        record = validate_record(item, model, where=where, context=context)
        _refuse_duplicate(record, first, where, where)
        records.append(record)
    return records


def validate_record(item: Any, model: type[M], *, where: str, context: dict | None = None) -> M:
    """One ``item`` as a ``model``, or a one-line ``DyagError`` ``<where>: <what is wrong>``."""
    if isinstance(item, model):
        return item
    try:
        if isinstance(item, Mapping):
            return model.model_validate(dict(item), context=context)
        if isinstance(item, (str, bytes, int, float, list, tuple)) or item is None:
            raise DyagError(f"{where}: expected an object, got {type(item).__name__}")
        return model.model_validate(item, from_attributes=True, context=context)
    except ValidationError as exc:
        raise DyagError(f"{where}: {record_problem(exc, model)}") from None


def _refuse_duplicate(record: Record, first: dict, here: str, where: str) -> None:
    key = record.record_key()
    if key in first:
        raise DyagError(f"{where}: {record.duplicate(first[key])}")
    first[key] = here


# --- one line from a ValidationError ----------------------------------------------------------------

_KINDS = {"string_type": "a string", "list_type": "a list", "dict_type": "an object", "model_type": "an object",
          "model_attributes_type": "an object", "int_type": "an integer", "float_type": "a number",
          "bool_type": "a boolean"}


def record_problem(exc: ValidationError, model: type[BaseModel]) -> str:
    """What is wrong, in one line without the value's control characters (an unknown key first:
    a misspelt field is also a missing one, and the misspelling is the thing to fix)."""
    errors = exc.errors(include_url=False)
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc, kind, value = err["loc"], err["type"], err.get("input")
    names = [str(p) for p in loc if not isinstance(p, int)]
    field = ".".join(names)
    if kind == "extra_forbidden":
        known = getattr(_model_at(model, names[:-1]), "model_fields", None)
        return f"unknown field {shown(loc[-1])}" + (f" (known: {', '.join(sorted(known))})" if known else "")
    if not loc:
        return f"expected an object, got {type(value).__name__}"
    if kind == "missing":
        return f"missing field '{field}'"
    if isinstance(loc[-1], int):
        return f"field '{field}' must be a list of non-empty strings, got item {shown(value)}"
    if kind in _KINDS:
        return f"field '{field}' must be {_KINDS[kind]}, got {type(value).__name__}"
    if kind == "literal_error":
        choices, nullable = _choices(_annotation(model, names))
        return (f"field '{field}' must be one of {', '.join(map(str, choices))}{' or null' if nullable else ''}, "
                f"got {shown(value)}")
    if kind == "value_error":
        return f"field '{field}' {err['ctx']['error']}"
    return f"field '{field}': {err['msg']}"


def allowed_types(annotation: Any) -> list:
    """The types an annotation allows: ``Annotated``, ``Optional`` and unions unpacked.

    >>> allowed_types(Text | None)
    [<class 'str'>, <class 'NoneType'>]
    """
    origin = get_origin(annotation)
    if origin is Annotated:
        return allowed_types(get_args(annotation)[0])
    if origin is Union or type(annotation).__name__ == "UnionType":
        return [m for arg in get_args(annotation) for m in allowed_types(arg)]
    return [annotation]


def _annotation(model: Any, names: list[str]) -> Any:
    annotation = None
    for name in names:
        fields = getattr(model, "model_fields", None) or {}
        if name not in fields:
            return None
        annotation = fields[name].annotation
        model = next((m for m in allowed_types(annotation) if isinstance(m, type) and issubclass(m, BaseModel)), None)
    return annotation


def _model_at(model: Any, names: list[str]) -> Any:
    for name in names:
        model = next((m for m in allowed_types(_annotation(model, [name])) if isinstance(m, type)
                      and issubclass(m, BaseModel)), None)
    return model


def _choices(annotation: Any) -> tuple[list, bool]:
    members = allowed_types(annotation)
    choices = [value for m in members if get_origin(m) is Literal for value in get_args(m)]
    return choices, type(None) in members
