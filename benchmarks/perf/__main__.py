"""``python -m benchmarks.perf`` (``make perf``): runs :func:`benchmarks.perf.bench.main`.

The benchmark itself (its flags, sections, pairs and targets) is :mod:`benchmarks.perf.bench`,
which tests import; this module only runs it.
"""

from __future__ import annotations

from benchmarks.perf.bench import main

if __name__ == "__main__":
    raise SystemExit(main())
