"""Training sets in the conversational format that trl's ``SFTTrainer`` reads.

One example a line: ``{"messages": [{"role": "system"|"user"|"assistant", "content": "..."}, ...],
"meta": {...}?}``. The last message is the assistant's answer and at least one
message is the user's.

>>> messages_to_prompt_completion({"messages": [{"role": "user", "content": "Q"},
...                                             {"role": "assistant", "content": "R"}]})
{'prompt': [{'role': 'user', 'content': 'Q'}], 'completion': [{'role': 'assistant', 'content': 'R'}]}
"""

from __future__ import annotations

import os
from pathlib import Path

from dyag.errors import DyagError
from dyag.utils.jsonl import iter_jsonl, require_field

ROLES: tuple[str, ...] = ("system", "user", "assistant")


def read_training_set(path: str | os.PathLike) -> list[dict]:
    """Read and validate a conversational JSONL training set; errors name ``<file>:<line>``."""
    path = Path(path)
    rows = [validate_training_row(path, lineno, obj) for lineno, obj in iter_jsonl(path, what="training set")]
    if not rows:
        raise DyagError(f"{path}: empty training set (no JSON lines)")
    return rows


def validate_training_row(path: str | os.PathLike, lineno: int, row: dict) -> dict:
    """Check one example's ``messages`` (and ``meta`` when present); return it unchanged."""
    messages = require_field(path, lineno, row, "messages", list)
    for i, message in enumerate(messages):
        where = f"{path}:{lineno}: messages[{i}]"
        if not isinstance(message, dict):
            raise DyagError(f"{where} must be an object with 'role' and 'content', got {type(message).__name__}")
        role = message.get("role")
        if role not in ROLES:
            raise DyagError(f"{where}: role must be one of {', '.join(ROLES)}, got {role!r}")
        content = message.get("content")
        if not isinstance(content, str) or not content.strip():
            raise DyagError(f"{where}: content must be a non-empty string")
        if role == "system" and i != 0:
            raise DyagError(f"{where}: a system message may only come first")
    if messages[-1]["role"] != "assistant":
        raise DyagError(f"{path}:{lineno}: the last message must be the assistant's, got {messages[-1]['role']!r}")
    if not any(m["role"] == "user" for m in messages):
        raise DyagError(f"{path}:{lineno}: no user message")
    if "meta" in row and not isinstance(row["meta"], dict):
        raise DyagError(f"{path}:{lineno}: field 'meta' must be an object, got {type(row['meta']).__name__}")
    return row


def messages_to_prompt_completion(row: dict) -> dict:
    """Split a conversational example into trl's prompt/completion form (the last message is the completion)."""
    messages = row["messages"]
    return {"prompt": list(messages[:-1]), "completion": [messages[-1]]}
