"""The ``exact_match`` metric as a local ``evaluate`` module (see exact_match.py)."""
