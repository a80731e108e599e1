"""Evaluation: metrics, format rules, quality score, statistics, scoring and comparison.

- :mod:`~dyag.evaluation.textmetrics` / :mod:`~dyag.evaluation.bertscore`: the metric functions.
- :mod:`~dyag.evaluation.registry`: the metric registry (``@metric``); dyag's own in
  :mod:`~dyag.evaluation.builtin_metrics`.
- :mod:`~dyag.evaluation.rules`: registered format rules (``@rule``, ``run_rules``), one module per
  kind of check.
- :mod:`~dyag.evaluation.quality`: the score out of 10 and its weights.
- :mod:`~dyag.evaluation.stats`: bootstrap confidence intervals, paired tests.
- :mod:`~dyag.evaluation.scoring`: ``score_predictions`` -> a :class:`dyag.results.Results`.
- :mod:`~dyag.evaluation.compare`: ``compare_to_baseline`` for regression gates.
- :mod:`~dyag.evaluation.table`: ``format_table`` for terminals.

Nothing heavy is imported here; each module imports its libraries when used.
"""
