"""dyag's performance benchmark (``make perf``): side-by-side pairs, medians and ratios.

See ``python -m benchmarks.perf --help`` (the benchmark is ``bench.py``, which ``__main__.py`` runs;
shared pieces are in ``common.py``); the lever measurements of training are in
``python -m benchmarks.perf.levers``; the plain-trl reference is ``reference_trl.py``.
"""
