"""`dyag compare BASELINE RESULTS`: exit 0 without regression, 1 with one, 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

from dyag.evaluation.scoring import aggregate_cases
from tests.helpers import ROOT

STORED = sorted((ROOT / "golden" / "baselines").glob("smollm2_135m.*.json"))[0]


def _write(path: Path, data: dict) -> str:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def _worse(data: dict, system: str) -> dict:
    """``system``'s answers replaced by nothing useful: score 0, every rule failing."""
    cases = []
    for case in data["cases"]:
        if case["system"] == system:
            case = {**case, "score": 0.0, "metrics": {k: 0.0 for k in case["metrics"]},
                    "rules": [{**r, "passed": False, "message": "broken"} for r in case["rules"]]}
        cases.append(case)
    return {**data, "cases": cases, "aggregates": aggregate_cases(cases, resamples=200)}


def test_identical_results_exit_0(cli):
    result = cli("compare", STORED, STORED)
    assert result.rc == 0
    out = result.out
    assert "OK: no significant regression" in out and "REGRESSED" not in out


def test_a_worse_run_exits_1_naming_the_regressed_metrics(tmp_path, cli):
    data = json.loads(STORED.read_text(encoding="utf-8"))
    worse = _write(tmp_path / "worse.json", _worse(data, "smollm2:135m/finetuned"))
    result = cli("compare", STORED, worse)
    assert result.rc == 1
    out = result.out
    assert "FAILED: " in out and "smollm2:135m/finetuned score" in out
    assert "smollm2:135m/base" in out and "smollm2:135m/base score" not in out.split("FAILED: ")[1]
    result = cli("compare", STORED, worse, "--json")
    assert result.rc == 1
    doc = json.loads(result.out)
    regressed = {(r["system"], r["metric"]) for r in doc["rows"] if r["verdict"] == "regressed"}
    assert ("smollm2:135m/finetuned", "score") in regressed and doc["failed"] is True
    assert all(s == "smollm2:135m/finetuned" for s, _ in regressed)


def test_single_rule_flips_are_listed_and_fatal_only_with_strict(tmp_path, cli):
    data = json.loads(STORED.read_text(encoding="utf-8"))
    case = next(c for c in data["cases"] if c["system"].endswith("/finetuned")
                and any(r["name"] == "no_dialogue_turns" and r["passed"] for r in c["rules"]))
    case["rules"] = [{**r, "passed": False} if r["name"] == "no_dialogue_turns" else r for r in case["rules"]]
    data["aggregates"] = aggregate_cases(data["cases"], resamples=200)
    flipped = _write(tmp_path / "flip.json", data)
    result = cli("compare", STORED, flipped)
    assert result.rc == 0 and "rules newly failing on single cases" in result.out
    assert cli("compare", STORED, flipped, "--strict").rc == 1


def test_bad_input_exits_2(tmp_path, cli):
    data = json.loads(STORED.read_text(encoding="utf-8"))
    fewer = _write(tmp_path / "fewer.json", {**data, "cases": data["cases"][1:]})
    result = cli("compare", STORED, fewer)
    assert result.rc == 2 and "answers other questions" in result.err
    future = _write(tmp_path / "future.json", {**data, "schema_version": 99})
    result = cli("compare", STORED, future)
    assert result.rc == 2 and "schema_version" in result.err
    assert cli("compare", STORED, tmp_path / "absent.json").rc == 2
    other = _write(tmp_path / "other.json", {**data, "cases": [{**c, "system": "x/" + c["system"]}
                                                               for c in data["cases"]]})
    result = cli("compare", STORED, other)
    assert result.rc == 2 and "no system in common" in result.err
    assert cli("compare", STORED, STORED, "--tolerance", "score").rc == 2
