"""``dyag agreement``: how far dyag's quality score agrees with people's ratings of the answers.

    dyag agreement reports/index.json ratings-alice.jsonl ratings-bob.jsonl --json agreement.json

The ratings come from the HTML report's "Export ratings" button (one JSON object a line:
``id``, ``system``, ``answer_sha256``, ``rating`` correct|partly|wrong, ``comment``, ``rater``).
Per system and overall: Spearman and Kendall (tau-b) correlations of the score with the
ratings, with bootstrap 95% intervals, and the confusion of ``score >= --threshold`` with
"rated correct"; then the stale ratings (the answer changed since) and the worst disagreements.
Exit 0; 2 on bad input or when no rating matches an answer of the results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class AgreementConfig:
    """The results and ratings ``dyag agreement`` compares."""

    results: str = field(metadata={"help": "the results file the ratings judge", "positional": True,
                                   "metavar": "RESULTS.json"})
    ratings: list[str] = field(metadata={"help": "ratings JSONL files (later ratings of the same answer and rater win)",
                                         "positional": True, "metavar": "RATINGS.jsonl"})
    threshold: float = field(default=5.0, metadata={
        "help": "a score at or above it counts as dyag saying 'correct' (confusion counts)"})
    json: str | None = field(default=None, metadata={"help": "also write the agreement as JSON to this file",
                                                     "metavar": "OUT.json"})
    worst: int = field(default=5, metadata={"help": "how many of the largest disagreements to list"})


def run(config: AgreementConfig) -> int:
    from dyag.errors import DyagError
    from dyag.evaluation.agreement import agreement, read_ratings
    from dyag.results import read

    if config.worst < 0:
        raise DyagError(f"--worst must be 0 or more, got {config.worst}")
    if not math.isfinite(config.threshold):  # nan compares false with every score; not JSON either
        raise DyagError(f"--threshold must be a finite number, got {config.threshold}")
    results = read(config.results)
    ratings = read_ratings(config.ratings)
    found = agreement(results, ratings, threshold=config.threshold, worst=config.worst)
    if not found.n_used:
        why = (f"{len(found.stale)} stale (the answers changed since they were rated)" if found.stale
               else "none of their (id, system) is in the results")
        raise DyagError(f"no rating in {', '.join(config.ratings)} matches an answer of {config.results} "
                        f"({len(ratings)} rating(s); {why})")
    if config.json:
        from dyag.utils.atomic import atomic_write_json

        atomic_write_json(config.json, {"results": config.results, "ratings": list(config.ratings),
                                        **found.to_json()})
    print(format_agreement(found))
    return 0


def _corr(value: float | None, ci: tuple[float, float] | None) -> str:
    if value is None:
        return "-"
    return f"{value:+.3f}" + (f" [{ci[0]:+.2f}–{ci[1]:+.2f}]" if ci else "")


def format_agreement(found) -> str:
    """The agreement as a fixed-width table per system and overall, then stale counts and the worst cases."""
    from dyag.utils.text import sanitize_terminal

    def clean(text: str) -> str:
        return sanitize_terminal(text, single_line=True)

    header = ("system", "n", "Spearman [95% CI]", "Kendall [95% CI]", "tp", "fp", "fn", "tn")
    blocks = [*found.systems.items(), ("overall", found.overall)]
    table = [header] + [(clean(name), str(s.n), _corr(s.spearman, s.spearman_ci95), _corr(s.kendall, s.kendall_ci95),
                         *(str(getattr(s.confusion, k)) for k in ("tp", "fp", "fn", "tn"))) for name, s in blocks]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
             .rstrip() for row in table]
    lines.append(f"confusion: score >= {found.threshold:g} (dyag says correct) against rated correct; "
                 f"{found.n_used} rating(s) used")
    lines.append(f"stale: {len(found.stale)} rating(s) of answers that changed since (not used)")
    if found.unmatched:
        lines.append(f"unmatched: {len(found.unmatched)} rating(s) of answers not in the results")
    if found.unscored:
        lines.append(f"unscored: {len(found.unscored)} rated answer(s) without a score")
    if found.overall.worst:
        lines.append("worst disagreements:")
        for d in found.overall.worst:
            lines.append(f"  {clean(d.id)}  {clean(d.system)}  score {d.score:.1f}  rated {d.rating}"
                         + (f" ({d.value:.2f})" if d.value not in (0.0, 0.5, 1.0) else ""))
            lines.append(f"    answer: {clean(d.answer)}")
            if d.comment:
                lines.append(f"    comment: {clean(d.comment)}")
    return "\n".join(lines)
