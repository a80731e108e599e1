"""The results models: frozen pydantic models of the results document (see :mod:`dyag.results`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dyag.data.golden import SPLITS, Expect, Split
from dyag.system import System

SCHEMA_VERSION = 2
#: The golden splits in the order tables show them (``dyag.data.golden.SPLITS``).
SPLIT_ORDER = SPLITS


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
    """One scored (golden case, system) pair.

    ``id``, ``question``, ``reference``, ``facts``, ``tags``, ``expect`` and ``split`` are copied
    from the :class:`dyag.data.golden.GoldenCase` (validated there; ``expect`` and ``split`` have
    its types).
    """

    id: str = Field(description="golden case id")
    system: str = Field(description="`<model>/<kind>`, e.g. `smollm2:135m/finetuned` (see `dyag.system.System`)")
    question: str = Field("", description="from the golden case")
    reference: str = Field("", description="from the golden case")
    answer: str = Field(description="the prediction, unchanged (sanitize before printing it)")
    facts: list[str] = Field(default_factory=list, description="golden facts the answer should state")
    tags: list[str] = Field(default_factory=list, description="golden tags")
    expect: Expect | None = Field(None, description='`"unknown"` for questions about things absent from the catalog')
    split: Split = Field("unspecified", description="`seen`, `paraphrase`, `unseen`, `unknown` or `unspecified` "
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
