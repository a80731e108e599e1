"""dyag's own benchmark: the built-in suites on the sample catalog, configured in pyproject.toml [tool.dyag]."""

from dyag.suites import *  # noqa: F401,F403
