"""State of one dyag benchmark session: what the pytest plugin's fixtures share.

The plugin (``dyag/pytest_plugin.py``) holds only hooks; everything it needs — the profile, the
training set, adapters, predictions, scored results, what the tests recorded — lives here, so it
can be used (and tested) without pytest. Settings come from :mod:`dyag.settings`, stored baselines
from :mod:`dyag.baselines`; under pytest-xdist each worker has its own ``DyagSession`` and writes
its part (:mod:`dyag.parts`), which the controller merges into one results file and one report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from dyag.baselines import BaselineMatch, BaselineStore
from dyag.data.degrade import DEGRADATIONS, degrade_rows, training_factor
from dyag.data.golden import read_golden
from dyag.data.kb import read_kb, resolve_kb_path, sample_kb_path
from dyag.models.loading import model_availability
from dyag.models.registry import get_model_spec
from dyag.progress import PhaseReporter, using
from dyag.results import Regression, TestRecord, write
from dyag.system import System, check_kinds
from dyag.training.config import FinetuneConfig
from dyag.errors import DyagError
from dyag.parts import now, worker_part
from dyag.settings import (DEFAULT_BASELINE, DEFAULT_MODELS, DEFAULT_SYSTEMS, BenchProfile, ProjectConfig, layered,
                           project_profiles, resolve_profile)
from dyag.training.config import PRECISIONS
from dyag.utils.atomic import atomic_write_jsonl, sha256_file, sha256_json
from dyag.utils.jsonl import read_jsonl
from dyag.utils.paths import dyag_home, safe_name
from dyag.utils.store import Store

if TYPE_CHECKING:
    from dyag.results import Results

@dataclass
class SessionOptions:
    """What a session runs: command-line options over ``[tool.dyag]`` (``project``) over dyag's defaults."""

    # Each field but rootdir and project is a pytest option --dyag-<name> (and ini key dyag_<name>), derived
    # by dyag.utils.options.option_specs in pytest_addoption; "flag" keeps an option's historical spelling.
    models: tuple[str, ...] = field(default=DEFAULT_MODELS, metadata={
        "help": "comma list of base models (registry shortcuts, hub ids or dirs; default: [tool.dyag] models, then {default})"})
    profile: str = field(default="quick", metadata={
        "help": "the recipe: the project's [tool.dyag.profiles], else quick (CI-sized) or full"})
    systems: tuple[str, ...] = field(default=DEFAULT_SYSTEMS, metadata={
        "help": "comma list of systems: base, finetuned, rag, rag+finetuned, each also <kind>@<endpoint> (default: [tool.dyag] systems, then {default})"})
    golden: tuple[str, ...] | None = field(default=None, metadata={
        "help": "comma list of golden JSONL files (default: the profile's, then [tool.dyag] golden)"})
    kb: str | None = field(default=None, metadata={
        "help": "the catalog JSONL (default: [tool.dyag] kb, then dyag's sample)"})
    baseline_dir: str = field(default=DEFAULT_BASELINE, metadata={
        "help": "directory of stored baselines (default: [tool.dyag] baseline, then {default})", "flag": "--dyag-baseline"})
    update_baseline: bool = field(default=False, metadata={"help": "rewrite the stored baselines from this run"})
    report: str | None = field(default=None, metadata={
        "help": "write the HTML report here (and the results JSON beside it; default: [tool.dyag] report)"})
    summary: str | None = field(default=None, metadata={
        "help": "write the run's verdict as markdown here (also appended to $GITHUB_STEP_SUMMARY when set)"})
    cache_dir: str | None = field(default=None, metadata={
        "help": "cache root for adapters, generations and runs (default: $DYAG_HOME)", "flag": "--dyag-cache"})
    no_cache: bool = field(default=False, metadata={"help": "retrain adapters and regenerate answers"})
    degrade: str | None = field(default=None, metadata={
        "help": "train on deliberately bad data to check that the gates catch it", "choices": tuple(DEGRADATIONS)})
    precision: str | None = field(default=None, metadata={  # None: the recipe's (auto by default)
        "help": "training precision (part of the baseline key; default: the recipe's, auto)", "choices": PRECISIONS})
    seed: int | None = field(default=None, metadata={"help": "training seed (default: the recipe's, 42)"})
    gen_batch: int | None = field(default=None, metadata={
        "help": "questions generated together (default: dyag's generation batch)"})
    strict: bool = field(default=False, metadata={
        "help": "fail on any rule that newly fails on a case (only against a baseline of the same environment)"})
    require_baseline: bool = field(default=False, metadata={
        "help": "fail, instead of skipping, when a model has no baseline or cannot load (CI mode)"})
    rootdir: str = field(default=".", metadata={"cli": False})
    project: ProjectConfig = field(default_factory=ProjectConfig, metadata={"cli": False})
    recipe: dict | None = field(default=None, metadata={"cli": False})  # overrides of the profile's recipe (dyag sweep)

    def __post_init__(self):
        resolve_profile(self.profile, self.project, self.recipe)
        check_kinds(self.systems, option="--dyag-systems", endpoints=self.project.endpoints)
        if not self.models:
            raise DyagError("--dyag-models is empty")
        if self.degrade is not None and self.degrade not in DEGRADATIONS:
            raise DyagError(f"--dyag-degrade must be one of {', '.join(DEGRADATIONS)}, got '{self.degrade}'")
        if self.precision is not None and self.precision not in PRECISIONS:
            raise DyagError(f"--dyag-precision must be one of {', '.join(PRECISIONS)}, got '{self.precision}'")
        if self.gen_batch is not None and self.gen_batch < 1:
            raise DyagError(f"--dyag-gen-batch must be >= 1, got {self.gen_batch}")
        for name in self.models:
            get_model_spec(name)  # unknown names are usage errors


def session_options(cli: dict, ini: dict, *, project: ProjectConfig, rootdir: str) -> SessionOptions:
    """The session's options: the command line over pytest's ``dyag_*`` ini keys over ``[tool.dyag]`` over
    SessionOptions' defaults (:func:`dyag.settings.layered`)."""
    profiles = project_profiles(project)
    from_project = {
        "models": project.models,
        "systems": project.systems,
        "baseline_dir": str(project.baseline) if project.baseline else None,
        "report": str(project.report) if project.report else None,
        "profile": "quick" if "quick" in profiles else next(iter(profiles)),
    }
    return SessionOptions(**layered(cli, ini, from_project), rootdir=rootdir, project=project)


@dataclass
class DyagSession:
    options: SessionOptions
    worker: str = "main"
    started: str = field(default_factory=now)
    records: list[dict] = field(default_factory=list)
    _results: dict = field(default_factory=dict)
    _finetuned: dict = field(default_factory=dict)
    _train_set: Path | None = None
    run_dir: Path | None = None
    regressions: dict = field(default_factory=dict)
    merged: dict | None = None
    _comparisons: dict = field(default_factory=dict)
    #: where phase lines go (dyag.progress); the pytest plugin gives one writing through its terminal reporter
    reporter: "PhaseReporter | None" = None

    @cached_property
    def profile(self) -> BenchProfile:
        """The recipe as resolved (:func:`dyag.settings.resolve_profile`), a sweep point's values on top."""
        return resolve_profile(self.options.profile, self.options.project, self.options.recipe)

    def has_results(self) -> bool:
        """Whether this worker answered or recorded anything (its part is worth writing)."""
        return bool(self.records or self._results)

    @property
    def root(self) -> Path:
        return Path(self.options.rootdir)

    @property
    def cache_root(self) -> Path:
        return Path(self.options.cache_dir) if self.options.cache_dir else dyag_home()

    # --- inputs ---------------------------------------------------------------------------
    def golden_paths(self) -> list[Path]:
        names = self.options.golden or self.profile.golden or self.options.project.golden
        if not names:
            raise DyagError("no golden set: set golden in [tool.dyag] (or the profile), or pass --dyag-golden")
        return [p if p.is_absolute() else self.root / p for p in map(Path, names)]

    def golden_cases(self) -> list:
        return list(self._golden_cases)

    @cached_property
    def _golden_cases(self) -> list:
        return [c for path in self.golden_paths() for c in read_golden(path)]

    def kb_path(self) -> Path:
        if self.options.kb:
            path = resolve_kb_path(self.options.kb)
            return path if path.is_absolute() else self.root / path
        return self.options.project.kb or sample_kb_path()

    def kb(self) -> list[dict]:
        return list(self._kb)

    @cached_property
    def _kb(self) -> list[dict]:
        return read_kb(self.kb_path())

    def catalog(self) -> dict:
        """Which catalog the run used (recorded in the results)."""
        path = self.kb_path()
        return {"path": self._shown(path), "sha256": sha256_file(path)}

    def training_kb(self) -> list[dict]:
        """The catalog records the profile trains on: all (``kb_scope = "all"``, minus the applications of
        ``unseen`` cases), or those the golden cases ask about, except ``unseen`` ones (their facts must stay
        out of training)."""
        kb = self.kb()
        held_out = {kb_id for case in self.golden_cases() if case.split == "unseen" for kb_id in case.kb_ids}
        if self.profile.kb_scope == "all":
            return [r for r in kb if r["id"] not in held_out]
        wanted = {kb_id for case in self.golden_cases() if case.split != "unseen" for kb_id in case.kb_ids}
        if not wanted:  # golden cases that name no application: learn the whole catalog
            return [r for r in kb if r["id"] not in held_out]
        return [r for r in kb if r["id"] in wanted - held_out]

    @property
    def seed(self) -> int:
        return self.options.seed if self.options.seed is not None else self.profile.seed

    def training_set(self) -> Path:
        """The profile's training set (the recipe's ``dataset``, else generated from the catalog), made once
        and named by its content in the content-addressed store (:mod:`dyag.utils.store`), so every worker
        shares it."""
        if self._train_set is None:
            p, degrade = self.profile, self.options.degrade
            if p.dataset:
                source = {"dataset": sha256_file(p.dataset)}
            else:
                records = self.training_kb()
                if not records:
                    raise DyagError("the golden cases name no application of the catalog to train on")
                source = {"kb": records, "method": p.method, "count": p.count, "seed": self.seed}
            key = sha256_json({**source, "profile": p.name, "degrade": degrade})[:16]
            what = (f"from {self._shown(Path(p.dataset))}" if p.dataset else
                    f"{p.method} from {len(records)} catalog records")
            what += f", {p.count} examples" if p.count and not p.dataset else ""
            what += f", degraded: {degrade}" if degrade else ""

            def build(folder: Path) -> dict:
                with self._phases().phase("generate training set", f"profile {p.name}", detail=what, size=what):
                    if p.dataset:
                        rows = read_jsonl(p.dataset)
                    else:
                        from dyag.data.generate import GenerateConfig, generate_training

                        atomic_write_jsonl(folder / "kb.jsonl", records)
                        generate_training(p.config(GenerateConfig, kb=folder / "kb.jsonl",
                                                   output=folder / "generated.jsonl", seed=self.seed))
                        rows = read_jsonl(folder / "generated.jsonl")
                    if degrade:
                        rows = degrade_rows(rows, degrade, self.kb())
                    atomic_write_jsonl(folder / "train.jsonl", rows)
                return {"profile": p.name, "examples": len(rows)}

            store = Store(self.cache_root / "bench" / safe_name(p.name), name="training-set cache", verify="sha256")
            entry = store.get_or_build(key, build, what=f"training set of profile {p.name}: {what}")
            self._train_set = entry.path / "train.jsonl"
        return self._train_set

    # --- models ---------------------------------------------------------------------------
    def availability(self, model: str) -> tuple[bool, str]:
        spec = get_model_spec(model)
        if spec.embedded or spec.source in ("random", "local"):
            return True, "embedded"
        return model_availability(spec)

    def finetune_config(self, model: str, **overrides):
        p = self.profile
        values = {
            "dataset": str(self.training_set()),
            "output": str(self.cache_root / "bench" / safe_name(p.name) / "outputs" / f"{safe_name(model)}-{self.worker}"),
            "base_model": model, "seed": self.seed, "no_cache": self.options.no_cache, "overwrite": True,
            "cache_dir": str(self.cache_root / "adapters"),
            "epochs": float(p.epochs) * training_factor(self.options.degrade),
            "precision": self.options.precision or p.precision,
        }
        return p.config(FinetuneConfig, **{**values, **overrides})

    def finetuned(self, model: str):
        """Train once per model (through the adapter cache shared by all workers)."""
        if model not in self._finetuned:
            from dyag.training.sft import finetune

            with using(self._phases()):  # materialize and train (on an adapter cache miss) report their phases
                self._finetuned[model] = finetune(self.finetune_config(model), progress=False)
        return self._finetuned[model]

    def _phases(self) -> "PhaseReporter":
        """The session's phase reporter (standard error unless the plugin gave one)."""
        if self.reporter is None:
            self.reporter = PhaseReporter()
        return self.reporter

    @property
    def trains(self) -> bool:
        """Whether a system answers with an adapter trained here: in dyag's process, or on a server dyag starts
        (an adapter a running server already serves by name is not trained here)."""
        from dyag.inference.endpoint import served_by_name

        return any(System("", s).uses_adapter and not served_by_name(s, self.options.project.endpoints)
                   for s in self.options.systems)

    # --- answers and scores ---------------------------------------------------------------
    def results(self, model: str) -> "Results":
        """Every system's answers for ``model``, scored (a :class:`dyag.results.Results`); computed once."""
        if model not in self._results:
            from dyag.pipeline import EvaluationConfig, evaluate_systems

            adapter = str(self.finetuned(model).adapter_dir) if self.trains else None
            config = self.profile.config(
                EvaluationConfig, base_model=model, adapter=adapter, systems=self.options.systems,
                endpoints=self.options.project.endpoints,
                cache=not self.options.no_cache, cache_dir=str(self.cache_root), progress=False,
                **({"batch_size": self.options.gen_batch} if self.options.gen_batch else {}))
            run = {"profile": self.profile.name, "golden": [self._shown(p) for p in self.golden_paths()],
                   "catalog": self.catalog(), "recipe": self.recipe_record(),
                   "config": self._shown(self.options.project.path) if self.options.project.path else None}
            with using(self._phases()):  # materialize, answers per system and scoring report their phases
                self._results[model] = evaluate_systems(config, self.golden_cases(), self.kb(), run_extra=run)
        return self._results[model]

    def recipe_record(self) -> dict:
        """The recipe as run (recorded in the results): the profile's, with the session's overrides."""
        recipe = {**self.profile.recipe, "seed": self.seed}
        if self.options.precision:
            recipe["precision"] = self.options.precision
        if self.options.degrade:
            recipe["degrade"] = self.options.degrade
        if recipe.get("dataset"):
            recipe["dataset"] = self._shown(Path(recipe["dataset"]))
        recipe["golden"] = [self._shown(Path(g)) for g in recipe.get("golden") or []] or None
        return {"name": self.profile.name, **recipe}


    def predictions(self, model: str, system: str) -> list:
        """The scored cases of ``<model>/<system>``."""
        return self.results(model).cases_of(str(System(model, system)))

    def record(self, nodeid: str, data: dict) -> None:
        self.records.append(TestRecord(test=nodeid, **data))

    # --- baselines ------------------------------------------------------------------------
    @property
    def baseline_dir(self) -> Path:
        base = Path(self.options.baseline_dir)
        return base if base.is_absolute() else self.root / base

    @property
    def baselines(self) -> BaselineStore:
        """This profile's stored baselines (:mod:`dyag.baselines`)."""
        return BaselineStore(self.baseline_dir, self.profile.name)

    def baseline_path(self, model: str, key: str) -> Path:
        return self.baselines.path(model, key)

    def find_baseline(self, model: str, key: str) -> BaselineMatch | None:
        return self.baselines.find(model, key)

    def environment_key(self, model: str) -> str:
        return self.results(model).run.environment.key

    def baseline_comparison(self, model: str):
        """``(BaselineMatch | None, Comparison | None)`` of ``model``'s results; computed once.

        Strict per-case rule comparison only with ``--dyag-strict`` and a baseline of the same
        environment; otherwise only significant drops beyond tolerance count. Under
        ``--dyag-update-baseline`` the comparison is shown, not enforced.
        """
        if model not in self._comparisons:
            from dyag.evaluation.compare import compare_to_baseline

            results, key = self.results(model), self.environment_key(model)
            match = self.find_baseline(model, key)
            comparison = None
            if match is not None:
                comparison = compare_to_baseline(results, match.read(), strict_rules=self.options.strict and match.exact)
                self.regressions[model] = Regression(**comparison.block(
                    baseline=self._shown(match.path), baseline_key=match.key, key=key, exact=match.exact,
                    strict=comparison.strict_rules, enforced=not self.options.update_baseline))
            self._comparisons[model] = (match, comparison)
        return self._comparisons[model]

    def _shown(self, path: Path) -> str:
        """``path`` relative to the project root when it lies under it (as the report shows it)."""
        try:
            return str(path.resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(path)

    def enforced_comparison(self, model: str):
        """The baseline comparison the gates enforce (None under --dyag-update-baseline or without a baseline)."""
        return None if self.options.update_baseline else self.baseline_comparison(model)[1]

    # --- persistence across xdist workers -------------------------------------------------
    def part(self, *, incomplete: bool) -> "Results":
        """This worker's share of the run (:func:`dyag.parts.worker_part`)."""
        return worker_part(list(self._results.values()), self.records, self.regressions, incomplete=incomplete)

    def dump(self, run_dir: Path, *, incomplete: bool) -> Path:
        return write(run_dir / f"{self.worker}.json", self.part(incomplete=incomplete))
