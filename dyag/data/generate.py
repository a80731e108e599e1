"""Generate a French question/answer training set (and a golden test set) from a knowledge base.

``simple`` makes one canonical question per (application, field); ``augmented``
makes one example per question phrasing of each (application, field), answer
phrasings alternating. ``count`` picks examples round-robin so that every
application, then every field, is covered before a second phrasing of anything.
With ``split``, examples are split by (application, field) group.

>>> import tempfile
>>> output = Path(tempfile.mkdtemp()) / "ds.jsonl"
>>> result = generate_training(GenerateConfig(kb="sample", output=output, method="augmented", count=100, split=True))
>>> result.counts
{'train': 80, 'val': 10, 'test': 10, 'test_golden': 10}
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

from dyag.data.golden import GoldenCase, write_golden
from dyag.data.kb import read_kb, resolve_kb_path
from dyag.data.splits import SPLIT_NAMES, parse_ratios, split_groups
from dyag.data.templates import FIELD_TEMPLATES, answer_templates, available_fields, field_facts, template_context
from dyag.errors import DyagError
from dyag.prompts import DEFAULT_SYSTEM_PROMPT
from dyag.utils.atomic import atomic_write_jsonl

METHODS: tuple[str, ...] = ("simple", "augmented")

#: Below this many records the progress bar stays hidden.
PROGRESS_MIN_RECORDS = 50


@dataclass
class GenerateConfig:
    """What ``dyag generate-training`` does; each field is one CLI flag."""

    kb: str | Path = field(
        metadata={"help": "knowledge base JSONL (one application a line), or 'sample' for the packaged catalog",
                  "positional": True, "metavar": "KB"}
    )
    output: Path = field(
        metadata={"help": "output JSONL; with --split, <stem>_train/_val/_test/_test_golden.jsonl are written beside it"}
    )
    method: str = field(default="simple", metadata={"help": "simple (one question per application and field) or augmented (paraphrases)"})
    count: int | None = field(default=None, metadata={"help": "number of examples to make (default: all that the method can make)"})
    seed: int = field(default=42, metadata={"help": "random seed for sampling, phrasing and splitting"})
    split: bool = field(default=False, metadata={"help": "write train/val/test files split by (application, field)"})
    ratios: tuple[float, float, float] = field(
        default=(0.8, 0.1, 0.1), metadata={"help": "train,val,test shares, summing to 1", "metavar": "TRAIN,VAL,TEST"}
    )
    system_prompt: str | None = field(
        default=DEFAULT_SYSTEM_PROMPT,
        metadata={"help": "system message put first in every example, the same one dyag uses when answering ('' for none)"},
    )

    def __post_init__(self) -> None:
        if not str(self.kb).strip():
            raise DyagError("knowledge base path is empty")
        self.output = Path(self.output)
        if self.method not in METHODS:
            raise DyagError(f"unknown method '{self.method}' (choose {' or '.join(METHODS)})")
        if self.count is not None and (isinstance(self.count, bool) or not isinstance(self.count, int) or self.count <= 0):
            raise DyagError(f"count must be a positive integer, got {self.count!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise DyagError(f"seed must be an integer, got {self.seed!r}")
        self.ratios = parse_ratios(self.ratios)
        if self.system_prompt == "":
            self.system_prompt = None
        if self.system_prompt is not None and not isinstance(self.system_prompt, str):
            raise DyagError(f"system_prompt must be a string, got {type(self.system_prompt).__name__}")


@dataclass
class GenerateResult:
    """What was written: ``paths`` and ``counts`` are keyed ``all`` or ``train``/``val``/``test`` (+ ``test_golden``)."""

    paths: dict[str, Path]
    counts: dict[str, int]
    requested: int | None
    made: int
    available: int
    groups: int
    message: str | None = None

    def summary(self) -> str:
        lines = [f"{self.made} examples over {self.groups} (application, field) groups"]
        if self.message:
            lines.append(self.message)
        for name, path in self.paths.items():
            lines.append(f"  {name:<12} {self.counts.get(name, 0):>6}  {path}")
        return "\n".join(lines)


@dataclass(frozen=True)
class Example:
    """One question/answer pair before it becomes a JSONL row."""

    kb_id: str
    field: str
    template: str
    question: str
    answer: str
    facts: tuple[str, ...]

    @property
    def group(self) -> tuple[str, str]:
        return (self.kb_id, self.field)


def generate_training(config: GenerateConfig) -> GenerateResult:
    """Read the KB, build and sample examples, split them, then write every output atomically.

    Everything is validated before the first write: on any error nothing is written.
    """
    kb_path = resolve_kb_path(config.kb)
    targets = output_paths(config.output, config.split)
    _check_outputs(kb_path, targets)
    records = read_kb(kb_path)
    groups = build_groups(records, config.method, config.seed)
    available = sum(len(g) for g in groups)
    examples = select_round_robin(groups, config.count)
    message = None
    if config.count is not None and len(examples) < config.count:
        message = (
            f"only {len(examples)} of the {config.count} requested examples could be made "
            f"(method '{config.method}', {len(groups)} (application, field) groups)"
        )
    if not config.split:
        rows = [example_row(e, config.system_prompt) for e in examples]
        atomic_write_jsonl(targets["all"], rows)
        return GenerateResult(targets, {"all": len(rows)}, config.count, len(examples), available, len(groups), message)

    parts = split_examples(examples, config.ratios, config.seed)
    rows = {name: [example_row(e, config.system_prompt) for e in parts[name]] for name in SPLIT_NAMES}
    golden = golden_cases(parts["test"])
    for name in SPLIT_NAMES:
        atomic_write_jsonl(targets[name], rows[name])
    write_golden(targets["test_golden"], golden)
    counts = {name: len(rows[name]) for name in SPLIT_NAMES}
    counts["test_golden"] = len(golden)
    return GenerateResult(targets, counts, config.count, len(examples), available, len(groups), message)


def output_paths(output: Path, split: bool) -> dict[str, Path]:
    """``data/ds_100.jsonl`` -> itself, or with ``split`` ``data/ds_100_{train,val,test,test_golden}.jsonl``."""
    if not split:
        return {"all": output}
    names = (*SPLIT_NAMES, "test_golden")
    return {name: output.with_name(f"{output.stem}_{name}.jsonl") for name in names}


def _check_outputs(kb_path: Path, targets: dict[str, Path]) -> None:
    for path in targets.values():
        if path.is_dir():
            raise DyagError(f"output is a directory: {path}")
        if path.exists() and kb_path.exists() and path.resolve() == kb_path.resolve():
            raise DyagError(f"output would overwrite the knowledge base: {path}")
        parent = next((p for p in path.parents if p.exists()), None)
        if parent is not None and not parent.is_dir():
            raise DyagError(f"cannot create {path}: {parent} is a file")


def build_groups(records: list[dict], method: str, seed: int) -> list[list[Example]]:
    """All examples, grouped by (application, field), groups in round-robin order over applications.

    Applications are shuffled, then each application's fields: group ``k`` of the
    result comes from application ``k % n_apps`` while any remain, so a prefix of the
    groups covers every application before any application's second field.
    """
    per_app: list[list[list[Example]]] = []
    for record in _progress(records, "questions"):
        fields = available_fields(record)
        random.Random(f"{seed}:{record['id']}").shuffle(fields)
        per_app.append([group_examples(record, f, method, seed) for f in fields])
    random.Random(seed).shuffle(per_app)
    ordered: list[list[Example]] = []
    for rank in range(max((len(a) for a in per_app), default=0)):
        ordered.extend(app[rank] for app in per_app if rank < len(app))
    return ordered


def group_examples(record: dict, field_name: str, method: str, seed: int) -> list[Example]:
    """The examples of one (application, field): one for ``simple``, one per question phrasing for ``augmented``."""
    ctx = template_context(record)
    questions = FIELD_TEMPLATES[field_name].questions
    answers = answer_templates(record, field_name)
    facts = tuple(field_facts(record, field_name))
    if method == "simple":
        pairs = [(0, 0)]
    else:
        rng = random.Random(f"{seed}:{record['id']}:{field_name}")
        order = list(range(len(questions)))
        rng.shuffle(order)
        start = rng.randrange(len(answers))
        pairs = [(q, (start + i) % len(answers)) for i, q in enumerate(order)]
    return [
        Example(
            kb_id=record["id"],
            field=field_name,
            template=f"{field_name}.q{q + 1}.a{a + 1}",
            question=questions[q].format(**ctx),
            answer=answers[a].format(**ctx),
            facts=facts,
        )
        for q, a in pairs
    ]


def select_round_robin(groups: list[list[Example]], count: int | None) -> list[Example]:
    """Take the 1st example of every group, then the 2nd of every group, ... up to ``count``."""
    selected: list[Example] = []
    depth = max((len(g) for g in groups), default=0)
    for rank in range(depth):
        for group in groups:
            if rank < len(group):
                if count is not None and len(selected) >= count:
                    return selected
                selected.append(group[rank])
    return selected


def split_examples(examples: list[Example], ratios, seed: int) -> dict[str, list[Example]]:
    """Split by (application, field) group; each split keeps the examples' order."""
    parts = split_groups((e.group for e in examples), ratios, seed)
    side = {group: name for name, groups in parts.items() for group in groups}
    return {name: [e for e in examples if side[e.group] == name] for name in SPLIT_NAMES}


def example_row(example: Example, system_prompt: str | None = None) -> dict:
    """The JSONL row of one example in the conversational format."""
    messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
    messages += [{"role": "user", "content": example.question}, {"role": "assistant", "content": example.answer}]
    return {"messages": messages, "meta": {"kb_id": example.kb_id, "field": example.field, "template": example.template}}


def golden_cases(examples: list[Example]) -> list[GoldenCase]:
    """Golden cases of held-out examples, ids ``<kb_id>-<field>-<n>`` (n counts within the group)."""
    seen: dict[tuple[str, str], int] = {}
    cases = []
    for e in examples:
        n = seen[e.group] = seen.get(e.group, 0) + 1
        cases.append(
            GoldenCase(
                id=f"{e.kb_id}-{e.field}-{n}",
                question=e.question,
                reference=e.answer,
                facts=list(e.facts),
                kb_ids=[e.kb_id],
                lang="fr",
                tags=["generated", e.field],
            )
        )
    return cases


def _progress(items: list, desc: str):
    from tqdm import tqdm

    hidden = len(items) < PROGRESS_MIN_RECORDS or not sys.stderr.isatty()
    return tqdm(items, desc=desc, unit="record", disable=hidden, leave=False)
