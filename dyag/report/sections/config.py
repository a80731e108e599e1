"""The runs' configuration side by side: models and data, hyperparameters, machine, versions,
the scorer's setup and its rules; a value that differs between files is marked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dyag.report import fmt
from dyag.results import Run, Scoring

GROUPS = ("cfg_models_data", "cfg_hyperparameters", "cfg_machine", "cfg_versions", "cfg_scoring", "cfg_rules")
MACHINE_LABELS = {"platform": "platform", "cpu": "cpu", "cores": "cores", "torch": "torch", "device": "device"}


@dataclass
class ConfigRow:
    label: str
    values: list[str]

    @property
    def same(self) -> bool:
        return len(set(self.values)) <= 1


@dataclass
class ConfigGroup:
    key: str
    title: str
    rows: list[ConfigRow]


class _Items:
    """``(group, label, text)`` triples, leaving out what is unset."""

    def __init__(self, lang: str):
        self.lang = lang
        self.items: list[tuple[str, str, str]] = []

    def add(self, group: str, label: str, value: Any) -> None:
        if value is not None and value != "" and value != [] and value != {}:
            self.items.append((group, label, fmt.fmt_plain(value, self.lang)))

    def pairs(self, d: dict[str, Any]) -> str:
        return ", ".join(f"{k} = {fmt.fmt_plain(v, self.lang)}" for k, v in d.items())


def _short_sha(sha: Any) -> Any:
    return sha[:16] + "…" if isinstance(sha, str) and len(sha) > 16 else sha


def run_items(run: Run, t: dict[str, str], lang: str) -> list[tuple[str, str, str]]:
    """``(group, label, value)`` triples of one run's configuration."""
    out = _Items(lang)
    add = out.add
    add("cfg_models_data", t["models"], ", ".join(run.models))
    add("cfg_models_data", t["profile"], run.profile)
    dataset, catalog, recipe = run.dataset or {}, run.catalog or {}, run.recipe or {}
    add("cfg_models_data", t["dataset"], dataset.get("path"))
    add("cfg_models_data", t["dataset_sha256"], _short_sha(dataset.get("sha256")))
    add("cfg_models_data", t["dataset_n"], dataset.get("n", run.n_golden))
    add("cfg_models_data", t["catalog"], catalog.get("path"))
    add("cfg_models_data", t["catalog_sha256"], _short_sha(catalog.get("sha256")))
    add("cfg_models_data", t["recipe"], ", ".join(f"{k}={v}" for k, v in recipe.items() if v is not None))
    add("cfg_machine", t["environment_key"], run.environment.key if run.environment else None)
    for key, value in (run.hyperparameters or {}).items():
        add("cfg_hyperparameters", str(key), value)
    machine = run.machine.model_dump()
    order = list(MACHINE_LABELS)
    for key in sorted(machine, key=lambda k: order.index(k) if k in order else len(order)):
        add("cfg_machine", t[MACHINE_LABELS[key]] if key in MACHINE_LABELS else key, machine[key])
    for key, value in run.versions.items():
        add("cfg_versions", key, value)
    if run.scoring is not None:
        _scoring_items(run.scoring, t, out)
    return out.items


def _scoring_items(scoring: Scoring, t: dict[str, str], out: _Items) -> None:
    """The scorer's setup: encoder, weights, penalties, other settings, and one row per rule."""
    add, pairs = out.add, out.pairs
    encoder = scoring.bertscore or {}
    name, source = encoder.get("name") or encoder.get("model_type"), encoder.get("source")
    add("cfg_scoring", t["bertscore_model"], f"{name} ({source})" if name and source else name)
    add("cfg_scoring", t["bertscore_layers"], encoder.get("num_layers"))
    quality = dict(scoring.quality)
    weights, penalties = quality.pop("weights", None), quality.pop("penalties", None)
    add("cfg_scoring", t["weights"], pairs(weights) if weights else None)
    add("cfg_scoring", t["penalties"], pairs(penalties) if penalties else None)
    others = {**quality, **scoring.model_dump(include={"metrics", "bootstrap"})}
    for key, value in others.items():
        add("cfg_scoring", key, pairs(value) if isinstance(value, dict) else value)
    for rule, setup in scoring.rules.items():
        add("cfg_rules", rule, rule_setup_text(setup, out.lang))


def rule_setup_text(setup: dict[str, Any], lang: str) -> str:
    """``{"severity": "error", "args": {"ngram": 4}}`` -> ``'error · ngram=4'`` (unset arguments left out;
    a setup without ``args`` gives its other keys)."""
    args = setup.get("args")
    if not isinstance(args, dict):
        args = {k: v for k, v in setup.items() if k not in ("severity", "args")}
    parts = [str(setup["severity"])] if setup.get("severity") else []
    shown = ", ".join(f"{k}={fmt.fmt_plain(v, lang)}" for k, v in args.items() if v is not None)
    if shown:
        parts.append(shown)
    return " · ".join(parts) or "✓"


def build(ctx, t) -> list[ConfigGroup]:
    per_source = [run_items(doc.run, t, ctx.lang) for _, doc in ctx.sources]
    order: dict[tuple[str, str], None] = {}
    for items in per_source:
        order.update(dict.fromkeys((group, label) for group, label, _ in items))
    lookup = [{(g, label): v for g, label, v in items} for items in per_source]
    groups: dict[str, list[ConfigRow]] = {}
    for group, label in order:
        groups.setdefault(group, []).append(ConfigRow(label, [v.get((group, label), fmt.MISSING) for v in lookup]))
    return [ConfigGroup(g, t[g], groups[g]) for g in GROUPS if g in groups]
