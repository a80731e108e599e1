"""A benchmark run split over pytest-xdist workers: each writes its part, the controller merges them.

Each worker's :class:`dyag.session.DyagSession` writes ``<run dir>/<worker>.json`` (its models'
results, its tests' records, its baseline comparisons) at the end of the session; the controller
merges every part into one results document (:func:`dyag.results.merge`) and one report.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dyag.results import Results


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def worker_part(docs: list["Results"], tests: list, regressions: dict, *, incomplete: bool) -> "Results":
    """One worker's share of the run: its models' results, its tests' records, its comparisons."""
    from dyag.results import Results, Run, merge

    docs = docs or [Results(run=Run())]
    return merge(docs, incomplete=incomplete or any(d.run.incomplete for d in docs)).replace(
        tests=tests, regression=dict(regressions))


def merge_parts(run_dir: Path, *, incomplete: bool, started: str) -> "Results":
    """One results document from every worker's part (:func:`dyag.results.merge`)."""
    from dyag.results import Results, Run, merge, read

    parts = [read(p) for p in sorted(run_dir.glob("*.json"))] if run_dir.is_dir() else []
    # parts with answers first: the merged run is theirs
    docs = sorted((p for p in parts if p.systems or p.tests or p.regression), key=lambda p: not p.systems)
    docs = docs or [Results(run=Run())]
    return merge(docs, started=started, finished=now(),
                 incomplete=incomplete or any(p.run.incomplete for p in parts), workers=len(parts))


def new_run_dir(cache_root: Path) -> Path:
    """Where this run's workers put their parts (created by the first part written)."""
    return cache_root / "bench" / "runs" / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
