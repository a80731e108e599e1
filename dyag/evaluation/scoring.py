"""Score stored predictions against golden cases: metrics, rules, quality, aggregates.

The output is a :class:`dyag.results.Results` (docs/results-schema.md), built whole here;
the report and the regression check read it. Predictions may come from anywhere; every
prediction must match a golden case and every golden case must be answered by every
system, unless ``allow_missing`` records the gaps in ``results.missing``. The metrics are
the registry's (:mod:`dyag.evaluation.registry`): a registered metric is computed here
with no other edit.

>>> from dyag.data.golden import GoldenCase
>>> golden = [GoldenCase(id="q1", question="Qui héberge GIDAF ?", reference="GIDAF est hébergée à Lyon.",
...                      facts=["Lyon"])]
>>> preds = [{"id": "q1", "system": "m/base", "answer": "GIDAF est hébergée à Lyon."}]
>>> results = score_predictions(preds, golden, bertscore=False, progress=False)
>>> results.aggregates["m/base"]["fact_recall"].mean, results.cases[0].score
(1.0, 10.0)
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
from typing import Any, Iterable, Mapping, Sequence

from pydantic import ConfigDict, Field, StrictStr

from dyag.data.golden import GoldenCase
from dyag.errors import DyagError
from dyag.evaluation import registry, stats
from dyag.evaluation.cases import KbIndex, as_kb_index
from dyag.evaluation.quality import quality_config, quality_score
from dyag.evaluation.rules import RuleContext, SystemAnswers, resolve_rules, run_rules
from dyag.evaluation.textmetrics import bleu_from_stats
from dyag.results import SPLIT_ORDER, Case, Results, Run
from dyag.utils.jsonl import shown
from dyag.utils.records import Record, Text, read_records, validate_records

_ROUND = 6
#: The fields a scored case (:class:`dyag.results.Case`) copies from its golden case.
_GOLDEN_FIELDS = {name for name in Case.model_fields if name in GoldenCase.model_fields}


# --- predictions -------------------------------------------------------------------------------


class Prediction(Record):
    """One answer to one golden question: one line of a predictions file (``dyag score --predictions``).

    ``id`` is the golden case's; an empty ``answer`` is valid (the ``not_empty`` rule judges it);
    ``meta`` holds what the generator measured (``retrieved``, ``tokens``, ``latency_s``...).
    Keys other than these four are ignored (predictions may come from any service).
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: Text
    system: Text
    answer: StrictStr
    meta: dict[str, Any] = Field(default_factory=dict)

    def record_key(self) -> tuple[str, str]:
        return self.id, self.system

    def duplicate(self, first: str) -> str:
        return f"duplicate prediction for id {shown(self.id)}, system {shown(self.system)} (first at {first})"


def read_predictions(path: str | os.PathLike) -> list[Prediction]:
    """The predictions of a JSONL file, validated.

    Errors name the file and line: a missing field, a non-string answer, a duplicate
    ``(id, system)`` pair.
    """
    return read_records(path, Prediction, what="predictions file")


def _name_ids(ids: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(repr(i) for i in ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def _match(predictions: list[Prediction], golden: dict[str, GoldenCase], allow_missing: bool,
           sources: tuple[str, str]) -> tuple[dict, dict]:
    """Group predictions by system in golden order; report ids that do not line up."""
    preds_src, golden_src = sources
    by_system: dict[str, dict[str, Prediction]] = {}
    unknown = []
    for p in predictions:
        if p.id not in golden:
            unknown.append({"id": p.id, "system": p.system})
            continue
        by_system.setdefault(p.system, {})[p.id] = p
    if not by_system and not unknown:
        raise DyagError("no predictions to score")
    unanswered = {s: [cid for cid in golden if cid not in preds] for s, preds in by_system.items()}
    unanswered = {s: ids for s, ids in unanswered.items() if ids}
    if not allow_missing and (unknown or unanswered):
        if unknown:
            ids = [u["id"] for u in unknown]
            raise DyagError(f"{preds_src}: {len(ids)} prediction(s) with ids not in {golden_src}: {_name_ids(ids)} "
                            "(use --allow-missing to record and skip them)")
        system, ids = next(iter(unanswered.items()))
        raise DyagError(f"{preds_src}: system {system!r} has no prediction for {len(ids)} case(s) of {golden_src}: "
                        f"{_name_ids(ids)} (use --allow-missing to score the rest)")
    if not by_system:
        raise DyagError(f"{preds_src}: no prediction matches a case of {golden_src} "
                        f"(unknown ids: {_name_ids([u['id'] for u in unknown])})")
    ordered = {s: [preds[cid] for cid in golden if cid in preds] for s, preds in by_system.items()}
    return ordered, {"unknown_ids": unknown, "unanswered": unanswered}


# --- per-case metrics --------------------------------------------------------------------------


def _round(value):
    return round(float(value), _ROUND) if isinstance(value, float) else value


def _answer_metrics(answer: str, case: GoldenCase, families: Sequence[registry.Metric]) -> dict:
    """The per-answer families' values for one answer, by column."""
    out: dict[str, Any] = {}
    for family in families:
        if family.batched:
            continue
        value = family.compute(answer, case)
        out.update(value if isinstance(value, Mapping) else {family.name: value})
    return out


def _batched_metrics(families, answers: list[str], cases: list[GoldenCase], options: dict) -> tuple[list[dict], dict]:
    """The batched families (BERTScore) over every answer at once; ``{family: info}`` for ``run.scoring``."""
    rows: list[dict] = [{} for _ in answers]
    info = {}
    for family in families:
        if family.batched:
            values, info[family.name] = family.compute(answers, cases, options)
            for row, value in zip(rows, values):
                row.update(value)
    return rows, info


# --- aggregates ----------------------------------------------------------------------------------


def aggregate_cases(cases: Sequence, *, resamples: int = stats.RESAMPLES, seed: int = stats.SEED,
                    corpus: Mapping[str, Sequence[tuple[str, str]]] | None = None) -> dict:
    """Per-system ``{column: {"mean", "ci95", "n"}}``: score, each metric, ``rule:<name>`` pass rates.

    ``corpus`` (system -> its ``(answer, reference)`` pairs) adds ``corpus_bleu`` with a bootstrap CI.
    """
    systems: dict[str, list] = {}
    for case in cases:
        systems.setdefault(case["system"], []).append(case)
    aggregates = {}
    for system, rows in systems.items():
        columns: dict[str, list[float]] = {"score": [r["score"] for r in rows if r.get("score") is not None]}
        for r in rows:
            for name, value in r["metrics"].items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    columns.setdefault(name, []).append(float(value))
        for r in rows:
            for res in r["rules"]:
                columns.setdefault(f"rule:{res['name']}", []).append(1.0 if res["passed"] else 0.0)
        agg = {name: stats.summarize(values, resamples=resamples, seed=seed) for name, values in columns.items()}
        if corpus and corpus.get(system):
            agg["corpus_bleu"] = corpus_bleu_summary(corpus[system], resamples=resamples, seed=seed)
        aggregates[system] = {k: {"mean": _round(v["mean"]), "ci95": [_round(x) for x in v["ci95"]] if v["ci95"] else None,
                                  "n": v["n"]} for k, v in agg.items()}
    return aggregates


def aggregate_splits(cases: Sequence, *, resamples: int = stats.RESAMPLES, seed: int = stats.SEED) -> dict:
    """``{system: {split: aggregates}}`` when the cases name splits; ``{}`` when none does."""
    if all(c.get("split", "unspecified") == "unspecified" for c in cases):
        return {}
    by_split: dict[str, list] = {}
    for case in cases:
        by_split.setdefault(case.get("split", "unspecified"), []).append(case)
    out: dict[str, dict] = {}
    for split in [s for s in SPLIT_ORDER if s in by_split]:
        for system, aggs in aggregate_cases(by_split[split], resamples=resamples, seed=seed).items():
            out.setdefault(system, {})[split] = aggs
    return out


def corpus_bleu_summary(pairs: Sequence[tuple[str, str]], *, resamples: int = stats.RESAMPLES,
                        seed: int = stats.SEED) -> dict:
    """Corpus BLEU of ``(answer, reference)`` pairs with a bootstrap CI over sentences."""
    import numpy as np

    from dyag.evaluation.builtin_metrics import answer_bleu_stats

    arr = np.asarray([answer_bleu_stats(answer, reference)[1] for answer, reference in pairs], dtype=np.int64)
    value = bleu_from_stats(arr.sum(axis=0))
    if len(arr) < 2:
        return {"mean": value, "ci95": [value, value], "n": int(len(arr))}
    sums = np.empty((resamples, arr.shape[1]), dtype=np.int64)
    for start, stop, idx in stats.resample_indices(len(arr), resamples=resamples, seed=seed):
        sums[start:stop] = arr[idx].sum(axis=1)
    scores = np.array([bleu_from_stats(row) for row in sums])
    lo, hi = np.quantile(scores, [0.025, 0.975])
    return {"mean": value, "ci95": [float(lo), float(hi)], "n": int(len(arr))}


def corpus_bleu_paired_test(before: Sequence[tuple[str, str]], after: Sequence[tuple[str, str]], *,
                            resamples: int = stats.RESAMPLES, seed: int = stats.SEED) -> "stats.PairedTest":
    """Paired bootstrap test of corpus BLEU(after) - corpus BLEU(before) over the same cases.

    ``before[i]`` and ``after[i]`` are one case's ``(answer, reference)`` in each run. Both
    corpora are resampled with the same sentence indices, as Koehn (2004) does for BLEU, so a
    change is judged against the spread that those questions give it.
    """
    import numpy as np

    from dyag.evaluation.builtin_metrics import answer_bleu_stats

    if len(before) != len(after):
        raise ValueError(f"paired corpora differ in length: {len(before)} vs {len(after)}")
    a = np.asarray([answer_bleu_stats(x, r)[1] for x, r in before], dtype=np.int64).reshape(len(before), -1)
    b = np.asarray([answer_bleu_stats(x, r)[1] for x, r in after], dtype=np.int64).reshape(len(after), -1)
    delta = bleu_from_stats(b.sum(axis=0)) - bleu_from_stats(a.sum(axis=0)) if len(a) else 0.0
    if len(a) < 2 or np.array_equal(a, b):
        return stats.PairedTest(float(delta), 1.0, int(len(a)), "paired_bootstrap")
    deltas = np.empty(resamples)
    for start, stop, idx in stats.resample_indices(len(a), resamples=resamples, seed=seed):
        for row, sample in enumerate(idx, start):
            deltas[row] = bleu_from_stats(b[sample].sum(axis=0)) - bleu_from_stats(a[sample].sum(axis=0))
    return stats.PairedTest(float(delta), stats.two_sided_p(deltas), int(len(a)), "paired_bootstrap")


# --- the scorer ----------------------------------------------------------------------------------


def _versions() -> dict:
    from importlib import metadata

    from dyag import __version__

    out = {"dyag": __version__, "python": platform.python_version()}
    for dist in ("sacrebleu", "rouge-score", "bert-score", "evaluate", "numpy", "transformers", "torch"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def score_predictions(
    predictions: Sequence[Prediction | Mapping],
    golden_cases: Iterable[GoldenCase | Mapping],
    kb: Iterable[Mapping] | KbIndex | None = None,
    *,
    metrics: Sequence[str] | None = None,
    bertscore: bool = True,
    bertscore_model: str | None = None,
    bertscore_layers: int | None = None,
    rules: Sequence[str] | Mapping[str, Mapping] | None = None,
    quality: Mapping | None = None,
    run_info: Mapping | None = None,
    training: Mapping | None = None,
    allow_missing: bool = False,
    sources: tuple[str, str] = ("predictions", "the golden set"),
    progress: bool = True,
    resamples: int = stats.RESAMPLES,
    seed: int = stats.SEED,
    cache_dir: str | None = None,
    cache: bool = True,
) -> Results:
    """Score predictions against golden cases; return the whole :class:`Results`.

    Predictions and golden cases are :class:`Prediction` and :class:`GoldenCase` models or
    dicts of their fields, validated here (a bad one is a one-line ``DyagError``).

    ``metrics``: registered metric families (``None``: the registry's defaults);
    ``bertscore=False`` drops BERTScore (no encoder is loaded). ``rules``: rule names, or
    ``{name: argument overrides}`` (``None``: every registered rule). ``quality`` overrides
    :data:`dyag.evaluation.quality.QUALITY`. ``run_info`` goes into ``results.run`` and
    ``training`` (``{model: metrics}``) becomes ``results.training``. ``sources`` names the
    predictions and golden files in errors about ids that do not line up. Per-answer values of
    expensive metrics (BERTScore) are cached under ``<cache_dir>/metrics`` (default
    ``$DYAG_HOME/metrics``) by answer, reference and scorer; ``cache=False`` recomputes them.
    """
    families = [f for f in registry.families(metrics) if bertscore or f.name != "bertscore"]
    golden = {case.id: case for case in validate_records(golden_cases, GoldenCase, what="golden case")}
    if not golden:
        raise DyagError("no golden cases")
    kb_index = as_kb_index(kb)
    rule_setup = resolve_rules(list(rules) if rules is not None else None,
                               rules if isinstance(rules, Mapping) else None)
    qconfig = quality_config(quality)
    by_system, missing = _match(validate_records(predictions, Prediction, what="prediction"), golden,
                                allow_missing, sources)

    flat = [(system, p, golden[p.id]) for system, preds in by_system.items() for p in preds]
    from dyag.evaluation.bertscore import metric_cache

    options = {"bertscore_model": bertscore_model, "bertscore_layers": bertscore_layers, "progress": progress,
               "cache": metric_cache(cache_dir, enabled=cache)}
    batched, info = _batched_metrics(families, [p.answer for _, p, _ in flat], [c for _, _, c in flat], options)
    encoder = info.get("bertscore")

    from tqdm.auto import tqdm

    contexts = {s: SystemAnswers([(p.id, p.answer, golden[p.id].kb_ids) for p in preds], kb_index)
                for s, preds in by_system.items()}
    positions: dict[str, int] = {}
    cases_out = []
    for (system, pred, case), extra in zip(tqdm(flat, desc="scoring", unit="answer", disable=not progress or None), batched):
        position = positions.get(system, 0)
        positions[system] = position + 1
        answer, meta = pred.answer, dict(pred.meta)
        values = {**_answer_metrics(answer, case, families), **extra}
        context = RuleContext(meta=meta, kb=kb_index, answers=contexts[system], position=position)
        rule_results = run_rules(answer, case, context, resolved=rule_setup)
        cases_out.append({
            **case.model_dump(include=_GOLDEN_FIELDS), "system": system, "answer": answer, "meta": meta,
            "metrics": {k: _round(v) for k, v in values.items()},
            "rules": rule_results,
            "score": quality_score(values, rule_results, encoder=encoder and encoder["name"], config=qconfig),
        })
    corpus = None
    if any(f.name == "bleu" for f in families):
        corpus = {s: [(p.answer, golden[p.id].reference) for p in preds] for s, preds in by_system.items()}

    from dyag.utils.device import machine_info

    run = {
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "versions": _versions(),
        "machine": machine_info(),
        "scoring": {
            "metrics": [f.name for f in families],
            "bertscore": encoder,
            "quality": qconfig,
            "rules": rule_setup,
            "bootstrap": {"resamples": resamples, "seed": seed, "confidence": 0.95},
        },
        "systems": list(by_system),
        "n_golden": len(golden),
        **dict(run_info or {}),
    }
    return Results(
        run=Run.model_validate(run),
        training=dict(training or {}),
        cases=cases_out,
        aggregates=aggregate_cases(cases_out, resamples=resamples, seed=seed, corpus=corpus),
        splits=aggregate_splits(cases_out, resamples=resamples, seed=seed),
        missing=missing if allow_missing else None,
    )
