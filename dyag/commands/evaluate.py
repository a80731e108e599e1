"""``dyag evaluate-finetuned``: base vs finetuned vs RAG on a golden set, scored, in one command."""

from __future__ import annotations

import sys
from pathlib import Path

from dyag.errors import DyagError
from dyag.inference.generator import GENERATION_BATCH


def register(sub) -> None:
    p = sub.add_parser(
        "evaluate-finetuned",
        help="answer a golden set with base, finetuned and RAG systems and score them",
        description="Generates (batched, cached), scores (BLEU, ROUGE, BERTScore, fact recall, format rules), "
        "prints a comparison table and writes the results JSON (and an HTML report with --report).",
    )
    p.add_argument("--model", help="adapter directory (<output>/final)")
    p.add_argument("--base-model", help="registry shortcut, hub id or local dir (default: the adapter's run.json)")
    p.add_argument("--golden", action="append",
                   help="golden cases (JSONL; repeatable; default: [tool.dyag] golden of the project here)")
    p.add_argument("--kb", help="knowledge base (JSONL, or 'sample') for RAG and acronym checks "
                                "(default: [tool.dyag] kb of the project here)")
    p.add_argument("--systems", default="base,finetuned,rag", help="comma list of base,finetuned,rag,rag+finetuned")
    p.add_argument("--output", required=True, help="results JSON")
    p.add_argument("--report", help="also write the HTML report here")
    p.add_argument("--lang", choices=("fr", "en"), default="fr", help="report language")
    p.add_argument("--limit", type=int, help="evaluate only the first N golden cases")
    p.add_argument("--top-k", type=int, default=3)
    p.add_argument("--max-new-tokens", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=GENERATION_BATCH)
    p.add_argument("--no-bertscore", action="store_true")
    p.add_argument("--bertscore-model", help="BERTScore encoder: local dir or hub id (default: packaged MiniLM)")
    p.add_argument("--bertscore-layers", type=int)
    p.add_argument("--force-cpu", action="store_true")
    p.add_argument("--no-cache", action="store_true", help="regenerate every answer")
    p.set_defaults(func=run)


def run(args) -> int:
    from dyag.config import load_config
    from dyag.data.golden import read_golden
    from dyag.data.kb import read_kb, sample_kb_path
    from dyag.evaluation.table import format_table
    from dyag.pipeline import EvaluationConfig, evaluate_systems
    from dyag.results import write

    systems = tuple(s.strip() for s in args.systems.split(",") if s.strip())
    config = EvaluationConfig(
        base_model=args.base_model, adapter=args.model, systems=systems, top_k=args.top_k,
        max_new_tokens=args.max_new_tokens, batch_size=args.batch_size, bertscore=not args.no_bertscore,
        bertscore_model=args.bertscore_model, bertscore_layers=args.bertscore_layers,
        force_cpu=args.force_cpu, cache=not args.no_cache,
    )
    if Path(args.output).is_dir():
        raise DyagError(f"--output {args.output} is a directory")
    project = load_config(Path.cwd())
    golden = args.golden or [str(g) for g in project.golden or ()]
    if not golden:
        raise DyagError("--golden is required (no [tool.dyag] golden in this project)")
    cases = [c for path in golden for c in read_golden(path)]
    if args.limit is not None:
        if args.limit < 1:
            raise DyagError(f"--limit must be >= 1, got {args.limit}")
        cases = cases[: args.limit]
    kb_path = (sample_kb_path() if args.kb == "sample" else args.kb) if args.kb else project.kb
    kb = read_kb(kb_path) if kb_path else None
    results = evaluate_systems(config, cases, kb)
    write(args.output, results)
    print(format_table(results))
    print(f"results: {args.output}", file=sys.stderr)
    if args.report:
        from dyag.report.render import render_report

        render_report([results], args.report, lang=args.lang)
        print(f"report: {args.report}", file=sys.stderr)
    return 0
