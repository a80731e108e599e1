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

A kind may name the endpoint that answers it (``[tool.dyag.endpoints.<name>]``): ``finetuned@vllm`` is the
fine-tuned adapter served by the endpoint ``vllm``; ``service@prod`` is a black box asked the bare question.

>>> s = System.parse("smollm2:135m/rag+finetuned@llamacpp")
>>> s.answering, s.endpoint, s.uses_adapter, s.uses_retrieval
('rag+finetuned', 'llamacpp', True, True)
"""

from __future__ import annotations

from dataclasses import dataclass

from dyag.errors import DyagError

#: The kinds dyag generates: the base model, the fine-tuned adapter, retrieval, and both.
SYSTEM_KINDS = ("base", "finetuned", "rag", "rag+finetuned")
#: a kind only an endpoint answers: its black box, asked the bare question (``service@<endpoint>``)
SERVICE_KIND = "service"
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
    def answering(self) -> str:
        """The kind without its endpoint: ``finetuned`` for ``finetuned@vllm``."""
        return self.kind.partition("@")[0]

    @property
    def endpoint(self) -> str | None:
        """The endpoint that answers (``vllm`` for ``finetuned@vllm``); None: dyag answers in its own process."""
        return self.kind.partition("@")[2] or None

    @property
    def _parts(self) -> frozenset[str]:
        return frozenset(self.answering.split("+"))

    @property
    def uses_adapter(self) -> bool:
        return ADAPTER_PART in self._parts

    @property
    def uses_retrieval(self) -> bool:
        return RETRIEVAL_PART in self._parts

    @property
    def sort_key(self) -> tuple:
        """base, finetuned, rag, rag+finetuned, then other kinds by name; each in-process, then by endpoint."""
        kind = self.answering
        order = SYSTEM_KINDS.index(kind) if kind in SYSTEM_KINDS else len(SYSTEM_KINDS)
        return (order, kind, self.endpoint or "")

    def __str__(self) -> str:
        return f"{self.model}/{self.kind}" if self.kind else self.model


def check_kinds(kinds, *, option: str = "systems", endpoints=None) -> tuple[str, ...]:
    """``kinds`` as a tuple, or a one-line error naming the unknown ones.

    ``kind@name`` needs ``name`` among ``endpoints`` (when given) and ``service`` an endpoint.

    >>> check_kinds(["base", "finetuned@vllm"], endpoints={"vllm"})
    ('base', 'finetuned@vllm')
    >>> check_kinds(["rag@tgi"], endpoints={"vllm"})
    Traceback (most recent call last):
    dyag.errors.DyagError: systems: rag@tgi names no endpoint of [tool.dyag.endpoints] (configured: vllm)
    """
    kinds = tuple(kinds)
    unknown = [k for k in kinds if not _known_kind(k)]
    if unknown:
        raise DyagError(f"{option}: unknown system(s) {', '.join(unknown)} (known: {', '.join(SYSTEM_KINDS)}, "
                        f"each also as <kind>@<endpoint>, and {SERVICE_KIND}@<endpoint>)")
    if endpoints is not None:
        for kind in kinds:
            name = System("", kind).endpoint
            if name is not None and name not in endpoints:
                raise DyagError(f"{option}: {kind} names no endpoint of [tool.dyag.endpoints] "
                                f"(configured: {', '.join(sorted(endpoints)) or 'none'})")
    return kinds


def _known_kind(kind: str) -> bool:
    answering, at, endpoint = kind.partition("@")
    if at and not endpoint:
        return False
    return answering in SYSTEM_KINDS or (answering == SERVICE_KIND and bool(endpoint))


def uses_adapter(kind: str) -> bool:
    return System("", kind).uses_adapter


def uses_retrieval(kind: str) -> bool:
    return System("", kind).uses_retrieval
