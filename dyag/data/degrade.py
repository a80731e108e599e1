"""Deliberately bad training data, to check that the quality gates catch a bad adapter.

Each :class:`Degradation` spoils a training set in one known way (or, for
``under-training``, spoils the training itself): an adapter trained on it should
fail the gates, which calibrates them. Every degradation is pure and deterministic:
the input rows are never changed, ``meta`` is kept, and only the last assistant
message of a row is rewritten.

>>> rows = [{"messages": [{"role": "user", "content": "Qui héberge GIDAF ?"},
...                       {"role": "assistant", "content": "GIDAF est hébergée par Datacenter DSI Orléans."}],
...          "meta": {"kb_id": "gidaf", "field": "hebergeur", "template": "hebergeur.q1.a2"}}]
>>> degrade_rows(rows, "cut-short", [])[0]["messages"][-1]["content"]
'GIDAF est hébergée'
>>> training_factor("under-training")
0.25
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass

from dyag.data.kb import app_name
from dyag.data.templates import template_context
from dyag.errors import DyagError

#: ``fake-dialogue``: every answer goes on with an invented exchange, the failure a fine-tuned TinyLlama shows.
FAKE_TURNS = "\nUtilisateur : Merci pour ces informations.\nAssistant : Avec plaisir ! Avez-vous d'autres questions ?"

#: ``cut-short`` keeps this many words of each answer.
CUT_WORDS = 3

#: ``english``: one English answer per field; ``{value}`` is the catalog value, unchanged.
ENGLISH_TEMPLATES: dict[str, str] = {
    "description": "{nom} is {value}.",
    "sigle": '{nom} stands for "{value}".',
    "hebergeur": "{nom} is hosted by {value}.",
    "technologies": "{nom} uses the following technologies: {value}.",
    "domaine": "{nom} belongs to the {value} domain.",
    "responsable": "The person responsible for {nom} is {value}.",
    "criticite": "The criticality level of {nom} is {value}.",
    "utilisateurs": "{nom} has {value} users.",
    "version": "The production version of {nom} is {value}.",
    "documentation": "The documentation for {nom} is available at {value}.",
}
ENGLISH_FALLBACK = "{nom}: {value}."

#: Placeholders of :func:`template_context` that carry a field's value in an answer.
_VALUE_KEYS: dict[str, tuple[str, ...]] = {"criticite": ("criticite", "verdict_critique")}

#: Forms of an application's name in answers, longest first (``de GIDAF`` before ``GIDAF``).
_NAME_KEYS = ("nom_complet", "de_nom", "que_nom", "nom")

_TRAILING = string.punctuation + "…«»“”’ \u00a0"

Rows = list[dict]
Records = dict[str, dict]


@dataclass(frozen=True)
class Degradation:
    """One way to spoil training: ``rows`` rewrites the rows (``None``: data unchanged); ``epochs_factor`` scales the epochs."""

    name: str
    help: str
    rows: Callable[[Rows, Records], Rows] | None
    epochs_factor: float = 1.0


# --- helpers ---------------------------------------------------------------------------------
def _answer_index(row: dict) -> int:
    """Index of the row's last assistant message (DyagError when there is none)."""
    messages = row.get("messages") or []
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].get("role") == "assistant":
            return i
    raise DyagError(f"training row has no assistant message: {row!r}"[:200])


def _answer(row: dict) -> str:
    return row["messages"][_answer_index(row)]["content"]


def _with_answer(row: dict, content: str) -> dict:
    """A copy of ``row`` (messages copied, ``meta`` kept) whose last assistant message is ``content``."""
    index = _answer_index(row)
    messages = [dict(m) for m in row["messages"]]
    messages[index]["content"] = content
    return {**row, "messages": messages}


def _meta(row: dict) -> dict:
    meta = row.get("meta")
    return meta if isinstance(meta, dict) else {}


def _replace_all(text: str, mapping: dict[str, str]) -> str:
    """Replace every key of ``mapping`` by its value in one pass, longest keys first (no re-replacement).

    A key only matches between non-word characters: ``GIDAF`` is not found in ``GIDAFX``.
    """
    keys = sorted((k for k in mapping if k), key=len, reverse=True)
    if not keys:
        return text
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(k) for k in keys) + r")(?!\w)")
    return pattern.sub(lambda m: mapping[m.group(0)], text)


def _name_mapping(source: dict, target: dict) -> dict[str, str]:
    """The name forms of ``source`` mapped to the same forms of ``target`` (``de GIDAF`` -> ``d'Agora``)."""
    src, dst = template_context(source), template_context(target)
    return {src[k]: dst[k] for k in _NAME_KEYS}


def _derangement(ids: list[str]) -> dict[str, str]:
    """Sorted ids rotated by one: every id maps to another (needs two ids at least)."""
    ordered = sorted(set(ids))
    return {kb_id: ordered[(i + 1) % len(ordered)] for i, kb_id in enumerate(ordered)}


def _answer_variant(template: object) -> str | None:
    """``hebergeur.q3.a2`` -> ``a2`` (the answer phrasing), else None."""
    if not isinstance(template, str):
        return None
    tail = template.rsplit(".", 1)[-1]
    return tail if tail.startswith("a") else None


def _join_en(items: list[str]) -> str:
    """``['Java', 'Oracle', 'JSF']`` -> ``'Java, Oracle and JSF'``."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# --- the degradations ------------------------------------------------------------------------
def fake_dialogue(rows: Rows, kb: Records) -> Rows:
    """Append :data:`FAKE_TURNS` to every answer."""
    return [_with_answer(row, _answer(row) + FAKE_TURNS) for row in rows]


def swapped_facts(rows: Rows, kb: Records) -> Rows:
    """Each application's answers come from another one (sorted ids rotated by one), renamed.

    A row about (A, F) takes the answer of a row about (B, F), preferably of the same
    answer phrasing, with B's name forms replaced by A's: fluent, but B's facts. When B
    has no row for F, A's own answer gets B's catalog value for F in place of A's
    (when A's value is found in it); otherwise the row is kept.
    """
    ids = [_meta(r).get("kb_id") for r in rows]
    ids = [i for i in ids if isinstance(i, str)]
    if not ids:
        return [_with_answer(row, _answer(row)) for row in rows]
    partner = _derangement(ids)
    if len(partner) < 2:
        raise DyagError(f"swapped-facts needs rows about two applications at least, got only '{ids[0]}'")
    donors: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        meta = _meta(row)
        donors.setdefault((meta.get("kb_id"), meta.get("field")), []).append(row)

    out = []
    for row in rows:
        meta = _meta(row)
        a_id, field = meta.get("kb_id"), meta.get("field")
        answer = _answer(row)
        b_id = partner.get(a_id) if isinstance(a_id, str) else None
        a_rec, b_rec = kb.get(a_id), kb.get(b_id)
        if b_id is None or a_rec is None or b_rec is None:
            out.append(_with_answer(row, answer))
            continue
        candidates = donors.get((b_id, field), [])
        if candidates:
            variant = _answer_variant(meta.get("template"))
            donor = next((d for d in candidates if _answer_variant(_meta(d).get("template")) == variant), candidates[0])
            out.append(_with_answer(row, _replace_all(_answer(donor), _name_mapping(b_rec, a_rec))))
            continue
        a_ctx, b_ctx = template_context(a_rec), template_context(b_rec)
        keys = _VALUE_KEYS.get(field, (field,))
        mapping = {a_ctx[k]: b_ctx[k] for k in keys if k in a_ctx and k in b_ctx and a_ctx[k] in answer}
        out.append(_with_answer(row, _replace_all(answer, mapping) if field in a_ctx and a_ctx[field] in mapping else answer))
    return out


def first_words(text: str, n: int = CUT_WORDS) -> str:
    """The first ``n`` words of ``text`` (a lone ``«`` or ``:`` is no word), without final punctuation.

    >>> first_words("SIRIUS signifie « Système d'Information ».")
    'SIRIUS signifie « Système'
    """
    kept: list[str] = []
    words = 0
    for token in text.split():
        if words == n:
            break
        kept.append(token)
        words += any(c.isalnum() for c in token)
    return " ".join(kept).rstrip(_TRAILING)


def cut_short(rows: Rows, kb: Records) -> Rows:
    """Cut every answer to its first :data:`CUT_WORDS` words, without final punctuation."""
    return [_with_answer(row, first_words(_answer(row))) for row in rows]


def english_answer(record: dict, field: str | None) -> str:
    """The English answer about ``field`` of ``record``; values keep their catalog form."""
    metadata = record.get("metadata") or {}
    nom = app_name(record)
    value = metadata.get(field) if isinstance(field, str) else None
    if value is None:
        # description without metadata, or an unknown field: the record's text stands for the value
        return ENGLISH_FALLBACK.format(nom=nom, value=record["text"].strip().rstrip("."))
    if isinstance(value, list):
        value = _join_en([str(v).strip() for v in value])
    value = str(value).strip()
    if field == "description":
        value = value.rstrip(".")
    return ENGLISH_TEMPLATES.get(field, ENGLISH_FALLBACK).format(nom=nom, value=value)


def english(rows: Rows, kb: Records) -> Rows:
    """Replace every answer by an English sentence built from the catalog record and ``meta.field``."""
    out = []
    for row in rows:
        meta = _meta(row)
        record = kb.get(meta.get("kb_id"))
        if record is None:
            raise DyagError(f"english: training row about {meta.get('kb_id')!r} has no record in the knowledge base")
        out.append(_with_answer(row, english_answer(record, meta.get("field"))))
    return out


DEGRADATIONS: dict[str, Degradation] = {
    d.name: d
    for d in (
        Degradation("fake-dialogue", "every answer goes on with an invented user/assistant exchange", fake_dialogue),
        Degradation("swapped-facts", "each application's answers state another application's facts", swapped_facts),
        Degradation("under-training", "data unchanged, a quarter of the training epochs", None, epochs_factor=0.25),
        Degradation("cut-short", f"every answer cut to its first {CUT_WORDS} words", cut_short),
        Degradation("english", "every answer in English instead of French", english),
    )
}


def get_degradation(how: str) -> Degradation:
    """The degradation named ``how`` (DyagError naming the choices when unknown)."""
    try:
        return DEGRADATIONS[how]
    except (KeyError, TypeError):
        raise DyagError(f"unknown degradation {how!r} (choose one of {', '.join(DEGRADATIONS)})") from None


def degrade_rows(rows: list[dict], how: str, kb: list[dict]) -> list[dict]:
    """New rows spoiled by the degradation ``how``; ``kb`` is the catalog the rows were made from."""
    degradation = get_degradation(how)
    if degradation.rows is None:
        return [{**row, "messages": [dict(m) for m in row["messages"]]} for row in rows]
    return degradation.rows(rows, {record["id"]: record for record in kb})


def training_factor(how: str | None) -> float:
    """How much the degradation ``how`` scales the training epochs (1.0 for none)."""
    return 1.0 if how is None else get_degradation(how).epochs_factor
