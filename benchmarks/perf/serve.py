"""``make perf``'s ``serve`` section: answers/s from llama.cpp's server against dyag's own batched generation.

Same model and adapter (the generation section's), same questions, same rendered prompts (the chat
template as dyag renders it), same ``max_new_tokens``, greedy. The in-process side is
``Generator.generate`` at the harness's batch (model loaded, generation time only); the server side is
llama-cpp-python's server for the package's GGUF with the adapter exported to GGUF, asked through
:class:`dyag.inference.endpoint.ServedModel` at concurrency 1, 4 and 8 (server started and warmed by one
request first, so neither side counts its load). Never both at once: the server is started after the
in-process run, which frees its model first. Also recorded: the share of identical answers (Q4 weights
with 8-bit activations against the dequantized float weights: agreement, not equality).
"""

from __future__ import annotations

import gc
import time

#: requests in flight on the server side
CONCURRENCY = (1, 4, 8)


def serve_section(perf) -> None:
    """Measure and record the ``answers_per_s_llamacpp_c<N>`` pairs and the ``serving`` figures on ``perf``."""
    from dyag.data.golden import read_golden
    from dyag.inference.endpoint import Endpoint, ServedModel
    from dyag.inference.generator import DecodingConfig, load_model
    from dyag.inference.llamacpp import LlamaCppServer, llama_cpp_version
    from dyag.models.loading import load_tokenizer, resolve_model
    from benchmarks.perf.common import ROOT, median

    c = perf.config
    model, adapter = c.gen_model, perf.adapter_for(c.gen_model)
    questions = [case.question for case in read_golden(ROOT / "golden" / "catalog.jsonl")][: c.questions]
    decoding = DecodingConfig(max_new_tokens=c.max_new_tokens)
    perf.log(f"[serve] {model}: {len(questions)} questions, {c.max_new_tokens} new tokens max, {c.reps} rep(s), "
             f"llama-cpp-python {llama_cpp_version()}")

    generator = load_model(model, adapter)
    conversations = [generator.messages(q, system_prompt=decoding.system_prompt) for q in questions]
    prompts = [generator.render(m) for m in conversations]
    local_runs, local_answers = [], None
    for _ in range(c.reps):
        t0 = time.perf_counter()
        answers = generator.generate(prompts, decoding, batch_size=c.gen_batch)
        local_runs.append(round(len(prompts) / (time.perf_counter() - t0), 4))
        local_answers = [a.text for a in answers]
        perf.log(f"    in-process batch {c.gen_batch}: {local_runs[-1]} answers/s")
    del generator
    gc.collect()

    server = LlamaCppServer(model, adapter)
    tokenizer = load_tokenizer(resolve_model(model))
    try:
        url = server.start()
        served_runs: dict[int, list[float]] = {}
        served_answers = None
        for concurrency in CONCURRENCY:
            endpoint = Endpoint("llamacpp", url=url, api="completions", concurrency=concurrency)
            served = ServedModel(endpoint, server.served_name, tokenizer=tokenizer)
            texts = [served.render(m) for m in conversations]
            served.generate(texts[:1], decoding)  # warm: the first request pays for the server's first allocations
            for _ in range(c.reps):
                t0 = time.perf_counter()
                answers = served.generate(texts, decoding)
                served_runs.setdefault(concurrency, []).append(round(len(texts) / (time.perf_counter() - t0), 4))
                served_answers = served_answers or [a.text for a in answers]
            perf.log(f"    llama.cpp server, concurrency {concurrency}: {served_runs[concurrency][-1]} answers/s")
    finally:
        server.stop()
    for concurrency in CONCURRENCY:
        perf.pair(f"answers_per_s_llamacpp_c{concurrency}_vs_in_process",
                  f"answers/s · llama.cpp server, concurrency {concurrency} vs in-process batched · {model}",
                  f"llama.cpp server (GGUF + LoRA GGUF), {concurrency} request(s) in flight",
                  f"Generator.generate, merged, batch {c.gen_batch}", served_runs[concurrency], local_runs, "answers/s",
                  note="generation time only: model loaded, server started and warmed")
    same = sum(a == b for a, b in zip(local_answers, served_answers))
    perf.table("serving", {
        "model": model, "questions": len(questions), "max_new_tokens": c.max_new_tokens,
        "llama_cpp_python": llama_cpp_version(), "server_threads": server.threads,
        "in_process_answers_per_s": median(local_runs),
        **{f"llamacpp_c{n}_answers_per_s": median(runs) for n, runs in served_runs.items()},
        "identical_answers": f"{same}/{len(questions)}", "identical_share": round(same / len(questions), 3),
    })
