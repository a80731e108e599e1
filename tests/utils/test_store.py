"""The content-addressed store behind dyag's caches (dyag.utils.store): built once, shared
between processes, never half-visible, rebuilt when incomplete, corrupt or stale."""

from __future__ import annotations

import doctest
import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dyag.errors import DyagError
from dyag.utils.atomic import sha256_json
from dyag.utils.store import Store
from dyag.utils.warnings import DyagWarning
from tests.helpers import ROOT

KEY = "0123456789abcdef"


class Counting:
    """A build that writes ``data.txt`` and counts its calls."""

    def __init__(self, text: str = "hello") -> None:
        self.calls = 0
        self.text = text

    def __call__(self, tmp: Path) -> dict:
        self.calls += 1
        (tmp / "data.txt").write_text(self.text)
        (tmp / "sub").mkdir()
        (tmp / "sub" / "more.bin").write_bytes(b"\x00" * 10)
        return {"source": "test", "n": self.calls}


def _leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith("."))


# ---------------------------------------------------------------- built once, reused


def test_an_entry_is_built_once_and_reused(tmp_path):
    store, build = Store(tmp_path / "c"), Counting()
    first = store.get_or_build(KEY, build, what="a test entry")
    assert first.built and build.calls == 1
    assert first.path == tmp_path / "c" / KEY and (first.path / "data.txt").read_text() == "hello"
    assert not _leftovers(tmp_path / "c")

    again = store.get_or_build(KEY, build)
    assert not again.built and build.calls == 1
    assert again.path == first.path and again.manifest == first.manifest
    assert store.get(KEY).manifest == first.manifest  # a plain lookup finds it too

    rebuilt = store.get_or_build(KEY, Counting("changed"), rebuild=True)
    assert rebuilt.built and (rebuilt.path / "data.txt").read_text() == "changed"


def test_the_manifest_names_the_key_and_lists_the_files(tmp_path):
    store = Store(tmp_path / "c", verify="sha256")
    entry = store.get_or_build(KEY, Counting(), what="a test entry")
    on_disk = json.loads((entry.path / "manifest.json").read_text())
    assert on_disk == entry.manifest
    assert on_disk["key"] == KEY and on_disk["what"] == "a test entry" and on_disk["created"]
    assert (on_disk["source"], on_disk["n"]) == ("test", 1)  # the build's own fields
    assert on_disk["files"] == {
        "data.txt": {"size": 5, "sha256": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"},
        "sub/more.bin": {"size": 10, "sha256": on_disk["files"]["sub/more.bin"]["sha256"]},
    }

    # The same content under another key is not that key's entry.
    shutil.copytree(entry.path, tmp_path / "c" / "fedcba9876543210")
    assert store.get("fedcba9876543210") is None
    assert "does not name the key" in store.problem("fedcba9876543210")


def test_a_dict_key_is_its_content_hash_and_bad_keys_are_refused(tmp_path):
    store = Store(tmp_path / "c")
    entry = store.get_or_build({"model": "tiny-random", "seed": 0}, Counting())
    assert entry.key == sha256_json({"model": "tiny-random", "seed": 0}) == entry.manifest["key"]
    assert store.get({"seed": 0, "model": "tiny-random"}) is not None  # key order does not matter
    for bad in ("", ".", "..", "../x", "a/b", ".hidden", "x.lock"):
        with pytest.raises(ValueError, match="not a store key"):
            store.path(bad)


def test_a_build_may_not_overwrite_the_stores_manifest_fields(tmp_path):
    store = Store(tmp_path / "c")
    with pytest.raises(ValueError, match="key"):
        store.get_or_build(KEY, lambda tmp: {"key": "mine"})
    assert store.get(KEY) is None and not _leftovers(tmp_path / "c")


# ---------------------------------------------------------------- failures and leftovers


def test_a_build_that_raises_leaves_no_entry_and_the_next_call_rebuilds(tmp_path):
    store = Store(tmp_path / "c")

    def crash(tmp: Path) -> dict:
        (tmp / "data.txt").write_text("half")
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError, match="power cut"):
        store.get_or_build(KEY, crash)
    assert not store.path(KEY).exists() and store.get(KEY) is None
    assert _leftovers(tmp_path / "c") == [], "the temporary directory must be removed"

    build = Counting()
    entry = store.get_or_build(KEY, build)
    assert entry.built and build.calls == 1 and (entry.path / "data.txt").read_text() == "hello"


def test_a_directory_without_a_manifest_is_not_complete_and_is_replaced(tmp_path):
    store = Store(tmp_path / "c")
    directory = store.path(KEY)
    directory.mkdir(parents=True)
    (directory / "data.txt").write_text("from an interrupted run")
    assert store.get(KEY) is None and store.problem(KEY) == "missing or unreadable manifest.json"

    build = Counting()
    entry = store.get_or_build(KEY, build)
    assert entry.built and build.calls == 1
    assert (directory / "data.txt").read_text() == "hello" and (directory / "manifest.json").is_file()


@pytest.mark.parametrize("damage", ["truncate", "delete", "manifest", "same-size"])
def test_damaged_entries_are_rebuilt(tmp_path, damage):
    store = Store(tmp_path / "c", verify="sha256")
    entry = store.get_or_build(KEY, Counting())
    if damage == "truncate":
        (entry.path / "data.txt").write_text("he")
    elif damage == "delete":
        (entry.path / "sub" / "more.bin").unlink()
    elif damage == "manifest":
        (entry.path / "manifest.json").write_text('{"key": "0123')
    else:  # same size, other bytes: only the sha256 check sees it
        (entry.path / "data.txt").write_text("jello")
    assert store.get(KEY) is None
    build = Counting()
    assert store.get_or_build(KEY, build).built and build.calls == 1
    assert (entry.path / "data.txt").read_text() == "hello" and store.get(KEY) is not None


def test_size_verification_never_hashes_on_lookup(tmp_path, monkeypatch):
    """Model stores hold GB-sized files: a warm lookup stats them, never reads them."""
    import dyag.utils.store as store_module

    store = Store(tmp_path / "c")  # verify="size"
    entry = store.get_or_build(KEY, Counting())
    assert "sha256" not in entry.manifest["files"]["data.txt"]
    monkeypatch.setattr(store_module, "sha256_file", lambda *a, **k: pytest.fail("a size-verified lookup hashed"))
    assert store.get(KEY) is not None and not store.get_or_build(KEY, Counting()).built
    (entry.path / "data.txt").write_text("he")
    assert "data.txt is 2 bytes" in store.problem(KEY)


def test_the_callers_check_can_refuse_an_entry_which_is_then_rebuilt(tmp_path):
    """A stale entry (e.g. a model built from an older package) is replaced; a build its own check
    refuses is an error, not an entry rebuilt on every call."""
    store = Store(tmp_path / "c")
    store.get_or_build(KEY, Counting())

    def needs_version_2(path: Path, manifest: dict) -> str | None:
        return None if manifest.get("version") == 2 else "built from version 1"

    assert store.get(KEY, needs_version_2) is None and store.get(KEY) is not None
    entry = store.get_or_build(KEY, lambda tmp: {"version": 2}, valid=needs_version_2)
    assert entry.built and entry.manifest["version"] == 2 and not (entry.path / "data.txt").exists()
    with pytest.raises(RuntimeError, match="not complete .built from version 1"):
        store.get_or_build("another", lambda tmp: {"version": 1}, valid=needs_version_2)
    assert store.get("another") is None and not _leftovers(tmp_path / "c")


def test_a_store_that_warns_names_the_corrupt_entry_before_rebuilding_it(tmp_path):
    store = Store(tmp_path / "c", name="adapter cache", warn_rebuilds=True)
    entry = store.get_or_build(KEY, Counting())
    (entry.path / "data.txt").write_text("he")
    with pytest.warns(DyagWarning, match=rf"adapter cache entry .*{KEY} is corrupt \(data.txt is 2 bytes.*rebuilding"):
        assert store.get_or_build(KEY, Counting()).built
    assert store.get_or_build("absent-key", Counting()).built  # a first build warns nothing (it would fail here)


def test_leftover_partial_directories_of_the_key_are_removed_by_its_next_build(tmp_path):
    store = Store(tmp_path / "c")
    root = tmp_path / "c"
    root.mkdir()
    mine, old, other = root / f".{KEY}.x1y2.partial", root / f".{KEY}.old-123", root / ".otherkey.a.partial"
    for leftover in (mine, old, other):
        leftover.mkdir()
        (leftover / "data.txt").write_text("half")
    store.get_or_build(KEY, Counting())
    assert not mine.exists() and not old.exists()
    assert other.exists(), "another key's build may be in progress: its directory is not ours to remove"


def test_a_held_lock_times_out_with_a_one_line_error(tmp_path):
    store = Store(tmp_path / "c", lock_timeout=0.2)
    with store.lock(KEY):  # another FileLock object: as another process would hold it
        with pytest.raises(DyagError, match=rf"^my model: another process has held .*{KEY}\.lock for 0\.2 s$"):
            store.get_or_build(KEY, Counting(), what="my model")


# ---------------------------------------------------------------- processes


def _race(root: str, log: str, barrier, results) -> None:
    def build(tmp: Path) -> dict:
        with open(log, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        time.sleep(0.5)  # hold the lock while the other process waits on it
        (tmp / "data.txt").write_text(str(os.getpid()))
        return {"builder": os.getpid()}

    barrier.wait(timeout=30)
    entry = Store(root).get_or_build(KEY, build)
    results.put((os.getpid(), entry.built, entry.manifest["builder"], str(entry.path)))


def test_two_processes_racing_on_one_key_build_it_once(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    log = tmp_path / "builds.log"
    procs = [ctx.Process(target=_race, args=(str(tmp_path / "c"), str(log), barrier, results)) for _ in range(2)]
    for proc in procs:
        proc.start()
    try:
        outcomes = [results.get(timeout=60) for _ in procs]
    finally:
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
    assert [proc.exitcode for proc in procs] == [0, 0]
    assert len(log.read_text().split()) == 1, "the key was built more than once"
    assert sorted(built for _, built, _, _ in outcomes) == [False, True]
    builder = next(pid for pid, built, _, _ in outcomes if built)
    assert {b for _, _, b, _ in outcomes} == {builder}, "both must get the one entry that was built"
    assert len({path for *_, path in outcomes}) == 1
    assert (tmp_path / "c" / KEY / "data.txt").read_text() == str(builder)


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_a_build_killed_midway_leaves_nothing_that_looks_complete(tmp_path):
    root = tmp_path / "c"
    code = (
        "import sys, time; from pathlib import Path; from dyag.utils.store import Store\n"
        "def build(tmp):\n"
        "    (tmp / 'data.txt').write_text('half'); print('building', flush=True); time.sleep(60)\n"
        f"Store({str(root)!r}).get_or_build({KEY!r}, build)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            cwd=ROOT)
    try:
        assert proc.stdout.readline().strip() == "building"
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
    store = Store(root)
    assert store.get(KEY) is None and not store.path(KEY).exists()
    assert [p for p in _leftovers(root) if p.endswith(".partial")], "the kill should have left its temporary dir"

    build = Counting()
    assert store.get_or_build(KEY, build).built and build.calls == 1  # the lock died with its holder
    assert _leftovers(root) == [], "the killed build's temporary dir was not removed"


# ---------------------------------------------------------------- records


def test_records_are_self_describing_json_files(tmp_path):
    store = Store(tmp_path / "r")
    key = sha256_json({"question": "Qui héberge GIDAF ?"})
    assert store.get_record(key) is None
    store.put_record(key, {"answer": "Le Datacenter 0.", "tokens": 4})
    path = tmp_path / "r" / key[:2] / f"{key}.json"
    assert json.loads(path.read_text()) == {"key": key, "answer": "Le Datacenter 0.", "tokens": 4}
    assert store.get_record(key) == {"key": key, "answer": "Le Datacenter 0.", "tokens": 4}

    path.write_text(json.dumps({"key": "another", "answer": "x"}))  # a file that names another key
    assert store.get_record(key) is None
    path.write_text('{"key": "')  # a torn file (not written by put_record, which is atomic)
    assert store.get_record(key) is None
    store.put_record(key, {"answer": "again"})
    assert store.get_record(key)["answer"] == "again"
    assert [p.name for p in path.parent.iterdir()] == [path.name], "no temporary file left behind"


# ---------------------------------------------------------------- the module's examples


def test_the_docstring_examples_hold_and_import_no_torch(tmp_path, monkeypatch):
    import tempfile

    import dyag.utils.store as store_module

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result = doctest.testmod(store_module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
    code = "import sys, dyag.utils.store; print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=ROOT).stdout
    assert out.strip() == "[]"
