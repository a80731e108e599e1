"""Golden questions -> prediction rows, through the generation cache.

A prediction row: ``{"id", "system", "answer", "meta": {...}}`` (the golden case's id).
Only the questions missing from the cache are generated, in batches.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, replace

from dyag.inference.cache import GenerationCache
from dyag.inference.endpoint import EndpointError
from dyag.inference.generator import GENERATION_BATCH, DecodingConfig, Generator, ModelRef
from dyag.inference.prompting import ASKED_FIELDS, PromptConfig, build_prompt, prompt_style



def generate_predictions(
    generator: "Generator | ModelRef",
    cases: list,
    *,
    system: str,
    decoding: DecodingConfig | None = None,
    retriever=None,
    cache: GenerationCache | None = None,
    batch_size: int = GENERATION_BATCH,
    progress: bool = True,
    prompt: PromptConfig | None = None,
    kb: list[dict] | None = None,
) -> list[dict]:
    """Answer every case's question with ``generator`` (and ``retriever`` for RAG systems).

    ``generator`` may be a :class:`ModelRef`: the model is loaded only when an answer is
    missing from the cache, so a fully cached run imports neither torch nor transformers.
    ``prompt`` says how questions are put (default: the chat template for instruction-tuned models
    and adapters, a completion prompt for base models; see :mod:`dyag.inference.prompting`), and
    ``kb`` (else the retriever's records) gives its worked examples.
    """
    from dyag.system import System

    decoding = decoding or DecodingConfig()
    if prompt is None:
        prompt = PromptConfig(style=prompt_style(generator.resolved.spec, System.parse(system).uses_adapter),
                              system_prompt=decoding.system_prompt)
    decoding = replace(decoding, stop=prompt.stop)
    cache = cache or GenerationCache.at()
    dec = asdict(decoding)
    if not dec["stop"]:
        del dec["stop"]  # chat answers keep the cache keys they had before stop strings existed
    kb = kb if kb is not None else (retriever.records if retriever else None)
    questions = [_get(c, "question") for c in cases]
    retrieved = retriever.retrieve(questions) if retriever else [None] * len(cases)
    rank_fields = retriever.field_ranker(ASKED_FIELDS) if retriever and prompt.context_format == "fields" else None
    conversations = [
        build_prompt(prompt, q, context_records=retriever.records_of(hits) if retriever else None, kb=kb,
                     exclude=_get(c, "kb_ids", ()) or (), rank_fields=rank_fields)
        for c, q, hits in zip(cases, questions, retrieved)
    ]
    identity = generator.identity
    keys = [GenerationCache.key(identity, messages, dec) for messages in conversations]
    cached = [cache.get(k) for k in keys]
    todo = [i for i, c in enumerate(cached) if c is None]
    if todo:
        from dyag.progress import phase  # a line when a session or command made a reporter current
        from dyag.system import System

        parsed = System.parse(system)
        model, kind = parsed.model, parsed.kind
        bar = _bar(len(todo), f"{system}: generating", progress)
        with phase("generate answers", model, detail=f"{kind}: {len(todo)} of {len(cases)} answers to generate",
                   env=f"{generator.device.device}-{generator.device.dtype_name}",
                   size=f"{kind}, max {decoding.max_new_tokens} tokens, batch {batch_size}", units=len(todo)):
            loaded = generator.load()
            prompts = [loaded.render(conversations[i]) for i in todo]
            try:
                answers = loaded.generate(prompts, decoding, batch_size=batch_size, progress=_Ticker(len(todo), bar))
            except EndpointError as exc:  # a server failed: its whole answers are kept, the run stops
                for k, ans in exc.done.items():
                    cache.put(keys[todo[k]], asdict(ans))
                raise
            finally:
                if bar is not None:
                    bar.close()
        for i, ans in zip(todo, answers):
            cached[i] = asdict(ans)
            cache.put(keys[i], cached[i])
    rows = []
    for i, case in enumerate(cases):
        entry = cached[i]
        meta = {
            "tokens": entry["tokens"],
            "finish_reason": entry["finish_reason"],
            "latency_s": entry["latency_s"],
            "max_new_tokens": decoding.max_new_tokens,
            "cached": i not in todo,
        }
        if retrieved[i] is not None:
            meta["retrieved"] = [doc_id for doc_id, _ in retrieved[i]]
            meta["retrieval_scores"] = [round(s, 4) for _, s in retrieved[i]]
        elif entry.get("retrieved") is not None:  # what a black-box service says it retrieved
            meta["retrieved"] = entry["retrieved"]
        rows.append({"id": _get(case, "id"), "system": system, "answer": entry["text"], "meta": meta})
    return rows


class _Ticker:
    """Answers done: the terminal's progress bar (if any) and the running phase's progress lines."""

    def __init__(self, total: int, bar=None):
        self.total, self.done, self.bar = total, 0, bar

    def update(self, n: int) -> None:
        from dyag.progress import advance

        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        advance(self.done, self.total, "answers")


def _get(case, name, *default):
    if isinstance(case, dict):
        return case.get(name, *default) if default else case[name]
    return getattr(case, name, *default)


def _bar(total: int, desc: str, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="answer", disable=not sys.stderr.isatty(), leave=False)
