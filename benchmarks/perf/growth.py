"""Growth checks: time per item should stay flat as the input grows (no quadratic step)."""

from __future__ import annotations


def synthetic_predictions(golden_path: str, n: int) -> tuple[list[dict], list[dict]]:
    """``n`` golden cases (the golden set cycled, ids made unique) and one prediction each.

    Answers alternate between the reference and a plausible wrong answer, so the rules
    and metrics do real work on both branches.
    """
    from dyag.data.golden import read_golden

    base = read_golden(golden_path)
    cases, predictions = [], []
    for i in range(n):
        case = base[i % len(base)].to_dict()
        case["id"] = f"{case['id']}-{i}"
        cases.append(case)
        answer = case["reference"] if i % 2 == 0 else f"Je ne sais pas exactement, mais {case['question'].rstrip(' ?')}."
        predictions.append({"id": case["id"], "system": "perf/finetuned", "answer": answer,
                            "meta": {"tokens": len(answer.split()), "finish_reason": "stop", "latency_s": 0.1}})
    return predictions, cases


def per_item(rows: list[dict], count_key: str, seconds_key: str) -> list[dict]:
    """Adds ``ms_per_item`` and its ratio to the smallest size's to each row."""
    out = []
    first = None
    for row in rows:
        per = 1000.0 * row[seconds_key] / row[count_key] if row[count_key] else None
        first = first if first is not None else per
        out.append({**row, "ms_per_item": round(per, 3) if per else None,
                    "vs_smallest": round(per / first, 3) if per and first else None})
    return out
