"""``dyag query-finetuned``: answer one question, or a file of questions in batches."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from dyag.errors import DyagError
from dyag.inference.generator import GENERATION_BATCH


def register(sub) -> None:
    p = sub.add_parser(
        "query-finetuned",
        help="answer questions with a base model and an optional LoRA adapter",
        description="Loads the model once, merges the adapter, answers in batches (greedy by default).",
    )
    p.add_argument("question", nargs="?", help="the question (or use --questions FILE)")
    p.add_argument("--model", help="adapter directory (<output>/final); omit to answer with the base model alone")
    p.add_argument("--base-model", help="registry shortcut, hub id or local dir (default: the adapter's run.json)")
    p.add_argument("--questions", metavar="FILE", help="one question per line, or JSONL with a 'question' field")
    p.add_argument("--output", metavar="PREDS.jsonl", help="write predictions here (JSONL) instead of printing")
    p.add_argument("--system", help="system name written in predictions (default: <model>/base or /finetuned)")
    p.add_argument("--max-new-tokens", type=int, default=128)
    p.add_argument("--temperature", type=float, default=0.0, help="0 = greedy")
    p.add_argument("--batch-size", type=int, default=GENERATION_BATCH)
    p.add_argument("--system-prompt", default=None, help="system message (default: dyag's French catalog prompt)")
    p.add_argument("--force-cpu", action="store_true")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the generation cache")
    p.add_argument("--trust-remote-code", action="store_true")
    p.add_argument("--allow-pickle", action="store_true")
    p.set_defaults(func=run)


def read_questions(path: str) -> list[dict]:
    """Plain text (one question a line) or JSONL rows with ``question`` (and optional ``id``)."""
    from dyag.utils.jsonl import iter_jsonl, require_field

    p = Path(path)
    if not p.is_file():
        raise DyagError(f"questions file not found: {p}")
    if p.suffix == ".jsonl":
        rows, first = [], {}
        for n, obj in iter_jsonl(p, what="questions file"):
            qid = str(obj.get("id", f"q{n}"))
            if qid in first:
                raise DyagError(f"{p}:{n}: duplicate id {qid!r} (first at line {first[qid]})")
            first[qid] = n
            rows.append({"id": qid, "question": require_field(p, n, obj, "question", str)})
    else:
        rows = []
        for n, raw in enumerate(p.read_bytes().removeprefix(b"\xef\xbb\xbf").splitlines(), 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DyagError(f"{p}:{n}: not UTF-8 (byte 0x{raw[exc.start]:02x}); re-save the file as UTF-8") from None
            if line.strip():
                rows.append({"id": f"q{n}", "question": line.strip()})
    if not rows:
        raise DyagError(f"{p}: no questions")
    return rows


def run(args) -> int:
    from dyag.inference.cache import GenerationCache
    from dyag.inference.generator import DEFAULT_SYSTEM_PROMPT, DecodingConfig, load_model
    from dyag.inference.predict import generate_predictions
    from dyag.utils.atomic import atomic_write_jsonl
    from dyag.utils.text import sanitize_terminal

    if bool(args.question) == bool(args.questions):
        raise DyagError("give either a QUESTION or --questions FILE")
    cases = read_questions(args.questions) if args.questions else [{"id": "q1", "question": args.question}]
    decoding = DecodingConfig(
        max_new_tokens=args.max_new_tokens,
        temperature=args.temperature,
        system_prompt=args.system_prompt if args.system_prompt is not None else DEFAULT_SYSTEM_PROMPT,
    )
    if args.batch_size < 1:
        raise DyagError(f"--batch-size must be >= 1, got {args.batch_size}")
    if args.output and Path(args.output).is_dir():
        raise DyagError(f"--output {args.output} is a directory")
    generator = load_model(
        args.base_model, args.model, force_cpu=args.force_cpu,
        trust_remote_code=args.trust_remote_code, allow_pickle=args.allow_pickle,
    )
    system = args.system or f"{generator.resolved.spec.name}/{'finetuned' if args.model else 'base'}"
    preds = generate_predictions(
        generator, cases, system=system, decoding=decoding,
        cache=GenerationCache.at(enabled=not args.no_cache), batch_size=args.batch_size,
    )
    if args.output:
        atomic_write_jsonl(args.output, preds)
        print(f"wrote {len(preds)} predictions to {args.output}", file=sys.stderr)
    elif len(preds) == 1:
        print(sanitize_terminal(preds[0]["answer"]))
    else:
        for case, pred in zip(cases, preds):
            shown = {"question": sanitize_terminal(case["question"]), **pred, "answer": sanitize_terminal(pred["answer"])}
            print(json.dumps(shown, ensure_ascii=False))
    return 0
