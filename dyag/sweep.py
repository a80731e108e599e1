"""``dyag sweep``: train and evaluate a small grid of recipes on one model, and rank them.

Each point of the grid is the profile's recipe with some values changed (``epochs=4``,
``learning_rate=0.001``...). Points train one after the other (never two trainings at once)
through the adapter cache, answer the profile's golden set through the generation cache, and
are scored like the harness scores; the points are ranked by one metric, on one golden split
or on all cases, with bootstrap confidence intervals. The result is one results document
whose systems are the points (``smollm2:135m[epochs=4]/finetuned``) and whose ``sweep`` block
holds the ranking; the HTML report renders it as a recipe comparison.

>>> parse_grid(["epochs=2,4", "learning_rate=5e-4"])
{'epochs': [2, 4], 'learning_rate': [0.0005]}
>>> expand_grid({'epochs': [2, 4], 'learning_rate': [0.0005]})
[{'epochs': 2, 'learning_rate': 0.0005}, {'epochs': 4, 'learning_rate': 0.0005}]
>>> point_label("smollm2:135m", {"epochs": 4, "learning_rate": 0.001})
'smollm2:135m[epochs=4,learning_rate=0.001]'
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

from dyag.errors import DyagError
from dyag.settings import base_type, check_recipe, recipe_fields

@dataclass
class SweepConfig:
    """What ``dyag sweep`` trains, how it ranks, and where it writes."""

    grid: list[str] = field(default_factory=list, metadata={
        "help": "KEY=V1,V2,... (repeatable): recipe values to try, e.g. --grid epochs=2,4,6 --grid learning_rate=5e-4,1e-3",
        "repeat": True})
    model: str = field(default="smollm2:135m", metadata={"help": "the base model"})
    system: str = field(default="finetuned", metadata={
        "help": "the system kind ranked: finetuned, or rag / base / rag+finetuned to rank prompt settings "
                "(--grid top_k=1,3 --grid shots=0,2,5 --grid context_format=card,text)"})
    profile: str = field(default="quick", metadata={"help": "the profile whose recipe and golden set the grid varies"})
    metric: str = field(default="fact_recall", metadata={"help": "the column the points are ranked by"})
    split: str | None = field(default=None, metadata={
        "help": "rank on this golden split (seen, paraphrase, unseen, unknown; default: all cases)"})
    precision: str | None = field(default=None, metadata={"help": "training precision (default: the recipe's)"})
    output: str = field(default="reports/sweep.json", metadata={"help": "the results JSON"})
    report: str | None = field(default=None, metadata={"help": "also write the HTML report here"})


def _value(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def parse_grid(items: list[str]) -> dict[str, list]:
    """``["epochs=2,4"]`` -> ``{"epochs": [2, 4]}``; unknown keys and empty values are one-line errors."""
    grid: dict[str, list] = {}
    for item in items:
        key, sep, values = item.partition("=")
        key = key.strip()
        parsed = [_value(v.strip()) for v in values.split(",") if v.strip()]
        if not sep or not key or not parsed:
            raise DyagError(f"--grid expects KEY=V1,V2,..., got {item!r}")
        if key not in recipe_fields():
            raise DyagError(f"--grid: unknown recipe key {key!r} (known: {', '.join(sorted(recipe_fields()))})")
        if base_type(recipe_fields()[key].type) is list:  # a list setting: each value is a one-item list
            parsed = [[v] for v in parsed]
        for value in parsed:  # the same checks as [tool.dyag.train]
            check_recipe({key: value}, "--grid", None)
        grid[key] = parsed
    return grid


def expand_grid(grid: dict[str, list]) -> list[dict]:
    """Every combination, the last key varying slowest (so the first key's values sit side by side)."""
    keys = list(grid)
    combos = itertools.product(*[grid[k] for k in reversed(keys)])
    return [dict(zip(keys, reversed(combo))) for combo in combos] or [{}]


def point_label(model: str, point: dict) -> str:
    return f"{model}[{','.join(f'{k}={v}' for k, v in point.items())}]" if point else model


def run_sweep(config: SweepConfig, *, root: Path | None = None, log=print):
    """Train, answer and score every point; return one :class:`dyag.results.Results` with the ranking."""
    from dyag import results as R
    from dyag.settings import load_config
    from dyag.evaluation.registry import column
    from dyag.session import DyagSession, SessionOptions
    from dyag.system import System

    from dyag.system import SYSTEM_KINDS, uses_adapter

    if column(config.metric) is None:
        raise DyagError(f"--metric: unknown column {config.metric!r}")
    if config.system not in SYSTEM_KINDS:
        raise DyagError(f"--system must be one of {', '.join(SYSTEM_KINDS)}, got {config.system!r}")
    root = Path(root or Path.cwd())
    project = load_config(root)
    points = expand_grid(parse_grid(config.grid))
    docs, ranking = [], []
    for i, point in enumerate(points, 1):
        label = point_label(config.model, point)
        log(f"dyag sweep: [{i}/{len(points)}] {label}: train, answer, score")
        options = SessionOptions(models=(config.model,), profile=config.profile, systems=(config.system,),
                                 precision=config.precision, rootdir=str(root), project=project, recipe=point)
        session = DyagSession(options)
        trained = session.finetuned(config.model) if uses_adapter(config.system) else None
        cached = trained is None or trained.cache_hit
        doc = session.results(config.model)
        system = str(System(config.model, config.system))
        doc = doc.relabel({system: str(System(label, config.system))})
        docs.append(doc)
        agg = (doc.aggregates if config.split is None else doc.splits).get(str(System(label, config.system)), {})
        agg = agg.get(config.metric) if config.split is None else agg.get(config.split, {}).get(config.metric)
        ranking.append({"label": label, "recipe": point, "mean": agg.mean if agg else None,
                        "ci95": agg.ci95 if agg else None, "n": agg.n if agg else 0,
                        "train_s": trained.metrics.get("duration_s") if trained else None})
        shown = "-" if agg is None or agg.mean is None else f"{agg.mean:.3f}"
        log(f"dyag sweep:     {config.metric}{'@' + config.split if config.split else ''} = {shown}"
            + (f", training {trained.metrics.get('duration_s', 0):.0f} s{' (cached)' if cached else ''}" if trained else ""))
    lower_better = column(config.metric).direction == "min"
    ordered = sorted(ranking, key=lambda r: (r["mean"] is None, (r["mean"] or 0.0) * (1 if lower_better else -1)))
    sweep = R.Sweep(model=config.model, metric=config.metric, split=config.split, points=[
        R.SweepPoint(label=r["label"], recipe=r["recipe"], mean=r["mean"], ci95=r["ci95"], n=r["n"],
                     train_s=r["train_s"], rank=rank) for rank, r in enumerate(ordered, 1)])
    return R.merge(docs).replace(sweep=sweep)


def format_ranking(sweep) -> str:
    """The ranking as a fixed-width table, best first."""
    what = f"{sweep.metric}{'@' + sweep.split if sweep.split else ''}"
    rows = [("rank", "recipe", what, "95% CI", "n", "training s")]
    for p in sweep.points:
        rows.append((str(p.rank), p.label, "-" if p.mean is None else f"{p.mean:.3f}",
                     f"[{p.ci95[0]:.3f}-{p.ci95[1]:.3f}]" if p.ci95 else "-", str(p.n),
                     "-" if p.train_s is None else f"{p.train_s:.0f}"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)
