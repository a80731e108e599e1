"""The knowledge base reader, the sample catalog, and strict JSONL reading."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dyag.data.kb import METADATA_TYPES, read_kb, resolve_kb_path, sample_kb_path
from dyag.data.templates import format_count
from dyag.errors import DyagError
from dyag.utils.jsonl import iter_jsonl
from tests.helpers import FIXTURES, read_error


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def record(rid: str = "app", **extra) -> str:
    return json.dumps({"id": rid, "title": rid.upper(), "text": f"{rid} est une application.", **extra}, ensure_ascii=False)


# --- the sample catalog ------------------------------------------------------------------


def test_sample_kb_path_is_packaged_file():
    path = sample_kb_path()
    assert path.is_file() and path.name == "applications.jsonl"
    assert resolve_kb_path("sample") == path
    assert resolve_kb_path("./sample") == Path("sample")


def test_sample_catalog_has_full_french_records(catalog):
    assert len(catalog) >= 45
    assert len({r["id"] for r in catalog}) == len(catalog)
    required = set(METADATA_TYPES) - {"sigle", "version", "documentation"}
    for r in catalog:
        assert required <= set(r["metadata"]), r["id"]
        assert isinstance(r["metadata"]["utilisateurs"], int)
        assert " est " in r["text"] or " désigne " in r["text"], r["id"]


def test_sample_text_states_every_metadata_fact(catalog):
    for r in catalog:
        md, text = r["metadata"], r["text"]
        for key in ("nom", "description", "hebergeur", "domaine", "responsable", "criticite", "version", "documentation", "sigle"):
            if key in md:
                assert md[key] in text, (r["id"], key)
        assert all(t in text for t in md["technologies"]), r["id"]
        assert f"{format_count(md['utilisateurs'])} utilisateurs" in text, r["id"]


def test_sample_catalog_has_the_seed_applications(catalog):
    by_id = {r["id"]: r for r in catalog}
    assert by_id["gidaf"]["metadata"]["sigle"] == "Gestion Informatisée des Données d'Autosurveillance Fréquente"
    assert by_id["6tzen"]["metadata"]["nom"] == "6Tzen"
    assert "sigle" not in by_id["6tzen"]["metadata"]


def test_sample_catalog_has_near_collisions(catalog):
    by_id = {r["id"]: r["metadata"] for r in catalog}
    assert {"gidaf", "gidaf-pro", "gedaf", "gidic"} <= set(by_id)
    hosts = Counter(md["hebergeur"] for md in by_id.values())
    assert hosts.most_common(1)[0][1] >= 5
    assert sum(1 for md in by_id.values() if "sigle" not in md) >= 10
    first_words = lambda s: " ".join(s.split()[:3])  # noqa: E731
    assert first_words(by_id["gidaf"]["sigle"]) == first_words(by_id["gidic"]["sigle"])
    assert by_id["gidaf"]["hebergeur"] != by_id["gidaf-pro"]["hebergeur"]
    assert any("version" not in md for md in by_id.values())


# --- read_kb -----------------------------------------------------------------------------


def test_read_kb_keeps_extra_keys_and_records_without_metadata():
    records = read_kb(FIXTURES / "kb_small.jsonl")
    assert [r["id"] for r in records] == ["alpha", "beta", "gamma"]
    assert records[0]["source"] == "fixture"
    assert "metadata" not in records[2]


def test_read_kb_treats_null_metadata_values_as_absent(tmp_path):
    path = write_lines(tmp_path / "kb.jsonl", [record(metadata={"version": None, "hebergeur": "X"})])
    assert read_kb(path)[0]["metadata"]["hebergeur"] == "X"


BAD_KB = {
    "invalid JSON": (["{\"id\": \"a\", "], 1, "invalid JSON"),
    "missing id": ([json.dumps({"title": "A", "text": "a"})], 1, "'id'"),
    "missing text": ([record("a"), json.dumps({"id": "b", "title": "B"})], 2, "'text'"),
    "empty title": ([json.dumps({"id": "a", "title": " ", "text": "a"})], 1, "'title'"),
    "id not a string": ([json.dumps({"id": 3, "title": "A", "text": "a"})], 1, "'id'"),
    "id with spaces": ([json.dumps({"id": " a", "title": "A", "text": "a"})], 1, "'id'"),
    "not an object": (["[1, 2]"], 1, "JSON object"),
    "metadata not an object": ([record(metadata=["x"])], 1, "'metadata'"),
    "technologies not a list": ([record(metadata={"technologies": "Java"})], 1, "metadata.technologies"),
    "technology not a string": ([record(metadata={"technologies": ["Java", 3]})], 1, "metadata.technologies"),
    "users not an int": ([record(metadata={"utilisateurs": "12000"})], 1, "metadata.utilisateurs"),
    "users a bool": ([record(metadata={"utilisateurs": True})], 1, "metadata.utilisateurs"),
    "empty host": ([record(metadata={"hebergeur": ""})], 1, "metadata.hebergeur"),
    "duplicate ids": ([record("a"), record("b"), record("a")], 3, "line 1"),
    "NaN": (['{"id": "a", "title": "A", "text": "a", "metadata": {"utilisateurs": NaN}}'], 1, "JSON"),
}


@pytest.mark.parametrize("case", list(BAD_KB), ids=list(BAD_KB))
def test_read_kb_bad_input_names_file_and_line(tmp_path, case):
    lines, lineno, needle = BAD_KB[case]
    path = tmp_path / "kb.jsonl"
    message = read_error(read_kb, path, lines)
    assert message.startswith(f"{path}:{lineno}:"), message
    assert needle in message


def test_read_kb_non_utf8_names_line(tmp_path):
    path = tmp_path / "kb.jsonl"
    path.write_bytes(record("a").encode() + b"\n" + record("b").encode("latin-1").replace(b"b est", b"\xe9t\xe9 est") + b"\n")
    with pytest.raises(DyagError, match=rf"^{re.escape(str(path))}:2: not UTF-8"):
        read_kb(path)


@pytest.mark.parametrize("content", ["", "\n\n  \n"], ids=["empty", "blank lines"])
def test_read_kb_empty_file(tmp_path, content):
    path = tmp_path / "kb.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DyagError, match="empty knowledge base") as err:
        read_kb(path)
    assert str(path) in str(err.value)


def test_read_kb_missing_file_and_directory(tmp_path):
    with pytest.raises(DyagError, match="not found"):
        read_kb(tmp_path / "absent.jsonl")
    with pytest.raises(DyagError, match="directory"):
        read_kb(tmp_path)


def test_read_kb_accepts_bom_and_crlf(tmp_path):
    path = tmp_path / "kb.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + record("a").encode() + b"\r\n" + record("b").encode() + b"\r\n")
    assert [r["id"] for r in read_kb(path)] == ["a", "b"]


# --- iter_jsonl properties ----------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4), max_leaves=20)
json_objects = st.dictionaries(st.text(), json_values, max_size=5)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(objs=st.lists(json_objects, max_size=6))
def test_iter_jsonl_round_trips_json_objects(tmp_path, objs):
    path = tmp_path / "round.jsonl"
    path.write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objs), encoding="utf-8")
    got = list(iter_jsonl(path))
    assert [o for _, o in got] == objs
    assert [n for n, _ in got] == list(range(1, len(objs) + 1))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300) | st.lists(st.sampled_from([b"{", b"}", b"[", b"]", b'"a"', b":", b",", b"1", b"\n", b"\xff", b"\xef\xbb\xbf", b"NaN", b" "]), max_size=40).map(b"".join))
def test_iter_jsonl_arbitrary_bytes_raise_only_dyag_error(tmp_path, data):
    path = tmp_path / "junk.jsonl"
    path.write_bytes(data)
    try:
        rows = list(iter_jsonl(path))
    except DyagError as exc:
        assert "\n" not in str(exc)
    else:
        assert all(isinstance(obj, dict) for _, obj in rows)


def test_iter_jsonl_deeply_nested_line_is_a_dyag_error(tmp_path):
    path = tmp_path / "deep.jsonl"
    path.write_text("[" * 100_000 + "\n", encoding="utf-8")
    with pytest.raises(DyagError, match=rf"^{re.escape(str(path))}:1:"):
        list(iter_jsonl(path))
