"""Shared pieces of the performance benchmark: child processes, medians, token counts, data.

Every timed measurement runs in a fresh child process (``python -m benchmarks.perf.worker``)
so that A and B start from the same state (nothing cached in memory, no warmed allocator)
and so that each child's peak RSS is its own.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class ChildFailed(RuntimeError):
    """A measurement child exited non-zero; the message carries the tail of its output."""


def child_env(extra: dict | None = None) -> dict:
    """The environment of every child: offline, quiet, the project importable."""
    env = dict(os.environ)
    env.update({
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p),
    })
    env.update(extra or {})
    return env


def run_worker(task: str, params: dict, *, env: dict | None = None, timeout: float | None = None) -> dict:
    """Run ``benchmarks.perf.worker <task>`` in a child process and return its JSON result.

    The result carries ``wall_s`` (the child's whole life, seen from here) besides what the
    task measured itself (``peak_rss_mb`` among others).
    """
    with tempfile.TemporaryDirectory(prefix="dyag-perf-") as tmp:
        out = Path(tmp) / "result.json"
        argv = [sys.executable, "-m", "benchmarks.perf.worker", task, "--params", json.dumps(params), "--out", str(out)]
        t0 = time.perf_counter()
        proc = subprocess.run(argv, cwd=ROOT, env=child_env(env), capture_output=True, text=True, timeout=timeout)
        wall = time.perf_counter() - t0
        if proc.returncode != 0 or not out.is_file():
            tail = (proc.stdout + proc.stderr)[-3000:]
            raise ChildFailed(f"worker {task} exited {proc.returncode}:\n{tail}")
        result = json.loads(out.read_text(encoding="utf-8"))
    result["wall_s"] = round(wall, 3)
    return result


def run_command(argv: list[str], *, env: dict | None = None, timeout: float | None = None, cwd: Path = ROOT) -> dict:
    """Run a command (a CLI, pytest) and time it; ``peak_rss_mb`` is that child's own peak."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=child_env(env), capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "wall_s": round(wall, 3),
        "returncode": proc.returncode,
        "stdout": proc.stdout,
        "stderr": proc.stderr,
        # RUSAGE_CHILDREN is a running maximum: it says something about this child only when it grew.
        "peak_rss_mb": round(after / 1024, 1) if after > before else None,
    }


def peak_rss_mb() -> float:
    """This process's peak resident set size (Linux reports ru_maxrss in KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, kids) / 1024, 1)


def median(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 4) if values else None


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


def alternate(reps: int, measure_a, measure_b) -> tuple[list, list]:
    """A, B, B, A, A, B, ...: alternating order so drift on a shared machine hits both sides."""
    a_runs, b_runs = [], []
    for rep in range(reps):
        order = [(measure_a, a_runs), (measure_b, b_runs)]
        if rep % 2:
            order.reverse()
        for measure, runs in order:
            runs.append(measure())
    return a_runs, b_runs


# --- data -----------------------------------------------------------------------------------------


def training_rows(count: int, workdir: Path, seed: int = 42) -> Path:
    """``count`` augmented examples generated from the sample catalog (rows cycled if it makes fewer)."""
    from dyag.data.generate import GenerateConfig, generate_training
    from dyag.utils.atomic import atomic_write_jsonl
    from dyag.utils.jsonl import read_jsonl

    path = workdir / f"train_{count}.jsonl"
    if path.is_file():
        return path
    generated = workdir / f"generated_{count}.jsonl"
    if not generated.is_file():
        generate_training(GenerateConfig(kb="sample", output=generated, method="augmented", count=count, seed=seed))
    rows = list(read_jsonl(generated))
    rows = [rows[i % len(rows)] for i in range(count)]
    atomic_write_jsonl(path, rows)
    return path


def count_tokens(tokenizer, rows: list[dict], max_length: int) -> int:
    """Real (non-padding) tokens of one pass: each conversation through the chat template, truncated.

    Both sides of the training pair are counted with this one function, so their
    tokens/s are comparable whatever each trainer pads or packs.
    """
    total = 0
    for row in rows:
        ids = tokenizer.apply_chat_template(row["messages"], tokenize=True)
        if isinstance(ids, dict) or hasattr(ids, "keys"):
            ids = ids["input_ids"]
        total += min(len(ids), max_length)
    return total

