"""Golden cases and the knowledge base as the evaluation layer sees them.

The evaluation functions accept a golden case as a ``dyag.data.golden.GoldenCase``, a
plain dict, or any object with the same attributes; :func:`as_case` turns each into a
:class:`CaseView`. :class:`KbIndex` answers "what is the expansion of this acronym?"
from the ``metadata.sigle`` of knowledge-base records.

>>> as_case({"id": "q1", "question": "Qui héberge GIDAF ?", "reference": "..."}).lang
'fr'
>>> kb = KbIndex([{"id": "gidaf", "title": "GIDAF", "text": "...", "metadata": {"sigle": "Gestion X"}}])
>>> kb.lookup("gidaf").sigle
'Gestion X'
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from dyag.errors import DyagError
from dyag.utils.text import strip_accents


@dataclass(frozen=True)
class CaseView:
    """The fields of a golden case that scoring and rules read."""

    id: str
    question: str = ""
    reference: str = ""
    facts: tuple[str, ...] = ()
    kb_ids: tuple[str, ...] = ()
    lang: str = "fr"
    tags: tuple[str, ...] = ()
    expect: str | None = None
    split: str = "unspecified"


def as_case(case: Any) -> CaseView:
    """A :class:`CaseView` from a GoldenCase, a dict or a CaseView (``None`` -> empty case)."""
    if isinstance(case, CaseView):
        return case
    if case is None:
        return CaseView(id="")
    get = case.get if isinstance(case, Mapping) else lambda k, d=None: getattr(case, k, d)
    return CaseView(
        id=str(get("id", "")),
        question=get("question", "") or "",
        reference=get("reference", "") or "",
        facts=tuple(get("facts", ()) or ()),
        kb_ids=tuple(get("kb_ids", ()) or ()),
        lang=get("lang", "fr") or "fr",
        tags=tuple(get("tags", ()) or ()),
        expect=get("expect", None),
        split=get("split", None) or ("unknown" if get("expect", None) == "unknown" else "unspecified"),
    )


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
