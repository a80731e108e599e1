"""``dyag report``: render the HTML comparison report from results JSON files.

    dyag report runs/a/results.json runs/b/results.json -o reports/index.html --lang en
"""

from __future__ import annotations

import argparse

LANGS = ("fr", "en")


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "report",
        help="render the HTML comparison report from results JSON files",
        description=(
            "Merge one or more results JSON files (later files win for a system present in "
            "several) into one self-contained HTML report."
        ),
    )
    parser.add_argument("results", nargs="+", metavar="RESULTS.json", help="results files (schema v1)")
    parser.add_argument(
        "-o", "--output", default="reports/index.html", help="HTML file to write (default: %(default)s)"
    )
    parser.add_argument("--lang", choices=LANGS, default="fr", help="report language (default: %(default)s)")
    parser.add_argument("--title", default=None, help="page title (default: a title in --lang)")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace --output even if it is not a dyag report"
    )
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from dyag.report.render import render_report

    path = render_report(args.results, args.output, lang=args.lang, title=args.title, overwrite=args.overwrite)
    print(path)
    return 0
