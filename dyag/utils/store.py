"""One content-addressed store for dyag's caches: key → lock → atomic directory → manifest.

A :class:`Store` keeps entries under one root directory, one entry per key:

    <root>/<key>/            the entry: whatever the build wrote, and its manifest, written last
    <root>/<key>.lock        file lock: concurrent processes build one key once
    <root>/.<key>.*.partial  a build in progress (or left by a killed one; removed by the next build)

:meth:`Store.get_or_build` returns the entry if it is complete; otherwise it takes the key's
lock, looks again (another process may have built it meanwhile), builds the entry in a
temporary sibling directory through a callback, writes the manifest last and moves the
directory into place in one ``os.replace``. Complete means: the manifest parses, names the key,
and every file it lists is there with its size (and, with ``verify="sha256"``, its hash), and the
caller's own check (``valid``) accepts it. So a crash mid-build leaves no entry that looks
complete, and a partial, tampered or stale entry is rebuilt (replaced whole, under the lock).

The manifest (``manifest.json`` unless the store names another file) holds the build's own fields
plus ``key``, ``what`` (what the entry is, for people), ``created``, ``store`` (this format) and
``files`` (``{relative path: {"size": bytes, "sha256": hex?}}``).

>>> import tempfile
>>> store = Store(Path(tempfile.mkdtemp()), name="example cache")
>>> def build(tmp):
...     _ = (tmp / "answer.txt").write_text("42")
...     return {"source": "the example"}
>>> entry = store.get_or_build({"question": "six times seven"}, build, what="an answer")
>>> entry.built, (entry.path / "answer.txt").read_text(), entry.manifest["files"]
(True, '42', {'answer.txt': {'size': 2}})
>>> again = store.get_or_build({"question": "six times seven"}, build)
>>> again.built, again.path == entry.path, again.manifest["key"] == entry.key
(False, True, True)

Small values (a generated answer, a metric value) are *records*: one JSON file per key,
``<root>/<key[:2]>/<key>.json``, holding ``{"key": key, **value}``. The file is its own
manifest (it names its key) and is written atomically, but takes no lock: two processes
computing one record write the same value, which costs less than a lock per record.
A store holds directory entries or records, not both.

>>> store.get_record("ab12"), store.put_record("ab12", {"f1": 0.5}), store.get_record("ab12")["f1"]
(None, None, 0.5)
"""

from __future__ import annotations

import json
import re
import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Literal, Mapping, Optional

from dyag.errors import DyagError
from dyag.utils.atomic import atomic_dir, atomic_write_json, sha256_file, sha256_json
from dyag.utils.warnings import DyagWarning

#: the manifest fields the store owns (a build may not return them)
STORE_FIELDS = ("key", "what", "created", "store", "files")
STORE_FORMAT = 1
#: "size": a lookup stats every listed file (cheap: for GB-sized models); "sha256": it hashes them too
Verify = Literal["size", "sha256"]
#: a build: fills the temporary entry directory it is given and returns its own manifest fields
Build = Callable[[Path], Optional[Mapping[str, Any]]]
#: the caller's check of an entry the store found whole: None when usable, else what is wrong
Valid = Callable[[Path, Dict[str, Any]], Optional[str]]

_KEY = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class Entry:
    """A complete entry: its directory, its manifest, and whether this call built it."""

    key: str
    path: Path
    manifest: dict[str, Any]
    built: bool


class Store:
    """Entries keyed by content under ``root``; see the module docstring.

    ``name`` names the store in messages ("adapter cache"); ``manifest`` is the manifest's file
    name in each entry; ``verify`` how far a lookup checks the listed files; ``lock_timeout``
    (seconds, None: wait for ever) how long to wait for another process's build before a
    :class:`DyagError`; ``warn_rebuilds`` warns (:class:`DyagWarning`) before replacing an entry
    that exists but is not usable (for caches whose entries are costly and should not go bad).
    """

    def __init__(self, root: str | Path, *, name: str = "cache", manifest: str = "manifest.json",
                 verify: Verify = "size", lock_timeout: float | None = None, warn_rebuilds: bool = False) -> None:
        if verify not in ("size", "sha256"):
            raise ValueError(f"verify must be 'size' or 'sha256', not {verify!r}")
        self.root = Path(root)
        self.name = name
        self.manifest_name = manifest
        self.verify = verify
        self.lock_timeout = lock_timeout
        self.warn_rebuilds = warn_rebuilds

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r}, name={self.name!r})"

    # ------------------------------------------------------------ keys and paths

    @staticmethod
    def key_of(key: str | Mapping[str, Any]) -> str:
        """``key`` itself when it is a string (already a content hash, or a safe name), else the
        sha256 of the JSON object (:func:`dyag.utils.atomic.sha256_json`).

        >>> Store.key_of("ab12"), len(Store.key_of({"model": "tiny-random"}))
        ('ab12', 64)
        """
        if isinstance(key, str):
            if not _KEY.fullmatch(key) or key.endswith(".lock"):
                raise ValueError(f"{key!r} is not a store key (letters, digits, '.', '_', '-'; no leading dot)")
            return key
        return sha256_json(key)

    def path(self, key: str | Mapping[str, Any]) -> Path:
        """The entry's directory (which may not exist yet)."""
        return self.root / self.key_of(key)

    def lock(self, key: str | Mapping[str, Any]):
        """The key's file lock (a fresh ``filelock.FileLock``; entering it may wait)."""
        from filelock import FileLock

        self.root.mkdir(parents=True, exist_ok=True)
        timeout = -1 if self.lock_timeout is None else self.lock_timeout
        return FileLock(str(self.root / f"{self.key_of(key)}.lock"), timeout=timeout)

    # ------------------------------------------------------------ directory entries

    def problem(self, key: str | Mapping[str, Any], valid: Valid | None = None) -> str | None:
        """None if the entry is complete, else why not ("absent" when there is no directory)."""
        key = self.key_of(key)
        path = self.path(key)
        if not path.is_dir():
            return "absent"
        try:
            manifest = json.loads((path / self.manifest_name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return f"missing or unreadable {self.manifest_name}"
        if not isinstance(manifest, dict) or manifest.get("key") != key:
            return f"{self.manifest_name} does not name the key {key}"
        problem = self._files_problem(path, manifest.get("files"))
        if problem is None and valid is not None:
            problem = valid(path, manifest)
        return problem

    def get(self, key: str | Mapping[str, Any], valid: Valid | None = None) -> Entry | None:
        """The complete entry for ``key``, or None; builds, removes and warns nothing."""
        key = self.key_of(key)
        if self.problem(key, valid) is not None:
            return None
        return Entry(key, self.path(key), self._read_manifest(key), built=False)

    def get_or_build(self, key: str | Mapping[str, Any], build: Build, *, what: str = "",
                     valid: Valid | None = None, rebuild: bool = False) -> Entry:
        """The complete entry for ``key``, built once by ``build(tmp_dir)`` when there is none.

        ``build`` fills ``tmp_dir`` and returns the fields it adds to the manifest; ``what``
        describes the entry (manifest and messages); ``valid`` is the caller's own check on top
        of the store's; ``rebuild=True`` builds and replaces the entry even if it is complete.
        A build that raises leaves no entry (and removes its temporary directory).
        """
        key = self.key_of(key)
        if not rebuild and (found := self.get(key, valid)) is not None:
            return found
        import filelock

        lock = self.lock(key)
        try:
            with lock:
                if not rebuild:
                    problem = self.problem(key, valid)  # another process may have built it meanwhile
                    if problem is None:
                        return Entry(key, self.path(key), self._read_manifest(key), built=False)
                    if problem != "absent" and self.warn_rebuilds:
                        warnings.warn(f"{self.name} entry {self.path(key)} is corrupt ({problem}); rebuilding it",
                                      DyagWarning, stacklevel=2)
                self._remove_leftovers(key)
                return self._build(key, build, what, valid)
        except filelock.Timeout as exc:
            raise DyagError(f"{what or key}: another process has held {lock.lock_file} "
                            f"for {self.lock_timeout:g} s") from exc

    def _build(self, key: str, build: Build, what: str, valid: Valid | None) -> Entry:
        with atomic_dir(self.path(key)) as tmp:
            fields = dict(build(tmp) or {})
            clash = [name for name in STORE_FIELDS if name in fields]
            if clash:
                raise ValueError(f"a {self.name} build may not set the store's manifest fields {clash}")
            if (tmp / self.manifest_name).exists():
                raise ValueError(f"a {self.name} build may not write {self.manifest_name} itself")
            manifest = {
                **fields,
                "key": key,
                "what": what,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "store": STORE_FORMAT,
                "files": self._list_files(tmp),
            }
            problem = valid(tmp, manifest) if valid is not None else None
            if problem is not None:  # a build that its own check refuses would be rebuilt on every call
                raise RuntimeError(f"{self.name}: the build of {what or key} is not complete ({problem})")
            atomic_write_json(tmp / self.manifest_name, manifest)  # last: marks the entry complete
        return Entry(key, self.path(key), manifest, built=True)

    def _read_manifest(self, key: str) -> dict[str, Any]:
        return json.loads((self.path(key) / self.manifest_name).read_text(encoding="utf-8"))

    def _list_files(self, directory: Path) -> dict[str, dict[str, Any]]:
        files = {}
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            described: dict[str, Any] = {"size": path.stat().st_size}
            if self.verify == "sha256":
                described["sha256"] = sha256_file(path)
            files[path.relative_to(directory).as_posix()] = described
        return files

    def _files_problem(self, path: Path, files: Any) -> str | None:
        if not isinstance(files, dict):
            return f"{self.manifest_name} lists no files"
        for name, described in files.items():
            file = path / name
            if not isinstance(described, dict) or not file.is_file():
                return f"{name} is missing"
            if file.stat().st_size != described.get("size"):
                return f"{name} is {file.stat().st_size} bytes, not the manifest's {described.get('size')}"
            if self.verify == "sha256" and sha256_file(file) != described.get("sha256"):
                return f"{name} does not match the manifest's sha256"
        return None

    def _remove_leftovers(self, key: str) -> None:
        """Temporary directories of this key left by a killed build (the caller holds the lock)."""
        for pattern in (f".{key}.*.partial", f".{key}.old-*"):
            for leftover in self.root.glob(pattern):
                shutil.rmtree(leftover, ignore_errors=True)

    # ------------------------------------------------------------ records (small values)

    def record_path(self, key: str | Mapping[str, Any]) -> Path:
        key = self.key_of(key)
        return self.root / key[:2] / f"{key}.json"

    def get_record(self, key: str | Mapping[str, Any]) -> dict[str, Any] | None:
        """The record stored under ``key`` (with its ``key`` field), or None if absent or unreadable."""
        key = self.key_of(key)
        try:
            record = json.loads(self.record_path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) and record.get("key") == key else None

    def put_record(self, key: str | Mapping[str, Any], value: Mapping[str, Any]) -> None:
        """Store ``value`` (a JSON object) under ``key``, atomically; a later put replaces it."""
        key = self.key_of(key)
        atomic_write_json(self.record_path(key), {"key": key, **value}, indent=None)
