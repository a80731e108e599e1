"""Model output is untrusted: what dyag prints to a terminal carries no escape or control sequence.

An answer can contain ``ESC[2J`` (clear the screen), an OSC sequence (set the window
title, plant a hyperlink), a carriage return that overwrites the start of the line, a
bell, a C1 control or a bidirectional override; printed raw, any of them changes what
the user sees.
"""

from __future__ import annotations

import json
import unicodedata
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dyag.utils.text import sanitize_terminal

BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")

HOSTILE_ANSWER = (
    "\x1b[2J\x1b[HGIDAF est hébergée\r\x1b]0;pwned\x07 par la DSI\x07."
    "\x1b]8;;https://evil.example\x1b\\clic\x1b]8;;\x1b\\ \x9b31mrouge\x1b[0m \u202eesrevni\u202c fin\n"
)


def unsafe_characters(text: str, *, allowed: str = "\n\t") -> list[str]:
    """Raw control characters (C0, DEL, C1, ESC) and bidi controls found in ``text``."""
    return [repr(c) for c in text if (unicodedata.category(c) == "Cc" and c not in allowed) or c in BIDI_CONTROLS]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("\x1b[2J\x1b[1;1Hok", "ok"),  # clear screen, move cursor
        ("\x1b[31mrouge\x1b[0m", "rouge"),
        ("\x1b]0;titre\x07texte", "texte"),  # OSC window title ended by BEL
        ("\x1b]0;titre\x1b\\texte", "texte"),  # ... ended by ST
        ("\x1b]8;;https://evil.example\x1b\\lien\x1b]8;;\x1b\\", "lien"),  # OSC 8 hyperlink
        ("avant\rapres", "avantapres"),  # carriage return cannot overwrite the line
        ("ding\x07dong", "dingdong"),  # bell
        ("\x9b2Jc1", "c1"),  # C1 CSI
        ("\x1bPdcs\x1b\\ok", "ok"),  # device control string
        ("a\x00b\x08c\x7fd", "abcd"),
        ("\u202etxet\u202c", "txet"),  # right-to-left override
        ("Hébergée à Orléans — 12 000 utilisateurs ✓ 日本", "Hébergée à Orléans — 12 000 utilisateurs ✓ 日本"),
        ("ligne 1\nligne 2\tcolonne", "ligne 1\nligne 2\tcolonne"),
    ],
)
def test_sanitize_terminal_strips_sequences_and_keeps_text(raw, clean):
    assert sanitize_terminal(raw) == clean


def test_sanitize_terminal_single_line():
    assert sanitize_terminal("a\n b\t\r\x1b[2Jc", single_line=True) == "a b c"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_sanitize_terminal_never_lets_a_control_through(text):
    clean = sanitize_terminal(text)
    assert not unsafe_characters(clean)
    assert "\x1b" not in clean
    assert sanitize_terminal(clean) == clean
    single = sanitize_terminal(text, single_line=True)
    assert not unsafe_characters(single, allowed="") and len(single.splitlines()) <= 1


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=200))
def test_sanitize_terminal_keeps_text_without_controls(text):
    if not set(text) & BIDI_CONTROLS:
        assert sanitize_terminal(text) == text


# --- the commands print through it -----------------------------------------------------------------


@pytest.fixture()
def hostile_model(monkeypatch):
    """``query-finetuned`` with a fake model whose every answer is :data:`HOSTILE_ANSWER`."""
    import dyag.inference.generator as generator
    import dyag.inference.predict as predict

    fake = SimpleNamespace(resolved=SimpleNamespace(spec=SimpleNamespace(name="tiny-random")))

    def generate_predictions(gen, cases, *, system, **kwargs):
        return [{"id": c["id"], "system": system, "answer": HOSTILE_ANSWER, "meta": {}} for c in cases]

    monkeypatch.setattr(generator, "ModelRef", lambda *a, **k: fake)  # what query-finetuned resolves (nothing built)
    monkeypatch.setattr(predict, "generate_predictions", generate_predictions)


def test_query_finetuned_prints_a_single_answer_sanitized(hostile_model, cli):
    result = cli("query-finetuned", "Qui héberge GIDAF ?", "--base-model", "tiny-random")
    assert result.rc == 0, result.err
    assert not unsafe_characters(result.out), result.out
    assert result.out == sanitize_terminal(HOSTILE_ANSWER) + "\n"
    assert "GIDAF est hébergée" in result.out


def test_query_finetuned_prints_many_answers_without_raw_controls(hostile_model, cli, corpus):
    result = cli("query-finetuned", "--questions", corpus / "questions" / "valid.jsonl", "--base-model", "tiny-random")
    assert result.rc == 0, result.err
    assert not unsafe_characters(result.out), f"raw control characters printed: {unsafe_characters(result.out)}"
    rows = [json.loads(line) for line in result.out.splitlines()]
    assert [r["id"] for r in rows] == ["alpha-hebergeur-1", "beta-utilisateurs-1"]
    assert all("GIDAF est hébergée" in r["answer"] for r in rows)


def test_query_finetuned_keeps_the_raw_answer_in_the_predictions_file(hostile_model, cli, corpus, tmp_path):
    out = tmp_path / "preds.jsonl"
    result = cli("query-finetuned", "--questions", corpus / "questions" / "valid.jsonl", "--base-model", "tiny-random",
                 "--output", out)
    assert result.rc == 0, result.err
    assert not unsafe_characters(result.out + result.err)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["answer"] for r in rows] == [HOSTILE_ANSWER] * 2  # data is kept; only the terminal view is cleaned


def test_score_table_prints_no_raw_controls(cli, corpus, tmp_path):
    preds = tmp_path / "preds.jsonl"
    golden = [json.loads(line) for line in (corpus / "golden" / "valid.jsonl").read_text(encoding="utf-8").splitlines()]
    system = "evil\x1b[2J\x1b]0;t\x07/\u202efinetuned"
    preds.write_text("".join(json.dumps({"id": g["id"], "system": system, "answer": HOSTILE_ANSWER}) + "\n"
                             for g in golden), encoding="utf-8")
    result = cli("score", "--predictions", preds, "--golden", corpus / "golden" / "valid.jsonl", "--no-bertscore",
                 "--quiet", "--output", tmp_path / "results.json")
    assert result.rc == 0, result.err
    assert not unsafe_characters(result.out + result.err), unsafe_characters(result.out + result.err)
    assert "evil" in result.out
