"""Batched answer generation with a base model, optionally with a merged LoRA adapter.

>>> gen = load_model("smollm2:135m", adapter="models/x/final")   # doctest: +SKIP
>>> gen.answer(["Qu'est-ce que GIDAF ?"])                          # doctest: +SKIP
['GIDAF est ...']
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from dyag.errors import DyagError
from dyag.models.turns import end_of_turn_ids
from dyag.utils.atomic import sha256_file

from dyag.inference.prompting import chat_messages  # noqa: F401  (re-exported)
from dyag.prompts import DEFAULT_SYSTEM_PROMPT  # noqa: F401  (re-exported)

#: questions generated together by default. Finished rows leave a greedy batch, so a large batch
#: costs little more than its answers: 40 answers of a fine-tuned smollm2:135m (fp32, a CPU without
#: bf16) took 11.7 s at 16, 10.0 s at 32 and 8.1 s at 48 (``benchmarks.perf.worker generate``,
#: docs/performance.md); greedy answers do not depend on it
GENERATION_BATCH = 48


@dataclass(frozen=True)
class DecodingConfig:
    """How answers are decoded; part of the generation cache key."""

    max_new_tokens: int = field(default=128, metadata={"help": "longest answer, in tokens"})
    temperature: float = field(default=0.0, metadata={"help": "0 = greedy (deterministic)"})
    top_p: float = field(default=1.0, metadata={"help": "nucleus sampling (with --temperature > 0)"})
    system_prompt: str | None = field(default=DEFAULT_SYSTEM_PROMPT, metadata={"help": "system message"})
    seed: int = field(default=0, metadata={"help": "sampling seed"})
    stop: tuple[str, ...] = field(default=(), metadata={
        "help": "strings that end an answer (completion prompts stop at the next label)", "cli": False})

    def __post_init__(self):
        if not isinstance(self.max_new_tokens, int) or self.max_new_tokens < 1:
            raise DyagError(f"--max-new-tokens must be an integer >= 1, got {self.max_new_tokens!r}")
        if not 0 <= self.temperature <= 5:
            raise DyagError(f"--temperature must be in [0, 5], got {self.temperature!r}")


@dataclass
class Answer:
    text: str
    tokens: int
    finish_reason: str  # "stop" (end-of-turn reached) or "length" (hit max_new_tokens)
    latency_s: float
    retrieved: list[str] | None = None  # catalog ids a black-box service says it retrieved (none in dyag's process)


def answer_identity(resolved, adapter_sha256: str | None, dtype_name: str) -> dict:
    """What answers depend on besides the conversation and the decoding settings: the base model's
    content, the adapter's weights, the inference dtype, and how the chat template is rendered
    (the registry's template, transformers' renderer). The generation cache keys on it."""
    from importlib.metadata import version

    return {"base": resolved.identity, "adapter_sha256": adapter_sha256, "dtype": dtype_name,
            "chat_template": resolved.spec.chat_template, "transformers": version("transformers")}


class Generator:
    """A loaded model (adapter merged) that turns chat prompts into answers, in batches."""

    def __init__(self, model, tokenizer, *, resolved, device, adapter_dir: Path | None = None):
        self.model = model
        self.tokenizer = tokenizer
        self.resolved = resolved
        self.device = device
        self.adapter_dir = adapter_dir
        self.end_ids = end_of_turn_ids(tokenizer, resolved.spec)
        self.adapter_sha256 = sha256_file(adapter_dir / "adapter_model.safetensors") if adapter_dir else None
        self.retire_finished = True  # greedy batches drop rows that ended (False: transformers' generate())

    @property
    def identity(self) -> dict:
        """What the generation cache keys on (with the conversation and decoding settings)."""
        return answer_identity(self.resolved, self.adapter_sha256, self.device.dtype_name)

    def load(self) -> "Generator":
        """Already loaded (the interface :class:`ModelRef` shares)."""
        return self

    def messages(self, question: str, *, context: str | None = None, system_prompt: str | None = None) -> list[dict]:
        return chat_messages(question, context=context, system_prompt=system_prompt)

    def render(self, prompt: "list[dict] | str") -> str:
        """Chat messages through the model's chat template; a completion prompt's text after the BOS token."""
        if isinstance(prompt, str):
            return (self.tokenizer.bos_token or "") + prompt
        return self.tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=False)

    def generate(self, prompts: list[str], decoding: DecodingConfig, *, batch_size: int = GENERATION_BATCH, progress=None) -> list[Answer]:
        """Answers for rendered prompts, in input order. Batches are formed by prompt length."""
        import torch

        if batch_size < 1:
            raise DyagError(f"--batch-size must be >= 1, got {batch_size}")
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        results: list[Answer | None] = [None] * len(prompts)
        self.tokenizer.padding_side = "left"
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            batch = self.tokenizer([prompts[i] for i in idx], return_tensors="pt", padding=True, add_special_tokens=False)
            batch = {k: v.to(self.device.device) for k, v in batch.items()}
            t0 = time.perf_counter()
            torch.manual_seed(decoding.seed)
            if decoding.temperature == 0 and self.retire_finished:
                rows = self._greedy(batch, decoding.max_new_tokens, decoding.stop)
                latency = (time.perf_counter() - t0) / len(idx)
                for row, i in zip(rows, idx):
                    results[i] = self._decode(row, latency, decoding.stop)
                if progress is not None:
                    progress.update(len(idx))
                continue
            with torch.inference_mode():
                out = self.model.generate(
                    **batch,
                    max_new_tokens=decoding.max_new_tokens,
                    do_sample=decoding.temperature > 0,
                    temperature=decoding.temperature if decoding.temperature > 0 else None,
                    top_p=decoding.top_p if decoding.temperature > 0 else None,
                    top_k=None,
                    eos_token_id=self.end_ids,
                    pad_token_id=self.tokenizer.pad_token_id,
                )
            latency = (time.perf_counter() - t0) / len(idx)
            new_tokens = out[:, batch["input_ids"].shape[1] :]
            for row, i in zip(new_tokens.tolist(), idx):
                results[i] = self._decode(row, latency, decoding.stop)
            if progress is not None:
                progress.update(len(idx))
        return results  # type: ignore[return-value]

    def _greedy(self, batch: dict, max_new_tokens: int, stop: tuple[str, ...] = ()) -> list[list[int]]:
        """Greedy decoding of a left-padded batch that retires each row when it ends its turn.

        ``generate()`` keeps computing every row until the longest answer ends; here a row that
        produced an end-of-turn token leaves the batch (and its key/value cache rows go), so a
        batch costs the sum of its answers' lengths rather than its longest times its size. The
        tokens every prompt starts with (chat template and system prompt: two thirds of a
        smollm2:135m prompt) are encoded once for the batch (:meth:`_prefill`). Same positions,
        masks and argmax as ``generate()``'s greedy search: the answers are the same (checked
        against ``generate()`` in the tests and by ``make perf``). A row whose text reaches one of
        the ``stop`` strings ends too (:meth:`_decode` cuts the answer there).
        """
        import torch
        from transformers import DynamicCache

        alive = list(range(batch["input_ids"].shape[0]))
        tokens: list[list[int]] = [[] for _ in alive]
        end = torch.tensor(sorted(self.end_ids), device=batch["input_ids"].device)
        cache = DynamicCache(config=self.model.config)
        kv = {_cache_argument(self.model): cache}
        with torch.inference_mode():
            logits, mask = self._prefill(batch, kv)
            for step in range(max_new_tokens):
                chosen = logits.argmax(-1)
                for row, token in zip(alive, chosen.tolist()):
                    tokens[row].append(token)
                if step == max_new_tokens - 1:
                    break
                ended = torch.isin(chosen, end)
                if stop:  # the newest tokens only: a stop string is a few tokens long (no re-decoding per step)
                    ended |= torch.tensor([_stop_at(self.tokenizer.decode(tokens[row][-STOP_WINDOW:],
                                                                          skip_special_tokens=True), stop) is not None
                                           for row in alive], device=ended.device)
                if ended.any():
                    keep = (~ended).nonzero().squeeze(1)
                    if keep.numel() == 0:
                        break
                    alive = [alive[k] for k in keep.tolist()]
                    chosen, mask = chosen[keep], mask[keep]
                    for layer in cache.layers:
                        layer.batch_select_indices(keep)
                mask = torch.cat([mask, mask.new_ones(mask.shape[0], 1)], dim=1)
                logits = self.model(input_ids=chosen[:, None], attention_mask=mask,
                                    position_ids=mask.long().sum(-1, keepdim=True) - 1, use_cache=True,
                                    **kv).logits[:, -1]
        return tokens

    def _prefill(self, batch: dict, kv: dict):
        """The prompts' forward pass: the next-token logits of each row and the attention mask so far.

        With a shared prefix of :data:`SHARED_PREFIX_MIN` tokens or more, it is encoded once and
        its cache rows repeated; each row's own tokens follow, padded between the prefix and them
        (masked out, positions counted over real tokens only, as left padding gives them).
        """
        import torch

        ids, mask = batch["input_ids"], batch["attention_mask"]
        rows = [row[keep.bool()].tolist() for row, keep in zip(ids, mask)]
        shared = _common_prefix_length(rows) if len(rows) > 1 else 0
        shared = min(shared, min(map(len, rows)) - 1)  # every row keeps a token of its own to predict from
        if shared >= SHARED_PREFIX_MIN:
            prefix = ids.new_tensor([rows[0][:shared]])
            self.model(input_ids=prefix, position_ids=torch.arange(shared, device=ids.device)[None], use_cache=True,
                       logits_to_keep=1, **kv)
            cache = next(iter(kv.values()))
            for layer in cache.layers:
                layer.batch_repeat_interleave(len(rows))
            tails = [row[shared:] for row in rows]
            width = max(map(len, tails))
            pad = self.tokenizer.pad_token_id
            ids = ids.new_tensor([[pad] * (width - len(t)) + t for t in tails])
            own = mask.new_tensor([[0] * (width - len(t)) + [1] * len(t) for t in tails])
            mask = torch.cat([mask.new_ones(len(rows), shared), own], dim=1)
            positions = (mask.long().cumsum(-1) - 1)[:, shared:].masked_fill(own == 0, 1)
        else:
            positions = (mask.long().cumsum(-1) - 1).masked_fill(mask == 0, 1)
        logits = self.model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True,
                            logits_to_keep=1, **kv).logits[:, -1]
        return logits, mask

    def _decode(self, ids: list[int], latency: float, stop_strings: tuple[str, ...] = ()) -> Answer:
        stop = next((k for k, t in enumerate(ids) if t in self.end_ids), None)
        kept = ids if stop is None else ids[:stop]
        text = self.tokenizer.decode(kept, skip_special_tokens=True)
        cut = _stop_at(text, stop_strings)
        if cut is not None:
            text, stop = text.lstrip()[:cut], cut
        return Answer(text.strip(), len(kept), "length" if stop is None else "stop", round(latency, 4))

    def answer(self, questions: list[str], *, contexts: list[str] | None = None, batch_size: int = GENERATION_BATCH, **decoding) -> list[str]:
        cfg = DecodingConfig(**decoding)
        prompts = [
            self.render(self.messages(q, context=contexts[i] if contexts else None, system_prompt=cfg.system_prompt))
            for i, q in enumerate(questions)
        ]
        return [a.text for a in self.generate(prompts, cfg, batch_size=batch_size)]


#: tokens decoded per row and step to look for a stop string (longer than any stop string's tokens)
STOP_WINDOW = 8


def _stop_at(text: str, stop: tuple[str, ...]) -> int | None:
    """Where the answer ends in ``text`` (leading blanks dropped): the first stop string, if any.

    >>> _stop_at(" GIDAF est hébergée par OVH. Question : Qui", (" Question",))
    27
    >>> _stop_at("GIDAF", ("Question",)) is None
    True
    """
    text = text.lstrip()
    found = [k for k in (text.find(s) for s in stop) if k >= 0]
    return min(found) if found else None


#: shortest shared prompt prefix (tokens) worth a separate forward pass in :meth:`Generator._prefill`
SHARED_PREFIX_MIN = 8


def _common_prefix_length(rows: list[list[int]]) -> int:
    """How many leading tokens every row shares.

    >>> _common_prefix_length([[1, 2, 3, 4], [1, 2, 5], [1, 2, 3]])
    2
    """
    first, n = rows[0], min(map(len, rows))
    return next((i for i in range(n) if any(row[i] != first[i] for row in rows)), n)


def _cache_argument(model) -> str:
    """The forward argument that takes the key/value cache: ``cache`` in recent transformers 5
    releases, ``past_key_values`` before (and deprecated since)."""
    import inspect

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "cache" if "cache" in inspect.signature(type(base).forward).parameters else "past_key_values"


def read_adapter_manifest(adapter_dir: Path) -> dict | None:
    """The run.json beside ``<output>/final`` (or inside the adapter dir), if any."""
    for candidate in (adapter_dir.parent / "run.json", adapter_dir / "run.json"):
        if candidate.is_file():
            try:
                return json.loads(candidate.read_text(encoding="utf-8"))
            except ValueError:
                raise DyagError(f"{candidate}: unreadable adapter manifest") from None
    return None


def check_adapter_dir(adapter: str | Path) -> Path:
    path = Path(adapter)
    if (path / "final" / "adapter_config.json").is_file():
        path = path / "final"  # accept the output dir as well as output/final
    if not path.is_dir():
        raise DyagError(f"adapter directory not found: {path}")
    if not (path / "adapter_config.json").is_file():
        raise DyagError(f"{path} is not a peft adapter (no adapter_config.json)")
    if not (path / "adapter_model.safetensors").is_file():
        raise DyagError(f"{path} has no adapter_model.safetensors")
    return path


class ModelRef:
    """A model to answer with, resolved but not loaded: a base model and optionally a LoRA adapter.

    Its :attr:`identity` (what the generation cache keys on) needs no torch and no weights, so a
    run whose answers are all cached loads nothing; :meth:`load` loads the model once, on demand.
    Without ``base``, the adapter's manifest names it; an adapter trained on another base model
    than ``base`` is refused.
    """

    def __init__(self, base: str | None = None, adapter: str | Path | None = None, *, force_cpu: bool = False,
                 merge: bool = True, trust_remote_code: bool = False, allow_pickle: bool = False):
        from dyag.models.loading import resolve_model
        from dyag.utils.device import pick_device

        self.adapter_dir = check_adapter_dir(adapter) if adapter else None
        manifest = read_adapter_manifest(self.adapter_dir) if self.adapter_dir else None
        if base is None:
            if not manifest:
                raise DyagError("--base-model is required (the adapter has no run.json naming its base model)")
            base = manifest["base_model"]["spec"]
        self.resolved = resolve_model(base, trust_remote_code=trust_remote_code, allow_pickle=allow_pickle)
        if manifest:
            _check_same_base(manifest, self.resolved, self.adapter_dir)
        self.device = pick_device(force_cpu)
        self.merge = merge
        self.trust_remote_code = trust_remote_code
        self.adapter_sha256 = sha256_file(self.adapter_dir / "adapter_model.safetensors") if self.adapter_dir else None
        self._generator: Generator | None = None

    @property
    def identity(self) -> dict:
        return answer_identity(self.resolved, self.adapter_sha256, self.device.dtype_name)

    @property
    def loaded(self) -> bool:
        return self._generator is not None

    def load(self) -> Generator:
        """The loaded :class:`Generator` (tokenizer, weights, adapter merged unless ``merge=False``)."""
        if self._generator is None:
            from transformers import AutoModelForCausalLM

            from dyag.models.loading import load_tokenizer

            tokenizer = load_tokenizer(self.resolved, trust_remote_code=self.trust_remote_code)
            model = AutoModelForCausalLM.from_pretrained(self.resolved.path, dtype=self.device.dtype,
                                                         trust_remote_code=self.trust_remote_code)
            if self.adapter_dir:
                from peft import PeftModel

                model = PeftModel.from_pretrained(model, str(self.adapter_dir))
                if self.merge:
                    model = model.merge_and_unload()
            model.to(self.device.device).eval()
            self._generator = Generator(model, tokenizer, resolved=self.resolved, device=self.device,
                                        adapter_dir=self.adapter_dir)
        return self._generator


def load_model(
    base: str | None = None,
    adapter: str | Path | None = None,
    *,
    force_cpu: bool = False,
    merge: bool = True,
    trust_remote_code: bool = False,
    allow_pickle: bool = False,
) -> Generator:
    """Load a base model (and a LoRA adapter, merged by default) once, for many answers (see :class:`ModelRef`)."""
    return ModelRef(base, adapter, force_cpu=force_cpu, merge=merge, trust_remote_code=trust_remote_code,
                    allow_pickle=allow_pickle).load()


def _check_same_base(manifest: dict, resolved, adapter_dir: Path) -> None:
    trained = manifest.get("base_model", {})
    same = {k: trained.get(k) for k in resolved.identity} == resolved.identity
    if not same:
        raise DyagError(
            f"{adapter_dir} was trained on base model '{trained.get('spec') or trained.get('name')}', "
            f"not '{resolved.spec.name}': pass --base-model {trained.get('spec') or trained.get('name')}"
        )

