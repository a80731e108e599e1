"""Per system and split: fact recall, answers stopped at the token limit, prompt echoes — from results files.

    python -m benchmarks.prompt_table golden/baselines/gemma3_270m.cpu-fp32.json [more results...]

The answers are scored again with the current rules (so an earlier file's echoes are counted by
today's ``no_prompt_echo``); the token-limit count reads each answer's ``finish_reason``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPLITS = ("seen", "paraphrase", "unseen", "unknown")


def table(path: Path) -> list[tuple]:
    from dyag import results as R
    from dyag.data.golden import read_golden
    from dyag.data.kb import read_kb, sample_kb_path
    from dyag.evaluation.scoring import score_predictions

    doc = R.read(path)
    golden = {c.id: c for name in ("quick.jsonl", "seed.jsonl", "catalog.jsonl") for c in read_golden(ROOT / "golden" / name)}
    preds = [{"id": c.id, "system": c.system, "answer": c.answer, "meta": c.meta} for c in doc.cases]
    scored = score_predictions(preds, [golden[i] for i in {p["id"] for p in preds}], read_kb(sample_kb_path()),
                               bertscore=False, progress=False)
    rows = []
    for system in sorted({c.system for c in scored.cases}):
        cases = [c for c in scored.cases if c.system == system]
        recall = [scored.splits.get(system, {}).get(s, {}).get("fact_recall") for s in SPLITS[:3]]
        limit = sum(1 for c in cases if c.meta.get("finish_reason") == "length")
        echo = sum(1 for c in cases for r in c.rules if r.name == "no_prompt_echo" and not r.passed)
        rows.append((path.name, system, *["-" if a is None or a.mean is None else f"{a.mean:.2f}" for a in recall],
                     f"{limit}/{len(cases)}", f"{echo}/{len(cases)}"))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="+", type=Path)
    args = parser.parse_args(argv)
    header = ("file", "system", "facts seen", "paraphrase", "unseen", "at token limit", "prompt echoes")
    rows = [header] + [r for path in args.results for r in table(path)]
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(header))]
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
