"""The ``dyag`` command line: a thin front end over :mod:`dyag.api`.

Each subcommand lives in a module of ``dyag/commands/`` (listed in :data:`COMMANDS` with its
one-line help), whose docstring is the command's description and whose ``run(config: SomeConfig,
...) -> int`` takes the configuration dataclasses whose fields are the flags
(:func:`dyag.utils.options.add_command`). Optional module attributes: ``YAML_CONFIG`` (``--config
FILE.yaml`` fills the first configuration), ``ACTIONS``
(sub-subcommands: name -> (run, help)). Heavy libraries are imported inside ``run`` so ``dyag
--help`` is instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from dyag import __version__
from dyag.errors import DyagError

#: command -> (module in dyag/commands, one-line help)
COMMANDS = {
    "generate-training": ("generate_training", "make a French Q/A training set (and a golden test set) from a knowledge base"),
    "models": ("models", "list the known base models, or pull one for offline use"),
    "finetune": ("finetune", "train a LoRA adapter on a training set"),
    "query-finetuned": ("query", "answer questions with a base model and an optional LoRA adapter"),
    "score": ("score", "score stored predictions (BLEU, ROUGE, BERTScore, fact recall, format rules)"),
    "evaluate-finetuned": ("evaluate", "answer a golden set with base, finetuned and RAG systems and score them"),
    "report": ("report", "render the HTML comparison report from results JSON files"),
    "sweep": ("sweep", "train and evaluate a grid of recipes on one model, and rank them by a metric per split"),
    "compare": ("compare", "compare two results files (baseline, current): exit 1 on a significant regression"),
    "summary": ("summary", "the verdict of a results file in a few lines: failed gates, regressions, winner, facts per split"),
    "agreement": ("agreement", "how far dyag's score agrees with people's ratings of the answers (Spearman, Kendall)"),
    "export-gguf": ("export_gguf", "convert a LoRA adapter to GGUF for llama.cpp's server (vLLM serves the adapter as it is)"),
    "init": ("init", "write a starter [tool.dyag] configuration and benchmarks/test_dyag.py here"),
}


class DyagArgumentParser(argparse.ArgumentParser):
    """argparse, with its error line made safe for a terminal: an argument it quotes back (an unknown flag,
    one value too many) keeps to one line without control characters. Subcommands inherit the class."""

    def error(self, message: str):
        from dyag.utils.text import sanitize_terminal

        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {sanitize_terminal(message, single_line=True)}\n")


def build_parser() -> argparse.ArgumentParser:
    from dyag.utils.options import add_command

    parser = DyagArgumentParser(
        prog="dyag",
        description="Fine-tune small LLMs on a knowledge base, compare with RAG, and gate answer quality.",
    )
    parser.add_argument("--version", action="version", version=f"dyag {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        try:
            module = importlib.import_module(f"dyag.commands.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"dyag.commands.{module_name}":
                continue  # command not built yet
            raise
        add_command(sub, name, getattr(module, "run", None), help=help_text, description=module.__doc__,
                    yaml_config=getattr(module, "YAML_CONFIG", False),
                    actions=getattr(module, "ACTIONS", None))
    return parser


def quiet_libraries() -> None:
    """Keep the terminal for dyag's own output: no weight-loading bars or library deprecation noise."""
    import logging
    import os
    import warnings

    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"(transformers|trl|peft)\b")
    logging.getLogger("datasets").setLevel(logging.ERROR)


def main(argv: list[str] | None = None) -> int:
    quiet_libraries()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except DyagError as exc:
        from dyag.utils.text import sanitize_terminal

        print(f"dyag: error: {sanitize_terminal(str(exc), single_line=True)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("dyag: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
