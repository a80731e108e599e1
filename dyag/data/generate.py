"""Generate a French question/answer training set (and a golden test set) from a knowledge base.

``simple`` makes one canonical question per (application, field); ``augmented``
makes one example per question phrasing of each (application, field), answer
phrasings alternating. ``count`` picks examples round-robin so that every
application, then every field, is covered before a second phrasing of anything.
With ``split``, examples are split by (application, field) group, and two golden
files are written beside the splits: ``<stem>_test_golden.jsonl``, the test rows as
``unseen`` cases (their groups are not trained on), and ``<stem>_golden.jsonl``, for
each group of the train split a ``seen`` case (a training question, exactly as
trained) and a ``paraphrase`` case (a held-out phrasing of
:data:`~dyag.data.templates.FIELD_TEMPLATES`, never in a training row, same
reference and facts). :func:`golden_for_training` and :func:`unseen_cases` make
the same cases for a benchmark's own catalog slice.

>>> import tempfile
>>> output = Path(tempfile.mkdtemp()) / "ds.jsonl"
>>> result = generate_training(GenerateConfig(kb="sample", output=output, method="augmented", count=100, split=True))
>>> result.counts
{'train': 80, 'val': 10, 'test': 10, 'test_golden': 10, 'golden': 160, 'golden_seen': 80, 'golden_paraphrase': 80}
>>> from dyag.data.kb import read_kb, sample_kb_path
>>> gidaf = [r for r in read_kb(sample_kb_path()) if r["id"] == "gidaf"]
>>> [(c.id, c.question) for c in golden_for_training(gidaf, "simple", seed=42, fields=["hebergeur"])]
[('gidaf-hebergeur-seen', 'Qui héberge GIDAF ?'), ('gidaf-hebergeur-paraphrase', 'Chez quel prestataire se trouvent les serveurs de GIDAF ?')]
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

from dyag.data.golden import GoldenCase, write_golden
from dyag.data.kb import read_kb, resolve_kb_path
from dyag.data.splits import SPLIT_NAMES, parse_ratios, split_groups
from dyag.data.templates import FIELD_TEMPLATES, FIELDS, answer_templates, available_fields, field_facts, template_context
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
        metadata={"help": "output JSONL; with --split, <stem>_train/_val/_test.jsonl and the golden files "
                          "<stem>_test_golden.jsonl (unseen) and <stem>_golden.jsonl (seen, paraphrase) are written beside it"}
    )
    method: str = field(default="simple", metadata={"recipe": True, "values": METHODS, "help": "simple (one question per application and field) or augmented (every training phrasing)"})
    count: int | None = field(default=None, metadata={"recipe": True, "help": "number of examples to make (default: all that the method can make)"})
    seed: int = field(default=42, metadata={"recipe": True, "help": "random seed for sampling, phrasing and splitting"})
    split: bool = field(default=False, metadata={
        "help": "write train/val/test files split by (application, field), the test rows as unseen golden cases, "
                "and a seen and a held-out paraphrase golden case for each (application, field) of the train split"})
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
    """What was written: ``paths`` and ``counts`` are keyed ``all`` or ``train``/``val``/``test``/``test_golden``/``golden``.

    With a split, ``counts`` also has ``golden_seen`` and ``golden_paraphrase`` (adding up to ``golden``).
    """

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
            line = f"  {name:<12} {self.counts.get(name, 0):>6}  {path}"
            if name == "golden":
                line += f"  ({self.counts.get('golden_seen', 0)} seen + {self.counts.get('golden_paraphrase', 0)} paraphrase)"
            lines.append(line)
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
    trained = trained_cases(parts["train"], records, config.seed)
    for name in SPLIT_NAMES:
        atomic_write_jsonl(targets[name], rows[name])
    write_golden(targets["test_golden"], golden)
    write_golden(targets["golden"], trained)
    counts = {name: len(rows[name]) for name in SPLIT_NAMES}
    counts["test_golden"] = len(golden)
    counts["golden"] = len(trained)
    for split in ("seen", "paraphrase"):
        counts[f"golden_{split}"] = sum(c.split == split for c in trained)
    return GenerateResult(targets, counts, config.count, len(examples), available, len(groups), message)


def output_paths(output: Path, split: bool) -> dict[str, Path]:
    """``data/ds_100.jsonl`` -> itself, or with ``split`` ``data/ds_100_{train,val,test,test_golden,golden}.jsonl``."""
    if not split:
        return {"all": output}
    if not output.name:  # "." or "/": no file name to derive the split files' names from
        raise DyagError(f"--output {output}: not a file name")
    names = (*SPLIT_NAMES, "test_golden", "golden")
    return {name: output.with_name(f"{output.stem}_{name}.jsonl") for name in names}


def _check_outputs(kb_path: Path, targets: dict[str, Path]) -> None:
    """Refuse, before anything is written, an output (training rows or a golden file) that is a directory,
    the KB itself, or below a file."""
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
    """``unseen`` golden cases of held-out examples, ids ``<kb_id>-<field>-<n>`` (n counts within the group)."""
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
                split="unseen",
            )
        )
    return cases


def golden_for_training(
    records: list[dict],
    method: str,
    seed: int,
    *,
    count: int | None = None,
    ratios=None,
    seen_per_group: int = 1,
    paraphrase_per_group: int = 1,
    fields=None,
) -> list[GoldenCase]:
    """``seen`` and ``paraphrase`` golden cases of what :func:`generate_training` trains on for these records.

    The examples are made exactly as ``generate_training`` makes them (same :func:`build_groups`
    and round-robin ``count`` with the same ``seed``; with ``ratios``, only those of the train
    split, as with ``--split``), so a golden file regenerated from the catalog matches the
    training set row for row. See :func:`trained_cases` for what each case holds.
    """
    if method not in METHODS:
        raise DyagError(f"unknown method '{method}' (choose {' or '.join(METHODS)})")
    examples = select_round_robin(build_groups(records, method, seed), count)
    if ratios is not None:
        examples = split_examples(examples, parse_ratios(ratios), seed)["train"]
    return trained_cases(examples, records, seed, seen_per_group=seen_per_group,
                         paraphrase_per_group=paraphrase_per_group, fields=fields)


def trained_cases(
    examples: list[Example],
    records: list[dict],
    seed: int,
    *,
    seen_per_group: int = 1,
    paraphrase_per_group: int = 1,
    fields=None,
) -> list[GoldenCase]:
    """For each (application, field) group of the trained ``examples``, in training order: ``seen`` then ``paraphrase`` cases.

    ``seen``: the group's first ``seen_per_group`` training examples, question and answer exactly as
    in their rows. ``paraphrase``: ``paraphrase_per_group`` held-out phrasings of the field
    (``FIELD_TEMPLATES[field].paraphrases``, picked deterministically with ``seed``), never in a
    training row, with the reference answer and facts of the group's first training example.
    Ids are ``<kb_id>-<field>-seen`` / ``<kb_id>-<field>-paraphrase`` (then ``-seen-2``, ...).
    """
    _check_count("seen_per_group", seen_per_group)
    _check_count("paraphrase_per_group", paraphrase_per_group)
    wanted = _check_fields(fields)
    by_id = {r["id"]: r for r in records}
    groups: dict[tuple[str, str], list[Example]] = {}
    for e in examples:
        if wanted is None or e.field in wanted:
            groups.setdefault(e.group, []).append(e)
    cases: list[GoldenCase] = []
    for (kb_id, field_name), trained in groups.items():
        for n, e in enumerate(trained[:seen_per_group], 1):
            cases.append(_generated_case(e, "seen", n, e.question, e.answer))
        if paraphrase_per_group:
            ctx = template_context(by_id[kb_id])
            phrasings = FIELD_TEMPLATES[field_name].paraphrases
            order = list(range(len(phrasings)))
            random.Random(f"{seed}:{kb_id}:{field_name}:paraphrase").shuffle(order)
            for n, p in enumerate(order[:paraphrase_per_group], 1):
                cases.append(_generated_case(trained[0], "paraphrase", n, phrasings[p].format(**ctx), trained[0].answer))
    return cases


def unseen_cases(records: list[dict], fields=None) -> list[GoldenCase]:
    """One ``unseen`` golden case per (record, field) of records NOT trained on: the canonical question and answer.

    Ids are ``<kb_id>-<field>-unseen``; records in their order, fields in :data:`FIELDS` order.
    """
    wanted = _check_fields(fields)
    cases = []
    for record in records:
        for field_name in available_fields(record):
            if wanted is None or field_name in wanted:
                (e,) = group_examples(record, field_name, "simple", seed=0)
                cases.append(_generated_case(e, "unseen", 1, e.question, e.answer))
    return cases


def _generated_case(e: Example, split: str, n: int, question: str, reference: str) -> GoldenCase:
    suffix = split if n == 1 else f"{split}-{n}"
    return GoldenCase(
        id=f"{e.kb_id}-{e.field}-{suffix}",
        question=question,
        reference=reference,
        facts=list(e.facts),
        kb_ids=[e.kb_id],
        lang="fr",
        tags=["generated", e.field],
        split=split,
    )


def _check_count(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DyagError(f"{name} must be a non-negative integer, got {value!r}")


def _check_fields(fields) -> set[str] | None:
    if fields is None:
        return None
    if isinstance(fields, str):
        fields = [fields]
    wanted = set(fields)
    unknown = sorted(wanted - set(FIELDS))
    if unknown:
        raise DyagError(f"unknown field '{unknown[0]}' (known: {', '.join(FIELDS)})")
    return wanted


def _progress(items: list, desc: str):
    from tqdm import tqdm

    hidden = len(items) < PROGRESS_MIN_RECORDS or not sys.stderr.isatty()
    return tqdm(items, desc=desc, unit="record", disable=hidden, leave=False)
