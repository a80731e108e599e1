"""``dyag query-finetuned``: answer one question, or a file of questions in batches.

Loads the model once, merges the adapter, answers in batches (greedy by default).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from dyag.errors import DyagError
from dyag.inference.endpoint import concurrency_field, key_env_field, url_field
from dyag.inference.generator import GENERATION_BATCH


@dataclass
class QueryConfig:
    """What ``dyag query-finetuned`` answers, with which model, and how."""

    question: str | None = field(default=None, metadata={
        "help": "the question (or use --questions FILE)", "positional": True})
    model: str | None = field(default=None, metadata={
        "help": "adapter directory (<output>/final); omit to answer with the base model alone"})
    base_model: str | None = field(default=None, metadata={
        "help": "registry shortcut, hub id or local dir (default: the adapter's run.json)"})
    questions: str | None = field(default=None, metadata={
        "help": "one question per line, or JSONL with a 'question' field", "metavar": "FILE"})
    output: str | None = field(default=None, metadata={
        "help": "write predictions here (JSONL) instead of printing", "metavar": "PREDS.jsonl"})
    system: str | None = field(default=None, metadata={
        "help": "system name written in predictions (default: <model>/base or /finetuned)"})
    max_new_tokens: int = field(default=128, metadata={"help": "longest answer, in tokens"})
    temperature: float = field(default=0.0, metadata={"help": "sampling temperature; 0 = greedy"})
    batch_size: int = field(default=GENERATION_BATCH, metadata={"help": "questions generated together"})
    system_prompt: str | None = field(default=None, metadata={
        "help": "system message (default: dyag's French catalog prompt)"})
    force_cpu: bool = field(default=False, metadata={"help": "generate on the CPU even if a GPU is present"})
    endpoint: str | None = url_field()
    endpoint_key_env: str | None = key_env_field()
    concurrency: int = concurrency_field()
    no_cache: bool = field(default=False, metadata={"help": "do not read or write the generation cache"})
    trust_remote_code: bool = field(default=False, metadata={"help": "allow model code from the hub (off by default)"})
    allow_pickle: bool = field(default=False, metadata={
        "help": "allow pickled .bin weights (safetensors only by default)"})


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


def served_model(config: QueryConfig):
    """``--endpoint``: the served adapter (``--model``) or base model (``--base-model``), by name."""
    from dyag.inference.endpoint import ServedModel, cli_endpoint
    from dyag.pipeline import registry_spec

    endpoint = cli_endpoint(config.endpoint, config.base_model, config.model, config.endpoint_key_env,
                            config.concurrency)
    role = "finetuned" if config.model else "base"
    return ServedModel(endpoint, endpoint.served_name(role, config.base_model), spec=registry_spec(config.base_model),
                       role=role)


def run(config: QueryConfig) -> int:
    from dyag.inference.cache import GenerationCache
    from dyag.inference.generator import DEFAULT_SYSTEM_PROMPT, DecodingConfig, ModelRef
    from dyag.inference.predict import generate_predictions
    from dyag.utils.atomic import atomic_write_jsonl
    from dyag.utils.text import sanitize_terminal

    if bool(config.question) == bool(config.questions):
        raise DyagError("give either a QUESTION or --questions FILE")
    cases = read_questions(config.questions) if config.questions else [{"id": "q1", "question": config.question}]
    decoding = DecodingConfig(
        max_new_tokens=config.max_new_tokens,
        temperature=config.temperature,
        system_prompt=config.system_prompt if config.system_prompt is not None else DEFAULT_SYSTEM_PROMPT,
    )
    if config.batch_size < 1:
        raise DyagError(f"--batch-size must be >= 1, got {config.batch_size}")
    if config.output and Path(config.output).is_dir():
        raise DyagError(f"--output {config.output} is a directory")
    if config.endpoint:
        generator = served_model(config)
        name = generator.spec.name if generator.spec is not None else config.base_model
        system = config.system or f"{name}/{'finetuned' if config.model else 'base'}@{generator.endpoint.name}"
    else:
        generator = ModelRef(  # loaded only when an answer is not in the generation cache
            config.base_model, config.model, force_cpu=config.force_cpu,
            trust_remote_code=config.trust_remote_code, allow_pickle=config.allow_pickle,
        )
        system = config.system or f"{generator.resolved.spec.name}/{'finetuned' if config.model else 'base'}"
    preds = generate_predictions(
        generator, cases, system=system, decoding=decoding,
        cache=GenerationCache.at(enabled=not config.no_cache), batch_size=config.batch_size,
    )
    if config.output:
        atomic_write_jsonl(config.output, preds)
        print(f"wrote {len(preds)} predictions to {config.output}", file=sys.stderr)
    elif len(preds) == 1:
        print(sanitize_terminal(preds[0]["answer"]))
    else:
        for case, pred in zip(cases, preds):
            shown = {"question": sanitize_terminal(case["question"]), **pred, "answer": sanitize_terminal(pred["answer"])}
            print(json.dumps(shown, ensure_ascii=False))
    return 0
