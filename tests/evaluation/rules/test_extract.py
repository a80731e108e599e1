"""What the rules read in an answer (dyag/evaluation/rules/extract.py): acronym expansions and claims."""

from __future__ import annotations

from dyag.evaluation.rules import extract_claims, find_expansions


def test_find_expansions_keeps_the_original_text():
    ((acr, expansion, span),) = find_expansions("GIDAF, pour Gestion Intégrée des Dossiers d'Autorisation et de Financement, est ...")
    assert acr == "GIDAF" and expansion == "Gestion Intégrée des Dossiers d'Autorisation et de Financement"


def test_extract_claims_reads_host_version_owner():
    claims = dict((k[0], v) for k, v, _ in extract_claims(
        "GIDAF est hébergée par le Centre de Lyon. La version actuelle est la 4.2. Le responsable de GIDAF est Marie Dupont.",
        ["gidaf"]))
    assert claims == {"hebergeur": "Centre de Lyon", "version": "4.2", "responsable": "Marie Dupont"}
