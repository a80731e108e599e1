"""The ``bertscore`` metric as a local ``evaluate`` module (see bertscore.py)."""
