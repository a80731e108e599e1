"""How far dyag's quality score agrees with people: ratings of answers, read and compared.

A person rates answers in the HTML report (correct / partly / wrong) and exports a ratings
JSONL file, one :class:`Rating` a line. A rating names the answer it judged by its SHA-256:
when the answer changes (a new run), the old rating is *stale*, counted and never used.

>>> r = Rating(id="q1", system="m/rag", answer_sha256=answer_sha256("Oui."), rating="partly")
>>> RATING_VALUES[r.rating], r.rater
(0.5, '')
>>> answer_sha256("Oui.")[:12]
'3ef801402227'
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import asdict, dataclass, field
from typing import Iterable, Literal, Sequence

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from dyag.errors import DyagError

#: A rating's numeric value, on the score's scale divided by 10.
RATING_VALUES: dict[str, float] = {"correct": 1.0, "partly": 0.5, "wrong": 0.0}
RATINGS: tuple[str, ...] = tuple(RATING_VALUES)
ANSWER_EXCERPT = 300  # characters of an answer shown with a disagreement


def answer_sha256(text: str) -> str:
    """SHA-256 hex digest of the answer's UTF-8 text: what a rating names the answer by."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class Rating(BaseModel):
    """One line of a ratings JSONL file: a person's verdict on one answer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    system: str
    answer_sha256: str
    rating: Literal["correct", "partly", "wrong"]
    comment: str = ""
    rater: str = ""

    @field_validator("rating", mode="before")
    @classmethod
    def _known_rating(cls, value):
        if value not in RATING_VALUES:
            raise ValueError("rating must be correct, partly or wrong")
        return value

    @field_validator("answer_sha256", mode="before")
    @classmethod
    def _hex_digest(cls, value):
        if isinstance(value, str):
            value = value.strip().lower()
            if len(value) == 64 and all(c in "0123456789abcdef" for c in value):
                return value
        raise ValueError("answer_sha256 must be 64 hexadecimal characters (the SHA-256 of the answer)")

    @field_validator("id", "system")
    @classmethod
    def _not_empty(cls, value: str):
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @property
    def value(self) -> float:
        return RATING_VALUES[self.rating]

    @property
    def key(self) -> tuple[str, str]:
        return self.id, self.system


def _problem(exc: ValidationError) -> str:
    """The first validation error as ``field: message`` (one line)."""
    err = exc.errors()[0]
    name = ".".join(str(p) for p in err["loc"])
    if err["type"] == "missing":
        return f"missing field '{name}'"
    if err["type"] == "extra_forbidden":
        return f"unknown field '{name}' (known: {', '.join(Rating.model_fields)})"
    if err["type"] == "value_error" and name in ("rating", "answer_sha256"):
        return str(err["ctx"]["error"])
    return f"{name}: {err['msg'].removeprefix('Value error, ')}"


def read_ratings(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> list[Rating]:
    """The ratings of one or more JSONL files, in order; a later rating of the same
    ``(id, system, rater)`` replaces an earlier one. Errors are one line naming ``file:line``."""
    from dyag.utils.jsonl import iter_jsonl

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    latest: dict[tuple[str, str, str], Rating] = {}
    for path in paths:
        for lineno, obj in iter_jsonl(path, what="ratings file"):
            try:
                rating = Rating.model_validate(obj)
            except ValidationError as exc:
                raise DyagError(f"{path}:{lineno}: {_problem(exc)}") from None
            key = (rating.id, rating.system, rating.rater)
            latest.pop(key, None)  # the replacement takes the later position
            latest[key] = rating
    return list(latest.values())


# --- agreement ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Confusion:
    """``score >= threshold`` (dyag says good) against "rated correct" (people say good)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0


@dataclass(frozen=True)
class Disagreement:
    """A rated answer, with how far dyag's score (/10) is from the people's mean rating."""

    id: str
    system: str
    score: float
    rating: str  # the rating nearest the raters' mean
    value: float  # the raters' mean value (correct 1, partly 0.5, wrong 0)
    gap: float  # |score / 10 - value|
    answer: str  # cut to ANSWER_EXCERPT characters
    comment: str
    raters: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AgreementStats:
    """Rank agreement of dyag's score with the ratings over one set of rated answers."""

    n: int
    spearman: float | None
    spearman_ci95: tuple[float, float] | None
    kendall: float | None
    kendall_ci95: tuple[float, float] | None
    confusion: Confusion
    worst: list[Disagreement]

    def to_json(self) -> dict:
        return {"n": self.n, "spearman": self.spearman, "spearman_ci95": _pair(self.spearman_ci95),
                "kendall": self.kendall, "kendall_ci95": _pair(self.kendall_ci95),
                "confusion": asdict(self.confusion), "worst": [asdict(d) for d in self.worst]}


@dataclass(frozen=True)
class Agreement:
    """:func:`agreement`'s answer: per system and overall, plus what could not be used."""

    overall: AgreementStats
    systems: dict[str, AgreementStats]
    stale: list[tuple[str, str]]  # (id, system) rated on another answer text
    unmatched: list[tuple[str, str]]  # (id, system) with no case in the results
    unscored: list[tuple[str, str]]  # rated, but the case has no score
    n_used: int  # rating lines used (several raters of one answer count each)
    threshold: float
    resamples: int
    seed: int

    def to_json(self) -> dict:
        return {"overall": self.overall.to_json(),
                "systems": {name: stats.to_json() for name, stats in self.systems.items()},
                "n_used": self.n_used, "stale": [list(k) for k in self.stale],
                "unmatched": [list(k) for k in self.unmatched], "unscored": [list(k) for k in self.unscored],
                "threshold": self.threshold, "bootstrap": {"resamples": self.resamples, "seed": self.seed,
                                                           "confidence": 0.95}}


def _pair(ci: tuple[float, float] | None) -> list[float] | None:
    return None if ci is None else [ci[0], ci[1]]


def nearest_rating(value: float) -> str:
    """The rating whose value is nearest ``value`` (ties go up): 0.75 -> correct."""
    return "correct" if value >= 0.75 else "partly" if value >= 0.25 else "wrong"


def correlations(scores: Sequence[float], values: Sequence[float]) -> tuple[float | None, float | None]:
    """``(spearman, kendall tau-b)`` from scipy; ``None`` below 3 pairs or without variance."""
    from scipy import stats

    if len(scores) < 3 or len(set(scores)) < 2 or len(set(values)) < 2:
        return None, None
    rho = float(stats.spearmanr(scores, values).statistic)
    tau = float(stats.kendalltau(scores, values).statistic)
    return rho, tau


def _bootstrap_correlations(x, y, *, resamples: int, seed: int):
    """Percentile 95% intervals of Spearman and Kendall tau-b over resampled (score, rating) pairs."""
    import numpy as np
    from scipy import stats as sps

    from dyag.evaluation.stats import resample_indices

    rhos, taus = np.full(resamples, np.nan), np.full(resamples, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        for start, stop, idx in resample_indices(len(x), resamples=resamples, seed=seed):
            xs, ys = x[idx], y[idx]
            # Spearman: the Pearson correlation of each row's ranks (average ranks for ties, like scipy)
            rx, ry = sps.rankdata(xs, axis=1), sps.rankdata(ys, axis=1)
            rx, ry = rx - rx.mean(axis=1, keepdims=True), ry - ry.mean(axis=1, keepdims=True)
            rhos[start:stop] = (rx * ry).sum(1) / np.sqrt((rx * rx).sum(1) * (ry * ry).sum(1))
            taus[start:stop] = _tau_b_rows(xs, ys)
    return _interval(rhos), _interval(taus)


def _tau_b_rows(xs, ys):
    """Kendall tau-b of each row pair: ``sum(sx*sy) / sqrt(sum(sx^2) sum(sy^2))`` over the pairwise
    signs (scipy's tau-b, ties included), in chunks of rows; scipy per row when n is large."""
    import numpy as np
    from scipy import stats as sps

    rows, n = xs.shape
    if n > 200:  # n^2 signs per row cost more than scipy's n log n
        return np.array([sps.kendalltau(a, b).statistic for a, b in zip(xs, ys)])
    out, step = np.empty(rows), max(1, 2_000_000 // (n * n))
    for a in range(0, rows, step):
        sx = np.sign(xs[a:a + step, :, None] - xs[a:a + step, None, :])
        sy = np.sign(ys[a:a + step, :, None] - ys[a:a + step, None, :])
        out[a:a + step] = (sx * sy).sum((1, 2)) / np.sqrt((sx * sx).sum((1, 2)) * (sy * sy).sum((1, 2)))
    return out


def _interval(draws) -> tuple[float, float] | None:
    import numpy as np

    draws = draws[np.isfinite(draws)]
    if draws.size == 0:
        return None
    lo, hi = np.quantile(draws, [0.025, 0.975])
    return float(lo), float(hi)


@dataclass
class _Rated:
    case: object  # dyag.results.Case
    ratings: list[Rating]

    @property
    def value(self) -> float:
        return sum(r.value for r in self.ratings) / len(self.ratings)


def _stats(items: list[_Rated], *, threshold: float, resamples: int, seed: int, worst: int) -> AgreementStats:
    import numpy as np

    scores = [float(it.case.score) for it in items]
    values = [it.value for it in items]
    rho, tau = correlations(scores, values)
    rho_ci = tau_ci = None
    if rho is not None and resamples > 0:
        rho_ci, tau_ci = _bootstrap_correlations(np.asarray(scores), np.asarray(values), resamples=resamples, seed=seed)
    counts = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    for s, v in zip(scores, values):
        says, rated = s >= threshold, nearest_rating(v) == "correct"
        counts[("t" if says == rated else "f") + ("p" if says else "n")] += 1
    gaps = sorted(items, key=lambda it: (-abs(it.case.score / 10 - it.value), it.case.id, it.case.system))
    return AgreementStats(len(items), rho, rho_ci, tau, tau_ci, Confusion(**counts),
                          [_disagreement(it) for it in gaps[:worst]])


def _disagreement(it: _Rated) -> Disagreement:
    case, value = it.case, it.value
    answer = case.answer if len(case.answer) <= ANSWER_EXCERPT else case.answer[:ANSWER_EXCERPT - 1] + "…"
    comment = " | ".join(r.comment for r in it.ratings if r.comment.strip())
    return Disagreement(case.id, case.system, float(case.score), nearest_rating(value), value,
                        abs(case.score / 10 - value), answer, comment, [r.rater for r in it.ratings])


def agreement(results, ratings: Iterable[Rating], *, threshold: float = 5.0, resamples: int = 2000, seed: int = 0,
              worst: int = 5) -> Agreement:
    """Compare ``results`` (a :class:`dyag.results.Results`) with people's ``ratings``.

    A rating matches the case of its ``(id, system)``; if the case's answer no longer has the
    rating's ``answer_sha256`` it is stale (listed, unused). Several raters of one answer count
    as the mean of their values; "rated correct" is a mean of at least 0.75. Correlations are
    ``None`` below 3 pairs or without variance; intervals are percentile bootstraps of the pairs.
    """
    cases = {(c.id, c.system): c for c in results.cases}
    rated: dict[tuple[str, str], _Rated] = {}
    stale, unmatched, unscored = {}, {}, {}
    n_used = 0
    for rating in ratings:
        case = cases.get(rating.key)
        if case is None:
            unmatched[rating.key] = None
        elif answer_sha256(case.answer) != rating.answer_sha256:
            stale[rating.key] = None
        elif case.score is None or not math.isfinite(case.score):
            unscored[rating.key] = None
        else:
            rated.setdefault(rating.key, _Rated(case, [])).ratings.append(rating)
            n_used += 1
    order = {system: i for i, system in enumerate(results.systems)}
    items = sorted(rated.values(), key=lambda it: (order.get(it.case.system, len(order)), it.case.system))
    options = {"threshold": threshold, "resamples": resamples, "seed": seed, "worst": worst}
    by_system: dict[str, list[_Rated]] = {}
    for it in items:
        by_system.setdefault(it.case.system, []).append(it)
    return Agreement(
        overall=_stats(items, **options),
        systems={system: _stats(group, **options) for system, group in by_system.items()},
        stale=list(stale), unmatched=list(unmatched), unscored=list(unscored), n_used=n_used,
        threshold=threshold, resamples=resamples, seed=seed)
