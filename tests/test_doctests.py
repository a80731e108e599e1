"""The docstring examples of dyag's pure modules run and hold.

Pure: importing the module loads neither torch nor transformers, and its examples load
no model. Examples that need a model or a network stay marked ``+SKIP`` in their modules.
"""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys
import tempfile

import pytest

PURE_MODULES = (
    "dyag.data",
    "dyag.data.degrade",
    "dyag.data.generate",
    "dyag.data.golden",
    "dyag.data.kb",
    "dyag.data.splits",
    "dyag.data.templates",
    "dyag.data.training_set",
    "dyag.evaluation.cases",
    "dyag.evaluation.quality",
    "dyag.evaluation.registry",
    "dyag.evaluation.rules",
    "dyag.evaluation.rules.echo",
    "dyag.evaluation.stats",
    "dyag.evaluation.textmetrics",
    "dyag.gates",
    "dyag.inference.cache",
    "dyag.inference.generator",
    "dyag.models.materialize",
    "dyag.models.registry",
    "dyag.progress",
    "dyag.results",
    "dyag.system",
    "dyag.training.config",
    "dyag.utils.atomic",
    "dyag.utils.device",
    "dyag.utils.jsonl",
    "dyag.utils.paths",
    "dyag.utils.records",
    "dyag.utils.stopwords",
    "dyag.utils.text",
    "dyag.evaluation.scoring",  # its example scores answers; the machine record needs no torch
    "benchmarks.perf.bench",
)

#: Modules whose examples run real work that loads torch (none at present).
WORKING_MODULES: tuple[str, ...] = ()


@pytest.mark.parametrize("name", PURE_MODULES + WORKING_MODULES)
def test_docstring_examples_hold(name, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # examples that write files write here
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, report=True)
    assert result.attempted > 0, f"{name} has no docstring example left to run"
    assert result.failed == 0, f"{result.failed} of {name}'s {result.attempted} examples failed (see the output above)"


def test_pure_modules_import_neither_torch_nor_transformers():
    code = (f"import importlib, sys; [importlib.import_module(m) for m in {PURE_MODULES!r}]; "
            "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
