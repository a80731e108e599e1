"""dyag's performance benchmark (``make perf``): side-by-side pairs, medians and ratios.

See ``python -m benchmarks.perf --help``; the lever measurements of training are in
``python -m benchmarks.perf.levers``; the plain-trl reference is ``reference_trl.py``.
"""
