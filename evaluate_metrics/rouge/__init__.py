"""The ``rouge`` metric as a local ``evaluate`` module (see rouge.py)."""
