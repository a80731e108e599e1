"""A system: one model answering one way (``smollm2:135m/finetuned``, ``gemma3:270m/rag``).

A system is written ``"<model>/<kind>"`` in predictions and results; :class:`System` is the
value every part of dyag reads it as, so no code tests a kind by substring.

>>> s = System.parse("smollm2:135m/rag+finetuned")
>>> s.model, s.kind, s.uses_adapter, s.uses_retrieval
('smollm2:135m', 'rag+finetuned', True, True)
>>> str(System("gemma3:270m", "base"))
'gemma3:270m/base'
>>> sorted(["m/rag", "m/finetuned", "m/base"], key=lambda n: System.parse(n).sort_key)
['m/base', 'm/finetuned', 'm/rag']
"""

from __future__ import annotations

from dataclasses import dataclass

from dyag.errors import DyagError

#: The kinds dyag generates: the base model, the fine-tuned adapter, retrieval, and both.
SYSTEM_KINDS = ("base", "finetuned", "rag", "rag+finetuned")
#: The parts a kind is made of (``rag+finetuned`` has both).
ADAPTER_PART, RETRIEVAL_PART = "finetuned", "rag"


@dataclass(frozen=True)
class System:
    """``model`` answering as ``kind`` (one of :data:`SYSTEM_KINDS`, or a kind named by an outside producer)."""

    model: str
    kind: str

    @classmethod
    def parse(cls, name: str) -> "System":
        """``"model/kind"`` -> System; a name without ``/`` is a model of unknown kind ``""``."""
        model, sep, kind = str(name).rpartition("/")
        return cls(model, kind) if sep else cls(str(name), "")

    @classmethod
    def of_kind(cls, model: str, kind: str) -> "System":
        """A system dyag generates: ``kind`` must be one of :data:`SYSTEM_KINDS`."""
        check_kinds([kind])
        return cls(model, kind)

    @property
    def _parts(self) -> frozenset[str]:
        return frozenset(self.kind.split("+"))

    @property
    def uses_adapter(self) -> bool:
        return ADAPTER_PART in self._parts

    @property
    def uses_retrieval(self) -> bool:
        return RETRIEVAL_PART in self._parts

    @property
    def sort_key(self) -> tuple:
        """base, finetuned, rag, rag+finetuned, then other kinds by name."""
        order = SYSTEM_KINDS.index(self.kind) if self.kind in SYSTEM_KINDS else len(SYSTEM_KINDS)
        return (order, self.kind)

    def __str__(self) -> str:
        return f"{self.model}/{self.kind}" if self.kind else self.model


def check_kinds(kinds, *, option: str = "systems") -> tuple[str, ...]:
    """``kinds`` as a tuple, or a one-line error naming the unknown ones."""
    kinds = tuple(kinds)
    unknown = [k for k in kinds if k not in SYSTEM_KINDS]
    if unknown:
        raise DyagError(f"{option}: unknown system(s) {', '.join(unknown)} (known: {', '.join(SYSTEM_KINDS)})")
    return kinds


def uses_adapter(kind: str) -> bool:
    return System("", kind).uses_adapter


def uses_retrieval(kind: str) -> bool:
    return System("", kind).uses_retrieval
