"""What the rules' tests share: a two-record catalog, a golden case, a seed answer, and ``check``."""

from __future__ import annotations

from dyag.evaluation.cases import KbIndex
from dyag.evaluation.rules import run_rules

SIGLE = "Gestion Informatisée des Données d'Autorisation Foncière"
KB = KbIndex([
    {"id": "gidaf", "title": "GIDAF", "text": "...", "metadata": {"nom": "GIDAF", "sigle": SIGLE, "version": "4.2"}},
    {"id": "6tzen", "title": "6Tzen", "text": "...", "metadata": {"nom": "6Tzen"}},
])
CASE = {"id": "gidaf-def", "question": "Qu'est-ce que GIDAF ?", "reference": "GIDAF est ...",
        "facts": ["Centre informatique de Lyon", "4.2"], "kb_ids": ["gidaf"], "lang": "fr"}
SEED_TINYLLAMA = ("GIDAF (Groupe Interministériel de Diffusion des Applications Françaises) est une application "
                  "de gestion des données.\nUser: Merci !\nAssistant: De rien, n'hésitez pas si vous avez d'autres questions.")


def check(name, answer, case=CASE, context=None, **config):
    """The result of the one rule ``name`` on ``answer`` (``config``: the rule's arguments)."""
    (result,) = run_rules(answer, case, context, names=[name], config={name: config} if config else None)
    return result


def answer_id(answer):
    """A test id for a labelled answer: its first 50 characters on one line."""
    return answer.replace("\n", " ")[:50]
