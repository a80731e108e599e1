"""Write ``golden/quick.jsonl``: the quick profile's golden set, one part per split.

- ``seen`` and ``paraphrase``: for every (application, field) the quick profile trains on (GIDAF and
  6Tzen, every field, ``augmented``, seed 42), one training phrasing exactly as trained, and one
  held-out phrasing of the same fact (``dyag.data.generate.golden_for_training``);
- ``unseen``: facts of an application of the catalog the profile does not train on (the harness
  leaves the applications of unseen cases out of the training set);
- ``unknown``: applications absent from the catalog (the right answer says so).

    python -m benchmarks.quick_golden          # rewrites golden/quick.jsonl (deterministic)
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRAINED = ("gidaf", "6tzen")
UNSEEN = ("agora",)
UNSEEN_FIELDS = ("hebergeur", "responsable", "utilisateurs", "criticite")
SEED = 42


def build() -> list:
    from dyag.data.generate import golden_for_training, unseen_cases
    from dyag.data.golden import read_golden
    from dyag.data.kb import read_kb, sample_kb_path

    kb = read_kb(sample_kb_path())
    trained = [r for r in kb if r["id"] in TRAINED]  # catalog order, as the harness selects them
    unseen = [r for r in kb if r["id"] in UNSEEN]
    if len(trained) != len(TRAINED) or len(unseen) != len(UNSEEN):
        raise SystemExit(f"the sample catalog lacks one of {TRAINED + UNSEEN}")
    cases = golden_for_training(trained, "augmented", SEED)
    cases += unseen_cases(unseen, fields=[f for f in UNSEEN_FIELDS])
    cases += [c for c in read_golden(ROOT / "golden" / "catalog.jsonl") if c.expect == "unknown"][:4]
    for case in cases:
        case.tags = sorted(set(case.tags) | {"quick"})
    return cases


def main() -> int:
    from collections import Counter

    from dyag.data.golden import write_golden

    cases = build()
    out = write_golden(ROOT / "golden" / "quick.jsonl", cases)
    counts = Counter(c.split for c in cases)
    print(f"{out}: {len(cases)} cases ({', '.join(f'{k} {v}' for k, v in counts.items())})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
