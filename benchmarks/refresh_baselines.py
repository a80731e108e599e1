"""Carry a freshly measured baseline's untrained systems into the baselines of the other CPU classes.

A baseline is measured per environment (``golden/baselines/<model>.<key>.json``) because a fine-tuned
adapter trains differently on each CPU class (bf16 on AMX or avx512_bf16, fp32 elsewhere). The
systems that use no adapter (``base``, ``rag``) answer in fp32 on every CPU: their answers were
measured identical across the three classes (46/46 per system and model, README "Baselines"). When
their prompts change, their new answers measured on one class are theirs on every class; the
fine-tuned systems keep the answers measured on their own class. Every answer is then scored again
with the current scorer (rules, metrics, quality score), so the baselines and the run agree on how
answers are judged::

    python -m benchmarks.refresh_baselines golden/baselines/gemma3_270m.cpu-fp32.json

Writes each other ``<model>.*.json`` beside the source, and prints what moved.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dyag import results as R
from dyag.system import System

ROOT = Path(__file__).resolve().parents[1]


def refreshed(source: R.Results, target: R.Results, golden: list, kb: list[dict]) -> R.Results:
    """``target``'s fine-tuned answers and ``source``'s untrained ones, scored again (``target``'s run kept)."""
    from dyag.evaluation.scoring import score_predictions

    def rows(doc: R.Results, adapter: bool) -> list[dict]:
        return [{"id": c.id, "system": c.system, "answer": c.answer, "meta": c.meta}
                for c in doc.cases if System.parse(c.system).uses_adapter == adapter]

    predictions = rows(target, True) + rows(source, False)
    run = target.run.model_dump()
    for key in ("created", "versions", "machine", "scoring", "systems", "n_golden"):
        run.pop(key, None)
    run["rag"] = source.run.rag
    run["recipe"] = {**(target.run.model_dump().get("recipe") or {}),
                     **{k: v for k, v in (source.run.model_dump().get("recipe") or {}).items()
                        if k in ("top_k", "context_format", "shots")}}
    run["refreshed_from"] = source.run.environment.key if source.run.environment else None
    ids = {p["id"] for p in predictions}
    scored = score_predictions(predictions, [c for c in golden if c.id in ids], kb, run_info=run,
                               training={k: v.model_dump() for k, v in target.training.items()}, progress=False)
    return scored


def main(argv: list[str] | None = None) -> int:
    from dyag.data.golden import read_golden
    from dyag.data.kb import read_kb, sample_kb_path

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="the freshly measured baseline (golden/baselines/<model>.<key>.json)")
    args = parser.parse_args(argv)
    source = R.read(args.source)
    golden = [c for name in source.run.model_dump().get("golden") or ["golden/quick.jsonl"] for c in read_golden(ROOT / name)]
    kb = read_kb(sample_kb_path())
    model = args.source.name.split(".")[0]
    for path in sorted(args.source.parent.glob(f"{model}.*.json")):
        if path == args.source:
            continue
        before = R.read(path)
        after = refreshed(source, before, golden, kb)
        R.write(path, after)
        for system, agg in after.aggregates.items():
            old = before.aggregates.get(system, {}).get("score")
            print(f"{path.name}: {system}: score {old.mean if old else float('nan'):.2f} -> {agg['score'].mean:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
