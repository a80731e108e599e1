"""Golden cases: a question, its reference answer and the facts an answer must contain.

:class:`GoldenCase` is the one type of a golden case: one line of a golden JSONL file, what
scoring, the metrics and the rules read, and where the scored record of the results
(:class:`dyag.results.Case`) copies its golden fields from.

>>> case = GoldenCase(id="gidaf-hebergeur-1", question="Qui héberge GIDAF ?",
...                   reference="L'hébergeur de GIDAF est Datacenter DSI Orléans.",
...                   facts=["Datacenter DSI Orléans"], kb_ids=["gidaf"], tags=["seed"])
>>> case.to_dict()["facts"]
['Datacenter DSI Orléans']
>>> GoldenCase(id="zorglub", question="Qui héberge ZORGLUB ?", reference="Je ne sais pas.", expect="unknown").split
'unknown'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Literal, get_args

from pydantic import Field, model_validator

from dyag.utils.atomic import atomic_write_jsonl
from dyag.utils.records import Record, Text, read_records

#: ``expect: unknown`` marks a question about something absent from the KB.
Expect = Literal["unknown"]
#: What a case measures. ``seen``: a phrasing the adapter was trained on; ``paraphrase``: a held-out
#: phrasing of a trained fact; ``unseen``: a catalog fact the training set does not contain;
#: ``unknown``: an application absent from the catalog (the right answer says it does not know);
#: ``unspecified``: not said (a case with ``expect: unknown`` and no split is ``unknown``).
Split = Literal["seen", "paraphrase", "unseen", "unknown", "unspecified"]

#: Values of ``expect``.
EXPECT_VALUES: tuple[str, ...] = get_args(Expect)
#: Values of ``split``, in the order tables show them.
SPLITS: tuple[str, ...] = get_args(Split)


class GoldenCase(Record):
    """One evaluation question: one line of a golden JSONL file (``golden/seed.jsonl`` holds examples).

    Unknown keys are errors (they are usually typos); strings and list items must not be empty.
    """

    id: Text
    question: Text
    reference: Text
    facts: list[Text] = Field(default_factory=list)
    kb_ids: list[Text] = Field(default_factory=list)
    lang: Text = "fr"
    tags: list[Text] = Field(default_factory=list)
    expect: Expect | None = None
    split: Split = "unspecified"

    @model_validator(mode="before")
    @classmethod
    def _unknown_is_a_split(cls, data: Any) -> Any:
        """The one place of the rule: a case that expects "unknown" and names no split is in ``unknown``."""
        unspecified = isinstance(data, dict) and data.get("split", "unspecified") == "unspecified"
        if unspecified and data.get("expect") == "unknown":
            data = {**data, "split": "unknown"}
        return data

    def to_dict(self) -> dict:
        """The JSON object of one golden line (``expect`` only when set, ``split`` when specified)."""
        data = self.model_dump()
        if data["expect"] is None:
            del data["expect"]
        if data["split"] == "unspecified":
            del data["split"]
        return data


def read_golden(path: str | os.PathLike, *, allow_empty: bool = False) -> list[GoldenCase]:
    """Read and validate a golden JSONL file; errors are one line ``<file>:<line>: ...``."""
    return read_records(path, GoldenCase, what="golden set", allow_empty=allow_empty)


def write_golden(path: str | os.PathLike, cases: Iterable[GoldenCase]) -> Path:
    """Write cases as JSONL atomically (a reader never sees a half-written file)."""
    return atomic_write_jsonl(path, [case.to_dict() for case in cases])
