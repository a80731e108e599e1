"""What the report's tests share: the fixture results document (``SMALL``), a synthetic large one,
and finders for a section, an answer card and a table row of a rendered page."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from tests.helpers import FIXTURES

SMALL = FIXTURES / "report" / "results_small.json"
EVAL = FIXTURES / "eval"  # the scorer's fixture: golden cases, a catalog, predictions
DIALOGUE_SYSTEM = "smollm2:135m/finetuned"
DIALOGUE_QUESTION = "gidaf-hebergeur-1"


def small() -> dict:
    return json.loads(SMALL.read_text(encoding="utf-8"))


def write(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def make_results(
    n_cases: int = 1000,
    models: tuple[str, ...] = ("smollm2:135m", "gemma3:270m"),
    kinds: tuple[str, ...] = ("base", "finetuned", "rag", "rag+finetuned"),
    seed: int = 0,
) -> dict:
    """A synthetic results document of about ``n_cases`` cases (one question per len(systems) cases).

    One answer in ten invents a dialogue turn (an error with its span), one in
    twenty is cut mid-sentence (a warning); aggregates are left to the report's
    fallback (means computed from the cases).
    """
    rng = random.Random(seed)
    systems = [f"{m}/{k}" for m in models for k in kinds]
    words = (
        "GIDAF application gestion aides financières hébergée centre serveur Toulouse Java "
        "PostgreSQL utilisateurs version documentation ministère responsable criticité"
    ).split()
    cases = []
    for q in range(max(1, n_cases // len(systems))):
        reference = " ".join(rng.choice(words) for _ in range(20)) + "."
        for system in systems:
            answer = " ".join(rng.choice(words) for _ in range(rng.randint(15, 60))) + "."
            dialogue, truncated = rng.random() < 0.1, rng.random() < 0.05
            turn_span = None
            if dialogue:
                turn = "\nUtilisateur : Et ensuite ?"
                turn_span = [len(answer) + 1, len(answer) + len(turn)]
                answer += turn
            rules = [
                {"name": "no_dialogue_turns", "passed": not dialogue, "severity": "error",
                 "message": "invented dialogue turn" if dialogue else "", "span": turn_span},
                {"name": "no_repetition", "passed": True, "severity": "error", "message": "", "span": None},
                {"name": "not_truncated", "passed": not truncated, "severity": "warning",
                 "message": "ends mid-sentence" if truncated else "", "span": None},
                {"name": "language", "passed": True, "severity": "warning", "message": "", "span": None},
            ]
            metrics = {k: round(rng.random(), 4) for k in ("bleu", "rougeL", "bertscore_f1", "fact_recall")}
            cases.append({
                "id": f"q-{q:04d}", "system": system, "question": f"Question {q} : {reference[:60]} ?",
                "reference": reference, "answer": answer, "metrics": metrics, "rules": rules,
                "score": round(10 * rng.random(), 2),
            })
    return {"schema_version": 1, "run": {"models": list(models), "profile": "full"}, "cases": cases}


def section(page: str, anchor: str) -> str:
    match = re.search(rf'<section class="card" id="{anchor}".*?</section>', page, re.S)
    assert match, f"section {anchor} missing"
    return match.group(0)


def article(page: str, question_id: str, system: str) -> str:
    block = re.search(rf'<details[^>]*data-question-id="{re.escape(question_id)}".*?</details>', page, re.S)
    assert block
    match = re.search(rf'<article class="answer" data-system="{re.escape(system)}".*?</article>', block.group(0), re.S)
    assert match
    return match.group(0)


def row_html(page: str, metric: str) -> str:
    match = re.search(rf'<tr data-metric="{re.escape(metric)}".*?</tr>', page, re.S)
    assert match, metric
    return match.group(0)


def second_file(tmp_path: Path) -> Path:
    data = small()
    data["cases"] = [c for c in data["cases"] if c["system"] == "smollm2:135m/rag"]
    for case in data["cases"]:
        case["answer"] = f"Réponse rejouée pour {case['id']}."
    data["aggregates"] = {"smollm2:135m/rag": data["aggregates"]["smollm2:135m/rag"]}
    data["training"] = {}
    data.pop("regression")
    data.pop("perf")
    data["run"]["started"] = "2025-06-13T10:00:00+02:00"
    return write(tmp_path / "rerun.json", data)
