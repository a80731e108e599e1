"""dyag's tests, laid out like the package: the tests of ``dyag/<package>/`` are in ``tests/<package>/``
(``tests/data`` for ``dyag/data``, ``tests/evaluation/rules`` for ``dyag/evaluation/rules``, ``tests/report``
for ``dyag/report``, ...); those of dyag's top-level modules (gates, sweep, progress, summary) and the
cross-cutting ones (plugin, project, package shape, doctests, command-line flags, environment keys) are
here at the top; ``tests/reliability`` is the reliability suite, ``tests/benchmarks`` tests ``benchmarks/``,
and ``tests/fixtures`` holds the tests' data files. Each folder is a package, so two test modules of the
same name in different folders do not clash; shared helpers are in ``tests/helpers.py``, shared fixtures
in the top-level ``conftest.py``.
"""
