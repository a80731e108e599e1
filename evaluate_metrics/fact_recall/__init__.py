"""The ``fact_recall`` metric as a local ``evaluate`` module (see fact_recall.py)."""
