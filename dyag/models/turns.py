"""Which tokens end an assistant turn: used when a model is built, trained and asked."""

from __future__ import annotations

from dyag.models.registry import ModelSpec


def end_of_turn_ids(tokenizer, spec: ModelSpec) -> list[int]:
    """Token ids that end an assistant turn: the spec's end-of-turn token, then eos.

    >>> resolved = resolve_model("gemma3:270m")                   # doctest: +SKIP
    >>> end_of_turn_ids(load_tokenizer(resolved), resolved.spec)  # doctest: +SKIP
    [106, 1]
    """
    ids: list[int] = []
    if spec.end_of_turn:
        token_id = tokenizer.convert_tokens_to_ids(spec.end_of_turn)
        unknown = tokenizer.unk_token_id
        if isinstance(token_id, int) and (unknown is None or token_id != unknown or spec.end_of_turn == tokenizer.unk_token):
            ids.append(token_id)
    eos = tokenizer.eos_token_id
    if isinstance(eos, int) and eos not in ids:
        ids.append(eos)
    return ids
