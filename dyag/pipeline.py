"""Generate and score: base, finetuned and RAG systems on one golden set, in one call.

This is what ``dyag evaluate-finetuned`` and the pytest harness share.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from dyag.errors import DyagError
from dyag.inference.endpoint import (CLI_ENDPOINT, cli_endpoint, concurrency_field, key_env_field, served_by_name,
                                     url_field)
from dyag.inference.generator import GENERATION_BATCH
from dyag.inference.prompting import CONTEXT_FORMATS, PROMPT_STYLES, PromptConfig, prompt_style
from dyag.results import Results
from dyag.settings import DEFAULT_SYSTEMS
from dyag.system import SERVICE_KIND, System, check_kinds, uses_adapter, uses_retrieval



@dataclass
class EvaluationConfig:
    """What ``evaluate_systems`` generates and how it scores."""

    base_model: str | None = field(default=None, metadata={
        "help": "registry shortcut, hub id or local dir (default: the adapter's run.json)"})
    adapter: str | None = field(default=None, metadata={"help": "adapter directory (<output>/final)", "flag": "--model"})
    systems: tuple[str, ...] = field(default=DEFAULT_SYSTEMS, metadata={"project": True,
        "help": "comma list of base, finetuned, rag, rag+finetuned"})
    top_k: int = field(default=1, metadata={"recipe": True, "help": "retrieved KB records per RAG question"})
    context_format: str = field(default="fields", metadata={"recipe": True, 
        "help": "retrieved records as the fields the question asks for (one a line), whole cards, or their text",
        "choices": CONTEXT_FORMATS})
    shots: int = field(default=5, metadata={"recipe": True, 
        "help": "worked examples from other applications before a completion prompt's question (base models)"})
    prompt_style: str = field(default="auto", metadata={"recipe": True, 
        "help": "auto: chat template for instruction-tuned models and adapters, completion prompt for base models; "
                "or chat / completion for the rag system (base follows the model's kind)", "choices": ("auto", *PROMPT_STYLES)})
    max_new_tokens: int = field(default=128, metadata={"recipe": True, "help": "longest answer, in tokens"})
    batch_size: int = field(default=GENERATION_BATCH, metadata={"help": "questions generated together"})
    bertscore: bool = field(default=True, metadata={"help": "compute BERTScore (--no-bertscore: no encoder is loaded)"})
    bertscore_model: str | None = field(default=None, metadata={"recipe": True,
        "help": "BERTScore encoder: local dir or hub id (default: packaged MiniLM)"})
    bertscore_layers: int | None = field(default=None, metadata={"help": "BERTScore encoder layer"})
    force_cpu: bool = field(default=False, metadata={"help": "generate on the CPU"})
    endpoint: str | None = url_field()
    endpoint_key_env: str | None = key_env_field()
    concurrency: int = concurrency_field()
    endpoints: dict = field(default_factory=dict, metadata={"project": True, "cli": False,
        "help": "[tool.dyag.endpoints]: name -> dyag.inference.endpoint.Endpoint"})
    cache: bool = field(default=True, metadata={"help": "use the generation cache (--no-cache regenerates every answer)"})
    cache_dir: str | None = field(default=None, metadata={"help": "cache root (default: $DYAG_HOME)", "cli": False})
    progress: bool = field(default=True, metadata={"help": "show progress bars", "cli": False})

    def __post_init__(self):
        self.systems = tuple(self.systems)
        if self.endpoint:
            self._answer_through_cli_endpoint()
        check_kinds(self.systems, endpoints=self.endpoints)
        if not self.systems:
            raise DyagError("no systems to evaluate")
        needs_adapter = [s for s in self.systems if uses_adapter(s) and not served_by_name(s, self.endpoints)]
        if needs_adapter and not self.adapter:
            raise DyagError(f"system(s) {', '.join(needs_adapter)} need --model (an adapter directory)")
        if self.uses_retrieval and self.top_k < 1:
            raise DyagError(f"--top-k must be >= 1, got {self.top_k}")
        PromptConfig(context_format=self.context_format, shots=self.shots)  # checks both

    def _answer_through_cli_endpoint(self) -> None:
        """``--endpoint URL``: every system answered by that server (``--base-model`` and ``--model`` served names)."""
        plain = [s for s in self.systems if "@" in s]
        if plain:
            raise DyagError(f"--endpoint answers every system: pass --systems without @ (got {', '.join(plain)})")
        if any(uses_adapter(s) for s in self.systems) and not self.adapter:
            raise DyagError("with --endpoint, the finetuned systems need --model: the served adapter's name")
        self.endpoints = {**self.endpoints, CLI_ENDPOINT: cli_endpoint(
            self.endpoint, self.base_model, self.adapter, self.endpoint_key_env, self.concurrency)}
        self.systems = tuple(f"{s}@{CLI_ENDPOINT}" for s in self.systems)
        self.adapter = None  # a served name, not a directory dyag reads

    def prompt_for(self, spec, kind: str) -> PromptConfig:
        """How ``kind``'s questions are put to the model ``spec`` (:mod:`dyag.inference.prompting`)."""
        from dyag.prompts import DEFAULT_SYSTEM_PROMPT

        kind = System("", kind).answering
        if kind == SERVICE_KIND:  # a black box gets the bare question
            return PromptConfig(style="chat", system_prompt=None)
        style = prompt_style(spec, uses_adapter(kind))
        if self.prompt_style != "auto" and kind == "rag":
            style = self.prompt_style
        return PromptConfig(style=style, context_format=self.context_format,
                            shots=self.shots, system_prompt=DEFAULT_SYSTEM_PROMPT)

    @property
    def uses_retrieval(self) -> bool:
        return any(uses_retrieval(s) for s in self.systems)


def base_model_of(adapter: str | None) -> str:
    """The base model named by an adapter's run.json (for when --base-model is omitted)."""
    from dyag.inference.generator import check_adapter_dir, read_adapter_manifest

    manifest = read_adapter_manifest(check_adapter_dir(adapter)) if adapter else None
    if not manifest:
        raise DyagError("--base-model is required (no adapter run.json names the base model)")
    return manifest["base_model"]["spec"]


def generate_system_predictions(config: EvaluationConfig, cases: list, kb: list[dict] | None) -> tuple[list[dict], str]:
    """Prediction rows for every (system, case); returns (rows, model name).

    In-process systems load the model (and the adapter) once each; endpoint systems ask their server,
    which dyag starts for the run when the endpoint says ``serve = "llama.cpp"``."""
    from dyag.inference.cache import GenerationCache
    from dyag.inference.generator import DecodingConfig
    from dyag.inference.predict import generate_predictions
    from dyag.inference.rag import Retriever

    if config.uses_retrieval and not kb:
        raise DyagError("the rag systems need a knowledge base: pass --kb KB.jsonl")
    decoding = DecodingConfig(max_new_tokens=config.max_new_tokens)
    cache = GenerationCache.at(config.cache_dir, enabled=config.cache)
    retriever = Retriever.build(kb, top_k=config.top_k) if kb and config.uses_retrieval else None
    rows: list[dict] = []
    model_name = None
    base = config.base_model or base_model_of(config.adapter)
    for kinds, answerer in _answerers(config, base):
        with answerer as generator:
            model_name = model_name or _model_name(base, generator)
            for kind in kinds:
                rows += generate_predictions(
                    generator, cases, system=str(System(model_name, kind)), decoding=decoding,
                    retriever=retriever if uses_retrieval(kind) else None, cache=cache,
                    batch_size=config.batch_size, progress=config.progress,
                    prompt=config.prompt_for(generator.resolved.spec, kind), kb=kb,
                )
        gc.collect()
    return rows, model_name or ""


def _model_name(base: str, generator) -> str:
    spec = generator.resolved.spec
    return spec.name if spec is not None else base


def _answerers(config: EvaluationConfig, base: str):
    """(kinds, context manager giving their generator): in-process base, in-process adapter, then each
    endpoint's served roles, in the order the systems first name them."""
    groups: dict[tuple, list[str]] = {}
    for kind in config.systems:
        system = System("", kind)
        role = (SERVICE_KIND if system.answering == SERVICE_KIND else "finetuned" if system.uses_adapter else "base")
        groups.setdefault((system.endpoint, role), []).append(kind)
    for (endpoint, role), kinds in groups.items():
        yield kinds, (_Local(config, base, role == "finetuned") if endpoint is None else
                      _Served(config, base, config.endpoints[endpoint], role))


class _Local:
    """The model (with the adapter for ``finetuned``) loaded in this process, released afterwards."""

    def __init__(self, config: EvaluationConfig, base: str, with_adapter: bool):
        self.config, self.base, self.with_adapter = config, base, with_adapter

    def __enter__(self):
        from dyag.inference.generator import ModelRef

        self.ref = ModelRef(self.base, self.config.adapter if self.with_adapter else None, force_cpu=self.config.force_cpu)
        return self.ref

    def __exit__(self, *exc):
        del self.ref
        return False


class _Served:
    """A model an endpoint serves, by name; a llama.cpp server dyag starts (and stops) when the endpoint says so."""

    def __init__(self, config: EvaluationConfig, base: str, endpoint, role: str):
        self.config, self.base, self.endpoint, self.role = config, base, endpoint, role
        self.server = None

    def __enter__(self):
        from dyag.inference.endpoint import ServedModel

        spec = registry_spec(self.base)
        endpoint, served, identity, start = self.endpoint, None, None, None
        if endpoint.serve:
            from dyag.inference.llamacpp import LlamaCppServer

            if self.role == SERVICE_KIND:
                raise DyagError(f"endpoint {endpoint.name}: serve = \"llama.cpp\" serves a dyag model, not a service")
            adapter = self.config.adapter if self.role == "finetuned" else None
            self.server = LlamaCppServer(self.base, adapter)
            served, identity, start = self.server.served_name, self.server.identity(), self.server.start
            # dyag renders the model's own chat template, as in its process: the same prompt text
            endpoint = replace(endpoint, api="completions")
        else:
            served = endpoint.served_name(self.role, spec.name if spec is not None else self.base)
        tokenizer = _tokenizer(self.base) if endpoint.api == "completions" else None
        return ServedModel(endpoint, served, spec=spec if self.role != SERVICE_KIND else None, role=self.role,
                           tokenizer=tokenizer, identity=identity, start=start)

    def __exit__(self, *exc):
        if self.server is not None:
            self.server.stop()
        return False


def registry_spec(name: str | None):
    """The registry's entry for a served model's dyag name, if it has one (it decides how questions are put)."""
    from dyag.models.registry import get_model_spec

    if not name:
        return None
    try:
        return get_model_spec(name)
    except DyagError:
        return None


def _tokenizer(name: str):
    from dyag.models.loading import load_tokenizer, resolve_model

    return load_tokenizer(resolve_model(name))


def run_environment(config: EvaluationConfig, manifest: dict | None, machine: dict) -> dict:
    """What changes the answers of the same code: device kind and training precision (the baseline key)."""
    from dyag.utils.device import environment_key, kernel_cpu_flags

    trained = manifest is not None and any(uses_adapter(s) for s in config.systems)
    device = "cuda" if machine.get("cuda") and not config.force_cpu else "cpu"
    precision = ((manifest.get("hyperparameters") or {}).get("precision") if trained else None)
    flags = kernel_cpu_flags()
    return {"device": device, "training_precision": precision, "cpu_flags": flags,
            "key": environment_key(device, precision, flags)}


def evaluate_systems(config: EvaluationConfig, cases: list, kb: list[dict] | None = None, *,
                     run_extra: dict | None = None) -> Results:
    """Generate every system's answers and score them: the whole :class:`dyag.results.Results`."""
    from dyag.evaluation.scoring import score_predictions
    from dyag.inference.generator import read_adapter_manifest, check_adapter_dir
    from dyag.progress import PhaseReporter, current, using
    from dyag.utils.device import machine_info

    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    t0 = time.perf_counter()
    reporter = current() or PhaseReporter()  # the session's, else standard error (dyag evaluate-finetuned)
    with using(reporter):  # materializing and each system's answers not in the cache report their phases
        predictions, model_name = generate_system_predictions(config, cases, kb)
    gen_s = time.perf_counter() - t0
    manifest = read_adapter_manifest(check_adapter_dir(config.adapter)) if config.adapter else None
    machine = machine_info()
    run_info = {
        "started": started,
        "models": [model_name],
        "systems": list(config.systems),
        "generation_s": round(gen_s, 2),
        "decoding": {"max_new_tokens": config.max_new_tokens, "temperature": 0.0, "batch_size": config.batch_size},
        "rag": {"top_k": config.top_k, "context_format": config.context_format, "shots": config.shots,
                "prompt_style": config.prompt_style}
        if config.uses_retrieval else None,
        "machine": machine,
        "environment": run_environment(config, manifest, machine),
        "adapter": str(config.adapter) if config.adapter else None,
        "deterministic": not machine.get("cuda"),
    }
    run_info.update(run_extra or {})
    if manifest:
        run_info["dataset"] = manifest.get("dataset")
        run_info["hyperparameters"] = manifest.get("hyperparameters")
        run_info["versions"] = manifest.get("versions")
    scoring = f"{len(predictions)} answers, {'BERTScore' if config.bertscore else 'no BERTScore'}"
    with reporter.phase("score", model_name, detail=scoring, size=scoring, env=run_info["environment"]["device"]):
        return score_predictions(
            predictions, cases, kb,
            bertscore=config.bertscore, bertscore_model=config.bertscore_model,
            bertscore_layers=config.bertscore_layers, run_info=run_info, progress=config.progress,
            training={model_name: manifest.get("metrics", {})} if manifest else None,
            cache_dir=config.cache_dir, cache=config.cache,
        )
