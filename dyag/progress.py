"""Phase lines: one line when a long step starts, one when it ends, with an estimate from past runs.

A benchmark's first run spends minutes before its first test result (materialize the model, generate
the training set, train, generate answers, score); CI logs are not terminals, so progress bars show
nothing there. Each of those steps is a :class:`Phase`::

    dyag: smollm2:135m: train: start (87 examples, 2 epochs, bf16; estimate ~1 min 40 s from the last run here)
    dyag: smollm2:135m: train: done in 1 min 42 s

The estimate is the duration recorded for the same (phase, subject, environment, size) by earlier runs,
in ``$DYAG_HOME/phase-durations.json``; never recorded: "no estimate yet". With ``units`` (say, answers
to generate) the time per unit is recorded and scaled to the units of this run. While a phase runs,
training steps and generated answers report through :func:`advance`: a line every 30 s
(``$DYAG_PROGRESS_EVERY``) with the work done and the time left at that pace, first run included::

    dyag: smollm2:135m: train: 9/22 steps, 31 s so far, ~45 s left

Where the lines go is the :class:`PhaseReporter`'s ``write``: standard error by default, the pytest
terminal reporter under the plugin. Code deep in a call (training, generation, materializing) reports
to the reporter made current with :func:`using`; with none current, :func:`phase` reports nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

DURATIONS_FILE = "phase-durations.json"
#: durations kept per key (the estimate is their median)
KEEP = 5
#: seconds between two progress lines of one phase (steps trained, answers generated); $DYAG_PROGRESS_EVERY
PROGRESS_EVERY = 30.0

_current: contextvars.ContextVar["PhaseReporter | None"] = contextvars.ContextVar("dyag_phase_reporter", default=None)
_phase: contextvars.ContextVar["Phase | None"] = contextvars.ContextVar("dyag_phase", default=None)


def format_duration(seconds: float) -> str:
    """A short human duration.

    >>> format_duration(0.42), format_duration(42.4), format_duration(102), format_duration(3725)
    ('0.4 s', '42 s', '1 min 42 s', '1 h 2 min')
    """
    if round(seconds, 1) < 10:
        return f"{seconds:.1f} s"
    total = round(seconds)
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def stderr_line(line: str) -> None:
    """Write ``line`` to standard error (the real one when something captures ``sys.stderr``)."""
    stream = sys.stderr or sys.__stderr__
    if stream is None:
        return
    stream.write(line + "\n")
    stream.flush()


class PhaseReporter:
    """Writes phase lines through ``write`` and keeps the phases' durations in ``store`` (a JSON file).

    ``label`` starts every line (``dyag``; ``dyag [gw0]`` on a pytest-xdist worker).
    """

    def __init__(self, write: Callable[[str], None] | None = None, *, store: str | Path | None = None,
                 label: str = "dyag", clock: Callable[[], float] = time.monotonic):
        self.write = write or stderr_line
        self._store = Path(store) if store is not None else None
        self.label = label
        self.clock = clock

    @property
    def store(self) -> Path:
        if self._store is None:
            from dyag.utils.paths import dyag_home

            return dyag_home() / DURATIONS_FILE
        return self._store

    def phase(self, name: str, subject: str, *, detail: str = "", env: str = "", size: str = "",
              units: int | None = None) -> "Phase":
        """A :class:`Phase` (a context manager) of this reporter."""
        return Phase(self, name, subject, detail=detail, env=env, size=size, units=units)

    def line(self, text: str) -> None:
        try:
            self.write(f"{self.label}: {text}")
        except Exception:  # noqa: BLE001 - a progress line never fails the run
            pass

    # --- recorded durations -----------------------------------------------------------------
    def _read(self) -> dict:
        try:
            data = json.loads(self.store.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def estimate(self, key: str, units: int | None = None) -> tuple[float, int] | None:
        """``(seconds, runs it comes from)`` for ``key``, or None when nothing was recorded."""
        values = [v for v in self._read().get(key, []) if isinstance(v, (int, float)) and v >= 0]
        if not values:
            return None
        values.sort()
        mid = len(values) // 2
        median = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
        return (median * units if units else median), len(values)

    def record(self, key: str, seconds: float, units: int | None = None) -> None:
        """Keep ``seconds`` (per unit with ``units``) for ``key``; a store that cannot be written is skipped."""
        from dyag.errors import DyagError
        from dyag.utils.atomic import atomic_write_json

        value = seconds / units if units else seconds
        data = self._read()
        data[key] = ([v for v in data.get(key, []) if isinstance(v, (int, float))] + [round(value, 3)])[-KEEP:]
        with contextlib.suppress(DyagError, OSError, ValueError):
            atomic_write_json(self.store, data)


class Phase:
    """One step: its start line on entry, its done (or failed) line on exit; a done phase's duration is recorded."""

    def __init__(self, reporter: PhaseReporter, name: str, subject: str, *, detail: str = "", env: str = "",
                 size: str = "", units: int | None = None):
        self.reporter, self.name, self.subject, self.detail = reporter, name, subject, detail
        self.units = units if units and units > 0 else None
        per = "per unit" if self.units else ""
        self.key = "|".join((name, subject, env, size, per))
        self.started: float | None = None
        self.elapsed: float | None = None
        self._shown: float | None = None  # when the last progress line was written
        self._token = None

    def estimate_text(self) -> str:
        found = self.reporter.estimate(self.key, self.units)
        if found is None:
            return "no estimate yet"
        seconds, runs = found
        source = "the last run here" if runs == 1 else f"the last {runs} runs here"
        return f"estimate ~{format_duration(seconds)} from {source}"

    def __enter__(self) -> "Phase":
        detail = f"{self.detail}; " if self.detail else ""
        self.reporter.line(f"{self.subject}: {self.name}: start ({detail}{self.estimate_text()})")
        self.started = self._shown = self.reporter.clock()
        self._token = _phase.set(self)
        return self

    def progress(self, done: int, total: int, unit: str) -> None:
        """A line with the work done and what remains at this pace, at most every :data:`PROGRESS_EVERY`
        seconds (the first run of a machine has no recorded estimate; this one it always has)."""
        now = self.reporter.clock()
        if self.started is None or not 0 < done < total or now - self._shown < _progress_every():
            return
        self._shown = now
        spent = now - self.started
        left = spent / done * (total - done)
        self.reporter.line(f"{self.subject}: {self.name}: {done}/{total} {unit}, {format_duration(spent)} so far, "
                           f"~{format_duration(left)} left")

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._token is not None:
            _phase.reset(self._token)
            self._token = None
        self.elapsed = self.reporter.clock() - self.started
        took = format_duration(self.elapsed)
        if exc_type is None:
            self.reporter.line(f"{self.subject}: {self.name}: done in {took}")
            self.reporter.record(self.key, self.elapsed, self.units)
        elif issubclass(exc_type, Exception):
            self.reporter.line(f"{self.subject}: {self.name}: failed after {took}")
        else:  # KeyboardInterrupt, pytest's skip/fail outcomes, ...
            self.reporter.line(f"{self.subject}: {self.name}: stopped after {took}")


def _progress_every() -> float:
    try:
        return float(os.environ.get("DYAG_PROGRESS_EVERY", PROGRESS_EVERY))
    except ValueError:
        return PROGRESS_EVERY


def current() -> PhaseReporter | None:
    """The reporter made current by :func:`using`, or None."""
    return _current.get()


@contextlib.contextmanager
def using(reporter: PhaseReporter | None) -> Iterator[PhaseReporter | None]:
    """Make ``reporter`` the one :func:`phase` reports to, inside the block."""
    token = _current.set(reporter)
    try:
        yield reporter
    finally:
        _current.reset(token)


def phase(name: str, subject: str, **kwargs) -> contextlib.AbstractContextManager:
    """A :class:`Phase` of the current reporter; with none current, a block that reports nothing."""
    reporter = current()
    return reporter.phase(name, subject, **kwargs) if reporter is not None else contextlib.nullcontext()


def advance(done: int, total: int, unit: str) -> None:
    """Report progress to the phase running in this context, if any (see :meth:`Phase.progress`).

    >>> lines = []
    >>> ticks = iter([0.0, 40.0, 45.0, 50.0])
    >>> reporter = PhaseReporter(lines.append, store="/nonexistent/d.json", clock=lambda: next(ticks))
    >>> with using(reporter), phase("train", "m"):
    ...     advance(4, 10, "steps"); advance(5, 10, "steps")
    >>> lines[1:]
    ['dyag: m: train: 4/10 steps, 40 s so far, ~1 min left', 'dyag: m: train: done in 50 s']
    """
    running = _phase.get()
    if running is not None:
        running.progress(done, total, unit)
