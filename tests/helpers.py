"""Helpers shared by the tests (the fixtures are in the top-level conftest.py): the repository's
paths, a small golden set and small training data for tiny-random, and the runner behind the ``cli``
fixture."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

#: The repository's root (the folder of pyproject.toml, golden/, benchmarks/ and tests/).
ROOT = Path(__file__).resolve().parents[1]
#: The tests' own data files (small catalogs, golden sets, predictions, a results document).
FIXTURES = ROOT / "tests" / "fixtures"
#: dyag's seed golden set.
SEED_GOLDEN = ROOT / "golden" / "seed.jsonl"


def read_error(reader, path: Path, lines: list[str]) -> str:
    """The one-line error ``reader(path)`` raises on ``lines`` written to ``path`` (it must raise DyagError)."""
    import pytest

    from dyag.errors import DyagError

    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DyagError) as err:
        reader(path)
    message = str(err.value)
    assert "\n" not in message, message
    return message


def write_seed_golden(path: Path, n: int = 3) -> Path:
    """``path`` written with the first ``n`` golden cases of ``golden/seed.jsonl``, line for line (a small
    golden set, quick to answer and score); returned."""
    lines = SEED_GOLDEN.read_text(encoding="utf-8").splitlines()[:n]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def hosting_rows(n: int, *, grow: str = "") -> list[dict]:
    """``n`` chat examples "Qui héberge APPi ?" -> "APPi est hébergée par le Datacenter i.";
    ``grow`` is repeated i times before the final period, so answers get longer with i."""
    return [
        {"messages": [{"role": "user", "content": f"Qui héberge APP{i} ?"},
                      {"role": "assistant", "content": f"APP{i} est hébergée par le Datacenter {i}" + grow * i + "."}]}
        for i in range(n)
    ]


# What the shared ``train_file`` fixture (top-level conftest.py) writes.
TRAIN_ROWS = hosting_rows(8)


# --- running the command line -------------------------------------------------------------------


@dataclass
class CliResult:
    """One run of ``dyag``: exit code, standard output, standard error."""

    rc: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


class Cli:
    """The ``cli`` fixture: ``cli(*argv)`` runs ``dyag.cli.main`` in this process;
    ``cli.spawn(*argv)`` runs ``python -m dyag`` (or another module) in a child process.

    In process, an argparse usage error (``SystemExit``) becomes its exit code; any other
    exception propagates, so a bug shows its traceback in the test report.
    """

    def __init__(self, capsys) -> None:
        self._capsys = capsys

    def __call__(self, *argv) -> CliResult:
        from dyag.cli import main

        self._capsys.readouterr()
        try:
            rc = main([str(a) for a in argv])
        except SystemExit as exc:
            rc = exc.code if isinstance(exc.code, int) else 1
        captured = self._capsys.readouterr()
        return CliResult(rc, captured.out, captured.err)

    @staticmethod
    def spawn(*argv, module: str = "dyag", cwd: str | os.PathLike | None = None, env: dict | None = None,
              timeout: float = 900) -> CliResult:
        """``python -m <module> *argv`` in ``cwd``; ``env`` is the child's whole environment
        (default: this one without the variables that would tie a child pytest to this run)."""
        if env is None:
            env = child_env()
        proc = subprocess.run([sys.executable, "-m", module, *map(str, argv)], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=timeout)
        return CliResult(proc.returncode, proc.stdout, proc.stderr)


def child_env(**overrides: str) -> dict:
    """This process's environment for a child, without ``PYTEST_ADDOPTS``/``PYTEST_XDIST_WORKER``/``GITHUB_STEP_SUMMARY``
    (a child pytest is its own run), with ``overrides`` set."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER", "GITHUB_STEP_SUMMARY")}
    env.update(overrides)
    return env


def kill_when(proc: subprocess.Popen, ready, *, timeout: float, what: str, poll: float = 0.05) -> int:
    """SIGKILL ``proc`` as soon as ``ready()`` holds, which must happen while it still runs; its exit code."""
    try:
        deadline = time.monotonic() + timeout
        while not ready() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(poll)
        assert ready() and proc.poll() is None, f"{what} never came before the process ended: {proc.stderr.read()[-2000:]!r}"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
    return proc.returncode
