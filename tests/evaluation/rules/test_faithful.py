"""faithful_to_kb (dyag/evaluation/rules/faithful.py) against the packaged catalog: labelled
contradicting and faithful answers, spans, no false alarm on golden references or training answers."""

from __future__ import annotations

import re

import pytest

from dyag.data.kb import read_kb, sample_kb_path
from dyag.evaluation.cases import KbIndex
from dyag.evaluation.rules import RULES, resolve_rules, run_rules
from tests.evaluation.rules.helpers import KB, answer_id, check
from tests.helpers import ROOT

# Against the packaged catalog: GIDAF is hosted by "Datacenter DSI Orléans", run by Mme Claire Dubois,
# in version 4.2, with 12 000 users, criticality "critique", on Java, Spring Boot, PostgreSQL and Angular.

SAMPLE = KbIndex(read_kb(sample_kb_path()))
GIDAF_CASE = {"id": "q", "question": "Que sais-tu de GIDAF ?", "kb_ids": ["gidaf"]}

# (answer, kb_ids, field named in the message, what the answer said, what the catalog says)
CONTRADICTING = [
    ("GIDAF est hébergée par OVHcloud Roubaix.", ["gidaf"], "hebergeur", "OVHcloud Roubaix", "Datacenter DSI Orléans"),
    ("L'hébergeur de GIDAF est le datacenter de la DSI à Toulouse.", ["gidaf"], "hebergeur",
     "le datacenter de la DSI à Toulouse", "Datacenter DSI Orléans"),
    ("GIDAF compte 1 500 utilisateurs.", ["gidaf"], "utilisateurs", "1 500", "12 000"),
    ("L'application GIDAF a environ 45 000 utilisateurs.", ["gidaf"], "utilisateurs", "environ 45 000", "12 000"),
    ("Le responsable de GIDAF est M. Julien Martin.", ["gidaf"], "responsable", "M. Julien Martin", "Mme Claire Dubois"),
    ("GIDAF est pilotée par Mme Claire Martin, cheffe de projet à la DGPR.", ["gidaf"], "responsable",
     "Mme Claire Martin", "Mme Claire Dubois"),
    ("La version actuelle de GIDAF est la 2.1.", ["gidaf"], "version", "2.1", "4.2"),
    ("GIDAF est en version 4.21 depuis la dernière mise en production.", ["gidaf"], "version", "4.21", "4.2"),
    ("Le niveau de criticité de GIDAF est « moyenne » : ce n'est pas une application critique.", ["gidaf"],
     "criticite", "moyenne", "critique"),
    ("Non, GIDAF n'est pas une application critique.", ["gidaf"], "criticite", "pas une application critique",
     "critique"),
    ("GEDAF est classée en criticité « critique » ; c'est une application critique.", ["gedaf"], "criticite",
     "critique", "moyenne"),
    ("GIDAF utilise les technologies suivantes : PHP, Symfony et MySQL.", ["gidaf"], "technologies",
     "PHP, Symfony, MySQL", "Java, Spring Boot, PostgreSQL, Angular"),
    ("GIDAF repose sur Python, Django et PostgreSQL.", ["gidaf"], "technologies", "Python, Django, PostgreSQL",
     "Java, Spring Boot, PostgreSQL, Angular"),
    ("GIDAF signifie « Gestion Intégrée des Dossiers d'Autorisation Foncière ».", ["gidaf"], "sigle",
     "Gestion Intégrée des Dossiers d'Autorisation Foncière", "Gestion Informatisée des Données d'Autosurveillance Fréquente"),
    # the answer to another field given as this one
    ("L'hébergeur de GIDAF est Mme Claire Dubois.", ["gidaf"], "hebergeur", "Mme Claire Dubois", "Datacenter DSI Orléans"),
    ("Le responsable de GIDAF est Datacenter DSI Orléans.", ["gidaf"], "responsable", "Datacenter DSI Orléans",
     "Mme Claire Dubois"),
    ("La version de GIDAF est 12 000.", ["gidaf"], "version", "12 000", "4.2"),
    # what small fine-tuned models wrote (stored baselines), and pronouns after the name
    ("Le responsable de GIDAF est <em>Gabriel</em> Roubaix.", ["gidaf"], "responsable", "Gabriel Roubaix",
     "Mme Claire Dubois"),
    ("Le version de GIDAF est 4.2. Le nombre de utilisateurs est 120.", ["gidaf"], "utilisateurs", "120", "12 000"),
    ("6Tzen est la plateforme des transporteurs. Elle est hébergée par Scaleway Paris.", ["6tzen"], "hebergeur",
     "Scaleway Paris", "OVHcloud Roubaix"),
    # another application named than the case's: checked against that one
    ("Pléiade, l'intranet des agents, est hébergée au Datacenter DSI Toulouse.", ["gidaf"], "hebergeur",
     "Datacenter DSI Toulouse", "OVHcloud Gravelines"),
    ("Fiche de SIGAL :\nHébergeur : Datacenter DSI Toulouse\nVersion : 9.12\nUtilisateurs : 15 000", ["sigal"],
     "utilisateurs", "15 000", "1 500"),
]

FAITHFUL = [
    # the catalog's values, as the templates and in paraphrase
    ("GIDAF est hébergée par Datacenter DSI Orléans.", ["gidaf"]),
    ("GIDAF est hébergée dans le datacenter de la DSI à Orléans.", ["gidaf"]),
    ("GIDAF est hébergée au Datacenter DSI d’Orléans, en version 4.2.", ["gidaf"]),
    ("Le responsable de GIDAF est Mme Dubois.", ["gidaf"]),
    ("GIDAF est pilotée par Claire Dubois (DGPR).", ["gidaf"]),
    ("GIDAF compte 12000 utilisateurs.", ["gidaf"]),
    ("GIDAF compte plus de 10 000 utilisateurs, dont 300 inspecteurs.", ["gidaf"]),
    ("La version en production de GIDAF est la 4.2 ; elle compte environ 12 000 utilisateurs.", ["gidaf"]),
    ("Oui : GIDAF est une application critique, sa criticité est « critique ».", ["gidaf"]),
    ("Granit est classée en criticité élevée ; ce n'est pas une application critique.", ["granit"]),
    ("GIDAF repose sur Java et sur une base de données PostgreSQL.", ["gidaf"]),
    ("GIDAF utilise :\n- Java\n- Spring Boot\n- PostgreSQL", ["gidaf"]),
    ("6Tzen repose sur Python, Django, PostgreSQL et Vue.js.", ["6tzen"]),
    ("GIDAF (gestion informatisée des données d’autosurveillance fréquente) est hébergée à Orléans.", ["gidaf"]),
    # partial answers and answers about other applications, each right about what it names
    ("GIDAF est hébergée à Orléans.", ["gidaf"]),
    ("GIDAF est en version 4.", ["gidaf"]),
    ("GIDAF-Pro est hébergée par OVHcloud Roubaix, contrairement à GIDAF, hébergée au Datacenter DSI Orléans.",
     ["gidaf"]),
    ("SIGAL-Stat est le module de statistiques de SIGAL. Elle compte 210 utilisateurs.", ["sigal-stat"]),
    # nothing checkable, or too vague to contradict
    ("GIDAF est l'application de télédéclaration des résultats d'autosurveillance.", ["gidaf"]),
    ("Le responsable de GIDAF est la DGPR.", ["gidaf"]),
    ("GIDAF est hébergée sur les serveurs du ministère.", ["gidaf"]),
    ("La version 4.3 de GIDAF est prévue pour l'an prochain.", ["gidaf"]),
    # applications the catalog does not know: not checked
    ("ZORGLUB est hébergée par OVHcloud Roubaix et compte 3 000 utilisateurs.", ["gidaf"]),
    ("L'application Mercure est hébergée par Scaleway Paris.", []),
]


def _faithful(answer, kb_ids, kb=SAMPLE, **case):
    (result,) = run_rules(answer, {"id": "q", "kb_ids": kb_ids, **case}, {"kb": kb}, names=["faithful_to_kb"])
    return result


@pytest.mark.parametrize("answer, kb_ids, field_name, said, catalog", CONTRADICTING,
                         ids=[answer_id(c[0]) for c in CONTRADICTING])
def test_faithful_to_kb_flags_a_contradiction(answer, kb_ids, field_name, said, catalog):
    result = _faithful(answer, kb_ids)
    assert result["passed"] is False and result["severity"] == "error", answer
    message = result["message"]
    assert message.startswith(f"{field_name} of ") and repr(said) in message and repr(catalog) in message, message
    start, end = result["span"]
    assert 0 <= start < end <= len(answer)


@pytest.mark.parametrize("answer, kb_ids", FAITHFUL, ids=[answer_id(c[0]) for c in FAITHFUL])
def test_faithful_to_kb_passes_a_faithful_answer(answer, kb_ids):
    result = _faithful(answer, kb_ids)
    assert result["passed"] is True, result["message"]


def _documented_fields() -> set[str]:
    """The catalog fields faithful_to_kb's docstring says it checks: the names it quotes as code
    that are metadata fields of the sample catalog (hebergeur, version, ...; not threshold or kb_ids)."""
    named = set(re.findall(r"``(\w+)``", RULES["faithful_to_kb"].func.__doc__))
    return named & {field for record in read_kb(sample_kb_path()) for field in record.get("metadata", {})}


def test_faithful_to_kb_labelled_sets_cover_every_field_it_checks():
    """The fields the rule reports on the contradicting answers (run through it, read from its messages)
    are exactly the fields its docstring says it checks: a field added to the rule without a labelled
    contradiction, or reported without being documented, fails here."""
    assert len(CONTRADICTING) >= 12 and len(FAITHFUL) >= 12
    documented = _documented_fields()
    assert len(documented) >= 5, documented  # the docstring is still read: its fields were found
    reported = {_faithful(answer, kb_ids)["message"].split(" of ", 1)[0] for answer, kb_ids, *_ in CONTRADICTING}
    assert reported == documented
    assert {f for _, _, f, _, _ in CONTRADICTING} == reported  # and each label is the field the rule names


def test_faithful_to_kb_span_points_at_the_wrong_value():
    answer = "GIDAF est en version 4.2 et elle est hébergée par OVHcloud Roubaix."
    result = _faithful(answer, ["gidaf"])
    assert answer[slice(*result["span"])].endswith("OVHcloud Roubaix")
    two = _faithful("GIDAF est hébergée par OVHcloud Roubaix et compte 3 400 utilisateurs.", ["gidaf"])
    assert two["message"].startswith("hebergeur of GIDAF") and two["message"].endswith("(and 1 more)")


def test_faithful_to_kb_no_false_alarm_on_golden_references():
    from dyag.data.golden import read_golden

    cases = [c for path in ("seed.jsonl", "catalog.jsonl") for c in read_golden(ROOT / "golden" / path)]
    checked = [(c, run_rules(c.reference, c, {"kb": SAMPLE}, names=["faithful_to_kb"])) for c in cases]
    alarms = [(c.id, r[0]["message"]) for c, r in checked if r and not r[0]["passed"]]
    assert not alarms
    assert sum(1 for _, r in checked if r) >= 80  # every case but the unknown ones is checked


def test_faithful_to_kb_no_false_alarm_on_training_answers():
    """Every answer template filled from every sample record, and the records' own texts, pass."""
    from dyag.data.templates import answer_templates, available_fields, template_context

    answers = []
    for record in read_kb(sample_kb_path()):
        ctx = template_context(record)
        answers += [(t.format(**ctx), record["id"]) for f in available_fields(record) for t in answer_templates(record, f)]
        answers.append((record["text"], record["id"]))
    alarms = [(a, r["message"]) for a, rid in answers if not (r := _faithful(a, [rid]))["passed"]]
    assert not alarms
    assert len(answers) > 900


def test_faithful_to_kb_does_not_apply_to_unknown_cases_and_needs_a_kb():
    unknown = {"id": "u", "question": "Qui héberge ZORGLUB ?", "expect": "unknown"}
    wrong = "GIDAF est hébergée par OVHcloud Roubaix."
    assert "faithful_to_kb" not in [r["name"] for r in run_rules(wrong, unknown, {"kb": SAMPLE})]
    assert "faithful_to_kb" in [r["name"] for r in run_rules(wrong, GIDAF_CASE, {"kb": SAMPLE})]
    assert check("faithful_to_kb", wrong, GIDAF_CASE)["passed"] is True  # no knowledge base


def test_faithful_to_kb_leaves_missing_expansions_to_no_invented_expansion():
    answer = "6Tzen (Téléservice Zonal des Entreprises Numériques) est la plateforme des transporteurs."
    results = {r["name"]: r["passed"] for r in run_rules(answer, {"id": "q", "kb_ids": ["6tzen"]}, {"kb": SAMPLE})}
    assert results["faithful_to_kb"] is True and results["no_invented_expansion"] is False


def test_faithful_to_kb_runs_by_default_and_indexes_the_kb_once():
    assert "faithful_to_kb" in resolve_rules() and RULES["faithful_to_kb"].severity == "error"
    kb = KbIndex(read_kb(sample_kb_path()))
    _faithful("GIDAF est hébergée par OVHcloud Roubaix.", ["gidaf"], kb=kb)
    tables = kb.derived("faithful_to_kb", lambda _: pytest.fail("rebuilt"))
    _faithful("GIDAF compte 1 500 utilisateurs.", ["gidaf"], kb=kb)
    assert kb.derived("faithful_to_kb", lambda _: None) is tables


def test_faithful_to_kb_on_a_small_catalog():
    # the fixture catalog of tests/fixtures/eval: only the fields a record has are checked
    assert check("faithful_to_kb", "GIDAF est hébergée par le Centre informatique de Lyon, en version 4.2.",
                 context={"kb": KB})["passed"] is True
    result = check("faithful_to_kb", "GIDAF est hébergée à Lyon, en version 3.0.", context={"kb": KB})
    assert result["passed"] is False and "'3.0'" in result["message"] and "'4.2'" in result["message"]
    assert check("faithful_to_kb", "6Tzen compte 12 utilisateurs.", context={"kb": KB})["passed"] is True
