"""``dyag score``: score stored predictions against a golden set and write results JSON.

    dyag score --predictions preds.jsonl --golden golden.jsonl --kb kb.jsonl --output results.json
"""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "score",
        help="score stored predictions (BLEU, ROUGE, BERTScore, fact recall, format rules)",
        description="Score predictions produced anywhere against golden answers; write the results JSON "
        "(schema v1) and print a per-system table.",
    )
    parser.add_argument("--predictions", required=True, metavar="P.jsonl",
                        help='predictions, one {"id", "system", "answer", "meta"?} a line')
    parser.add_argument("--golden", required=True, metavar="G.jsonl", help="golden cases (id, question, reference, facts...)")
    parser.add_argument("--kb", metavar="KB.jsonl", help="knowledge base, for the acronym-expansion rule")
    parser.add_argument("--output", required=True, metavar="results.json", help="where to write the results (atomically)")
    parser.add_argument("--no-bertscore", action="store_true", help="skip BERTScore (no encoder is loaded)")
    parser.add_argument("--bertscore-model", metavar="DIR_OR_ID",
                        help="BERTScore encoder: a local directory or hub id (default: packaged all-MiniLM-L6-v2)")
    parser.add_argument("--bertscore-layers", type=_positive_int, metavar="N", help="encoder layer used by BERTScore")
    parser.add_argument("--allow-missing", action="store_true",
                        help="score what lines up; record unknown ids and unanswered cases in results.missing")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _inputs(args) -> dict:
    """Paths and content hashes of the input files, so a run can be replayed on the same data."""
    from dyag.utils.atomic import sha256_file

    files = {"predictions": args.predictions, "golden": args.golden, "kb": args.kb}
    return {name: {"path": str(path), "sha256": sha256_file(path)} for name, path in files.items() if path}


def run(args) -> int:
    from dyag.errors import DyagError
    from dyag.evaluation.cases import read_golden_cases, read_kb_records
    from dyag.evaluation.registry import metric_names
    from dyag.evaluation.scoring import read_predictions, score_predictions
    from dyag.results import write
    from dyag.evaluation.table import format_table

    if args.no_bertscore and (args.bertscore_model or args.bertscore_layers):
        raise DyagError("--no-bertscore cannot be combined with --bertscore-model/--bertscore-layers")
    predictions = read_predictions(args.predictions)
    golden = read_golden_cases(args.golden)
    kb = read_kb_records(args.kb) if args.kb else None
    metrics = tuple(m for m in metric_names() if not (args.no_bertscore and m == "bertscore"))
    results = score_predictions(
        predictions, golden, kb,
        metrics=metrics,
        bertscore_model=args.bertscore_model,
        bertscore_layers=args.bertscore_layers,
        allow_missing=args.allow_missing,
        sources=(str(args.predictions), str(args.golden)),
        progress=not args.quiet,
        run_info={"command": "score", "inputs": _inputs(args)},
    )
    write(args.output, results)
    print(format_table(results))
    print(f"results: {args.output}")
    return 0
