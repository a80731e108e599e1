"""How a question is put to a model: the prompt follows the kind of model.

- An instruction-tuned model (or any model answering with a fine-tuned adapter, trained on the chat
  template) gets its **chat** template: the system prompt, then the question, with the retrieved
  context before it for RAG systems. No worked examples: given some as earlier turns, smollm2:135m
  answered like the last one whatever was asked (fact recall 0.11 against 0.28 without).
- A base model (``ModelSpec.instruct`` false: gemma3:270m) never saw a chat template and repeats it
  instead of answering. It gets a **completion** prompt: worked examples from the catalog (other
  applications than the one asked), then ``Contexte : … Question : … Réponse :``, and the answer
  stops at the next label (:data:`STOP_SEQUENCES`).

The retrieved records are given by default as the **fields the question asks for** (``fields``: the
three the retriever's encoder ranks highest for the question, one a line, "Hébergeur : …"), which a
small model copies from far more reliably than from prose; ``card`` gives every field, ``text`` the
records' prose.

>>> rec = {"id": "x", "title": "X", "text": "X est ...", "metadata": {"hebergeur": "OVH", "version": "2.1"}}
>>> print(record_card(rec))
Application : X
Hébergeur : OVH
Version : 2.1
>>> prompt = completion_prompt("Qui héberge X ?", context=record_card(rec), examples=[])
>>> prompt.splitlines()[-2:]
['Question : Qui héberge X ?', 'Réponse :']
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Sequence

from dyag.errors import DyagError

#: how retrieved records are written into the prompt: the fields the question asks for (ranked by
#: the retriever's encoder), the whole card, or the records' prose
CONTEXT_FORMATS = ("fields", "card", "text")
#: fields a ``fields`` context keeps per record, most likely asked first
ASKED_FIELDS = 3
#: how a prompt is rendered: the model's chat template, or plain text continued by a base model
PROMPT_STYLES = ("chat", "completion")
#: a completion-style answer ends where a new block or label starts
STOP_SEQUENCES = ("\nQuestion", "\nContexte", "\n\n")
#: worked examples, one field each: the kinds of fact asked most
EXAMPLE_FIELDS = ("hebergeur", "version", "responsable", "documentation", "criticite",
                  "technologies", "domaine", "utilisateurs")
#: a card's lines, in order, with their French labels: the short values first, the description (which a
#: small model otherwise copies whatever the question) last
CARD_LABELS = {
    "hebergeur": "Hébergeur", "responsable": "Responsable", "version": "Version", "documentation": "Documentation",
    "criticite": "Criticité", "utilisateurs": "Utilisateurs", "technologies": "Technologies", "domaine": "Domaine",
    "sigle": "Sigle", "description": "Description",
}
#: the first line of a completion prompt: what the text is, so a base model continues it in kind
COMPLETION_HEADER = "Catalogue des applications de l'organisation : questions et réponses brèves, en français."


@dataclass(frozen=True)
class PromptConfig:
    """How prompts are built for one system (recorded in the results; part of each answer's cache key)."""

    style: str = field(default="chat", metadata={"help": "chat (the model's template) or completion (base models)"})
    context_format: str = field(default="fields", metadata={
        "help": "retrieved records as their asked fields, whole cards (one field a line) or text"})
    shots: int = field(default=5, metadata={"help": "worked examples before a completion prompt's question"})
    system_prompt: str | None = None

    def __post_init__(self):
        if self.style not in PROMPT_STYLES:
            raise DyagError(f"prompt style must be one of {', '.join(PROMPT_STYLES)}, got {self.style!r}")
        if self.context_format not in CONTEXT_FORMATS:
            raise DyagError(f"--context-format must be one of {', '.join(CONTEXT_FORMATS)}, got {self.context_format!r}")
        if not isinstance(self.shots, int) or not 0 <= self.shots <= len(EXAMPLE_FIELDS):
            raise DyagError(f"--shots must be an integer from 0 to {len(EXAMPLE_FIELDS)}, got {self.shots!r}")

    @property
    def stop(self) -> tuple[str, ...]:
        return STOP_SEQUENCES if self.style == "completion" else ()


def prompt_style(spec, uses_adapter: bool) -> str:
    """``chat`` for an instruction-tuned model or an adapter (trained on the chat template), else ``completion``."""
    return "chat" if uses_adapter or getattr(spec, "instruct", True) else "completion"


def _format_value(key: str, value) -> str:
    from dyag.data.templates import format_count, join_fr

    if isinstance(value, (list, tuple)):
        return join_fr([str(v).strip() for v in value])
    if key == "utilisateurs" and isinstance(value, int):
        return format_count(value)
    return str(value).strip()


def record_card(record: dict, fields: Sequence[str] | None = None) -> str:
    """One catalog record, one field a line (only ``fields``, in their order, when given); a record
    without metadata keeps its text."""
    from dyag.data.kb import app_name

    metadata = record.get("metadata") or {}
    keys = [k for k in (fields if fields is not None else CARD_LABELS) if k in CARD_LABELS]
    lines = [f"{CARD_LABELS[k]} : {_format_value(k, metadata[k])}" for k in keys if metadata.get(k) not in (None, "", [])]
    if not lines:
        return f"{record.get('title', record['id'])} : {record['text'].strip()}"
    return "\n".join([f"Application : {app_name(record)}", *lines])


def record_text(record: dict) -> str:
    return f"{record.get('title', record['id'])} : {record['text']}"


def format_context(records: Sequence[dict], context_format: str = "card", fields: Sequence[str] | None = None) -> str:
    """The retrieved records as the prompt shows them, best first (``fields``: the asked fields, for
    the ``fields`` format)."""
    if context_format == "text":
        return "\n\n".join(record_text(r) for r in records)
    return "\n\n".join(record_card(r, fields if context_format == "fields" else None) for r in records)


@dataclass(frozen=True)
class WorkedExample:
    question: str
    answer: str
    record: dict


def worked_examples(kb: Sequence[dict], n: int, *, exclude: Sequence[str] = (), question: str = "") -> list[WorkedExample]:
    """``n`` question/answer pairs on other applications than ``exclude`` (and than those the question
    names), one field each, in the canonical training phrasing. Deterministic: records taken in a fixed
    pseudo-random order (by the hash of their id, not catalog order, where the most-asked
    applications often come first), so that almost every prompt has the same examples, which a
    batch encodes once."""
    from dyag.data.templates import FIELD_TEMPLATES, template_context
    from dyag.inference.rag import name_pattern

    excluded = set(exclude) | {r["id"] for r in kb if question and name_pattern(r).search(question)}
    used, examples = set(), []
    order = sorted(kb, key=lambda r: hashlib.sha256(str(r["id"]).encode()).hexdigest())
    for name in EXAMPLE_FIELDS[:n]:
        for record in order:
            if record["id"] in excluded or record["id"] in used or (record.get("metadata") or {}).get(name) is None:
                continue
            ctx = template_context(record)
            templates = FIELD_TEMPLATES[name]
            examples.append(WorkedExample(templates.questions[0].format(**ctx), templates.answers[0].format(**ctx), record))
            used.add(record["id"])
            break
    return examples


def completion_prompt(question: str, *, context: str | None, examples: Sequence[WorkedExample],
                      context_format: str = "card", rank_fields=None) -> str:
    """Plain text a base model continues: worked examples, then the question and ``Réponse :``."""
    def block(ctx: str | None, q: str, a: str | None) -> str:
        head = f"Contexte :\n{ctx}\n" if ctx is not None else ""
        return f"{head}Question : {q}\nRéponse :" + (f" {a}" if a is not None else "")

    with_context = context is not None
    blocks = [block(_example_context(e, context_format, rank_fields) if with_context else None, e.question, e.answer)
              for e in examples]
    return "\n\n".join([COMPLETION_HEADER, *blocks, block(context, question, None)])


def _example_context(example: WorkedExample, context_format: str, rank_fields) -> str:
    fields = rank_fields(example.question, example.record) if rank_fields and context_format == "fields" else None
    return format_context([example.record], context_format, fields)


def chat_messages(question: str, *, context: str | None = None, system_prompt: str | None = None) -> list[dict]:
    """The conversation a question is asked in (with retrieved context for RAG systems).

    >>> chat_messages("Qui héberge GIDAF ?", system_prompt="Réponds.")[1]
    {'role': 'user', 'content': 'Qui héberge GIDAF ?'}
    """
    user = question if context is None else f"Contexte :\n{context}\n\nQuestion : {question}"
    msgs = [{"role": "system", "content": system_prompt}] if system_prompt else []
    return msgs + [{"role": "user", "content": user}]


def build_prompt(config: PromptConfig, question: str, *, context_records: Sequence[dict] | None,
                 kb: Sequence[dict] | None, exclude: Sequence[str] = (), rank_fields=None) -> "list[dict] | str":
    """The prompt for one question: chat messages, or the text of a completion prompt.

    Worked examples go before the questions of a completion prompt (with their context for RAG);
    a chat prompt is zero-shot."""
    retrieval = context_records is not None
    context = None
    if retrieval:
        if rank_fields and config.context_format == "fields":
            context = "\n\n".join(format_context([r], "fields", rank_fields(question, r)) for r in context_records)
        else:
            context = format_context(context_records, config.context_format)
    if config.style == "completion":
        examples = worked_examples(kb, config.shots, exclude=exclude, question=question) if config.shots and kb else []
        return completion_prompt(question, context=context, examples=examples, context_format=config.context_format,
                                 rank_fields=rank_fields)
    return chat_messages(question, context=context, system_prompt=config.system_prompt)
