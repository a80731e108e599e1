"""degrade: the deliberately bad training sets that calibrate the quality gates."""

from __future__ import annotations

import copy
import dataclasses
import re
import string

import pytest

from dyag.data.degrade import (
    DEGRADATIONS,
    FAKE_TURNS,
    Degradation,
    degrade_rows,
    english_answer,
    training_factor,
)
from dyag.data.generate import build_groups, example_row, select_round_robin
from dyag.data.kb import app_name
from dyag.errors import DyagError
from dyag.prompts import DEFAULT_SYSTEM_PROMPT

FRENCH_STOP_WORDS = (" est ", " de ", " du ", " des ", " la ", " le ", " les ", " et ", " sur ", " a ")


@pytest.fixture(scope="module")
def rows(catalog) -> list[dict]:
    """Every (application, field) of the sample catalog, two phrasings each, with the system prompt."""
    examples = select_round_robin(build_groups(catalog, "augmented", 42), None)
    seen: dict[tuple[str, str], int] = {}
    kept = []
    for e in examples:
        seen[e.group] = seen.get(e.group, 0) + 1
        if seen[e.group] <= 2:
            kept.append(example_row(e, DEFAULT_SYSTEM_PROMPT))
    return kept


def answer(row: dict) -> str:
    return row["messages"][-1]["content"]


def about(rows: list[dict], kb_id: str, field: str) -> list[dict]:
    return [r for r in rows if r["meta"]["kb_id"] == kb_id and r["meta"]["field"] == field]


def row(kb_id: str, field: str, question: str, reply: str, template: str = "x.q1.a1") -> dict:
    return {
        "messages": [{"role": "user", "content": question}, {"role": "assistant", "content": reply}],
        "meta": {"kb_id": kb_id, "field": field, "template": template},
    }


# --- the registry ------------------------------------------------------------------------------
def test_every_degradation_is_offered_calibrated_and_spoils_something(rows, catalog):
    """The registry is what --dyag-degrade offers and what ``make calibrate`` runs (benchmarks/calibrate.py
    keeps its own list), in the same order; each entry is a Degradation under its own name with a help
    text, and spoils either the rows (``rows`` set: degrade_rows changes answers) or the training
    (``rows`` None: the data is unchanged and training_factor shortens the epochs)."""
    from benchmarks.calibrate import DEGRADATIONS as CALIBRATED
    from dyag.session import SessionOptions

    offered = next(f.metadata["choices"] for f in dataclasses.fields(SessionOptions) if f.name == "degrade")
    assert list(offered) == list(DEGRADATIONS) == list(CALIBRATED)
    for name, d in DEGRADATIONS.items():
        assert isinstance(d, Degradation) and d.name == name and d.help
        changed = sum(answer(a) != answer(b) for a, b in zip(rows, degrade_rows(rows, name, catalog)))
        if d.rows is None:
            assert changed == 0 and 0 < training_factor(name) < 1, name
        else:
            assert changed > 0 and training_factor(name) == 1.0, name
    assert DEGRADATIONS["under-training"].rows is None


def test_unknown_name_raises(rows, catalog):
    with pytest.raises(DyagError, match="unknown degradation 'nope'.*fake-dialogue"):
        degrade_rows(rows[:3], "nope", catalog)
    with pytest.raises(DyagError, match="unknown degradation"):
        training_factor("nope")


def test_training_factor():
    assert training_factor(None) == 1.0
    assert training_factor("under-training") == 0.25
    for name in ("fake-dialogue", "swapped-facts", "cut-short", "english"):
        assert training_factor(name) == 1.0


@pytest.mark.parametrize("how", list(DEGRADATIONS))
def test_pure_deterministic_and_only_the_answer_changes(rows, catalog, how):
    before = copy.deepcopy(rows)
    kb_before = copy.deepcopy(catalog)
    first = degrade_rows(rows, how, catalog)
    second = degrade_rows(rows, how, catalog)
    assert rows == before and catalog == kb_before  # inputs untouched
    assert first == second  # deterministic
    assert len(first) == len(rows)
    for old, new in zip(rows, first):
        assert new is not old and new["messages"] is not old["messages"]
        assert new["meta"] == old["meta"]
        assert new["messages"][:-1] == old["messages"][:-1]
        assert new["messages"][-1]["role"] == "assistant"


# --- each degradation ---------------------------------------------------------------------------
def test_fake_dialogue(rows, catalog):
    out = degrade_rows(rows, "fake-dialogue", catalog)
    for old, new in zip(rows, out):
        assert answer(new) == answer(old) + FAKE_TURNS
    assert answer(out[0]).endswith("Avez-vous d'autres questions ?")


def test_under_training_leaves_rows_equal(rows, catalog):
    out = degrade_rows(rows, "under-training", catalog)
    assert out == rows


def test_swapped_facts_states_another_applications_facts(rows, catalog, by_id):
    out = degrade_rows(rows, "swapped-facts", catalog)
    gidaf_host = by_id["gidaf"]["metadata"]["hebergeur"]
    assert gidaf_host == "Datacenter DSI Orléans"
    hosted = [answer(r) for r in about(out, "gidaf", "hebergeur")]
    assert hosted
    other_hosts = {r["metadata"]["hebergeur"] for r in catalog} - {gidaf_host}
    for text in hosted:
        assert gidaf_host not in text
        assert any(h in text for h in other_hosts)
        assert "GIDAF" in text and "GIDAF-Pro" not in text  # the donor (gidaf-pro) is renamed
    # every answer still names its own application, and most of them changed
    for r in out:
        assert app_name(by_id[r["meta"]["kb_id"]]) in answer(r)
    changed = sum(answer(a) != answer(b) for a, b in zip(rows, out))
    assert changed > 0.8 * len(rows)


def test_swapped_facts_keeps_the_answer_phrasing_and_elides(by_id):
    catalog = [by_id["agora"], by_id["gidaf"]]
    rows = [
        row("agora", "hebergeur", "Qui héberge Agora ?", "L'hébergeur d'Agora est X.", "hebergeur.q1.a1"),
        row("agora", "hebergeur", "Qui héberge Agora ?", "Agora est hébergée par X.", "hebergeur.q2.a2"),
        row("gidaf", "hebergeur", "Qui héberge GIDAF ?", "GIDAF est hébergée par Datacenter DSI Orléans.", "hebergeur.q2.a2"),
        row("gidaf", "hebergeur", "Qui héberge GIDAF ?", "L'hébergeur de GIDAF est Datacenter DSI Orléans.", "x.q1.a1"),
    ]
    out = [answer(r) for r in degrade_rows(rows, "swapped-facts", catalog)]
    assert out == [
        "L'hébergeur d'Agora est Datacenter DSI Orléans.",
        "Agora est hébergée par Datacenter DSI Orléans.",
        "GIDAF est hébergée par X.",
        "L'hébergeur de GIDAF est X.",
    ]


def test_swapped_facts_falls_back_on_the_catalog_value(by_id):
    catalog = [by_id["gidaf"], by_id["gidaf-pro"]]
    rows = [
        # gidaf-pro has no hebergeur row: its catalog host replaces GIDAF's in GIDAF's answer
        row("gidaf", "hebergeur", "Qui héberge GIDAF ?", "GIDAF est hébergée par Datacenter DSI Orléans."),
        # A's value is not in the answer: the row is kept
        row("gidaf", "version", "Version de GIDAF ?", "Je ne sais pas."),
        row("gidaf-pro", "domaine", "Domaine de GIDAF-Pro ?", "GIDAF-Pro relève du domaine « Environnement »."),
    ]
    out = [answer(r) for r in degrade_rows(rows, "swapped-facts", catalog)]
    assert out[0] == "GIDAF est hébergée par OVHcloud Roubaix."
    assert out[1] == "Je ne sais pas."
    assert out[2] == answer(rows[2])  # gidaf has no domaine row and the same domain


def test_swapped_facts_needs_two_applications(by_id):
    rows = [row("gidaf", "hebergeur", "Qui héberge GIDAF ?", "GIDAF est hébergée par Datacenter DSI Orléans.")]
    with pytest.raises(DyagError, match="two applications"):
        degrade_rows(rows, "swapped-facts", [by_id["gidaf"]])
    assert degrade_rows([], "swapped-facts", [by_id["gidaf"]]) == []


def test_cut_short(rows, catalog):
    out = degrade_rows(rows, "cut-short", catalog)
    for old, new in zip(rows, out):
        text = answer(new)
        assert sum(any(c.isalnum() for c in t) for t in text.split()) == 3  # a lone « is no word
        assert text[-1] not in string.punctuation + "»…"
        assert answer(old).startswith(text)
    assert answer(about(out, "gidaf", "hebergeur")[0]) in {"L'hébergeur de GIDAF", "GIDAF est hébergée"}
    assert answer(about(out, "gidaf", "sigle")[0]) in {"GIDAF signifie « Gestion", "Le sigle GIDAF"}


def test_english(rows, catalog, by_id):
    out = degrade_rows(rows, "english", catalog)
    for r in out:
        record = by_id[r["meta"]["kb_id"]]
        field = r["meta"]["field"]
        text = answer(r)
        value = record["metadata"][field]
        values = [str(v) for v in value] if isinstance(value, list) else [str(value).rstrip(".")]
        for v in values:
            assert v in text
        rest = text
        for v in (*values, app_name(record)):
            rest = rest.replace(v, "")
        assert not any(w in f" {rest.lower()} " for w in FRENCH_STOP_WORDS), text
    hosted = answer(about(out, "gidaf", "hebergeur")[0])
    assert hosted == "GIDAF is hosted by Datacenter DSI Orléans."
    tech = answer(about(out, "gidaf", "technologies")[0])
    assert tech == "GIDAF uses the following technologies: Java, Spring Boot, PostgreSQL and Angular."
    assert answer(about(out, "gidaf", "utilisateurs")[0]) == "GIDAF has 12000 users."


def test_english_fallbacks_and_unknown_application(by_id):
    bare = {"id": "x", "title": "X", "text": "X est une fiche sans métadonnées."}
    assert english_answer(bare, "description") == "X: X est une fiche sans métadonnées."
    assert english_answer(by_id["gidaf"], "autre") == f"GIDAF: {by_id['gidaf']['text'].rstrip('.')}."
    with pytest.raises(DyagError, match="no record"):
        degrade_rows([row("absent", "hebergeur", "Q ?", "R.")], "english", [by_id["gidaf"]])


def test_rows_without_assistant_message_are_an_error(catalog):
    bad = {"messages": [{"role": "user", "content": "Q ?"}], "meta": {}}
    with pytest.raises(DyagError, match="no assistant message"):
        degrade_rows([bad], "cut-short", catalog)


def test_fake_turns_is_a_made_up_exchange():
    assert re.search(r"\nUtilisateur : .+\nAssistant : .+", FAKE_TURNS)
