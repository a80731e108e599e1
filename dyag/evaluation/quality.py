"""The quality score out of 10 of one answer (a "Note Qualité", computed instead of judged by hand).

Formula (all weights live in :data:`QUALITY`)::

    content = (0.4 * semantic + 0.4 * fact_recall + 0.2 * rougeL) / (sum of the weights used)
    score   = max(0, 10 * content - 3 * failed errors - 1 * failed warnings)

- ``semantic`` is BERTScore F1 rescaled by the encoder's "unrelated sentences" floor,
  ``clip((F1 - floor) / (1 - floor), 0, 1)`` (floor 0.37 for the packaged all-MiniLM-L6-v2,
  measured on unrelated French sentence pairs; 0 for encoders without a floor). Without
  BERTScore, ROUGE-L F stands in for it, so the formula still covers 0-10.
- ``fact_recall`` is left out (weights renormalized) when the case has no facts, e.g. a
  question about something absent from the catalog.
- Rule penalties count each failed rule once, by severity; "info" costs nothing.
- A failed rule listed in ``caps`` caps the score: an answer that echoes its prompt
  (``no_prompt_echo``) scores 0 whatever words of the reference the echoed context holds.
- An answer that states none of its case's golden facts is capped at ``no_fact_cap`` (0): it does
  not answer what was asked, however close its wording is to the reference ("L'hébergeur de GIDAF
  est OVHcloud Roubaix" against "… Datacenter DSI Orléans"). Measured on the rated set
  (``golden/rated``): Spearman against people 0.80 without the cap, 0.92 with it.

A system's score is the mean of its answers' scores (with a bootstrap 95% CI).

>>> quality_score({"rougeL": 1.0, "fact_recall": 1.0}, [])
10.0
>>> quality_score({"rougeL": 0.5, "fact_recall": 1.0}, [{"passed": False, "severity": "error"}])
4.0
>>> quality_score({"rougeL": 1.0, "fact_recall": 1.0}, [{"name": "no_prompt_echo", "passed": False, "severity": "error"}])
0.0
>>> quality_score({"rougeL": 0.8, "fact_recall": 0.0}, [])
0.0
"""

from __future__ import annotations

import copy
from typing import Mapping, Sequence

QUALITY: dict = {
    "scale": 10.0,
    "weights": {"semantic": 0.4, "fact_recall": 0.4, "rougeL": 0.2},
    "penalties": {"error": 3.0, "warning": 1.0, "info": 0.0},
    "bertscore_floor": {"all-MiniLM-L6-v2": 0.37},
    "semantic_fallback": "rougeL",
    "caps": {"no_prompt_echo": 0.0},
    "no_fact_cap": 0.0,
}


def quality_config(overrides: Mapping | None = None) -> dict:
    """A copy of :data:`QUALITY` with ``overrides`` merged one level deep (recorded in results)."""
    config = copy.deepcopy(QUALITY)
    for key, value in (overrides or {}).items():
        if isinstance(value, Mapping) and isinstance(config.get(key), dict):
            config[key].update(value)
        else:
            config[key] = value
    return config


def semantic_component(metrics: Mapping, *, encoder: str | None = None, config: Mapping = QUALITY) -> float | None:
    """Rescaled BERTScore F1, or the fallback metric (ROUGE-L) when BERTScore is absent."""
    f1 = metrics.get("bertscore_f1")
    if f1 is None:
        return metrics.get(config["semantic_fallback"])
    floor = float(config["bertscore_floor"].get(encoder or "", 0.0))
    return min(1.0, max(0.0, (float(f1) - floor) / (1.0 - floor)))


def quality_score(metrics: Mapping, rules: Sequence[Mapping], *, encoder: str | None = None,
                  config: Mapping = QUALITY) -> float:
    """Score out of ``config["scale"]`` for one answer from its metrics and rule results."""
    parts = {
        "semantic": semantic_component(metrics, encoder=encoder, config=config),
        "fact_recall": metrics.get("fact_recall"),
        "rougeL": metrics.get("rougeL"),
    }
    used = {k: w for k, w in config["weights"].items() if parts.get(k) is not None and w}
    total = sum(used.values())
    content = sum(w * float(parts[k]) for k, w in used.items()) / total if total else 0.0
    penalty = sum(float(config["penalties"].get(r["severity"], 0.0)) for r in rules if not r["passed"])
    score = max(0.0, float(config["scale"]) * content - penalty)
    if config.get("no_fact_cap") is not None and parts["fact_recall"] == 0:
        score = min(score, float(config["no_fact_cap"]))
    caps = config.get("caps") or {}
    for r in rules:
        if not r["passed"] and r.get("name") in caps:
            score = min(score, float(caps[r["name"]]))
    return round(score, 4)
