"""dyag's own metrics: :data:`BUILTINS`, which :mod:`dyag.evaluation.registry` registers first, on
its first use (the order is the table's).

Each wraps a function of :mod:`dyag.evaluation.textmetrics` or :mod:`dyag.evaluation.bertscore`,
so the ``evaluate`` modules (``evaluate_metrics/`` beside the package) and the scorer compute a
figure one way only. This module imports the registry's classes and registers nothing itself:
the registry's loader does, so the two modules never import each other.
"""

from __future__ import annotations

import functools

from dyag.evaluation.registry import Column, Metric
from dyag.evaluation.textmetrics import ROUGE_TYPES, bleu_stats, exact_match, fact_recall, rouge_scores

#: Sentence BLEU and its statistics, computed once per (answer, reference): the per-answer ``bleu``
#: column and corpus BLEU's bootstrap both read them.
answer_bleu_stats = functools.lru_cache(maxsize=1 << 16)(bleu_stats)

#: The quality score out of 10 (:mod:`dyag.evaluation.quality`), computed by the scorer from the rest.
SCORE = Column("score", "max", 0.5, chart=True, label="score/10", fmt=".1f")


def bleu(answer, case) -> float:
    """Smoothed sentence BLEU, 0-100 (sacrebleu, 13a tokenizer)."""
    return answer_bleu_stats(answer, case.reference)[0]


#: Corpus BLEU of a system's answers (0-100), with a bootstrap CI over sentences: an aggregate only.
CORPUS_BLEU = Column("corpus_bleu", "max", 5.0, label="BLEU", fmt=".1f", per_case=False)


def rouge(answer, case) -> dict[str, float]:
    """ROUGE-1/2/L F-measure, 0-1 (rouge-score, Unicode tokenizer, lowercased)."""
    return rouge_scores(answer, case.reference, rouge_types=ROUGE_TYPES)


def facts(answer, case) -> float | None:
    """Share of the case's golden facts found in the answer; None when it has none."""
    return fact_recall(answer, case.facts)


def exact(answer, case) -> float:
    """1.0 when the normalized answer equals the reference."""
    return exact_match(answer, case.reference)


def bertscore(answers, cases, options) -> tuple[list[dict], dict]:
    """BERTScore of every answer against its reference in one pass; the encoder used goes to ``run.scoring``."""
    import sys

    from dyag.evaluation.bertscore import bertscore as compute, resolve_encoder

    encoder = resolve_encoder(options.get("bertscore_model"), options.get("bertscore_layers"))
    if options.get("progress"):
        print(f"dyag: BERTScore with {encoder.name} (layer {encoder.num_layers}) on {len(answers)} answers",
              file=sys.stderr)
    out = compute(answers, [c.reference for c in cases], model=options.get("bertscore_model"),
                  num_layers=encoder.num_layers, cache=options.get("cache"))
    rows = [{"bertscore_precision": p, "bertscore_recall": r, "bertscore_f1": f}
            for p, r, f in zip(out["precision"], out["recall"], out["f1"])]
    return rows, encoder.to_dict()


#: dyag's metric families, in the table's order; the registry registers them (``score`` and
#: ``corpus_bleu`` are columns the scorer computes, not per answer).
BUILTINS: tuple[Metric, ...] = (
    Metric("score", None, (SCORE,), default=False),
    Metric("bleu", bleu, (Column("bleu", "max", 5.0, label=None, fmt=".1f"),)),
    Metric("corpus_bleu", None, (CORPUS_BLEU,), default=False),
    Metric("rouge", rouge, (Column("rouge1"), Column("rouge2"), Column("rougeL", chart=True, label="ROUGE-L"))),
    Metric("fact_recall", facts, (Column("fact_recall", "max", 0.05, chart=True, label="facts"),)),
    # tolerance 0.1 (about 5 of 46 answers): another training seed alone took smollm2:135m's fine-tuned exact
    # matches from 4/46 to 0/46 (p=0.038), a false alarm at 0.05
    Metric("exact_match", exact, (Column("exact_match", "max", 0.1),)),
    Metric("bertscore", bertscore, (Column("bertscore_f1", chart=True, label="BERTScore F1"),
                                    Column("bertscore_precision"), Column("bertscore_recall")), batched=True),
)
