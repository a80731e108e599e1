"""The results contract: one typed document that scoring writes and everything else reads.

``dyag score``, ``dyag evaluate-finetuned``, the pytest harness and ``make perf`` write a
:class:`Results` (JSON, UTF-8, atomic); the terminal table, the regression comparison, the
gates and the HTML report read only it. The models are frozen: a document is built whole
(:func:`dyag.evaluation.scoring.score_predictions`, :func:`merge`) and never edited after.

>>> doc = Results(run=Run(systems=["m/base"]), cases=[Case(id="q1", system="m/base", answer="Oui.")],
...               aggregates={"m/base": {"score": Aggregate(mean=5.0, ci95=(4.0, 6.0), n=1)}})
>>> parse(dump(doc)) == doc
True
>>> doc.cases[0].system_value.kind
'base'

``docs/results-schema.md`` is generated from these models (``python -m dyag.results``);
a test fails when the two disagree. Version-1 files are migrated on reading.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable, Literal, Sequence

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dyag.errors import DyagError
from dyag.system import System

SCHEMA_VERSION = 2
#: The golden splits in the order tables show them (see ``dyag.data.golden.SPLITS``).
SPLIT_ORDER = ("seen", "paraphrase", "unseen", "unknown", "unspecified")


class _Model(BaseModel):
    """Frozen, closed: an unknown key is an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class _Open(BaseModel):
    """Frozen; keys the model does not name are kept as they are (free-form producers)."""

    model_config = ConfigDict(frozen=True, extra="allow")


# --- one answer --------------------------------------------------------------------------------


class RuleOutcome(_Model):
    """One rule's verdict on one answer."""

    name: str = Field(description="rule name (see `dyag.evaluation.rules`)")
    passed: bool = Field(description="the answer satisfies the rule")
    severity: Literal["error", "warning", "info"] = Field(description="what a failure costs in the quality score")
    message: str = Field("", description="why it failed (empty when it passed)")
    span: tuple[int, int] | None = Field(None, description="`[start, end]` offsets into `answer` of the fault, or null")


class Case(_Model):
    """One scored (golden case, system) pair."""

    id: str = Field(description="golden case id")
    system: str = Field(description="`<model>/<kind>`, e.g. `smollm2:135m/finetuned` (see `dyag.system.System`)")
    question: str = Field("", description="from the golden case")
    reference: str = Field("", description="from the golden case")
    answer: str = Field(description="the prediction, unchanged (sanitize before printing it)")
    facts: list[str] = Field(default_factory=list, description="golden facts the answer should state")
    tags: list[str] = Field(default_factory=list, description="golden tags")
    expect: str | None = Field(None, description='`"unknown"` for questions about things absent from the catalog')
    split: str = Field("unspecified", description="`seen`, `paraphrase`, `unseen`, `unknown` or `unspecified` "
                                                  "(see the golden set's `split`)")
    meta: dict[str, Any] = Field(default_factory=dict,
                                 description="the prediction's meta (`retrieved`, `tokens`, `finish_reason`, `latency_s`...)")
    metrics: dict[str, float | None] = Field(default_factory=dict,
                                             description="per-answer metric values by column (see the metric registry)")
    rules: list[RuleOutcome] = Field(default_factory=list, description="one outcome per rule that applies")
    score: float | None = Field(None, description="quality score, 0-10")

    @property
    def system_value(self) -> System:
        return System.parse(self.system)

    def value(self, name: str) -> float | None:
        """``score``, a metric column, or ``rule:<name>`` (1.0 passed, 0.0 failed, None when it did not apply)."""
        if name == "score":
            return self.score
        if name.startswith("rule:"):
            outcome = next((r for r in self.rules if r.name == name[5:]), None)
            return None if outcome is None else float(outcome.passed)
        return self.metrics.get(name)


class Aggregate(_Model):
    """A system's mean of one column, with its bootstrap 95% interval."""

    mean: float | None = Field(description="mean over the cases that have a value")
    ci95: tuple[float, float] | None = Field(None, description="bootstrap 95% confidence interval, null below 2 values")
    n: int = Field(description="number of values")


class Missing(_Model):
    """What could not be scored, with `--allow-missing`."""

    unknown_ids: list[dict[str, str]] = Field(default_factory=list,
                                              description="predictions whose id is not a golden case: `{id, system}`")
    unanswered: dict[str, list[str]] = Field(default_factory=dict, description="`{system: [golden ids without answer]}`")


# --- the run -----------------------------------------------------------------------------------


class Machine(_Open):
    """The machine the run was measured on (`dyag.utils.device.machine_info`)."""

    platform: str | None = Field(None, description="`platform.platform()`")
    python: str | None = Field(None, description="Python version")
    cpu: str | None = Field(None, description="CPU model name")
    cpu_flags: list[str] = Field(default_factory=list,
                                 description="instruction sets among avx2, fma, avx512f, avx512_bf16, amx_tile, "
                                             "amx_bf16, asimd, bf16, sve")
    onednn_max_cpu_isa: str | None = Field(None, description="`ONEDNN_MAX_CPU_ISA` when set")
    cores: int | None = Field(None, description="logical CPUs")
    torch_threads: int | None = Field(None, description="torch intra-op threads")
    cuda: str | None = Field(None, description="CUDA device name, null without one")


class Environment(_Model):
    """What changes the answers of the same code: the key stored baselines are filed under."""

    device: str = Field(description="`cpu` or `cuda`")
    training_precision: str | None = Field(None, description="the adapter's resolved precision, null without one")
    cpu_flags: list[str] = Field(default_factory=list, description="the CPU flags torch's kernels use")
    key: str = Field(description="`cpu-fp32`, `cpu-bf16-amx`, `cpu-bf16-avx512`, `cuda-bf16`, `cpu-untrained`...")


class Scoring(_Model):
    """How the answers were scored: with it, a run can be replayed."""

    metrics: list[str] = Field(default_factory=list, description="metric families computed (the registry's names)")
    bertscore: dict[str, Any] | None = Field(None, description="the encoder: `name`, `model_type`, `num_layers`, `source`")
    quality: dict[str, Any] = Field(default_factory=dict, description="the quality formula: weights, penalties, floors")
    rules: dict[str, dict[str, Any]] = Field(default_factory=dict,
                                             description="`{rule: {severity, args}}`: every rule that ran")
    bootstrap: dict[str, Any] = Field(default_factory=dict, description="`resamples`, `seed`, `confidence`")


class Run(_Open):
    """Where, when and how the results were produced."""

    created: str | None = Field(None, description="UTC time the scores were computed, ISO 8601")
    started: str | None = Field(None, description="when the run started")
    finished: str | None = Field(None, description="harness: when the run finished")
    incomplete: bool = Field(False, description="harness: interrupted, or a worker did not finish")
    workers: int | None = Field(None, description="harness: number of pytest-xdist workers merged")
    versions: dict[str, str | None] = Field(default_factory=dict, description="dyag, Python and library versions")
    machine: Machine = Field(default_factory=Machine, description="see Machine")
    environment: Environment | None = Field(None, description="see Environment (null for `dyag score`)")
    scoring: Scoring | None = Field(None, description="see Scoring")
    systems: list[str] = Field(default_factory=list, description="system names in the order they were scored")
    models: list[str] = Field(default_factory=list, description="base models of the systems")
    n_golden: int | None = Field(None, description="number of golden cases")
    generation_s: float | None = Field(None, description="seconds spent generating answers")
    decoding: dict[str, Any] | None = Field(None, description="`max_new_tokens`, `temperature`, `batch_size`")
    rag: dict[str, Any] | None = Field(None, description="`top_k` of the retrieval systems")
    adapter: str | None = Field(None, description="the adapter directory")
    deterministic: bool | None = Field(None, description="greedy CPU generation (answers reproducible)")
    dataset: dict[str, Any] | None = Field(None, description="the adapter's training set: `path`, `sha256`, `n`")
    hyperparameters: dict[str, Any] | None = Field(None, description="the adapter's training hyperparameters")
    profile: str | None = Field(None, description="harness: the benchmark profile")
    golden: list[str] = Field(default_factory=list, description="harness: the golden files")
    catalog: dict[str, Any] | None = Field(None, description="harness: the catalog's `path` and `sha256`")
    recipe: dict[str, Any] | None = Field(None, description="harness: the recipe as run")
    config: str | None = Field(None, description="harness: the `[tool.dyag]` file")
    command: str | None = Field(None, description="`dyag score`: the command")
    inputs: dict[str, Any] | None = Field(None, description="`dyag score`: the input files' `path` and `sha256`")


class TrainingMetrics(_Open):
    """One adapter's training figures (from its `run.json`)."""

    duration_s: float | None = Field(None, description="training wall time")
    train_loss: float | None = Field(None, description="mean training loss")
    final_loss: float | None = Field(None, description="last logged loss")
    eval_loss: float | None = Field(None, description="held-out loss, when an eval split exists")
    token_accuracy: float | None = Field(None, description="mean token accuracy")
    entropy: float | None = Field(None, description="mean entropy")
    trainable_params: int | None = Field(None, description="LoRA parameters")
    total_params: int | None = Field(None, description="all parameters")
    trainable_pct: float | None = Field(None, description="share trained, %")
    samples_per_s: float | None = Field(None, description="throughput")
    tokens_per_s: float | None = Field(None, description="throughput")
    num_tokens: int | None = Field(None, description="tokens seen")
    steps: int | None = Field(None, description="optimizer steps")
    examples: int | None = Field(None, description="training rows")


# --- comparison with a baseline ------------------------------------------------------------------


class ComparisonRow(_Model):
    """One (system, column) compared with the baseline."""

    system: str = Field(description="the system")
    metric: str = Field(description="a column or `rule:<name>`")
    split: str | None = Field(None, description="the golden split compared (`seen`, `paraphrase`...), null: all cases")
    baseline: float | None = Field(description="the baseline's mean")
    current: float | None = Field(description="this run's mean")
    delta: float | None = Field(description="current - baseline")
    p_value: float | None = Field(description="paired bootstrap, exact McNemar (rules) or unpaired bootstrap")
    test: str | None = Field(description="the test's name")
    tolerance: float = Field(description="how far the mean may drop before it can regress")
    n: int = Field(description="values compared")
    verdict: Literal["ok", "regressed", "improved"] = Field(
        description="`regressed`: worse beyond tolerance and significant; `improved` symmetrically")


class RuleFlip(_Model):
    """A rule that passed on a case in the baseline and fails now."""

    system: str
    id: str
    rule: str
    severity: Literal["error", "warning", "info"]
    message: str = ""


class Regression(_Model):
    """One model's comparison with its stored baseline (the harness)."""

    baseline: str = Field(description="the baseline file")
    key: str | None = Field(None, description="this run's environment key")
    baseline_key: str | None = Field(None, description="the baseline's environment key")
    exact: bool = Field(False, description="same environment")
    strict: bool = Field(False, description="per-case rule flips are fatal (`--dyag-strict`, same environment)")
    enforced: bool = Field(True, description="false under `--dyag-update-baseline`")
    failed: bool
    rows: list[ComparisonRow] = Field(default_factory=list)
    new_rule_failures: list[RuleFlip] = Field(default_factory=list)
    missing_systems: list[str] = Field(default_factory=list, description="in the baseline, absent now")


class TestRecord(_Open):
    """What a benchmark test recorded (gate outcomes, the side-by-side table...)."""

    __test__ = False  # not a pytest test class

    test: str = Field(description="the pytest node id")


# --- perf and calibration --------------------------------------------------------------------------


class PerfPair(_Open):
    """Two ways of doing one thing, measured in turn (medians of repeated runs)."""

    name: str
    a: str
    b: str
    a_median: float | None
    b_median: float | None
    unit: str
    ratio: float | None = Field(description="A/B (or B/A when lower is better)")
    better: str = "higher"
    a_runs: list[float | None] = Field(default_factory=list)
    b_runs: list[float | None] = Field(default_factory=list)
    note: str | None = None


class PerfTarget(_Model):
    """A performance target, checked against what the run measured."""

    target: str
    measured: Any
    met: bool


class Perf(_Open):
    """`make perf`'s figures. Other keys are tables (a list of rows) or figures (an object)."""

    machine: Machine = Field(default_factory=Machine)
    settings: dict[str, Any] = Field(default_factory=dict, description="the PerfConfig as run")
    pairs: list[PerfPair] = Field(default_factory=list)
    targets: list[PerfTarget] = Field(default_factory=list)
    elapsed_s: float | None = None
    failed_sections: list[dict[str, Any]] = Field(default_factory=list)


class SweepPoint(_Model):
    """One recipe of a sweep, with its rank."""

    label: str = Field(description="the point's model label, e.g. `smollm2:135m[epochs=4,learning_rate=0.001]`")
    recipe: dict[str, Any] = Field(description="the grid values of this point")
    mean: float | None = Field(description="the ranking metric's mean")
    ci95: tuple[float, float] | None = Field(None, description="its bootstrap 95% interval")
    n: int = Field(0, description="values behind the mean")
    train_s: float | None = Field(None, description="training wall time (null: the adapter came from the cache)")
    rank: int = Field(description="1 is best")


class Sweep(_Model):
    """`dyag sweep`: recipes of one model ranked by one metric on one split."""

    model: str
    metric: str = Field(description="the ranking column")
    split: str | None = Field(None, description="the golden split ranked on (null: all cases)")
    points: list[SweepPoint] = Field(default_factory=list, description="best first")


class Calibration(_Open):
    """`make calibrate`: how often the gate fails on benign and on degraded changes."""

    model: str | None = None
    started: str | None = None
    machine: dict[str, Any] = Field(default_factory=dict)
    runs: list[dict[str, Any]] = Field(default_factory=list)
    summary: dict[str, Any] = Field(default_factory=dict,
                                    description="`benign {runs, false_alarms, rate}`, `degradations {kind: {runs, "
                                                "detected, rate}}`, `targets`, `met`, `broken_runs`")


# --- the document ---------------------------------------------------------------------------------


class Results(_Model):
    """The results document."""

    schema_version: Literal[2] = Field(SCHEMA_VERSION, description="this format's version")
    run: Run = Field(default_factory=Run)
    training: dict[str, TrainingMetrics] = Field(default_factory=dict, description="`{model: training figures}`")
    cases: list[Case] = Field(default_factory=list)
    aggregates: dict[str, dict[str, Aggregate]] = Field(default_factory=dict, description="`{system: {column: Aggregate}}`; "
                                                        "columns: `score`, metric columns, `rule:<name>` pass rates")
    splits: dict[str, dict[str, dict[str, Aggregate]]] = Field(
        default_factory=dict, description="`{system: {split: {column: Aggregate}}}` when the golden cases name "
                                          "splits (seen, paraphrase, unseen, unknown): memorisation vs generalisation")
    missing: Missing | None = Field(None, description="with `--allow-missing`")
    regression: dict[str, Regression] = Field(default_factory=dict, description="harness: `{model: Regression}`")
    tests: list[TestRecord] = Field(default_factory=list, description="harness: what each benchmark test recorded")
    perf: Perf | None = Field(None, description="`make perf`")
    calibration: Calibration | None = Field(None, description="`make calibrate`")
    sweep: Sweep | None = Field(None, description="`dyag sweep`")

    @property
    def systems(self) -> list[str]:
        """Systems in order: those with cases first, then aggregate-only ones."""
        seen = dict.fromkeys(c.system for c in self.cases)
        seen.update(dict.fromkeys(self.aggregates))
        return list(seen)

    def cases_of(self, system: str, split: str | None = None) -> list[Case]:
        return [c for c in self.cases if c.system == system and (split is None or c.split == split)]

    @property
    def split_names(self) -> list[str]:
        """The splits the cases name, in :data:`SPLIT_ORDER` (empty when none is named)."""
        present = {c.split for c in self.cases}
        return [] if present <= {"unspecified"} else [s for s in SPLIT_ORDER if s in present]

    def per_case(self, system: str, name: str, split: str | None = None) -> dict[str, float]:
        """``{case id: value}`` of one column (``score``, a metric column or ``rule:<name>``), in one split or all."""
        out = {}
        for case in self.cases_of(system, split):
            value = case.value(name)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                out[case.id] = float(value)
        return out

    def mean(self, system: str, name: str, split: str | None = None) -> float | None:
        aggs = self.aggregates.get(system, {}) if split is None else self.splits.get(system, {}).get(split, {})
        agg = aggs.get(name)
        return agg.mean if agg else None

    def relabel(self, renames: dict[str, str]) -> "Results":
        """A new document whose systems (and the training of their models) carry other names:
        ``{"m/finetuned": "m[epochs=4]/finetuned"}``."""
        def new(system: str) -> str:
            return renames.get(system, system)

        models = {System.parse(old).model: System.parse(n).model for old, n in renames.items()}
        return self.model_copy(update={
            "cases": [c.model_copy(update={"system": new(c.system)}) for c in self.cases],
            "aggregates": {new(s): a for s, a in self.aggregates.items()},
            "splits": {new(s): a for s, a in self.splits.items()},
            "training": {models.get(m, m): t for m, t in self.training.items()},
            "run": self.run.model_copy(update={"systems": [new(s) for s in self.run.systems],
                                               "models": [models.get(m, m) for m in self.run.models]}),
        })

    def replace(self, **changes) -> "Results":
        """A new document with ``changes`` (the models are frozen)."""
        return self.model_copy(update=changes)


# --- reading, writing, merging ------------------------------------------------------------------


def _migrate_v1(data: dict) -> dict:
    """Version 1 -> 2: one shape of ``run.machine`` (``cores``), nested ``scoring``, rules by name,
    string ids. Only well-formed parts are rewritten; anything else is left for validation to refuse."""
    data = dict(data)
    run = data.get("run")
    if isinstance(run, dict):
        run = dict(run)
        if isinstance(run.get("machine"), dict):
            machine = dict(run["machine"])
            if "cpus" in machine:
                machine.setdefault("cores", machine.pop("cpus"))
            run["machine"] = machine
        if isinstance(run.get("scoring"), dict):
            run["scoring"] = _migrate_scoring_v1(dict(run["scoring"]))
        data["run"] = run
    if isinstance(data.get("cases"), list):
        data["cases"] = [{**c, **{k: str(c[k]) for k in ("id", "system") if isinstance(c.get(k), int)}}
                         if isinstance(c, dict) else c for c in data["cases"]]
    if isinstance(data.get("regression"), dict):
        data["regression"] = {model: _migrate_regression_v1(reg) for model, reg in data["regression"].items()}
    data["schema_version"] = 2
    return {k: v for k, v in data.items() if v is not None}


def _migrate_scoring_v1(scoring: dict) -> dict:
    if "bertscore_model" in scoring:
        scoring["bertscore"] = scoring.get("bertscore") or {
            "name": scoring.pop("bertscore_model"), "num_layers": scoring.pop("bertscore_layers", None)}
    if "weights" in scoring:
        scoring["quality"] = {**(scoring.get("quality") or {}), "weights": scoring.pop("weights")}
    if isinstance(scoring.get("rules"), list):
        scoring["rules"] = {r["name"] if isinstance(r, dict) else str(r):
                            {k: v for k, v in (r.items() if isinstance(r, dict) else ()) if k != "name"}
                            for r in scoring["rules"]}
    return scoring


def _migrate_regression_v1(reg):
    """Blocks written before the ``failed`` flag: any regression or flip counted."""
    if not isinstance(reg, dict) or "failed" in reg:
        return reg
    rows, flips = reg.get("rows"), reg.get("new_rule_failures")
    regressed = isinstance(rows, list) and any(isinstance(r, dict) and r.get("verdict") == "regressed" for r in rows)
    return {**reg, "failed": regressed or bool(flips)}


MIGRATIONS = {1: _migrate_v1}


def parse(data: Any, *, source: str = "results") -> Results:
    """A :class:`Results` from a JSON object (any known version); a one-line error naming ``source``."""
    if isinstance(data, Results):
        return data
    if not isinstance(data, dict) or "schema_version" not in data:
        raise DyagError(f"{source}: not a dyag results file (expected a JSON object with schema_version)")
    version = data["schema_version"]
    if not isinstance(version, int) or isinstance(version, bool):
        raise DyagError(f"{source}: schema_version must be an integer, got {version!r}")
    if version > SCHEMA_VERSION:
        raise DyagError(f"{source}: schema_version {version} is newer than this dyag reads ({SCHEMA_VERSION}); upgrade dyag")
    while version < SCHEMA_VERSION:
        if version not in MIGRATIONS:
            raise DyagError(f"{source}: unsupported schema_version {version} (this dyag reads {SCHEMA_VERSION})")
        data = MIGRATIONS[version](data)
        version = data["schema_version"]
    try:
        return Results.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
        raise DyagError(f"{source}: {where}: {err['msg']}" + (f" (and {exc.error_count() - 1} more)"
                                                               if exc.error_count() > 1 else "")) from None


def dump(results: Results) -> dict:
    """The JSON object of ``results`` (what :func:`write` stores)."""
    return results.model_dump(mode="json", exclude_none=False)


def read(path: str | os.PathLike) -> Results:
    """Load, migrate and check one results file; a one-line ``DyagError`` naming it otherwise."""
    label = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise DyagError(f"{label}: no such results file") from None
    except IsADirectoryError:
        raise DyagError(f"{label}: is a directory, not a results JSON file") from None
    except OSError as exc:
        raise DyagError(f"{label}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DyagError(f"{label}: not UTF-8 text (byte {exc.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DyagError(f"{label}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise DyagError(f"{label}: not valid JSON (nested too deeply)") from None
    return parse(data, source=label)


def write(path: str | os.PathLike, results: Results) -> Path:
    """Write ``results`` atomically (UTF-8, indented)."""
    from dyag.utils.atomic import atomic_write_json

    try:
        return atomic_write_json(path, dump(results))
    except ValueError as exc:  # NaN/Infinity smuggled in through prediction meta
        raise DyagError(f"{path}: results are not valid JSON ({exc})") from None


def _union(lists: Iterable[Iterable[str]]) -> list[str]:
    return list(dict.fromkeys(x for items in lists for x in items))


def merge(docs: Sequence[Results], **run_changes) -> Results:
    """One document from several: a later document replaces a system (its cases and aggregates)
    and a model (training, regression) wholesale; test records add up. The run is the first
    document's, with every system and model, and ``run_changes`` applied."""
    if not docs:
        raise DyagError("no results to merge")
    cases: dict[str, list[Case]] = {}
    aggregates: dict[str, dict[str, Aggregate]] = {}
    splits: dict[str, dict[str, dict[str, Aggregate]]] = {}
    training, regression, tests = {}, {}, []
    perf = calibration = missing = sweep = None
    for doc in docs:
        for system in doc.systems:
            cases[system] = doc.cases_of(system)
            aggregates.pop(system, None)
            splits.pop(system, None)
            if system in doc.aggregates:
                aggregates[system] = doc.aggregates[system]
            if system in doc.splits:
                splits[system] = doc.splits[system]
        training.update(doc.training)
        regression.update(doc.regression)
        tests += doc.tests
        perf, calibration, missing = doc.perf or perf, doc.calibration or calibration, doc.missing or missing
        sweep = doc.sweep or sweep
    first = docs[0].run
    run = first.model_copy(update={
        "systems": _union([first.systems] + [d.run.systems for d in docs[1:]] + [list(cases)]),
        "models": _union(d.run.models for d in docs),
        "incomplete": any(d.run.incomplete for d in docs),
        **run_changes,
    })
    return Results(run=run, training=training, cases=[c for s in cases for c in cases[s]], aggregates=aggregates,
                   splits=splits, missing=missing, regression=regression, tests=tests, perf=perf, calibration=calibration,
                   sweep=sweep)


def provenance(labelled: Sequence[tuple[str, Results]]) -> dict[str, str]:
    """``{system: label}``: which document each system of :func:`merge`'s result comes from."""
    out: dict[str, str] = {}
    for label, doc in labelled:
        for system in doc.systems:
            out.pop(system, None)
            out[system] = label
    return out


# --- the schema document ------------------------------------------------------------------------

DOC_MODELS = (Results, Run, Machine, Environment, Scoring, TrainingMetrics, Case, RuleOutcome, Aggregate, Missing,
              Regression, ComparisonRow, RuleFlip, TestRecord, Perf, PerfPair, PerfTarget, Calibration, Sweep, SweepPoint)

_DOC_HEAD = f"""# Results JSON, schema version {SCHEMA_VERSION}

<!-- Generated from dyag/results.py by `python -m dyag.results > docs/results-schema.md`; do not edit. -->

`dyag score`, `dyag evaluate-finetuned`, the pytest harness (`--dyag-report`) and `make perf`
write one JSON object (UTF-8, written atomically). The terminal table, the regression
comparison (`dyag compare`), the gates and the HTML report read only this document.
`dyag.results.read(path)` loads, migrates and checks a file; `dyag.results.parse(obj)` an
object in memory; `write`, `dump` and `merge` do the rest. The models are frozen: a
document is built whole and never edited afterwards.

## Versioning

`schema_version` is an integer. A reader refuses a version newer than it knows, with a
one-line error asking to upgrade dyag, and migrates older ones: version 1 files (every
file written before this version, the stored baselines among them) load unchanged in
meaning (`run.machine.cpus` becomes `cores`; a flat `scoring` is nested). Adding an
optional key does not change the version; renaming or removing one, or changing a unit,
does, with a migration.

## Metric columns

The keys of `cases[].metrics` and of `aggregates[system]` are the columns of the metric
registry (`dyag.evaluation.registry`): `score` (0-10), `bleu` (0-100, sentence BLEU),
`corpus_bleu` (0-100, aggregate only), `rouge1`, `rouge2`, `rougeL` (0-1), `fact_recall`
(0-1, null without facts), `exact_match` (0 or 1), `bertscore_f1`, `bertscore_precision`,
`bertscore_recall` (0-1), plus any metric a project registers, and `rule:<name>` (the
pass rate of each rule, 0-1) in the aggregates.
"""


def _type_name(annotation: Any) -> str:
    import re

    text = annotation.__name__ if isinstance(annotation, type) else str(annotation)
    text = re.sub(r"(?:[A-Za-z_]\w*\.)+(?=[A-Za-z_])", "", text)  # typing.Any, __main__.Case -> Any, Case
    return text.replace("NoneType", "null").replace("None", "null")


def schema_markdown() -> str:
    """``docs/results-schema.md``, generated from the models."""
    parts = [_DOC_HEAD]
    for model in DOC_MODELS:
        doc = (model.__doc__ or "").strip().splitlines()[0]
        parts.append(f"\n## `{model.__name__}`\n\n{doc}")
        if model.model_config.get("extra") == "allow":
            parts.append("Other keys are kept as they are.")
        parts.append("\n| key | type | meaning |\n|---|---|---|")
        for name, info in model.model_fields.items():
            parts.append(f"| `{name}` | `{_type_name(info.annotation)}` | {info.description or ''} |")
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


if __name__ == "__main__":
    print(schema_markdown(), end="")
