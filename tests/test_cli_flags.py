"""Every command's flags, the perf benchmark's and the pytest plugin's come from config dataclasses through
one derivation (dyag.utils.options.option_specs): help and default on every flag, one spelling each."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from dyag.cli import build_parser, main
from dyag.utils.options import SPEC_KEYS, build_config, cli_fields, option_specs
from tests.helpers import ROOT

pytest_plugins = ["pytester"]


def _command_parsers(parser: argparse.ArgumentParser, prefix: str = "dyag"):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield f"{prefix} {name}", sub
                yield from _command_parsers(sub, f"{prefix} {name}")


def test_every_flag_of_every_command_has_help():
    seen = []
    for name, parser in _command_parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            assert action.help, f"{name} {action.option_strings or action.dest}: no help"
            seen.append((name, action.option_strings[-1] if action.option_strings else action.dest))
    assert {("dyag evaluate-finetuned", "--no-bertscore"), ("dyag evaluate-finetuned", "--no-cache")} <= set(seen)
    assert ("dyag evaluate-finetuned", "--model") in seen and ("dyag report", "--output") in seen
    assert ("dyag models pull", "name") in seen and ("dyag compare", "baseline") in seen


@pytest.mark.parametrize("command", ["evaluate-finetuned", "query-finetuned", "score", "compare", "finetune"])
def test_help_shows_each_default(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    from dyag.inference.generator import GENERATION_BATCH

    if command in ("evaluate-finetuned", "query-finetuned"):
        assert "--max-new-tokens MAX_NEW_TOKENS longest answer, in tokens (default: 128)" in text
        assert f"(default: {GENERATION_BATCH})" in text
    if command == "evaluate-finetuned":
        assert "--cache, --no-cache" in text and "(default: base,finetuned,rag)" in text
    if command == "score":
        assert "--predictions P.jsonl" in text and "(required)" in text


def test_option_specs_are_plain_add_argument_keywords():
    from dyag.session import SessionOptions

    for cls in (SessionOptions,):
        for flags, kwargs in option_specs(cls, prefix="--dyag-", dest_prefix="dyag_"):
            assert set(kwargs) <= set(SPEC_KEYS) and kwargs["default"] is None
            assert all(f.startswith("--dyag-") for f in flags)
    flags = [f for fl, _ in option_specs(SessionOptions, prefix="--dyag-") for f in fl]
    assert "--dyag-baseline" in flags and "--dyag-cache" in flags and "--dyag-rootdir" not in flags
    internal = {"rootdir", "project", "recipe"}  # set by the plugin and by dyag sweep, not options
    assert [f.name for f, _ in cli_fields(SessionOptions)] == [
        f.name for f in dataclasses.fields(SessionOptions) if f.name not in internal]


def test_a_switch_that_defaults_on_can_be_turned_off():
    from dyag.training.config import FinetuneConfig

    parser = build_parser()
    base = ["finetune", "--dataset", "d.jsonl", "--output", "out"]
    assert build_config(FinetuneConfig, parser.parse_args(base)).padding_free is True
    assert build_config(FinetuneConfig, parser.parse_args([*base, "--no-padding-free"])).padding_free is False


def test_missing_options_are_one_line_errors(capsys):
    assert main(["score", "--golden", "g.jsonl"]) == 2
    err = capsys.readouterr().err
    assert err == "dyag: error: missing required option(s): --predictions, --output\n"


def test_perf_flags_come_from_perf_config(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks.perf.bench import QUICK, PerfConfig, parse_args
    from dyag.inference.generator import GENERATION_BATCH

    config, run = parse_args([])
    assert config == PerfConfig() and config.gen_batch == GENERATION_BATCH and not run.quick
    config, run = parse_args(["--quick", "--reps", "2", "--sections", "train,growth", "--workdir", "w"])
    assert (config.reps, config.questions, config.sections, run.workdir) == (2, QUICK["questions"], ("train", "growth"), "w")
    with pytest.raises(SystemExit):
        parse_args(["--sections", "nope"])


def test_plugin_options_read_flags_then_ini_then_dataclass_defaults(pytester, isolated_home):
    pytester.makeini("[pytest]\ndyag_models = tiny-random\ndyag_seed = 7\ndyag_no_cache = true\n")
    pytester.makepyfile(test_options="""
        def test_options(request):
            o = request.config.pluginmanager.get_plugin("dyag_session").options
            print("OPTIONS", o.models, o.seed, o.no_cache, o.baseline_dir, o.gen_batch, o.systems, o.degrade)
    """)
    result = pytester.runpytest_inprocess("-s", "-p", "no:cacheprovider", "--dyag-gen-batch", "3",
                                          "--dyag-degrade", "english")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*OPTIONS ('tiny-random',) 7 True golden/baselines 3 ('base', 'finetuned', 'rag') english*"])
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--dyag-seed", "x")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--dyag-degrade", "nope")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
