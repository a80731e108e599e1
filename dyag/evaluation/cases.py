"""Golden cases and the knowledge base as the evaluation layer sees them.

A golden case is a :class:`dyag.data.golden.GoldenCase` everywhere: the evaluation functions
also accept a plain dict or any object with the same attributes, and :func:`as_case` turns
each into one, leniently (missing strings are empty, unknown keys are ignored), so that a
rule can be tried on ``{"id": "q", "kb_ids": ["gidaf"]}``. :class:`KbIndex` answers "what is
the expansion of this acronym?" from the ``metadata.sigle`` of knowledge-base records.

>>> as_case({"id": "q1", "question": "Qui héberge GIDAF ?", "reference": "..."}).lang
'fr'
>>> as_case({"id": "q2", "expect": "unknown"}).split
'unknown'
>>> kb = KbIndex([{"id": "gidaf", "title": "GIDAF", "text": "...", "metadata": {"sigle": "Gestion X"}}])
>>> kb.lookup("gidaf").sigle
'Gestion X'
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from dyag.data.golden import GoldenCase
from dyag.utils.records import LENIENT, validate_record
from dyag.utils.text import strip_accents

#: The former name of :class:`~dyag.data.golden.GoldenCase` here, still imported by ``dyag.evaluation.rules``.
CaseView = GoldenCase


def as_case(case: Any) -> GoldenCase:
    """A :class:`GoldenCase` from a GoldenCase, a dict or an object with its attributes (``None``: an empty case).

    Lenient: absent or null fields take their defaults (``""`` for ``id``, ``question`` and
    ``reference``), keys that are not fields are ignored, strings may be empty; a value of the
    wrong type is a one-line ``DyagError``.
    """
    if isinstance(case, GoldenCase):
        return case
    if case is None:
        case = {}
    get = case.get if isinstance(case, Mapping) else lambda name, default=None: getattr(case, name, default)
    data = {name: value for name in GoldenCase.model_fields if (value := get(name, None)) not in (None, "")}
    data["id"] = str(data.get("id", ""))
    data.setdefault("question", "")
    data.setdefault("reference", "")
    return validate_record(data, GoldenCase, where="golden case", context=LENIENT)


def acronym_key(name: str) -> str:
    """Lookup key of a name: accents removed, uppercased, spaces dropped (``"6Tzen" -> "6TZEN"``)."""
    return "".join(strip_accents(name).upper().split())


@dataclass(frozen=True)
class KbEntry:
    id: str
    name: str
    sigle: str | None
    metadata: dict = field(default_factory=dict, compare=False, hash=False)


class KbIndex:
    """Knowledge-base records indexed by id, title and ``metadata.nom``."""

    def __init__(self, records: Iterable[Mapping] = ()):
        self.records = list(records)
        self._by_key: dict[str, KbEntry] = {}
        self._entries: list[KbEntry] = []
        for rec in self.records:
            meta = rec.get("metadata") or {}
            sigle = meta.get("sigle")
            entry = KbEntry(
                id=str(rec.get("id", "")),
                name=str(meta.get("nom") or rec.get("title") or rec.get("id", "")),
                sigle=sigle.strip() if isinstance(sigle, str) and sigle.strip() else None,
                metadata=dict(meta),
            )
            self._entries.append(entry)
            for name in (rec.get("id"), rec.get("title"), meta.get("nom")):
                if isinstance(name, str) and name.strip():
                    self._by_key.setdefault(acronym_key(name), entry)

    def __len__(self) -> int:
        return len(self.records)

    def lookup(self, name: str) -> KbEntry | None:
        return self._by_key.get(acronym_key(name))

    def knows(self, name: str) -> bool:
        return acronym_key(name) in self._by_key

    def entries(self) -> list[KbEntry]:
        """Each record's entry, in catalog order."""
        return list(self._entries)

    def derived(self, key: str, build: Callable[["KbIndex"], Any]) -> Any:
        """``build(self)`` computed once per index and kept on it (a rule's own lookup tables)."""
        cache = self.__dict__.setdefault("_derived", {})
        if key not in cache:
            cache[key] = build(self)
        return cache[key]


def as_kb_index(kb: Any) -> KbIndex | None:
    """A :class:`KbIndex` from records, an index, or ``None``."""
    if kb is None or isinstance(kb, KbIndex):
        return kb
    return KbIndex(kb)


def read_golden_cases(path: str | os.PathLike) -> list:
    """Golden cases from ``path`` (dyag's golden reader)."""
    from dyag.data.golden import read_golden

    return read_golden(path)


def read_kb_records(path: str | os.PathLike) -> list[dict]:
    """Knowledge-base records from ``path`` (dyag's KB reader; ``sample`` is the packaged catalog)."""
    from dyag.data.kb import read_kb, resolve_kb_path

    return read_kb(resolve_kb_path(path))
