"""The README's two tables of the stored baselines, rendered from ``golden/baselines``.

``python -m benchmarks.baseline_tables [--baselines golden/baselines]`` prints the Markdown of the
quick-profile results per environment key and of fact recall / score per golden split. Untrained
and RAG systems do not depend on the key: they are printed once, from the first key, as ``all``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.perf.common import ROOT

KEY_ORDER = ("cpu-bf16-amx", "cpu-bf16-avx512", "cpu-fp32")
SPLITS = ("seen", "paraphrase", "unseen", "unknown")


def _mean(stats: dict | None, key: str):
    return ((stats or {}).get(key) or {}).get("mean")


def _fmt(value, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def load(folder: Path) -> dict[str, dict[str, dict]]:
    """``{model: {key: baseline}}`` for the keys of :data:`KEY_ORDER`."""
    out: dict[str, dict[str, dict]] = {}
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        key = data["run"]["environment"]["key"]
        if key in KEY_ORDER:
            out.setdefault(data["run"]["models"][0], {})[key] = data
    return out


def _rows(baselines: dict[str, dict[str, dict]]):
    """(key label, model, system, baseline) in the README's order."""
    for model, by_key in baselines.items():
        keys = [k for k in KEY_ORDER if k in by_key]
        first = by_key[keys[0]]
        systems = [s.split("/", 1)[1] for s in first["aggregates"]]
        for system in ("base", "rag"):
            if system in systems:
                yield "all", model, system, first
        for key in keys:
            yield key, model, "finetuned", by_key[key]


def results_table(baselines) -> str:
    lines = ["| key | model / system | score /10 | fact recall | BERTScore F1 | no invented turn | final loss "
             "| token accuracy | training |", "|---|---|---|---|---|---|---|---|---|"]
    for key, model, system, data in _rows(baselines):
        agg = data["aggregates"][f"{model}/{system}"]
        turns = agg["rule:no_dialogue_turns"]
        train = (data.get("training") or {}).get(model) if system == "finetuned" else None
        training = [_fmt(train.get("final_loss")), _fmt(train.get("token_accuracy")),
                    f"{train['duration_s']:.0f} s"] if train else ["", "", ""]
        lines.append(f"| {key} | {model} / {system} | {_fmt(_mean(agg, 'score'))} | {_fmt(_mean(agg, 'fact_recall'))} "
                     f"| {_fmt(_mean(agg, 'bertscore_f1'))} | {round(turns['mean'] * turns['n'])}/{turns['n']} | "
                     + " | ".join(training) + " |")
    return "\n".join(lines)


def splits_table(baselines) -> str:
    first = next(iter(next(iter(baselines.values())).values()))
    one_system = next(iter(first["splits"].values()))
    counts = {s: one_system.get(s, {}).get("score", {}).get("n") for s in SPLITS}
    head = " | ".join(f"{s} ({counts[s]})" for s in SPLITS)
    lines = [f"| key | model / system | {head} | gap |", "|---|---|" + "---|" * len(SPLITS) + "---|"]
    for key, model, system, data in _rows(baselines):
        split = data["splits"][f"{model}/{system}"]
        cells = [f"{_fmt(_mean(split.get(s), 'fact_recall'))} / {_fmt(_mean(split.get(s), 'score'), 1)}" for s in SPLITS]
        seen, para = _mean(split.get("seen"), "fact_recall"), _mean(split.get("paraphrase"), "fact_recall")
        gap = f"{seen - para:+.2f}" if seen is not None and para is not None else "–"
        lines.append(f"| {key} | {model} / {system} | " + " | ".join(cells) + f" | {gap} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the README's tables of the stored baselines")
    parser.add_argument("--baselines", default=str(ROOT / "golden" / "baselines"))
    args = parser.parse_args(argv)
    baselines = load(Path(args.baselines))
    print(results_table(baselines))
    print()
    print(splits_table(baselines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
