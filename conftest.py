"""Fixtures shared by ``tests/`` and ``benchmarks/``: an isolated dyag home (optionally with the
user's materialized models), the sample catalog (``catalog``, and ``by_id`` by application id), a small
training file and a CLI runner. Plain helpers (the repository's ``ROOT``, ``FIXTURES``, a small seed
golden set) are in ``tests/helpers.py``.

The dyag plugin itself is registered by its ``pytest11`` entry point (pyproject.toml); it is
not listed in ``pytest_plugins`` here, which would register it twice. The plugin adds only ``dyag*``
names to a pytest run; this suite's own markers, ``slow`` and ``gpu``, are registered in
pyproject.toml's ``[tool.pytest.ini_options] markers``, and ``gpu`` tests are skipped here without a
CUDA device.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dyag.utils.paths import dyag_home
from tests.helpers import TRAIN_ROWS, Cli

# The models already materialized in the user's dyag home, read when pytest starts: before any
# test's isolated_home changes DYAG_HOME.
USER_MODELS = dyag_home() / "models"

# Where the Hugging Face libraries would look for a cache or a token; an isolated home has neither.
HF_LOCATIONS = ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH",
                "TRANSFORMERS_OFFLINE", "HF_ENDPOINT")


def pytest_collection_modifyitems(config, items):
    """Skip the ``gpu`` tests without a CUDA device; torch is imported only when some collected test is one."""
    gpu_items = [item for item in items if item.get_closest_marker("gpu")]
    if not gpu_items:
        return
    import torch

    if not torch.cuda.is_available():
        skip = pytest.mark.skip(reason="needs a CUDA device")
        for item in gpu_items:
            item.add_marker(skip)


@pytest.fixture()
def isolated_home(tmp_path, monkeypatch) -> Path:
    """A fresh ``DYAG_HOME`` (``tmp_path/dyag-home``, returned) and an empty, offline Hugging Face
    cache without a token (``HF_HOME=tmp_path/hf-home``, ``HF_HUB_OFFLINE=1``).

    Nothing is materialized: the first ``resolve_model("tiny-random")`` builds it there. A test
    that needs the network switches (offline/online) otherwise sets them itself.
    """
    home = tmp_path / "dyag-home"
    monkeypatch.setenv("DYAG_HOME", str(home))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for name in HF_LOCATIONS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)  # a test's run must not write to the real job's summary
    return home


@pytest.fixture()
def home_with_models(isolated_home) -> Path:
    """``isolated_home`` whose ``models/`` is the user's dyag home's (linked, when it exists), so that
    tiny-random and the embedded models are not rebuilt (a fresh build of tiny-random takes ~10 s on 2 cores)."""
    isolated_home.mkdir()
    if USER_MODELS.is_dir():
        (isolated_home / "models").symlink_to(USER_MODELS, target_is_directory=True)
    return isolated_home


@pytest.fixture(scope="module")
def catalog() -> list[dict]:
    """The packaged sample catalog (``dyag/data/sample/applications.jsonl``), one record per application.

    Read once per test module; a module's tests share the list, so they must not change it.
    """
    from dyag.data.kb import read_kb, sample_kb_path

    return read_kb(sample_kb_path())


@pytest.fixture(scope="module")
def by_id(catalog) -> dict[str, dict]:
    """The sample catalog (``catalog``) by application id; shared like it, so not to be changed."""
    return {r["id"]: r for r in catalog}


@pytest.fixture()
def train_file(tmp_path) -> Path:
    """``tmp_path/train.jsonl``: the chat rows of :data:`tests.helpers.TRAIN_ROWS` ("Qui héberge APPi ?")."""
    from dyag.utils.atomic import atomic_write_jsonl

    return atomic_write_jsonl(tmp_path / "train.jsonl", TRAIN_ROWS)


@pytest.fixture()
def cli(capsys) -> Cli:
    """Run the ``dyag`` command line and get its exit code, stdout and stderr.

    >>> result = cli("compare", old, new, "--json")         # in this process  # doctest: +SKIP
    >>> result.rc, result.out, result.err                                      # doctest: +SKIP
    >>> cli.spawn("finetune", "--dataset", f, cwd=project)  # `python -m dyag` # doctest: +SKIP
    """
    return Cli(capsys)
