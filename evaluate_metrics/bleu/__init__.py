"""The ``bleu`` metric as a local ``evaluate`` module (see bleu.py)."""
