"""The ``dyag`` command line: a thin front end over :mod:`dyag.api`.

Each subcommand lives in ``dyag/commands/<name>.py`` and exposes
``register(subparsers)``, which adds its parser and sets ``func(args) -> int``.
Heavy libraries are imported inside ``func`` so ``dyag --help`` is instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from dyag import __version__
from dyag.errors import DyagError

COMMANDS = (
    "generate_training",
    "models",
    "finetune",
    "query",
    "score",
    "evaluate",
    "report",
    "compare",
    "init",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dyag",
        description="Fine-tune small LLMs on a knowledge base, compare with RAG, and gate answer quality.",
    )
    parser.add_argument("--version", action="version", version=f"dyag {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"dyag.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"dyag.commands.{name}":
                continue  # command not built yet
            raise
        module.register(sub)
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
