"""``dyag init``: a starter configuration and test module in the current folder.

    dyag init --kb data/applications_rag_optimal.jsonl --golden golden/questions.jsonl

Writes a ``[tool.dyag]`` section into ``pyproject.toml`` (appended; ``dyag.toml`` when the folder
has no ``pyproject.toml``) and ``benchmarks/test_dyag.py``, refusing to overwrite either. Then
``pytest benchmarks --dyag-update-baseline`` measures the first baseline and ``pytest benchmarks``
gates against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

TEST_MODULE = '''"""dyag's built-in gates on this project's catalog and golden questions ([tool.dyag] in {config})."""

from dyag.suites import *  # noqa: F401,F403

# Add your own tests here; the fixtures dyag_model, dyag_system, dyag_scored, dyag_predictions(system),
# dyag_golden_cases, dyag_finetuned, dyag_gate and dyag_results are available.
'''

SECTION = """{header}
kb = {kb}
golden = [{golden}]
models = ["smollm2:135m"]                # registry shortcuts, hub ids or model folders
systems = ["base", "finetuned", "rag"]
baseline = "golden/baselines"             # stored baselines, one per model and environment
report = "reports/index.html"

{prefix}train]                          # the recipe: dyag's defaults (README, "Configuration reference")
{recipe}

{prefix}gates]                          # thresholds; per system kind: [{table}gates.rag]
{gates}

# Servers dyag answers through: add "base@NAME", "finetuned@NAME" or "service@NAME" to systems
# (README, "Serve and scale").
# {prefix}endpoints.llamacpp]            # a llama.cpp server dyag starts on loopback for the run
# serve = "llama.cpp"
# {prefix}endpoints.vllm]                # a running OpenAI-compatible server
# url = "http://127.0.0.1:8000/v1"
# base = "Qwen/Qwen2.5-1.5B-Instruct"    # served names
# finetuned = "qwen-catalogue"
# api_key_env = "VLLM_API_KEY"
"""


def render_section(**values) -> str:
    """The ``[tool.dyag]`` section, its recipe and gates written from :mod:`dyag.settings`' definitions."""
    from dyag.settings.views import init_gate_lines, init_recipe_lines

    return SECTION.format(recipe="\n".join(init_recipe_lines()), gates="\n".join(init_gate_lines()), **values)


@dataclass
class InitConfig:
    """Where ``dyag init`` writes, and the catalog and golden sets its configuration names."""

    kb: str | None = field(default=None, metadata={"help": "the catalog (default: dyag's sample)", "metavar": "KB.jsonl"})
    golden: list[str] | None = field(default=None, metadata={
        "help": "a golden set (repeatable; default: golden/questions.jsonl, to write)", "repeat": True,
        "metavar": "G.jsonl"})
    dir: str = field(default=".", metadata={"help": "the project folder (default: the current one)"})


def _relative(path: str, root: Path) -> str:
    from dyag.errors import DyagError

    target = Path(path)
    full = target if target.is_absolute() else Path.cwd() / target
    if not full.is_file():
        raise DyagError(f"file not found: {path}")
    try:
        return full.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return full.resolve().as_posix()


def run(config: InitConfig) -> int:
    from dyag.errors import DyagError
    from dyag.utils.atomic import atomic_write_text

    root = Path(config.dir)
    if not root.is_dir():
        raise DyagError(f"--dir {root}: not a folder")
    pyproject, dyag_toml, test_module = root / "pyproject.toml", root / "dyag.toml", root / "benchmarks" / "test_dyag.py"
    if dyag_toml.exists():
        raise DyagError(f"{dyag_toml} exists: dyag init does not overwrite it")
    if pyproject.is_file() and "[tool.dyag" in pyproject.read_text(encoding="utf-8"):
        raise DyagError(f"{pyproject} already has a [tool.dyag] section: dyag init does not overwrite it")
    if test_module.exists():
        raise DyagError(f"{test_module} exists: dyag init does not overwrite it")
    from dyag.settings.views import toml_value

    kb = toml_value(_relative(config.kb, root)) if config.kb else '"sample"  # dyag\'s sample catalog; your JSONL here'
    golden = ", ".join(toml_value(_relative(g, root)) for g in config.golden) if config.golden else \
        '"golden/questions.jsonl"'
    if pyproject.is_file():
        target, table = pyproject, "tool.dyag."
        section = render_section(header="[tool.dyag]", prefix="[tool.dyag.", table=table, kb=kb, golden=golden)
        text = pyproject.read_text(encoding="utf-8")
        atomic_write_text(pyproject, text + ("" if text.endswith("\n") else "\n") + "\n" + section)
    else:
        target = dyag_toml
        section = render_section(header="# dyag's configuration (the keys of [tool.dyag] in a pyproject.toml)",
                                 prefix="[", table="", kb=kb, golden=golden)
        atomic_write_text(dyag_toml, section)
    test_module.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(test_module, TEST_MODULE.format(config=target.name))
    print(f"wrote {target} ([tool.dyag]) and {test_module}")
    if not config.golden:
        print("next: write golden/questions.jsonl (one {\"id\", \"question\", \"reference\", \"facts\", \"kb_ids\"} a line)")
    print("then: pytest benchmarks --dyag-update-baseline   # train, answer, measure the first baseline")
    print("      pytest benchmarks                          # the gate: compares with the baseline")
    return 0
