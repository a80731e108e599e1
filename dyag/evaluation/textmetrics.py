"""Plain functions behind the metric modules: BLEU, ROUGE, fact recall, exact match.

The ``evaluate`` modules (``evaluate_metrics/``, beside the package) and the scorer share these,
so a figure is computed one way only. They are thin wrappers over sacrebleu and
rouge-score; only the ROUGE tokenizer is dyag's (rouge-score's default drops every
non-ASCII letter, turning "hébergée" into "h berg e").

>>> round(sentence_bleu("GIDAF est hébergée à Lyon.", "GIDAF est hébergée à Lyon."), 1)
100.0
>>> rouge_scores("GIDAF est hébergée", "GIDAF hébergée")["rouge1"]
0.8
>>> fact_recall("Elle est HEBERGEE à Lyon", ["hébergée à lyon", "Java"])
0.5
>>> fact_recall("n'importe quoi", []) is None
True
"""

from __future__ import annotations

import functools
import re
from typing import Iterable, Sequence

from dyag.utils.text import normalize_text, word_tokens

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")


# --- BLEU (sacrebleu) -------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _sentence_bleu_scorer():
    from sacrebleu.metrics import BLEU

    # Same settings as sacrebleu.sentence_bleu: 13a tokenizer, "exp" smoothing, effective order.
    return BLEU(effective_order=True)


@functools.lru_cache(maxsize=1)
def _corpus_bleu_scorer():
    from sacrebleu.metrics import BLEU

    return BLEU()


def _as_refs(reference: str | Sequence[str]) -> list[str]:
    return [reference] if isinstance(reference, str) else list(reference)


def sentence_bleu(prediction: str, reference: str | Sequence[str]) -> float:
    """Smoothed sentence BLEU (0-100), identical to ``sacrebleu.sentence_bleu``."""
    return float(_sentence_bleu_scorer().sentence_score(prediction, _as_refs(reference)).score)


def bleu_stats(prediction: str, reference: str | Sequence[str]) -> tuple[float, list[int]]:
    """Sentence BLEU and its sufficient statistics ``[sys_len, ref_len, correct1..4, total1..4]``.

    Summing the statistics over sentences gives corpus BLEU (:func:`bleu_from_stats`).
    """
    s = _sentence_bleu_scorer().sentence_score(prediction, _as_refs(reference))
    return float(s.score), [s.sys_len, s.ref_len, *s.counts, *s.totals]


def bleu_from_stats(stats: Sequence[float]) -> float:
    """Corpus BLEU (0-100) from summed :func:`bleu_stats` statistics, as ``sacrebleu.corpus_bleu``."""
    from sacrebleu.metrics import BLEU

    sys_len, ref_len, *rest = (int(x) for x in stats)
    score = BLEU.compute_bleu(rest[:4], rest[4:], sys_len, ref_len, smooth_method="exp")
    return float(score.score)


def corpus_bleu(predictions: Sequence[str], references: Sequence[str | Sequence[str]]) -> float:
    """Corpus BLEU (0-100) of aligned predictions and references, as ``sacrebleu.corpus_bleu``."""
    refs = [_as_refs(r) for r in references]
    n_refs = max((len(r) for r in refs), default=1)
    # sacrebleu wants one stream per reference position; pad short lists with None.
    streams = [[r[i] if i < len(r) else None for r in refs] for i in range(n_refs)]
    return float(_corpus_bleu_scorer().corpus_score(list(predictions), streams).score)


# --- ROUGE (rouge-score with a Unicode tokenizer) ------------------------------------------


class UnicodeTokenizer:
    """rouge-score tokenizer keeping letters of any script: lowercased ``[^\\W_]+`` runs.

    On ASCII input it yields exactly rouge-score's default tokens (without stemming).
    """

    def tokenize(self, text: str) -> list[str]:
        return word_tokens(text)


@functools.lru_cache(maxsize=4)
def _rouge_scorer(rouge_types: tuple[str, ...] = ROUGE_TYPES):
    from rouge_score.rouge_scorer import RougeScorer

    return RougeScorer(list(rouge_types), tokenizer=UnicodeTokenizer())


def rouge_scores(prediction: str, reference: str | Sequence[str], *, rouge_types: Iterable[str] = ROUGE_TYPES) -> dict[str, float]:
    """ROUGE F-measures (0-1) of one prediction; with several references the best one counts."""
    scorer = _rouge_scorer(tuple(rouge_types))
    refs = _as_refs(reference)
    if len(refs) == 1:
        scores = scorer.score(refs[0], prediction)
    else:
        scores = scorer.score_multi(refs, prediction)
    return {name: float(score.fmeasure) for name, score in scores.items()}


# --- Fact recall and exact match ------------------------------------------------------------


@functools.lru_cache(maxsize=65536)
def _fact_pattern(fact: str) -> re.Pattern | None:
    norm = normalize_text(fact)
    if not norm:
        return None
    # The fact must not be glued to other letters/digits: "4.2" is not found in "4.21".
    return re.compile(r"(?<![^\W_])" + re.escape(norm) + r"(?![^\W_])")


def fact_present(answer_norm: str, fact: str) -> bool:
    """Whether ``fact`` occurs in an answer already passed through :func:`normalize_text`."""
    pattern = _fact_pattern(fact)
    return pattern is not None and pattern.search(answer_norm) is not None


def missing_facts(answer: str, facts: Sequence[str]) -> list[str]:
    """The golden facts absent from ``answer`` (case-, accent- and whitespace-insensitive)."""
    norm = normalize_text(answer)
    return [f for f in facts if not fact_present(norm, f)]


def fact_recall(answer: str, facts: Sequence[str]) -> float | None:
    """Share of ``facts`` present in ``answer``; ``None`` when there are no facts.

    ``None`` rather than 1.0: a case without facts says nothing about recall, so it is
    left out of the means instead of inflating them.
    """
    facts = [f for f in facts if normalize_text(f)]
    if not facts:
        return None
    return 1.0 - len(missing_facts(answer, facts)) / len(facts)


def exact_match(prediction: str, reference: str | Sequence[str]) -> float:
    """1.0 when the word tokens agree after normalization (case, accents, punctuation), else 0.0."""
    pred = word_tokens(normalize_text(prediction))
    return float(any(pred == word_tokens(normalize_text(r)) for r in _as_refs(reference)))
