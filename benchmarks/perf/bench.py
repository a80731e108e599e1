"""``python -m benchmarks.perf`` (``make perf``): dyag side by side with its references.

Sections (``--sections``, default all):

- ``train``: training throughput, dyag's ``finetune`` vs the plain-trl reference script,
  same model, data (augmented examples from the sample catalog), epochs, batch, LR, rank;
- ``generate``: answers/s over golden questions, the harness's batched merged generation vs
  one ``dyag query-finetuned`` process per question and vs in-process sequential unmerged
  ``generate()``; plus the share of identical (greedy) answers;
- ``serve``: answers/s from llama.cpp's server (the GGUF and the adapter exported to GGUF) at
  concurrency 1, 4 and 8 vs the harness's batched generation, same prompts (:mod:`benchmarks.perf.serve`);
- ``suite``: the pytest harness on a small golden file, cold (empty adapter and generation
  caches) vs warm vs one golden case edited;
- ``matmul``: fp32 and bf16 matmul peak, and training's achieved FLOP/s as a share of it;
- ``growth``: training time for 10/100/1000 examples, scoring time for 100/1,000/10,000
  predictions, per item.

Peak RSS of training and evaluation comes from the same children. A and B alternate
(A B, B A, ...) over ``--reps`` repetitions; the table shows medians and ratios A/B.
Output: the table, and ``reports/perf.json`` (``{"machine", "pairs", ...}``), which the
HTML report shows: the file is a results document whose ``perf`` block holds the figures.
Each pair is a :class:`dyag.results.PerfPair` with a ``key`` (:data:`PAIR_KEYS`): the targets
pick pairs by it, never by their names, which are for people and carry the model.

    python -m benchmarks.perf --quick
    python -m benchmarks.perf --reps 3 --models smollm2:135m,gemma3:270m

The benchmark lives here; ``benchmarks/perf/__main__.py`` only runs :func:`main`.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from benchmarks.perf.common import (
    ROOT, ChildFailed, alternate, median, ratio, run_command, run_worker, training_rows,
)
from benchmarks.perf.growth import per_item
from dyag.errors import DyagError
from dyag.inference.generator import GENERATION_BATCH
from dyag.results import PerfPair
from dyag.utils.options import add_dataclass_arguments, build_config, format_default
from dyag.utils.device import machine_info
from dyag.utils.paths import safe_name

SECTIONS = ("train", "generate", "serve", "suite", "matmul", "growth")

#: each pair's ``key``: what it compares, whatever its model (the model is in its ``name``)
PAIR_KEYS = (
    "training_tokens_per_s",                # dyag finetune vs plain trl, tokens/s
    "training_samples_per_s",               # the same, examples/s
    "training_end_to_end_s",                # the same, load + tokenize + train + save
    "training_peak_rss_mb",                 # the same, peak RSS
    "answers_per_s_vs_one_process_each",    # batched merged generation vs one CLI process per question
    "answers_per_s_vs_sequential_unmerged",  # batched merged vs one generate() per question, unmerged
    "answers_per_s_llamacpp_c1_vs_in_process",  # llama.cpp's server, 1 request in flight vs batched in-process
    "answers_per_s_llamacpp_c4_vs_in_process",  # the same, 4 in flight
    "answers_per_s_llamacpp_c8_vs_in_process",  # the same, 8 in flight
    "suite_warm_vs_cold",                   # pytest benchmarks re-run, nothing changed vs empty caches
    "suite_edited_vs_cold",                 # the same, one golden case edited
)


@dataclass
class PerfConfig:
    """What one ``make perf`` run measures; each field is a ``python -m benchmarks.perf`` flag."""

    reps: int = field(default=3, metadata={"help": "A/B repetitions per pair"})
    models: tuple[str, ...] = field(default=("smollm2:135m", "gemma3:270m"), metadata={"help": "training pair models"})
    gen_model: str = field(default="smollm2:135m", metadata={"help": "model of the generation pairs"})
    suite_model: str = field(default="smollm2:135m", metadata={"help": "model of the suite re-run"})
    examples: int = field(default=100, metadata={"help": "training examples (augmented, sample catalog)"})
    epochs: float = field(default=1.0, metadata={"help": "training epochs of both sides of a training pair"})
    batch_size: int = field(default=4, metadata={"help": "training batch size of both sides"})
    learning_rate: float = field(default=2e-4, metadata={"help": "training learning rate of both sides"})
    questions: int = field(default=40, metadata={"help": "golden questions answered per generation run"})
    per_process: int = field(default=5, metadata={"help": "questions answered one process each (extrapolated)"})
    gen_batch: int = field(default=GENERATION_BATCH, metadata={"help": "batch size of the harness's generation"})
    max_new_tokens: int = field(default=64, metadata={"help": "longest generated answer, in tokens"})
    suite_cases: int = field(default=4, metadata={"help": "golden cases of the suite re-run"})
    growth_model: str = field(default="tiny-random", metadata={"help": "model of the growth section"})
    growth_examples: tuple[int, ...] = field(default=(10, 100, 1000), metadata={
        "help": "training set sizes of the growth section"})
    growth_predictions: tuple[int, ...] = field(default=(100, 1000, 10000), metadata={
        "help": "prediction counts scored in the growth section"})
    sections: tuple[str, ...] = field(default=SECTIONS, metadata={"help": "sections to run", "choices": SECTIONS})
    output: str = field(default=str(ROOT / "reports" / "perf.json"), metadata={"help": "perf.json path"})

    def __post_init__(self) -> None:
        if self.reps < 1:
            raise DyagError(f"--reps must be >= 1, got {self.reps}")

    @classmethod
    def quick(cls, **overrides) -> "PerfConfig":
        return cls(**{**QUICK, **overrides})


#: what --quick changes (flags given with it still win)
QUICK = dict(reps=1, models=("smollm2:135m",), questions=16, per_process=2, max_new_tokens=32,
             suite_cases=3, suite_model="tiny-random", growth_examples=(10, 100, 300))


#: ``--cpu-class``: environment that makes this CPU compute as a poorer one, for every child
CPU_CLASSES = {
    "native": {},
    # no bf16 kernel, AVX2 GEMMs and AVX2 elementwise kernels: a CPU without avx512/bf16/AMX
    "avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"},
}


def cpu_class(flags: list[str], emulated: str) -> str:
    """The machine class a figure belongs to, as the README's table names it.

    >>> cpu_class(["avx2", "avx512_bf16", "amx_bf16"], "native"), cpu_class(["avx2", "amx_bf16"], "avx2")
    ('AMX (bf16)', 'AVX2 only (emulated: ONEDNN_MAX_CPU_ISA=AVX2, MKL/ATen capped)')
    >>> cpu_class(["avx2", "avx512_bf16"], "native"), cpu_class(["avx2"], "native")
    ('avx512_bf16, no AMX', 'AVX2 only, no bf16')
    """
    if emulated == "avx2":
        return "AVX2 only (emulated: ONEDNN_MAX_CPU_ISA=AVX2, MKL/ATen capped)"
    if "amx_bf16" in flags:
        return "AMX (bf16)"
    if "avx512_bf16" in flags:
        return "avx512_bf16, no AMX"
    return "AVX2 only, no bf16" if "avx2" in flags else "other"


@dataclass
class PerfRun:
    """How ``python -m benchmarks.perf`` runs, beside what it measures (:class:`PerfConfig`)."""

    quick: bool = field(default=False, metadata={
        "help": "short run: " + ", ".join(f"{k}={format_default(v)}" for k, v in QUICK.items())})
    cpu_class: str = field(default="native", metadata={
        "help": "avx2: every child computes as a CPU without bf16 or AVX-512 (oneDNN, MKL and ATen capped)",
        "choices": tuple(CPU_CLASSES)})
    workdir: str | None = field(default=None, metadata={
        "help": "keep intermediate files here (default: a temporary directory)"})


class Perf:
    """Runs the sections and collects pairs and tables into one JSON document."""

    def __init__(self, config: PerfConfig, workdir: Path, log=print):
        self.config = config
        self.workdir = workdir
        self.log = log
        import os

        from dyag.utils.device import kernel_cpu_flags

        machine = machine_info(versions_and_load=True)
        emulated = next((name for name, env in CPU_CLASSES.items() if env and all(
            os.environ.get(k) == v for k, v in env.items())), "native")
        machine.update(kernel_cpu_flags=kernel_cpu_flags(), cpu_class=cpu_class(kernel_cpu_flags(), emulated),
                       mkl_enable_instructions=os.environ.get("MKL_ENABLE_INSTRUCTIONS"),
                       aten_cpu_capability=os.environ.get("ATEN_CPU_CAPABILITY"))
        self.doc: dict = {"machine": machine, "settings": asdict(config), "pairs": []}
        self.adapters: dict[str, str] = {}

    # --- helpers ----------------------------------------------------------------------------
    def pair(self, key: str, name: str, a_label: str, b_label: str, a_runs: list, b_runs: list, unit: str,
             better: str = "higher", note: str | None = None) -> PerfPair:
        """Record pair ``key`` (one of :data:`PAIR_KEYS`): medians of A's and B's runs and their ratio."""
        if key not in PAIR_KEYS:
            raise ValueError(f"unknown pair key {key!r} (PAIR_KEYS)")
        a_med, b_med = median(a_runs), median(b_runs)
        row = PerfPair(key=key, name=name, a=a_label, b=b_label, a_median=a_med, b_median=b_med, unit=unit,
                       ratio=ratio(a_med, b_med), better=better, a_runs=a_runs, b_runs=b_runs,
                       **({"note": note} if note else {}))
        self.doc["pairs"].append(row)
        self.log(f"  {name}: {a_label} {a_med} vs {b_label} {b_med} {unit} -> ratio {row.ratio}")
        return row

    def table(self, key: str, rows) -> None:
        self.doc[key] = rows

    # --- 1. training ------------------------------------------------------------------------
    def train(self) -> None:
        c = self.config
        data = str(training_rows(c.examples, self.workdir))
        for model in c.models:
            self.log(f"[train] {model}: {c.examples} examples, {c.epochs} epoch(s), batch {c.batch_size}, {c.reps} rep(s)")
            base = dict(model=model, data=data, epochs=c.epochs, batch_size=c.batch_size, learning_rate=c.learning_rate)
            counter = iter(range(10**6))

            def run(task):
                workdir = self.workdir / f"{safe_name(model)}-{task}-{next(counter)}"  # one folder per model and run
                r = run_worker(task, {**base, "workdir": str(workdir)})
                r["tokens_per_s"] = round(r["tokens_per_epoch"] * r["epochs"] / r["train_s"], 2)
                r["samples_per_s"] = round(r["examples"] * r["epochs"] / r["train_s"], 3)
                self.log(f"    {task}: train {r['train_s']:.1f}s, {r['tokens_per_s']:.1f} tok/s, rss {r['peak_rss_mb']:.0f} MB")
                return r

            dyag_runs, trl_runs = alternate(c.reps, lambda: run("train_dyag"), lambda: run("train_trl"))
            self.adapters[model] = dyag_runs[-1]["adapter_dir"]
            a, b = "dyag finetune", "plain trl SFTTrainer"
            self.pair("training_tokens_per_s", f"training tokens/s · {model}", a, b, [r["tokens_per_s"] for r in dyag_runs],
                      [r["tokens_per_s"] for r in trl_runs], "tokens/s",
                      note="real tokens (chat template, no padding) x epochs / trainer.train() wall time")
            self.pair("training_samples_per_s", f"training samples/s · {model}", a, b, [r["samples_per_s"] for r in dyag_runs],
                      [r["samples_per_s"] for r in trl_runs], "samples/s")
            self.pair("training_end_to_end_s", f"training end-to-end · {model}", a, b, [r["total_s"] for r in dyag_runs],
                      [r["total_s"] for r in trl_runs], "s", better="lower",
                      note="load + tokenize + train + save, in-process")
            self.pair("training_peak_rss_mb", f"training peak RSS · {model}", a, b, [r["peak_rss_mb"] for r in dyag_runs],
                      [r["peak_rss_mb"] for r in trl_runs], "MB", better="lower")
            self.doc.setdefault("training", []).append({
                "model": model, "examples": c.examples, "epochs": c.epochs, "batch_size": c.batch_size,
                "tokens_per_epoch": dyag_runs[0]["tokens_per_epoch"], "total_params": dyag_runs[0]["total_params"],
                "dyag_steps": dyag_runs[0]["steps"], "trl_steps": trl_runs[0]["steps"],
                "dyag_loss": median([r["train_loss"] for r in dyag_runs]),
                "trl_loss": median([r["train_loss"] for r in trl_runs]),
                "dyag_tokens_per_s": median([r["tokens_per_s"] for r in dyag_runs]),
                "trl_tokens_per_s": median([r["tokens_per_s"] for r in trl_runs]),
                "trl_gradient_checkpointing": trl_runs[0].get("gradient_checkpointing"),
            })
            self.doc.setdefault("memory", []).append(
                {"what": f"training {model}", "peak_rss_mb": median([r["peak_rss_mb"] for r in dyag_runs])})

    # --- 2. generation ----------------------------------------------------------------------
    def adapter_for(self, model: str) -> str:
        if model not in self.adapters:
            c = self.config
            self.log(f"[generate] training an adapter for {model} first")
            r = run_worker("train_dyag", dict(model=model, data=str(training_rows(c.examples, self.workdir)),
                                              epochs=c.epochs, batch_size=c.batch_size, learning_rate=c.learning_rate,
                                              workdir=str(self.workdir / f"gen-adapter-{safe_name(model)}")))
            self.adapters[model] = r["adapter_dir"]
        return self.adapters[model]

    def generate(self) -> None:
        c = self.config
        model, adapter = c.gen_model, self.adapter_for(c.gen_model)
        golden = str(ROOT / "golden" / "catalog.jsonl")
        self.log(f"[generate] {model}: {c.questions} questions, {c.max_new_tokens} new tokens max, {c.reps} rep(s)")
        params = dict(model=model, adapter=adapter, golden=golden, n=c.questions, max_new_tokens=c.max_new_tokens,
                      batch_size=c.gen_batch)

        def run(mode):
            r = run_worker("generate", {**params, "mode": mode})
            r["answers_per_s"] = round(r["n"] / r["generate_s"], 4)
            r["answers_per_s_with_load"] = round(r["n"] / (r["generate_s"] + r["load_s"]), 4)
            self.log(f"    {mode}: {r['generate_s']:.1f}s for {r['n']} answers (+{r['load_s']:.1f}s load), "
                     f"{r['new_tokens']} new tokens, rss {r['peak_rss_mb']:.0f} MB")
            return r

        batched, sequential = alternate(c.reps, lambda: run("batched"), lambda: run("sequential"))
        same = sum(x == y for x, y in zip(batched[0]["answers"], sequential[0]["answers"]))
        per_process = self.per_process_workflow(model, adapter, golden)
        self.pair("answers_per_s_vs_one_process_each",
                  f"answers/s · batched merged vs one process per question · {model}",
                  f"Generator.generate, merged, batch {c.gen_batch} (with model load)",
                  "dyag query-finetuned, one process per question",
                  [r["answers_per_s_with_load"] for r in batched], per_process["answers_per_s_runs"], "answers/s",
                  note=f"per-process side measured on {per_process['n']} questions and extrapolated per answer; "
                       "batched side includes its one model load")
        self.pair("answers_per_s_vs_sequential_unmerged", f"answers/s · batched merged vs sequential unmerged · {model}",
                  f"Generator.generate, merged, batch {c.gen_batch}", "PeftModel (unmerged), one generate() per question",
                  [r["answers_per_s"] for r in batched], [r["answers_per_s"] for r in sequential], "answers/s",
                  note="generation time only (model already loaded)")
        self.doc["generation"] = {
            "model": model, "questions": batched[0]["n"], "max_new_tokens": c.max_new_tokens, "batch_size": c.gen_batch,
            "identical_greedy_answers": f"{same}/{batched[0]['n']}",
            "identical_share": round(same / batched[0]["n"], 3),
            "batched_new_tokens": batched[0]["new_tokens"], "sequential_new_tokens": sequential[0]["new_tokens"],
            "batched_stopped": batched[0]["stopped"], "per_process_seconds_each": per_process["seconds"],
        }
        self.doc.setdefault("memory", []).append(
            {"what": f"evaluation (batched generation) {model}", "peak_rss_mb": median([r["peak_rss_mb"] for r in batched])})

    def per_process_workflow(self, model: str, adapter: str, golden: str) -> dict:
        from dyag.data.golden import read_golden

        c = self.config
        questions = [case.question for case in read_golden(golden)][: c.per_process]
        seconds = []
        for q in questions:
            argv = [sys.executable, "-m", "dyag", "query-finetuned", q, "--model", adapter, "--base-model", model,
                    "--no-cache", "--max-new-tokens", str(c.max_new_tokens)]
            r = run_command(argv)
            if r["returncode"] != 0:
                raise RuntimeError(f"{shlex.join(argv)} failed: {r['stderr'][-1000:]}")
            seconds.append(r["wall_s"])
            self.log(f"    dyag query-finetuned (one process): {r['wall_s']:.1f}s")
        return {"n": len(questions), "seconds": seconds, "answers_per_s_runs": [round(1 / s, 4) for s in seconds]}

    def serve(self) -> None:
        from benchmarks.perf.serve import serve_section

        serve_section(self)

    # --- 3. suite re-run --------------------------------------------------------------------
    def suite(self) -> None:
        from dyag.data.golden import read_golden, write_golden

        c = self.config
        golden = self.workdir / "suite" / "golden.jsonl"
        golden.parent.mkdir(parents=True, exist_ok=True)
        cases = read_golden(ROOT / "golden" / "seed.jsonl")[: c.suite_cases]
        write_golden(golden, cases)
        cache = self.workdir / "suite" / "cache"
        report = self.workdir / "suite" / "index.html"
        argv = [sys.executable, "-m", "pytest", str(ROOT / "benchmarks"), "-q", "-p", "no:cacheprovider",
                "--dyag-profile", "quick", "--dyag-models", c.suite_model, "--dyag-golden", str(golden),
                "--dyag-cache", str(cache), "--dyag-report", str(report)]
        self.log(f"[suite] {shlex.join(argv)}")
        rows = []
        for phase in ("cold", "warm", "one case edited"):
            if phase == "one case edited":
                cases[0].question = cases[0].question.rstrip(" ?") + " exactement ?"
                write_golden(golden, cases)
            r = run_command(argv)
            results = json.loads(report.with_suffix(".json").read_text(encoding="utf-8"))
            answers = results.get("cases", [])
            regenerated = sum(not (a.get("meta") or {}).get("cached", False) for a in answers)
            rows.append({"phase": phase, "seconds": r["wall_s"], "answers": len(answers), "regenerated": regenerated,
                         "pytest_exit": r["returncode"], "peak_rss_mb": r["peak_rss_mb"]})
            self.log(f"    {phase}: {r['wall_s']:.1f}s, {regenerated}/{len(answers)} answers generated, "
                     f"pytest exit {r['returncode']}")
        self.table("suite", rows)
        self.pair("suite_warm_vs_cold", f"suite re-run · warm vs cold · {c.suite_model}", "warm (nothing changed)", "cold (empty caches)",
                  [rows[1]["seconds"]], [rows[0]["seconds"]], "s", better="lower",
                  note=f"pytest benchmarks --dyag-profile quick on {c.suite_cases} golden cases; ratio = warm/cold")
        self.pair("suite_edited_vs_cold", f"suite re-run · one case edited vs cold · {c.suite_model}", "one golden case edited",
                  "cold (empty caches)", [rows[2]["seconds"]], [rows[0]["seconds"]], "s", better="lower",
                  note=f"{rows[2]['regenerated']} answers regenerated (one case x each system)")

    # --- 5. matmul peak and achieved FLOP/s --------------------------------------------------
    def matmul(self) -> None:
        from dyag.utils.device import cpu_has_bf16

        # without bf16 kernels (a CPU without them, or --cpu-class avx2) bf16 is emulated, minutes per
        # matmul, and no training here uses it: only the fp32 peak is measured
        dtypes = ("float32", "bfloat16") if cpu_has_bf16() or self.doc["machine"].get("cuda") else ("float32",)
        self.log(f"[matmul] 2048x2048, {', '.join(dtypes)}")
        peaks = run_worker("matmul", {"size": 2048, "dtypes": dtypes})
        peaks.pop("wall_s", None)
        self.doc["matmul"] = {f"{k}_gflops": v["gflops"] for k, v in peaks.items()}
        self.doc["matmul"]["device"] = next(iter(peaks.values()))["device"]
        fp32 = peaks["float32"]["gflops"]
        bf16 = peaks.get("bfloat16", {}).get("gflops")
        self.log(f"    fp32 {fp32} GFLOP/s" + (f", bf16 {bf16} GFLOP/s (x{bf16 / fp32:.2f})" if bf16 else ""))
        rows = []
        for t in self.doc.get("training", []):
            for side in ("dyag", "trl"):
                achieved = 6 * t["total_params"] * t[f"{side}_tokens_per_s"] / 1e9
                rows.append({"model": t["model"], "side": side, "tokens_per_s": t[f"{side}_tokens_per_s"],
                             "achieved_gflops_6N": round(achieved, 3),
                             "share_of_fp32_peak": round(achieved / fp32, 4),
                             "share_of_bf16_peak": round(achieved / bf16, 4) if bf16 else None})
        self.table("flops", rows)

    # --- 6. growth --------------------------------------------------------------------------
    def growth(self) -> None:
        c = self.config
        self.log(f"[growth] training {c.growth_model}: {c.growth_examples} examples")
        rows = []
        for n in c.growth_examples:
            r = run_worker("train_dyag", dict(model=c.growth_model, data=str(training_rows(n, self.workdir)), epochs=1,
                                              batch_size=c.batch_size, learning_rate=c.learning_rate,
                                              workdir=str(self.workdir / f"growth-{n}")))
            rows.append({"examples": n, "train_s": r["train_s"], "steps": r["steps"], "total_s": r["total_s"]})
            self.log(f"    {n} examples: {r['train_s']:.1f}s")
        self.table("growth_training", per_item(rows, "examples", "train_s"))
        self.log(f"[growth] scoring {c.growth_predictions} predictions (no BERTScore)")
        rows = []
        golden = str(ROOT / "golden" / "catalog.jsonl")
        for n in c.growth_predictions:
            r = run_worker("score", {"golden": golden, "n": n})
            rows.append({"predictions": n, "score_s": r["score_s"], "peak_rss_mb": r["peak_rss_mb"]})
            self.log(f"    {n} predictions: {r['score_s']:.2f}s")
        self.table("growth_scoring", per_item(rows, "predictions", "score_s"))

    # --- run --------------------------------------------------------------------------------
    def run(self, checkpoint=None) -> dict:
        """Each section in turn; a section that fails is recorded and the others still run.
        ``checkpoint(doc)`` is called after each section, so a crash keeps what was measured."""
        started = time.perf_counter()
        for section in SECTIONS:
            if section in self.config.sections:
                try:
                    getattr(self, section)()
                except (ChildFailed, DyagError) as exc:  # a failed child, or llama.cpp not installed
                    self.log(f"[{section}] FAILED: {str(exc)[-1500:]}")
                    self.doc.setdefault("failed_sections", []).append({"section": section, "error": str(exc)[-1500:]})
                self.doc["targets"] = targets(self.doc)
                self.doc["elapsed_s"] = round(time.perf_counter() - started, 1)
                if checkpoint is not None:
                    checkpoint(self.doc)
        return self.doc


def as_pair(row: PerfPair | dict) -> PerfPair:
    """A pair of this run, or one read back from a perf.json."""
    return row if isinstance(row, PerfPair) else PerfPair.model_validate(row)


def pair_key(row: PerfPair | dict) -> str | None:
    """The pair's ``key`` (:data:`PAIR_KEYS`); None for a pair written before pairs had one."""
    return (as_pair(row).model_extra or {}).get("key")


#: the targets on pair ratios, by pair key: ("min" or "max": the ratio must be at least or at most the goal,
#: the goal on a CPU, the goal on a GPU, the target's text)
PAIR_TARGETS = {
    "training_tokens_per_s": ("min", 1.5, 3.0, "{name} >= {goal}x reference"),
    "answers_per_s_vs_one_process_each": ("min", 20.0, 20.0, "{name} >= {goal:g}x"),
    "answers_per_s_vs_sequential_unmerged": ("min", 3.0, 10.0, "{name} >= {goal}x"),
    "suite_warm_vs_cold": ("max", 0.05, 0.05, "{name} <= 5%"),
}


def targets(doc: dict) -> list[dict]:
    """The issue's targets, checked against what this run measured (those it measured).

    >>> pair = PerfPair(key="suite_warm_vs_cold", name="suite re-run · warm vs cold · tiny-random", a="warm",
    ...                 b="cold", a_median=1.0, b_median=50.0, unit="s", ratio=0.02, better="lower")
    >>> misleading = PerfPair(key="training_end_to_end_s", name="training end-to-end · training tokens/s",
    ...                       a="a", b="b", a_median=1.0, b_median=1.0, unit="s", ratio=1.0)
    >>> targets({"machine": {}, "pairs": [pair, misleading]})
    [{'target': 'suite re-run · warm vs cold · tiny-random <= 5%', 'measured': 0.02, 'met': True}]
    """
    rows = []

    def add(target, measured, met):
        rows.append({"target": target, "measured": measured, "met": met})

    gpu = bool(doc["machine"].get("cuda"))
    for p in map(as_pair, doc["pairs"]):
        wanted, r = PAIR_TARGETS.get(pair_key(p)), p.ratio
        if wanted is None or r is None:
            continue
        side, cpu_goal, gpu_goal, text = wanted
        goal = gpu_goal if gpu else cpu_goal
        add(text.format(name=p.name, goal=goal), r, r >= goal if side == "min" else r <= goal)
    gen = doc.get("generation")
    if gen:
        add("greedy batched answers identical to sequential", gen["identical_greedy_answers"], gen["identical_share"] == 1.0)
    for row in doc.get("suite", []):
        if row["phase"] == "one case edited":
            systems = max(1, row["answers"] // max(1, doc["settings"]["suite_cases"]))
            add("one golden case edited regenerates one case (per system)", row["regenerated"],
                row["regenerated"] == systems)
    limits = {"smollm2:135m": 2500, "gemma3:270m": 4000}
    for m in doc.get("memory", []):
        for model, limit in limits.items():
            if m["what"] == f"training {model}" and m["peak_rss_mb"]:
                add(f"peak RSS training {model} <= {limit} MB", m["peak_rss_mb"], m["peak_rss_mb"] <= limit)
    for row in doc.get("growth_scoring", []):
        if row["predictions"] == 10000:
            add("scoring 10,000 predictions (no BERTScore) < 30 s", row["score_s"], row["score_s"] < 30)
    return rows


def format_table(doc: dict) -> str:
    m = doc.get("machine", {})
    lines = [f"machine: {m.get('cpu')}, {m.get('cores')} cores, class {m.get('cpu_class')}; "
             f"instruction sets {', '.join(m.get('kernel_cpu_flags') or m.get('cpu_flags') or [])}",
             f"{'pair':<72} {'A median':>10} {'B median':>10} {'unit':<10} {'A/B':>7}"]
    for p in map(as_pair, doc["pairs"]):
        lines.append(f"{p.name[:72]:<72} {_num(p.a_median):>10} {_num(p.b_median):>10} {p.unit:<10} "
                     f"{_num(p.ratio):>7}")
        lines.append(f"    A = {p.a}; B = {p.b}" + (f"  ({p.note})" if p.note else ""))
    for key in ("flops", "suite", "growth_training", "growth_scoring", "memory", "targets"):
        rows = doc.get(key)
        if rows:
            lines.append(f"\n{key}:")
            for row in rows:
                lines.append("  " + ", ".join(f"{k}={_num(v)}" for k, v in row.items()))
    for key in ("generation", "serving", "matmul"):
        if doc.get(key):
            lines.append(f"\n{key}: " + ", ".join(f"{k}={_num(v)}" for k, v in doc[key].items()))
    return "\n".join(lines)


def _num(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1000 else f"{v:.0f}"
    return str(v)


def parse_args(argv=None) -> tuple[PerfConfig, PerfRun]:
    """The flags are :class:`PerfConfig`'s and :class:`PerfRun`'s fields (dyag's one dataclass parser)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.perf", description=__doc__.splitlines()[0])
    add_dataclass_arguments(parser, PerfRun, PerfConfig)
    args = parser.parse_args(argv)
    try:
        run = build_config(PerfRun, args)
        config = build_config(PerfConfig, args, defaults=QUICK if run.quick else None)
    except DyagError as exc:
        parser.error(str(exc))
    return config, run


def write_perf(path: str | Path, doc: dict) -> Path:
    """``doc`` as the ``perf`` block of a results document (what ``dyag report`` renders)."""
    import datetime

    from dyag import results

    run = results.Run(created=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                      machine=doc["machine"], command=doc.get("command"))
    return results.write(path, results.Results(run=run, perf=results.Perf(**doc)))


def run_perf(config: PerfConfig, workdir: Path | None = None, log=print) -> dict:
    """Run the benchmark and write ``config.output`` (a results document); returns the perf document."""
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="dyag-perf-") as tmp:
            return run_perf(config, Path(tmp), log)
    workdir.mkdir(parents=True, exist_ok=True)
    doc = Perf(config, workdir, log).run(checkpoint=lambda d: write_perf(config.output, d))
    write_perf(config.output, doc)
    return doc


def main(argv=None) -> int:
    import os

    config, run = parse_args(argv)
    os.environ.update(CPU_CLASSES[run.cpu_class])  # before machine_info and every child
    doc = run_perf(config, Path(run.workdir) if run.workdir else None)
    doc["command"] = shlex.join(["python", "-m", "benchmarks.perf", *(sys.argv[1:] if argv is None else argv)])
    write_perf(config.output, doc)
    print()
    print(format_table(doc))
    print(f"\nwrote {config.output}")
    return 1 if doc.get("failed_sections") else 0
