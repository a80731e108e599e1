"""``dyag sweep --grid KEY=V1,V2 ...``: train and evaluate a grid of recipes on one model, and rank them.

Each point is the profile's recipe with the grid's values; points train one after the other
through the adapter cache and answer the profile's golden set through the generation cache.
The ranking (by --metric, on --split or all cases, with bootstrap 95% intervals) is printed and
written with every point's answers to one results file (--output), which ``dyag report``
renders as a recipe comparison.

    dyag sweep --model smollm2:135m --grid epochs=2,4,6 --grid learning_rate=5e-4,1e-3 \\
        --metric fact_recall --split seen --output reports/sweep.json --report reports/sweep.html
"""

from __future__ import annotations

from dyag.sweep import SweepConfig


def run(config: SweepConfig) -> int:
    import sys

    from dyag.evaluation.table import format_table
    from dyag.results import write
    from dyag.sweep import format_ranking, run_sweep

    check_model(config.model, flag="--model")
    results = run_sweep(config, log=lambda line: print(line, file=sys.stderr, flush=True))
    write(config.output, results)
    print(format_table(results))
    print()
    print(format_ranking(results.sweep))
    print(f"results: {config.output}", file=sys.stderr)
    if config.report:
        from dyag.report.render import render_report

        render_report([results], config.report, overwrite=True)
        print(f"report: {config.report}", file=sys.stderr)
    return 0


def check_model(name: str, *, flag: str) -> None:
    """A model that cannot be used here is one error line, before any point's progress line
    (a hub model that is not cached yet is let through when online: the sweep downloads it)."""
    from dyag.errors import DyagError
    from dyag.models.hub import hf_offline
    from dyag.models.loading import model_availability
    from dyag.models.registry import get_model_spec

    spec = get_model_spec(name)  # an unknown shortcut, a missing path, a folder that is no model: DyagError
    available, reason = model_availability(spec)
    if not available and not (spec.source == "hub" and not hf_offline()):
        raise DyagError(f"{flag} {name}: {reason}")
