"""Version migrations of the results document: ``MIGRATIONS[n]`` turns a version-``n`` object into version ``n + 1``."""

from __future__ import annotations

def _migrate_v1(data: dict) -> dict:
    """Version 1 -> 2: one shape of ``run.machine`` (``cores``), nested ``scoring``, rules by name,
    string ids. Only well-formed parts are rewritten; anything else is left for validation to refuse."""
    data = dict(data)
    run = data.get("run")
    if isinstance(run, dict):
        run = dict(run)
        if isinstance(run.get("machine"), dict):
            machine = dict(run["machine"])
            if "cpus" in machine:
                machine.setdefault("cores", machine.pop("cpus"))
            run["machine"] = machine
        if isinstance(run.get("scoring"), dict):
            run["scoring"] = _migrate_scoring_v1(dict(run["scoring"]))
        data["run"] = run
    if isinstance(data.get("cases"), list):
        data["cases"] = [{**c, **{k: str(c[k]) for k in ("id", "system") if isinstance(c.get(k), int)}}
                         if isinstance(c, dict) else c for c in data["cases"]]
    if isinstance(data.get("regression"), dict):
        data["regression"] = {model: _migrate_regression_v1(reg) for model, reg in data["regression"].items()}
    data["schema_version"] = 2
    return {k: v for k, v in data.items() if v is not None}


def _migrate_scoring_v1(scoring: dict) -> dict:
    if "bertscore_model" in scoring:
        scoring["bertscore"] = scoring.get("bertscore") or {
            "name": scoring.pop("bertscore_model"), "num_layers": scoring.pop("bertscore_layers", None)}
    if "weights" in scoring:
        scoring["quality"] = {**(scoring.get("quality") or {}), "weights": scoring.pop("weights")}
    if isinstance(scoring.get("rules"), list):
        scoring["rules"] = {r["name"] if isinstance(r, dict) else str(r):
                            {k: v for k, v in (r.items() if isinstance(r, dict) else ()) if k != "name"}
                            for r in scoring["rules"]}
    return scoring


def _migrate_regression_v1(reg):
    """Blocks written before the ``failed`` flag: any regression or flip counted."""
    if not isinstance(reg, dict) or "failed" in reg:
        return reg
    rows, flips = reg.get("rows"), reg.get("new_rule_failures")
    regressed = isinstance(rows, list) and any(isinstance(r, dict) and r.get("verdict") == "regressed" for r in rows)
    return {**reg, "failed": regressed or bool(flips)}


MIGRATIONS = {1: _migrate_v1}
