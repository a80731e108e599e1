"""Score stored predictions against golden cases: metrics, rules, quality, aggregates.

The output is the results JSON (schema version 1, documented in docs/results-schema.md),
which the report and the regression check read. Predictions may come from anywhere;
every prediction must match a golden case and every golden case must be answered by
every system, unless ``allow_missing`` records the gaps in ``results["missing"]``.

>>> results = score_predictions(                                  # doctest: +SKIP
...     read_predictions("preds.jsonl"), read_golden("golden.jsonl"), read_kb("kb.jsonl"),
...     metrics=("bleu", "rouge", "fact_recall", "exact_match"))
>>> results["aggregates"]["smollm2:135m/finetuned"]["score"]["mean"]  # doctest: +SKIP
6.4
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from dyag.errors import DyagError
from dyag.evaluation import stats
from dyag.evaluation.cases import CaseView, KbIndex, as_case, as_kb_index
from dyag.evaluation.quality import quality_config, quality_score
from dyag.evaluation.rules import RuleContext, SystemAnswers, resolve_rules, run_rules
from dyag.evaluation.textmetrics import bleu_from_stats, bleu_stats, exact_match, fact_recall, rouge_scores
from dyag.utils.atomic import atomic_write_json
from dyag.utils.jsonl import iter_jsonl, require_field

SCHEMA_VERSION = 1
METRICS = ("bleu", "rouge", "fact_recall", "exact_match", "bertscore")
DEFAULT_METRICS = METRICS
_ROUND = 6


# --- predictions -------------------------------------------------------------------------------


def read_predictions(path: str | os.PathLike) -> list[dict]:
    """Predictions ``{"id", "system", "answer", "meta"?}`` from a JSONL file, validated.

    Errors name the file and line: a missing field, a non-string answer, a duplicate
    ``(id, system)`` pair. An empty answer is valid (the ``not_empty`` rule judges it).
    """
    rows, seen = [], {}
    for lineno, obj in iter_jsonl(path, what="predictions file"):
        pred_id = require_field(path, lineno, obj, "id", str)
        system = require_field(path, lineno, obj, "system", str)
        require_field(path, lineno, obj, "answer", str, nonempty=False)
        if "meta" in obj and not isinstance(obj["meta"], dict):
            raise DyagError(f"{path}:{lineno}: field 'meta' must be an object, got {type(obj['meta']).__name__}")
        key = (pred_id, system)
        if key in seen:
            raise DyagError(f"{path}:{lineno}: duplicate prediction for id {pred_id!r}, system {system!r} "
                            f"(first on line {seen[key]})")
        seen[key] = lineno
        rows.append(obj)
    if not rows:
        raise DyagError(f"{path}: empty predictions file (no JSON lines)")
    return rows


def _check_predictions(predictions: Sequence[Mapping]) -> list[dict]:
    seen = set()
    out = []
    for i, p in enumerate(predictions):
        where = f"prediction #{i + 1}"
        if not isinstance(p, Mapping):
            raise DyagError(f"{where}: expected an object, got {type(p).__name__}")
        for field in ("id", "system", "answer"):
            if not isinstance(p.get(field), str) or (field != "answer" and not p[field].strip()):
                raise DyagError(f"{where}: field '{field}' must be a{' non-empty' if field != 'answer' else ''} string")
        if p.get("meta") is not None and not isinstance(p["meta"], Mapping):
            raise DyagError(f"{where}: field 'meta' must be an object, got {type(p['meta']).__name__}")
        key = (p["id"], p["system"])
        if key in seen:
            raise DyagError(f"{where}: duplicate prediction for id {p['id']!r}, system {p['system']!r}")
        seen.add(key)
        out.append({"id": p["id"], "system": p["system"], "answer": p["answer"], "meta": dict(p.get("meta") or {})})
    return out


def _name_ids(ids: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(repr(i) for i in ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def _match(predictions: list[dict], golden: dict[str, CaseView], allow_missing: bool,
           sources: tuple[str, str]) -> tuple[dict, dict]:
    """Group predictions by system in golden order; report ids that do not line up."""
    preds_src, golden_src = sources
    by_system: dict[str, dict[str, dict]] = {}
    unknown = []
    for p in predictions:
        if p["id"] not in golden:
            unknown.append({"id": p["id"], "system": p["system"]})
            continue
        by_system.setdefault(p["system"], {})[p["id"]] = p
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


def _text_metrics(answer: str, case: CaseView, metrics: Sequence[str]) -> tuple[dict, list[int] | None]:
    out: dict[str, Any] = {}
    stats_row = None
    if "bleu" in metrics:
        out["bleu"], stats_row = bleu_stats(answer, case.reference)
    if "rouge" in metrics:
        out.update(rouge_scores(answer, case.reference))
    if "fact_recall" in metrics:
        out["fact_recall"] = fact_recall(answer, case.facts)
    if "exact_match" in metrics:
        out["exact_match"] = exact_match(answer, case.reference)
    return out, stats_row


def _bertscore_all(answers: list[str], references: list[str], model, layers, progress: bool) -> tuple[list[dict], dict]:
    from dyag.evaluation.bertscore import bertscore, resolve_encoder

    encoder = resolve_encoder(model, layers)
    if progress:
        print(f"dyag: BERTScore with {encoder.name} (layer {encoder.num_layers}) on {len(answers)} answers",
              file=sys.stderr)
    out = bertscore(answers, references, model=encoder.model_type, num_layers=encoder.num_layers)
    rows = [{"bertscore_precision": p, "bertscore_recall": r, "bertscore_f1": f}
            for p, r, f in zip(out["precision"], out["recall"], out["f1"])]
    return rows, encoder.to_dict()


def _round(value):
    return round(float(value), _ROUND) if isinstance(value, float) else value


# --- aggregates ----------------------------------------------------------------------------------


def aggregate_cases(cases: Sequence[Mapping], *, resamples: int = stats.RESAMPLES, seed: int = stats.SEED,
                    bleu_rows: Mapping[str, list] | None = None) -> dict:
    """Per-system ``{metric: {"mean", "ci95", "n"}}``: score, each metric, ``rule:<name>`` pass rates.

    ``bleu_rows`` (system -> per-case BLEU statistics) adds ``corpus_bleu`` with a bootstrap CI.
    """
    systems: dict[str, list[Mapping]] = {}
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
        if bleu_rows and bleu_rows.get(system):
            agg["corpus_bleu"] = corpus_bleu_summary(bleu_rows[system], resamples=resamples, seed=seed)
        aggregates[system] = {k: {"mean": _round(v["mean"]), "ci95": [_round(x) for x in v["ci95"]] if v["ci95"] else None,
                                  "n": v["n"]} for k, v in agg.items()}
    return aggregates


def corpus_bleu_summary(stat_rows: Sequence[Sequence[int]], *, resamples: int = stats.RESAMPLES,
                        seed: int = stats.SEED) -> dict:
    """Corpus BLEU of per-sentence statistics with a bootstrap CI over sentences."""
    import numpy as np

    arr = np.asarray(stat_rows, dtype=np.int64)
    value = bleu_from_stats(arr.sum(axis=0))
    if len(arr) < 2:
        return {"mean": value, "ci95": [value, value], "n": int(len(arr))}
    rng = np.random.default_rng(seed)
    sums = np.empty((resamples, arr.shape[1]), dtype=np.int64)
    chunk = max(1, 2_000_000 // arr.size)
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        sums[start:stop] = arr[rng.integers(0, len(arr), size=(stop - start, len(arr)))].sum(axis=1)
    scores = np.array([bleu_from_stats(row) for row in sums])
    lo, hi = np.quantile(scores, [0.025, 0.975])
    return {"mean": value, "ci95": [float(lo), float(hi)], "n": int(len(arr))}


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
    predictions: Sequence[Mapping],
    golden_cases: Iterable[Any],
    kb: Iterable[Mapping] | KbIndex | None = None,
    *,
    metrics: Sequence[str] = DEFAULT_METRICS,
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
) -> dict:
    """Score predictions (dicts) against golden cases; return the results JSON (schema v1).

    ``bertscore=False`` drops BERTScore from ``metrics`` (no encoder is loaded).
    ``rules``: rule names, or ``{name: argument overrides}`` (``None``: every registered
    rule). ``quality`` overrides :data:`dyag.evaluation.quality.QUALITY`. ``run_info`` is
    merged into ``results["run"]`` and ``training`` becomes ``results["training"]``.
    ``sources`` names the predictions and golden files in errors about ids that do not
    line up.
    """
    metrics = tuple(m for m in metrics if bertscore or m != "bertscore")
    unknown_metrics = [m for m in metrics if m not in METRICS]
    if unknown_metrics:
        raise DyagError(f"unknown metric(s) {', '.join(unknown_metrics)}; known: {', '.join(METRICS)}")
    golden = {}
    for raw in golden_cases:
        case = as_case(raw)
        if case.id in golden:
            raise DyagError(f"duplicate golden id {case.id!r}")
        golden[case.id] = case
    if not golden:
        raise DyagError("no golden cases")
    kb_index = as_kb_index(kb)
    rule_setup = resolve_rules(list(rules) if rules is not None else None,
                               rules if isinstance(rules, Mapping) else None)
    qconfig = quality_config(quality)
    by_system, missing = _match(_check_predictions(predictions), golden, allow_missing, sources)

    flat = [(system, p, golden[p["id"]]) for system, preds in by_system.items() for p in preds]
    bert_rows, encoder = [None] * len(flat), None
    if "bertscore" in metrics:
        bert_rows, encoder = _bertscore_all([p["answer"] for _, p, _ in flat], [c.reference for _, _, c in flat],
                                            bertscore_model, bertscore_layers, progress)

    from tqdm.auto import tqdm

    contexts = {s: SystemAnswers([(p["id"], p["answer"], golden[p["id"]].kb_ids) for p in preds], kb_index)
                for s, preds in by_system.items()}
    positions: dict[str, int] = {}
    cases_out, bleu_rows = [], {}
    for (system, pred, case), bert in zip(tqdm(flat, desc="scoring", unit="answer", disable=not progress or None), bert_rows):
        position = positions.get(system, 0)
        positions[system] = position + 1
        answer = pred["answer"]
        values, stats_row = _text_metrics(answer, case, metrics)
        values.update(bert or {})
        if stats_row is not None:
            bleu_rows.setdefault(system, []).append(stats_row)
        context = RuleContext(meta=pred["meta"], kb=kb_index, answers=contexts[system], position=position)
        rule_results = run_rules(answer, case, context, resolved=rule_setup)
        cases_out.append({
            "id": case.id, "system": system, "question": case.question, "reference": case.reference,
            "answer": answer, "facts": list(case.facts), "tags": list(case.tags), "expect": case.expect,
            "meta": pred["meta"],
            "metrics": {k: _round(v) for k, v in values.items()},
            "rules": rule_results,
            "score": quality_score(values, rule_results, encoder=encoder and encoder["name"], config=qconfig),
        })

    run = {
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "versions": _versions(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "scoring": {
            "metrics": list(metrics),
            "bertscore": encoder,
            "quality": qconfig,
            "rules": rule_setup,
            "bootstrap": {"resamples": resamples, "seed": seed, "confidence": 0.95},
        },
        "systems": list(by_system),
        "n_golden": len(golden),
    }
    run.update(dict(run_info or {}))
    results = {
        "schema_version": SCHEMA_VERSION,
        "run": run,
        "training": dict(training or {}),
        "cases": cases_out,
        "aggregates": aggregate_cases(cases_out, resamples=resamples, seed=seed, bleu_rows=bleu_rows),
    }
    if allow_missing:
        results["missing"] = missing
    return results


# --- reading and validating results ----------------------------------------------------------------


def _need(cond: bool, source: str, message: str) -> None:
    if not cond:
        raise DyagError(f"{source}: {message}")


def validate_results(obj: Any, *, source: str = "results") -> dict:
    """Check a results object against schema v1 (the parts the report and comparison read)."""
    _need(isinstance(obj, dict), source, f"expected a JSON object, got {type(obj).__name__}")
    version = obj.get("schema_version")
    _need(version is not None, source, "missing 'schema_version' (not a dyag results file?)")
    _need(isinstance(version, int) and not isinstance(version, bool), source, f"schema_version must be an integer, got {version!r}")
    _need(version <= SCHEMA_VERSION, source, f"schema_version {version} is newer than this dyag reads ({SCHEMA_VERSION}); upgrade dyag")
    _need(version == SCHEMA_VERSION, source, f"unsupported schema_version {version}")
    for key, kind in (("run", dict), ("cases", list), ("aggregates", dict)):
        _need(isinstance(obj.get(key), kind), source, f"'{key}' must be {'an object' if kind is dict else 'a list'}")
    _need(isinstance(obj.get("training", {}), dict), source, "'training' must be an object")
    for i, case in enumerate(obj["cases"]):
        where = f"cases[{i}]"
        _need(isinstance(case, dict), source, f"{where}: expected an object")
        for key, kind in (("id", str), ("system", str), ("answer", str), ("metrics", dict), ("rules", list)):
            _need(isinstance(case.get(key), kind), source, f"{where}: '{key}' missing or not {kind.__name__}")
        score = case.get("score")
        _need(score is None or (isinstance(score, (int, float)) and not isinstance(score, bool)), source,
              f"{where}: 'score' must be a number")
        for j, res in enumerate(case["rules"]):
            _need(isinstance(res, dict) and isinstance(res.get("name"), str) and isinstance(res.get("passed"), bool)
                  and res.get("severity") in ("error", "warning", "info"), source,
                  f"{where}.rules[{j}]: needs name, passed (bool) and severity (error|warning|info)")
    for system, metrics in obj["aggregates"].items():
        _need(isinstance(metrics, dict), source, f"aggregates[{system!r}] must be an object")
        for name, agg in metrics.items():
            _need(isinstance(agg, dict) and {"mean", "ci95", "n"} <= set(agg), source,
                  f"aggregates[{system!r}][{name!r}] needs mean, ci95 and n")
    return obj


def read_results(path: str | os.PathLike) -> dict:
    """Load and validate a results JSON file."""
    path = Path(path)
    if not path.is_file():
        raise DyagError(f"results file not found: {path}")
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise DyagError(f"{path}: not UTF-8") from None
    except ValueError as exc:
        raise DyagError(f"{path}: invalid JSON ({str(exc).split(': line')[0]})") from None
    return validate_results(obj, source=str(path))


def write_results(path: str | os.PathLike, results: Mapping) -> Path:
    """Validate and write results atomically (UTF-8, indented)."""
    validate_results(results, source=str(path))
    try:
        return atomic_write_json(path, results)
    except ValueError as exc:  # NaN/Infinity smuggled in through prediction meta
        raise DyagError(f"{path}: results are not valid JSON ({exc})") from None
