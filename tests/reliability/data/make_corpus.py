"""Write the bad-input corpus of the reliability suite (the files are committed).

    python tests/reliability/data/make_corpus.py

Each kind (kb, training, golden, predictions, questions) gets a valid two-line file,
BOM and CRLF twins of it (accepted), the JSONL faults shared by every reader (line 2
is the bad one), then faults of its own schema. The 50 MB line is made on the fly by
the tests, never stored.
"""

from __future__ import annotations

import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent


def dump(obj) -> str:
    return json.dumps(obj, ensure_ascii=False)


ROWS = {
    "kb": [
        {"id": "alpha", "title": "ALPHA", "text": "ALPHA est l'outil de test des liaisons, hébergé à Roubaix.",
         "metadata": {"nom": "ALPHA", "description": "l'outil de test des liaisons", "hebergeur": "OVHcloud Roubaix", "version": "1.0"}},
        {"id": "beta", "title": "Beta", "text": "Beta est le portail de démonstration.",
         "metadata": {"nom": "Beta", "description": "le portail de démonstration", "utilisateurs": 1500}},
    ],
    "training": [
        {"messages": [{"role": "user", "content": "Qui héberge ALPHA ?"}, {"role": "assistant", "content": "ALPHA est hébergée par OVHcloud Roubaix."}],
         "meta": {"kb_id": "alpha", "field": "hebergeur"}},
        {"messages": [{"role": "user", "content": "Combien d'utilisateurs a Beta ?"}, {"role": "assistant", "content": "Beta compte 1500 utilisateurs."}],
         "meta": {"kb_id": "beta", "field": "utilisateurs"}},
    ],
    "golden": [
        {"id": "alpha-hebergeur-1", "question": "Qui héberge ALPHA ?", "reference": "ALPHA est hébergée par OVHcloud Roubaix.",
         "facts": ["OVHcloud Roubaix"], "kb_ids": ["alpha"], "lang": "fr", "tags": ["reliability"]},
        {"id": "beta-utilisateurs-1", "question": "Combien d'utilisateurs a Beta ?", "reference": "Beta compte 1500 utilisateurs.",
         "facts": ["1500"], "kb_ids": ["beta"], "lang": "fr", "tags": ["reliability"]},
    ],
    "predictions": [
        {"id": "alpha-hebergeur-1", "system": "tiny-random/finetuned", "answer": "ALPHA est hébergée par OVHcloud Roubaix.",
         "meta": {"tokens": 9, "latency_s": 0.1}},
        {"id": "beta-utilisateurs-1", "system": "tiny-random/finetuned", "answer": "Beta compte 1500 utilisateurs.",
         "meta": {"tokens": 7, "latency_s": 0.1}},
    ],
    "questions": [
        {"id": "alpha-hebergeur-1", "question": "Qui héberge ALPHA ?"},
        {"id": "beta-utilisateurs-1", "question": "Combien d'utilisateurs a Beta ?"},
    ],
}

# Line 2 of each kind with a non-finite number in a place the schema does not check.
NAN_LINE = {
    "kb": '{"id": "beta", "title": "Beta", "text": "Beta.", "metadata": {"utilisateurs": NaN}}',
    "training": '{"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "R"}], "meta": {"weight": NaN}}',
    "golden": '{"id": "beta-1", "question": "Q ?", "reference": "R.", "facts": [NaN]}',
    "predictions": '{"id": "beta-utilisateurs-1", "system": "s", "answer": "R.", "meta": {"latency_s": NaN}}',
    "questions": '{"id": "q2", "question": "Q ?", "weight": NaN}',
}


def write(kind: str, name: str, data: str | bytes) -> None:
    """Write ``data`` (bytes as they are, text as UTF-8) to ``<kind>/<name>``."""
    path = ROOT / kind / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))


def variant(kind: str, line2: dict | str, name: str, line3: str | None = None) -> None:
    """The kind's valid line 1, then ``line2`` (and ``line3``)."""
    la = dump(ROWS[kind][0])
    l2 = line2 if isinstance(line2, str) else dump(line2)
    write(kind, name, f"{la}\n{l2}\n" + (f"{line3}\n" if line3 else ""))


def write_generic() -> None:
    """The faults of the JSONL layer, for every kind."""
    for kind, (a, b) in ROWS.items():
        la, lb = dump(a), dump(b)
        write(kind, "valid.jsonl", f"{la}\n{lb}\n")
        write(kind, "bom.jsonl", b"\xef\xbb\xbf" + f"{la}\n{lb}\n".encode())
        write(kind, "crlf.jsonl", f"{la}\r\n\r\n{lb}\r\n")
        write(kind, "invalid_json.jsonl", f"{la}\n{lb[:-1]},}}\n")
        write(kind, "single_quotes.jsonl", f"{la}\n" + lb.replace('"', "'") + "\n")
        write(kind, "truncated.jsonl", f"{la}\n{lb[: len(lb) // 2]}")
        write(kind, "empty.jsonl", "")
        write(kind, "blank_lines.jsonl", "\n   \n\t\n\r\n")
        write(kind, "latin1.jsonl", f"{la}\n".encode() + f"{la}\n".encode("latin-1"))
        write(kind, "not_object.jsonl", f"{la}\n[{la}]\n")
        write(kind, "nan.jsonl", f"{la}\n{NAN_LINE[kind]}\n")
        write(kind, "infinity.jsonl", f"{la}\n{NAN_LINE[kind].replace('NaN', '-Infinity')}\n")
        write(kind, "overflow.jsonl", f"{la}\n{NAN_LINE[kind].replace('NaN', '1e999')}\n")
        head, _, tail = lb.rpartition("Beta")
        write(kind, "lone_surrogate.jsonl", f"{la}\n{head}Beta \\ud800{tail}\n")


def write_specific() -> None:
    """The faults of each kind's schema, and ids that do not line up across files."""
    kb_a, kb_b = ROWS["kb"]
    variant("kb", {**kb_b, "text": 42}, "text_number.jsonl")
    variant("kb", {**kb_b, "metadata": "portail"}, "metadata_string.jsonl")
    variant("kb", {**kb_b, "metadata": {**kb_b["metadata"], "technologies": "Java"}}, "technologies_string.jsonl")
    variant("kb", {**kb_b, "metadata": {**kb_b["metadata"], "utilisateurs": "1 500"}}, "utilisateurs_string.jsonl")
    variant("kb", {k: v for k, v in kb_b.items() if k != "id"}, "missing_id.jsonl")
    variant("kb", {k: v for k, v in kb_b.items() if k != "text"}, "missing_text.jsonl")
    variant("kb", {**kb_b, "id": ""}, "empty_id.jsonl")
    variant("kb", kb_b, "duplicate_id.jsonl", line3=dump({**kb_a, "title": "ALPHA bis"}))

    tr_a, tr_b = ROWS["training"]
    variant("training", {**tr_b, "messages": "Combien d'utilisateurs a Beta ?"}, "messages_string.jsonl")
    variant("training", {**tr_b, "messages": []}, "messages_empty.jsonl")
    variant("training", {"meta": tr_b["meta"]}, "missing_messages.jsonl")
    variant("training", {"messages": [{"role": "user", "content": "Q ?"}, {"role": "bot", "content": "R."}]}, "role_unknown.jsonl")
    variant("training", {"messages": [{"role": "user", "content": "Q ?"}, {"role": "assistant", "content": 1500}]}, "content_number.jsonl")
    variant("training", {"messages": [{"role": "user", "content": "Q ?"}, {"role": "assistant"}]}, "content_missing.jsonl")
    variant("training", {"messages": [{"role": "assistant", "content": "R."}, {"role": "user", "content": "Q ?"}]}, "last_not_assistant.jsonl")
    variant("training", {**tr_b, "meta": "beta"}, "meta_string.jsonl")

    g_a, g_b = ROWS["golden"]
    variant("golden", {**g_b, "facts": 1500}, "facts_number.jsonl")
    variant("golden", {**g_b, "facts": "1500"}, "facts_string.jsonl")
    variant("golden", {k: v for k, v in g_b.items() if k != "reference"}, "missing_reference.jsonl")
    variant("golden", {k: v for k, v in g_b.items() if k != "question"}, "missing_question.jsonl")
    variant("golden", g_b, "duplicate_id.jsonl", line3=dump({**g_a, "question": "Où est hébergée ALPHA ?"}))
    variant("golden", {**g_b, "refrence": g_b["reference"]}, "unknown_field.jsonl")
    variant("golden", {**g_b, "expect": "maybe"}, "expect_invalid.jsonl")

    p_a, p_b = ROWS["predictions"]
    variant("predictions", {**p_b, "answer": 1500}, "answer_number.jsonl")
    variant("predictions", {k: v for k, v in p_b.items() if k != "id"}, "missing_id.jsonl")
    variant("predictions", {k: v for k, v in p_b.items() if k != "answer"}, "missing_answer.jsonl")
    variant("predictions", {**p_b, "meta": "rapide"}, "meta_string.jsonl")
    variant("predictions", p_b, "duplicate_id.jsonl", line3=dump({**p_a, "answer": "OVHcloud."}))
    # Ids that do not line up with golden/valid.jsonl, one way and the other.
    variant("predictions", {**p_b, "id": "gamma-version-1"}, "id_not_in_golden.jsonl")
    write("predictions", "golden_case_unanswered.jsonl", dump(p_a) + "\n")

    q_a, q_b = ROWS["questions"]
    variant("questions", {**q_b, "question": 1500}, "question_number.jsonl")
    variant("questions", {"id": "beta-utilisateurs-1"}, "missing_question.jsonl")
    variant("questions", q_b, "duplicate_id.jsonl", line3=dump({**q_a, "question": "Où est hébergée ALPHA ?"}))
    write("questions", "latin1.txt", "Qui héberge ALPHA ?\n".encode("latin-1"))
    write("questions", "blank_lines.txt", "\n  \n\t\n")
    write("questions", "valid.txt", "\ufeffQui héberge ALPHA ?\r\nCombien d'utilisateurs a Beta ?\r\n")

    # Values that would break the one-line error if echoed raw: a newline and an escape sequence.
    evil = "alpha\n\x1b[2Jdyag: error: fake"
    write("kb", "duplicate_id_control_chars.jsonl",
          dump({**kb_a, "id": evil}) + "\n" + dump({**kb_b, "id": evil}) + "\n")
    write("golden", "unknown_field_control_chars.jsonl", dump(g_a) + "\n" + dump({**g_b, evil: 1}) + "\n")


if __name__ == "__main__":
    write_generic()
    write_specific()
