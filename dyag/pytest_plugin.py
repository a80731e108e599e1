"""dyag's pytest plugin: benchmark suites parameterized over base models.

Hooks only; the state lives in :class:`dyag.session.DyagSession`, registered with
the plugin manager as ``dyag_session``. Options (also ``dyag_*`` ini keys), one per
:class:`dyag.session.SessionOptions` field (its metadata: help, spelling, choices; its default)::

    --dyag-models a,b          base models (default: the embedded ones)
    --dyag-profile quick|full  how much to train and ask
    --dyag-systems ...         base,finetuned,rag,rag+finetuned
    --dyag-golden FILE[,FILE]  golden sets (default: the profile's)
    --dyag-baseline DIR        stored baselines (default golden/baselines)
    --dyag-update-baseline     rewrite the baselines from this run
    --dyag-report PATH         HTML report (results JSON beside it)
    --dyag-summary PATH        the run's verdict as markdown (also appended to $GITHUB_STEP_SUMMARY when set)
    --dyag-cache DIR           cache root (default $DYAG_HOME)
    --dyag-no-cache            retrain and regenerate everything
    --dyag-precision P         training precision (auto, fp32, bf16, ...); part of the baseline key
    --dyag-strict              new per-case rule failures fail (same-environment baseline only)
    --dyag-require-baseline    no baseline, or a model that cannot load, fails instead of skipping (CI)
    --dyag-degrade NAME        train on deliberately bad data, to check that the gates catch it

Everything the plugin adds to a pytest run is named ``dyag*``, so that installing dyag changes no
other project's tests: the fixtures ``dyag_session``, ``dyag_model``, ``dyag_system``,
``dyag_scored``, ``dyag_golden_cases``, ``dyag_finetuned``, ``dyag_predictions``, ``dyag_results``
and ``dyag_gate``, and the one marker ``dyag_bench``. It imports neither torch nor transformers
while pytest collects. (``slow`` and ``gpu`` are dyag's own test suite's markers: its top-level
``conftest.py`` and ``pyproject.toml``.) The fixtures' former names ``golden_cases``, ``finetuned``
and ``predictions`` are deprecated aliases for one release: they return the same thing and emit a
``DeprecationWarning`` naming the new fixture.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

def _options() -> list[tuple[list[str], dict]]:
    """``--dyag-<field>`` per :class:`dyag.session.SessionOptions` field: help, spelling, type and choices
    come from the field's metadata, the default from the dataclass (one derivation with the CLI's)."""
    from dyag.session import SessionOptions
    from dyag.utils.options import option_specs

    return option_specs(SessionOptions, prefix="--dyag-", dest_prefix="dyag_")


def _ini_name(flags: list[str]) -> str:
    """``--dyag-baseline`` -> ``dyag_baseline``: the ini key beside each option."""
    return flags[-1].lstrip("-").replace("-", "_")


def pytest_addoption(parser):
    group = parser.getgroup("dyag", "dyag benchmark harness")
    for flags, kwargs in _options():
        group.addoption(*flags, **kwargs)
        switch = kwargs.get("action") == "store_true"
        parser.addini(_ini_name(flags), kwargs["help"].replace("%%", "%"), type="bool" if switch else None,
                      default=False if switch else None)


def _given_options(config) -> tuple[dict, dict]:
    """The SessionOptions fields given as ``--dyag-*`` options, and those given as ``dyag_*`` ini keys
    (two layers for :func:`dyag.settings.layered`; empty values are not given)."""
    from dyag.utils.options import is_empty, parse_option_text

    cli, ini = {}, {}
    for flags, kwargs in _options():
        name = kwargs["dest"].removeprefix("dyag_")
        value = config.getoption(kwargs["dest"])
        if not is_empty(value):
            cli[name] = value
        text = config.getini(_ini_name(flags))
        if not is_empty(text):
            ini[name] = text if kwargs.get("action") == "store_true" else parse_option_text(kwargs, text, name=_ini_name(flags))
    return cli, ini


def pytest_configure(config):
    config.addinivalue_line("markers", "dyag_bench: a dyag benchmark gate")
    if os.environ.get("DYAG_PLUGIN_OFF") or config.pluginmanager.has_plugin("dyag_session"):
        return
    from dyag.settings import load_config
    from dyag.errors import DyagError
    from dyag.session import DyagSession, session_options

    try:
        project = load_config(config.rootpath)
        options = session_options(*_given_options(config), project=project, rootdir=str(config.rootpath))
    except DyagError as exc:
        raise pytest.UsageError(f"dyag: {exc}") from None
    workerinput = getattr(config, "workerinput", {})
    session = DyagSession(options, worker=workerinput.get("workerid", "main"))
    session.reporter = _phase_reporter(config, session.worker)
    if project.path is not None or options.golden:
        try:  # a project's inputs are checked before anything trains: missing or empty files are usage errors
            session.golden_cases()
            session.kb()
        except DyagError as exc:
            raise pytest.UsageError(f"dyag: {exc}") from None
    if "dyag_run_dir" in workerinput:
        session.run_dir = Path(workerinput["dyag_run_dir"])
    else:
        from dyag.parts import new_run_dir

        session.run_dir = new_run_dir(session.cache_root)
    config.pluginmanager.register(session, "dyag_session")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """xdist controller: tell each worker where to put its part of the results."""
    session = _session(node.config)
    if session is not None:
        node.workerinput["dyag_run_dir"] = str(session.run_dir)


def _session(config):
    return config.pluginmanager.get_plugin("dyag_session")


def _phase_reporter(config, worker: str):
    """The session's phase lines (:mod:`dyag.progress`), written past pytest's capture so that they reach
    the log while the fixtures train and generate: through the terminal reporter, on a line of their own
    (not after the progress dots). A pytest-xdist worker's terminal output never reaches the controller:
    there they go, tagged with the worker's id, to the worker's standard error, which the controller's
    process shares (so they reach the log too, though not in step with the controller's dots)."""
    import contextlib
    import sys

    from dyag.progress import PhaseReporter

    def write(line: str) -> None:
        capture = config.pluginmanager.get_plugin("capturemanager")
        terminal = config.pluginmanager.get_plugin("terminalreporter")
        with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
            if terminal is None or worker != "main":
                sys.stderr.write(line + "\n")
                sys.stderr.flush()
                return
            _fresh_line(terminal)
            terminal.write_line(line)
            terminal.flush()  # CI logs are files: buffered output would show up only at the end

    return PhaseReporter(write, label="dyag" if worker == "main" else f"dyag [{worker}]")


def _fresh_line(terminal) -> None:
    """End the terminal reporter's current line, if anything is on it: a file's name and its dots
    (``ensure_newline``), or the bare dots and ``[100%]`` of ``-q``."""
    terminal.ensure_newline()
    writer = getattr(terminal, "_tw", None)
    if writer is not None and writer.width_of_current_line:
        writer.line()


def pytest_generate_tests(metafunc):
    session = _session(metafunc.config)
    if session is None:
        return
    if "dyag_model" in metafunc.fixturenames:
        models = list(session.options.models)
        metafunc.parametrize("dyag_model", models, ids=models, indirect=True, scope="session")
    if "dyag_system" in metafunc.fixturenames:
        systems = list(session.options.systems)
        metafunc.parametrize("dyag_system", systems, ids=systems)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    config = session.config
    dyag = _session(config)
    if dyag is None:
        return
    run_dir = dyag.run_dir
    interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
    if dyag.has_results():
        dyag.dump(run_dir, incomplete=interrupted)
    if dyag.worker != "main" or not run_dir.is_dir():
        return
    from dyag.parts import merge_parts

    merged = merge_parts(run_dir, incomplete=interrupted, started=dyag.started)
    dyag.merged = merged
    _write_outputs(config, dyag, merged)


def _write_outputs(config, dyag, merged) -> None:
    from dyag import results
    from dyag.errors import DyagError

    target = dyag.options.report
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    json_path = Path(target).with_suffix(".json") if target else dyag.cache_root / "bench" / "last-results.json"
    calibration = json_path.parent / "calibration.json"
    if target and calibration.is_file():  # written by `make calibrate`: shown in the report
        try:
            merged = merged.replace(calibration=results.read(calibration).calibration)
        except DyagError:
            pass
    try:
        results.write(json_path, merged)
        lines = [f"dyag: results {json_path} ({len(merged.cases)} answers, {len(merged.tests)} gate records)"]
        if target:
            from dyag.report.render import render_report

            render_report([merged], target, lang="fr", overwrite=True)
            lines.append(f"dyag: report {target}")
        if merged.run.incomplete:
            lines.append("dyag: the run was interrupted: results are marked incomplete")
    except DyagError as exc:
        lines = [f"dyag: could not write the results: {exc}"]
    else:
        lines += write_summaries(merged, source=str(json_path), report=target, path=dyag.options.summary)
        if target:
            lines.append(f"dyag: open the report: python -m webbrowser {target}")
    if reporter is not None:
        _fresh_line(reporter)
        for line in lines:
            reporter.write_line(line)


def write_summaries(merged, *, source: str, report: str | None, path: str | None,
                    environ: dict | None = None) -> list[str]:
    """The run's markdown summary (:mod:`dyag.summary`) appended to ``$GITHUB_STEP_SUMMARY`` when it is set
    (as GitHub Actions expects: each step appends) and written to ``path`` (``--dyag-summary``) when given;
    the lines saying where it went (or why it could not)."""
    environ = os.environ if environ is None else environ
    step_summary = environ.get("GITHUB_STEP_SUMMARY")
    if not step_summary and not path:
        return []
    from dyag.errors import DyagError
    from dyag.summary import summarize, to_markdown

    try:
        text = to_markdown(summarize(merged, source=source, report=report))
    except DyagError as exc:
        return [f"dyag: could not summarize the results: {exc}"]
    lines = []
    for target, mode, label in ((step_summary, "a", "$GITHUB_STEP_SUMMARY"), (path, "w", None)):
        if not target:
            continue
        try:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            with open(target, mode, encoding="utf-8") as out:
                out.write(text + "\n")
            lines.append(f"dyag: summary {label or target}" + (f" ({target})" if label else ""))
        except OSError as exc:
            lines.append(f"dyag: could not write the summary to {label or target}: {exc.strerror or exc}")
    return lines


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    dyag = _session(config)
    if dyag is None or dyag.worker != "main":
        return
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if "dyag:" in str(getattr(r, "longrepr", ""))]
    reasons = sorted({str(r.longrepr[2]) for r in skipped if isinstance(r.longrepr, tuple)})
    if reasons:
        terminalreporter.section("dyag: skipped models")
        for reason in reasons:
            terminalreporter.write_line(reason)
    if dyag.merged is not None and dyag.merged.cases:
        from dyag.evaluation.table import format_table

        terminalreporter.section("dyag: results")
        for line in format_table(dyag.merged).splitlines():
            terminalreporter.write_line(line)
    regressions = (dyag.merged.regression if dyag.merged is not None else None) or dyag.regressions
    if regressions:
        from dyag.baselines import baseline_note
        from dyag.utils.text import sanitize_terminal

        terminalreporter.section("dyag: baselines")
        for model, block in sorted(regressions.items()):
            terminalreporter.write_line(f"{model}: {baseline_note(block)}")
            flips = block.new_rule_failures
            if flips:
                fatal = "fail the gate" if block.strict else "listed, not fatal"
                terminalreporter.write_line(f"  {len(flips)} rule(s) newly failing on single cases ({fatal}):")
                for f in flips[:10]:
                    terminalreporter.write_line("    " + sanitize_terminal(
                        f"{f.system} {f.id}: {f.rule}: {f.message}", single_line=True))


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def dyag_session(request):
    session = _session(request.config)
    if session is None:
        pytest.skip("the dyag plugin is disabled (DYAG_PLUGIN_OFF)")
    return session


@pytest.fixture(scope="session")
def dyag_model(request, dyag_session):
    """The base model under test (parametrized over --dyag-models); skipped if it cannot load here."""
    model = request.param
    ok, reason = dyag_session.availability(model)
    if not ok:
        if dyag_session.options.require_baseline:
            pytest.fail(f"dyag: {model}: {reason} (--dyag-require-baseline: a model that cannot load fails)")
        pytest.skip(f"dyag: {model}: {reason}")
    return model


@pytest.fixture(scope="session")
def dyag_golden_cases(dyag_session):
    """The golden cases of the run (``--dyag-golden``, else the profile's)."""
    return dyag_session.golden_cases()


@pytest.fixture()
def dyag_finetuned(dyag_session, dyag_model):
    """The fine-tuned adapter for ``dyag_model`` (trained once, through the adapter cache)."""
    return dyag_session.finetuned(dyag_model)


@pytest.fixture()
def dyag_scored(dyag_session, dyag_model):
    """Scored results (a :class:`dyag.results.Results`) of every system for ``dyag_model``."""
    return dyag_session.results(dyag_model)


@pytest.fixture()
def dyag_predictions(dyag_session, dyag_model):
    """``dyag_predictions(system)`` -> the scored answer rows of ``<model>/<system>``."""

    def get(system: str) -> list[dict]:
        return dyag_session.predictions(dyag_model, system)

    return get


class ResultsRecorder:
    """What a test measured, for the merged results and the report."""

    def __init__(self, session, nodeid: str):
        self._session, self._nodeid = session, nodeid

    def record(self, **data) -> None:
        self._session.record(self._nodeid, data)


@pytest.fixture()
def dyag_results(dyag_session, request):
    return ResultsRecorder(dyag_session, request.node.nodeid)


@pytest.fixture()
def dyag_gate(dyag_session, dyag_model, request):
    """``dyag_gate(name)`` -> the threshold of gate ``name`` for the model and system under test
    (``[tool.dyag.gates]``, per model and system kind, over dyag's defaults)."""
    from dyag.gates import gate_value

    kind = request.getfixturevalue("dyag_system") if "dyag_system" in request.fixturenames else "finetuned"

    def threshold(name: str):
        return gate_value(name, kind=kind, model=dyag_model, gates=dyag_session.options.project.gates)

    return threshold


# --- deprecated fixture names (removed in the next release) ---------------------------------


def _renamed(request, old: str, new: str) -> None:
    """Warn that fixture ``old`` is now ``new``: a ``DeprecationWarning`` located at the test that asked for
    it (pytest lists it in the warnings summary; ``-W error::DeprecationWarning`` makes it fail)."""
    message = f"dyag's fixture {old!r} is deprecated and goes in the next release: use {new!r}"
    item = request.node if isinstance(request.node, pytest.Item) else None
    if item is None:  # a session-scoped alias: the first test that asks for it
        item = getattr(request, "_pyfuncitem", None)
    if not isinstance(item, pytest.Item):  # no test to point at: the alias itself
        warnings.warn(message, DeprecationWarning, stacklevel=2)
        return
    path, lineno, _ = item.reportinfo()
    warnings.warn_explicit(message, DeprecationWarning, filename=str(path), lineno=(lineno or 0) + 1,
                           module=Path(str(path)).stem)


@pytest.fixture(scope="session")
def golden_cases(request, dyag_golden_cases):
    """Deprecated: ``dyag_golden_cases``."""
    _renamed(request, "golden_cases", "dyag_golden_cases")
    return dyag_golden_cases


@pytest.fixture()
def finetuned(request, dyag_finetuned):
    """Deprecated: ``dyag_finetuned``."""
    _renamed(request, "finetuned", "dyag_finetuned")
    return dyag_finetuned


@pytest.fixture()
def predictions(request, dyag_predictions):
    """Deprecated: ``dyag_predictions``."""
    _renamed(request, "predictions", "dyag_predictions")
    return dyag_predictions
