"""Faults: a killed training run, a failing write, and determinism on CPU."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dyag.errors import DyagError
from tests.helpers import FIXTURES, kill_when


def _finetune_args(train_file: Path, out: Path, steps: int) -> list[str]:
    return ["finetune", "--dataset", str(train_file), "--output", str(out),
            "--base-model", "tiny-random", "--batch-size", "2", "--max-steps", str(steps), "--lora-rank", "4"]


def test_sigkill_during_training_leaves_nothing_that_looks_complete(train_file, tmp_path, isolated_home, cli):
    from dyag.models.loading import resolve_model

    resolve_model("tiny-random")  # materialize first, so the kill lands in training
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "dyag", *_finetune_args(train_file, out, 400)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    adapters = isolated_home / "adapters"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(adapters.glob("*.work")):
        time.sleep(0.2)
    assert list(adapters.glob("*.work")), "training never started"
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, f"the run ended before the kill: {proc.stderr.read()[-2000:]!r}"
    proc.stderr.close()

    entries = [p for p in adapters.iterdir() if p.is_dir() and not p.name.endswith((".work", ".partial"))
               and not p.name.startswith(".")]
    assert entries == [], f"a killed run left a cache entry that looks complete: {entries}"
    assert not (out / "final").exists() and not (out / "run.json").exists()

    # The next run starts cleanly and finishes (a short one: the key differs only by max_steps).
    rerun = cli.spawn(*_finetune_args(train_file, out, 2), timeout=600)
    assert rerun.rc == 0, rerun.err[-2000:]
    assert (out / "final" / "adapter_model.safetensors").is_file() and (out / "run.json").is_file()


def test_a_failing_write_keeps_the_previous_file(tmp_path, monkeypatch):
    from dyag.utils import atomic

    target = tmp_path / "baseline.json"
    atomic.atomic_write_json(target, {"version": 1})

    def no_space(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", no_space)
    with pytest.raises(DyagError, match="No space left on device"):
        atomic.atomic_write_json(target, {"version": 2})
    assert json.loads(target.read_text()) == {"version": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["baseline.json"], "the temporary file must be cleaned up"


def test_a_failing_report_write_keeps_the_previous_report(tmp_path, monkeypatch):
    from dyag.report.render import render_report
    from dyag.utils import atomic

    results = json.loads((FIXTURES / "report" / "results_small.json").read_text())
    out = render_report([results], tmp_path / "index.html")
    before = out.read_bytes()
    monkeypatch.setattr(atomic.os, "replace", lambda *a: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space")))
    with pytest.raises(DyagError):
        render_report([results], out, lang="en")
    assert out.read_bytes() == before


def test_same_seed_on_cpu_gives_identical_adapters_and_answers(train_file, tmp_path):
    from dyag.inference.generator import load_model
    from dyag.training.config import FinetuneConfig
    from dyag.training.sft import finetune

    runs = []
    for name in ("a", "b"):
        cfg = FinetuneConfig(dataset=str(train_file), output=str(tmp_path / name), base_model="tiny-random",
                             batch_size=4, max_steps=3, lora_rank=4, learning_rate=1e-2, no_cache=True)
        result = finetune(cfg, progress=False)
        answers = load_model("tiny-random", result.adapter_dir, force_cpu=True).answer(
            ["Qui héberge APP1 ?", "Qui héberge APP7 ?"], max_new_tokens=8)
        runs.append(((result.adapter_dir / "adapter_model.safetensors").read_bytes(), answers, result.metrics["train_loss"]))
    assert runs[0] == runs[1]


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_sigkill_during_materialization_is_rebuilt(tmp_path, isolated_home):
    from dyag.models.loading import resolve_model
    from dyag.models.materialize import cached_build
    from dyag.models.registry import get_model_spec

    code = "from dyag.models.loading import resolve_model; resolve_model('tiny-random')"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    models = isolated_home / "models"
    # A build in progress: a temporary ``.<name>.*.partial`` dir (the SmolLM2 tokenizer's, then tiny-random's).
    code = kill_when(proc, lambda: bool(list(models.glob(".*.partial"))), timeout=120, poll=0.02,
                     what="a build in progress")
    assert code == -signal.SIGKILL
    # The kill landed mid-build: its temporary dir is left behind, and no complete tiny-random.
    partials = list(models.glob(".*.partial"))
    assert partials, f"no partial build on disk after the kill: {sorted(p.name for p in models.iterdir())}"
    assert cached_build(get_model_spec("tiny-random")) is None

    resolved = resolve_model("tiny-random")  # whatever the kill left, this is a complete model
    assert (resolved.path / "config.json").is_file() and (resolved.path / "dyag-model.json").is_file()
    assert not any(p.exists() for p in partials), "the killed build's temporary dir was not cleaned up"
