"""``dyag models``: the base-model registry (shortcuts accepted by --base-model)::

    dyag models list            # shortcuts, sizes, and whether each loads here now
    dyag models list --json
    dyag models pull smollm2:135m
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field


@dataclass
class ListConfig:
    json: bool = field(default=False, metadata={"help": "print a JSON list instead of a table"})


@dataclass
class PullConfig:
    name: str = field(metadata={"help": "a shortcut (dyag models list), a hub id or a local directory",
                                "positional": True, "metavar": "NAME"})
    allow_pickle: bool = field(default=False, metadata={
        "help": "accept pickled *.bin weights (pickle can run code; safetensors are preferred)"})


def model_rows() -> list[dict]:
    """One dict per registered model: its spec fields plus ``available`` and ``reason``."""
    from dyag.models.loading import model_availability
    from dyag.models.registry import list_models

    rows = []
    for spec in list_models():
        available, reason = model_availability(spec)
        row = asdict(spec)
        row["lora_target_modules"] = list(spec.lora_target_modules)
        row.update(available=available, reason=reason)
        rows.append(row)
    return rows


def run_list(config: ListConfig) -> int:
    rows = model_rows()
    if config.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    header = ("shortcut", "source", "hub id", "params", "kind", "vram GB", "batch", "gated", "available here")
    table = [header] + [
        (
            r["name"],
            r["source"],
            r["hub_id"] or "-",
            _params(r["params_m"]),
            "instruct" if r["instruct"] else "base",
            "-" if r["vram_min_gb"] is None else f"{r['vram_min_gb']:g}",
            str(r["recommended_batch_size"]),
            "yes" if r["gated"] else "no",
            f"{'yes' if r['available'] else 'no'} ({r['reason']})",
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1])
    return 0


def run_pull(config: PullConfig) -> int:
    from dyag.models.loading import pull_model

    started = time.perf_counter()
    resolved = pull_model(config.name, allow_pickle=config.allow_pickle)
    print(f"{resolved.spec.name}: stored at {resolved.path} ({time.perf_counter() - started:.1f} s)")
    return 0


def _params(params_m: float | None) -> str:
    if params_m is None:
        return "-"
    return f"{params_m / 1000:.1f}B" if params_m >= 1000 else f"{params_m:g}M"


#: dyag models ACTION: name -> (run, help)
ACTIONS = {
    "list": (run_list, "the registered models and whether each is available here"),
    "pull": (run_pull, "materialize an embedded model or download a hub model"),
}
