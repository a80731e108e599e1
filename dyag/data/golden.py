"""Golden cases: a question, its reference answer and the facts an answer must contain.

>>> case = GoldenCase(id="gidaf-hebergeur-1", question="Qui héberge GIDAF ?",
...                   reference="L'hébergeur de GIDAF est Datacenter DSI Orléans.",
...                   facts=["Datacenter DSI Orléans"], kb_ids=["gidaf"], tags=["seed"])
>>> case.to_dict()["facts"]
['Datacenter DSI Orléans']
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable

from dyag.errors import DyagError
from dyag.utils.atomic import atomic_write_jsonl
from dyag.utils.jsonl import iter_jsonl, require_field, shown

#: Values of ``expect``: ``unknown`` marks a question about something absent from the KB.
EXPECT_VALUES: tuple[str, ...] = ("unknown",)
#: What a case measures. ``seen``: a phrasing the adapter was trained on; ``paraphrase``: a held-out
#: phrasing of a trained fact; ``unseen``: a catalog fact the training set does not contain;
#: ``unknown``: an application absent from the catalog (the right answer says it does not know);
#: ``unspecified``: not said (a case with ``expect: unknown`` and no split is ``unknown``).
SPLITS: tuple[str, ...] = ("seen", "paraphrase", "unseen", "unknown", "unspecified")


@dataclass
class GoldenCase:
    """One evaluation question: one line of a golden JSONL file (``golden/seed.jsonl`` holds examples)."""

    id: str
    question: str
    reference: str
    facts: list[str] = field(default_factory=list)
    kb_ids: list[str] = field(default_factory=list)
    lang: str = "fr"
    tags: list[str] = field(default_factory=list)
    expect: str | None = None
    split: str = "unspecified"

    def __post_init__(self):
        if self.split == "unspecified" and self.expect == "unknown":
            self.split = "unknown"

    def to_dict(self) -> dict:
        """The JSON object of one golden line (``expect`` only when set, ``split`` when specified)."""
        data = asdict(self)
        if data["expect"] is None:
            del data["expect"]
        if data["split"] == "unspecified":
            del data["split"]
        return data


_KNOWN_KEYS = {f for f in GoldenCase.__dataclass_fields__}


def read_golden(path: str | os.PathLike, *, allow_empty: bool = False) -> list[GoldenCase]:
    """Read and validate a golden JSONL file; errors are one line ``<file>:<line>: ...``."""
    path = Path(path)
    cases: list[GoldenCase] = []
    first_line: dict[str, int] = {}
    for lineno, obj in iter_jsonl(path, what="golden set"):
        case = golden_case_from_dict(obj, path=path, lineno=lineno)
        if case.id in first_line:
            raise DyagError(f"{path}:{lineno}: field 'id': duplicate id {shown(case.id)} (first at line {first_line[case.id]})")
        first_line[case.id] = lineno
        cases.append(case)
    if not cases and not allow_empty:
        raise DyagError(f"{path}: empty golden set (no JSON lines)")
    return cases


def golden_case_from_dict(obj: dict, *, path: str | os.PathLike = "<golden>", lineno: int = 0) -> GoldenCase:
    """Validate one golden object; unknown keys are errors (they are usually typos)."""
    unknown = sorted(set(obj) - _KNOWN_KEYS)
    if unknown:
        raise DyagError(f"{path}:{lineno}: unknown field {shown(unknown[0])} (known: {', '.join(sorted(_KNOWN_KEYS))})")
    values = {name: require_field(path, lineno, obj, name, str) for name in ("id", "question", "reference")}
    for name in ("facts", "kb_ids", "tags"):
        values[name] = _string_list(path, lineno, obj, name)
    if "lang" in obj:
        values["lang"] = require_field(path, lineno, obj, "lang", str)
    expect = obj.get("expect")
    if expect is not None and expect not in EXPECT_VALUES:
        raise DyagError(f"{path}:{lineno}: field 'expect' must be one of {', '.join(EXPECT_VALUES)} or null, got {expect!r}")
    values["expect"] = expect
    split = obj.get("split", "unspecified")
    if split not in SPLITS:
        raise DyagError(f"{path}:{lineno}: field 'split' must be one of {', '.join(SPLITS)}, got {split!r}")
    values["split"] = split
    return GoldenCase(**values)


def _string_list(path, lineno: int, obj: dict, name: str) -> list[str]:
    if name not in obj:
        return []
    value = require_field(path, lineno, obj, name, list, nonempty=False)
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise DyagError(f"{path}:{lineno}: field '{name}' must be a list of non-empty strings, got item {item!r}")
    return list(value)


def write_golden(path: str | os.PathLike, cases: Iterable[GoldenCase]) -> Path:
    """Write cases as JSONL atomically (a reader never sees a half-written file)."""
    return atomic_write_jsonl(path, [case.to_dict() for case in cases])
