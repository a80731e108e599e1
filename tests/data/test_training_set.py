"""The conversational training-set reader and the prompt/completion view."""

from __future__ import annotations

import json

import pytest

from dyag.data.training_set import messages_to_prompt_completion, read_training_set
from dyag.errors import DyagError
from tests.helpers import FIXTURES, read_error


def msg(role: str, content: str = "x") -> dict:
    return {"role": role, "content": content}


def test_read_training_set_fixture():
    rows = read_training_set(FIXTURES / "training_small.jsonl")
    assert len(rows) == 2
    assert rows[0]["meta"]["field"] == "hebergeur"


def test_messages_to_prompt_completion_splits_off_the_answer():
    row = {"messages": [msg("system", "S"), msg("user", "Q"), msg("assistant", "R")], "meta": {}}
    assert messages_to_prompt_completion(row) == {
        "prompt": [msg("system", "S"), msg("user", "Q")],
        "completion": [msg("assistant", "R")],
    }


BAD_ROWS = {
    "messages missing": ({"meta": {}}, "missing field 'messages'"),
    "messages not a list": ({"messages": "Q"}, "'messages' must be a list"),
    "messages empty": ({"messages": []}, "'messages' is empty"),
    "message not an object": ({"messages": ["Q", msg("assistant")]}, "messages[0]"),
    "bad role": ({"messages": [msg("bot"), msg("assistant")]}, "role must be one of"),
    "content not a string": ({"messages": [msg("user"), {"role": "assistant", "content": 3}]}, "messages[1]: content"),
    "last not assistant": ({"messages": [msg("user"), msg("assistant"), msg("user")]}, "last message"),
    "no user": ({"messages": [msg("system"), msg("assistant")]}, "no user message"),
    "system not first": ({"messages": [msg("user"), msg("system"), msg("assistant")]}, "system message may only come first"),
    "meta not an object": ({"messages": [msg("user"), msg("assistant")], "meta": []}, "'meta'"),
}


@pytest.mark.parametrize("case", list(BAD_ROWS), ids=list(BAD_ROWS))
def test_bad_rows_name_file_and_line(tmp_path, case):
    row, needle = BAD_ROWS[case]
    good = {"messages": [msg("user"), msg("assistant")]}
    path = tmp_path / "train.jsonl"
    message = read_error(read_training_set, path, [json.dumps(good), json.dumps(row)])
    assert message.startswith(f"{path}:2") and needle in message


def test_empty_and_non_utf8_training_sets(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(DyagError, match="empty training set"):
        read_training_set(empty)
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"messages": [{"role": "user", "content": "\xe9"}]}\n')
    with pytest.raises(DyagError, match=":1: not UTF-8"):
        read_training_set(latin)
