"""Fixtures of the reliability suite: file-tree snapshots, the "refused cleanly" check,
a guard against early model loading and a socket guard.

Every test here runs with ``DYAG_HOME`` and ``HF_HOME`` inside its own ``tmp_path``
(``isolated_home``) and with ``tmp_path`` as the working directory, so a snapshot of
``tmp_path`` sees every file a command writes, caches included. The ``cli`` runner is
the top-level conftest's.
"""

from __future__ import annotations

import hashlib
import socket
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from tests.helpers import CliResult

DATA_DIR = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _isolated_in_tmp_path(isolated_home, tmp_path, monkeypatch) -> None:
    """Every test here: the shared ``isolated_home`` (top-level conftest.py), ``tmp_path`` as the working directory."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture()
def corpus() -> Path:
    """The folder of bad (and a few good) input files: ``data/<kind>/<name>``."""
    return DATA_DIR


# --- snapshots: "nothing written or overwritten" -----------------------------------------------


def tree_state(root: Path) -> dict[str, tuple]:
    """Every directory and file under ``root``: files by (size, mtime_ns, sha256)."""
    state: dict[str, tuple] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            state[rel] = ("link", str(path.readlink()))
        elif path.is_dir():
            state[rel] = ("dir",)
        else:
            stat = path.stat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            state[rel] = ("file", stat.st_size, stat.st_mtime_ns, digest)
    return state


def describe_changes(before: dict[str, tuple], after: dict[str, tuple]) -> list[str]:
    changes = [f"created {p}" for p in sorted(set(after) - set(before))]
    changes += [f"removed {p}" for p in sorted(set(before) - set(after))]
    changes += [f"modified {p}" for p in sorted(set(before) & set(after)) if before[p] != after[p]]
    return changes


@pytest.fixture()
def snapshot() -> Callable[[Path], dict[str, tuple]]:
    return tree_state


def assert_one_error_line(result: CliResult, *, names: tuple[str, ...] = (), line: int | None = None,
                          mentions: tuple[str, ...] = ()) -> str:
    """Exit code 2, exactly one non-blank stderr line ``dyag: error: ...``, no traceback.

    ``names``: file names (any one of them) the line must contain, followed by
    ``:<line>`` when ``line`` is given; ``mentions``: substrings it must contain.
    """
    where = f"rc={result.rc}\nstdout:\n{result.out[-2000:]}\nstderr:\n{result.err[-4000:]}"
    assert "Traceback" not in result.err and "Traceback" not in result.out, where
    assert result.rc == 2, where
    assert len(result.err_lines) == 1, f"expected exactly one stderr line\n{where}"
    message = result.err_lines[0]
    assert message.startswith("dyag: error: "), where
    raw = [c for c in result.err.rstrip("\n") if unicodedata.category(c) == "Cc"]
    assert not raw, f"raw control characters {raw!r} printed with the error\n{where}"
    if names:
        if line is None:
            assert any(name in message for name in names), f"the error names none of {names}\n{where}"
        else:
            wanted = [f"{name}:{line}" for name in names]
            assert any(w in message for w in wanted), f"the error does not point at {' or '.join(wanted)}\n{where}"
    for text in mentions:
        assert text.lower() in message.lower(), f"the error does not mention {text!r}\n{where}"
    return message


@pytest.fixture()
def refused(snapshot) -> Callable:
    """``refused(root, lambda: cli(...), names=..., line=..., mentions=...)``: run, then check
    the one-line error and that nothing under ``root`` was created, modified or removed."""

    def check(root: Path, action: Callable[[], CliResult], **expect) -> str:
        before = snapshot(root)
        result = action()
        message = assert_one_error_line(result, **expect)
        changes = describe_changes(before, snapshot(root))
        assert not changes, f"a refused command changed files: {changes}\nerror was: {message}"
        return message

    return check


# --- heavy work must not start before the inputs are validated ----------------------------------


@pytest.fixture()
def forbid_model_load(monkeypatch) -> None:
    """Fail the test if a base model, an adapter or the BERTScore encoder starts loading.

    Bad input must be refused before anything slow (or anything that fills a cache) starts.
    """

    def loaded(*args, **kwargs):
        raise AssertionError("a model started loading before the command's inputs were validated")

    import dyag.models.loading as loading

    # Every path to a base model (finetune, query-finetuned, evaluate-finetuned) resolves it first.
    monkeypatch.setattr(loading, "resolve_model", loaded)
    import dyag.evaluation.bertscore as bertscore

    monkeypatch.setattr(bertscore, "resolve_encoder", loaded)
    monkeypatch.setattr(bertscore, "get_scorer", loaded)


# --- the socket guard ---------------------------------------------------------------------------


class NetworkBlockedError(ConnectionRefusedError):
    """Raised by the guard; an ``OSError`` like a real unreachable network."""


@dataclass
class NetworkGuard:
    """What the code under test tried to reach while the guard was on."""

    attempts: list[str] = field(default_factory=list)

    def block(self, what: str):
        self.attempts.append(what)
        raise NetworkBlockedError(f"network access blocked by the test guard: {what}")


def _is_local_ipc(sock: socket.socket) -> bool:
    return getattr(socket, "AF_UNIX", None) is not None and sock.family == socket.AF_UNIX


@pytest.fixture()
def no_network(monkeypatch) -> NetworkGuard:
    """Make every network connection and name lookup fail, and record the attempts.

    Patches ``socket.socket.connect``/``connect_ex``, ``socket.create_connection``,
    ``socket.getaddrinfo`` and ``socket.gethostbyname(_ex)``. Unix-domain sockets
    (local inter-process pipes, not network) still connect.

    >>> def test_offline(no_network):          # doctest: +SKIP
    ...     run_something()
    ...     assert no_network.attempts == []
    """
    guard = NetworkGuard()
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def connect(self, address):
        if _is_local_ipc(self):
            return real_connect(self, address)
        guard.block(f"connect {address!r}")

    def connect_ex(self, address):
        if _is_local_ipc(self):
            return real_connect_ex(self, address)
        guard.block(f"connect_ex {address!r}")

    def create_connection(address, *args, **kwargs):
        guard.block(f"create_connection {address!r}")

    def getaddrinfo(host, port, *args, **kwargs):
        guard.block(f"getaddrinfo {host!r}:{port!r}")

    def gethostbyname(host, *args):
        guard.block(f"gethostbyname {host!r}")

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "gethostbyname", gethostbyname)
    monkeypatch.setattr(socket, "gethostbyname_ex", gethostbyname)
    return guard
