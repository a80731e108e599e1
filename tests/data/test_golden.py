"""Golden sets: the reader/writer, and the committed seed and catalog sets."""

from __future__ import annotations

import json
import re
import unicodedata

import pytest

from dyag.data.generate import build_groups
from dyag.data.golden import GoldenCase, read_golden, write_golden
from dyag.errors import DyagError
from tests.helpers import FIXTURES, ROOT, read_error

SEED_QUESTIONS = [
    "Qu'est-ce que GIDAF ?",
    "Qui héberge GIDAF ?",
    "Quelles technologies utilise GIDAF ?",
    "Qu'est-ce que 6Tzen ?",
    "Quel est le domaine de GIDAF ?",
    "Qui est le responsable de GIDAF ?",
    "GIDAF est-elle critique ?",
    "Combien d'utilisateurs a GIDAF ?",
    "Quelle est la version de GIDAF ?",
    "Où trouve-t-on la documentation ?",
]


@pytest.fixture(scope="module")
def seed_cases() -> list[GoldenCase]:
    return read_golden(ROOT / "golden" / "seed.jsonl")


@pytest.fixture(scope="module")
def catalog_cases() -> list[GoldenCase]:
    return read_golden(ROOT / "golden" / "catalog.jsonl")


def fold(s: str) -> str:
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().lower()


# --- committed golden sets ------------------------------------------------------------------


def test_seed_set_is_the_seed_questions(seed_cases, by_id):
    assert [c.question for c in seed_cases] == SEED_QUESTIONS
    assert all(c.tags == ["seed"] and c.lang == "fr" and c.expect is None for c in seed_cases)
    by_q = {c.question: c for c in seed_cases}
    gidaf = by_id["gidaf"]["metadata"]
    assert gidaf["sigle"] in by_q["Qu'est-ce que GIDAF ?"].reference
    assert by_q["Qui héberge GIDAF ?"].facts == [gidaf["hebergeur"]]
    assert by_q["Quelles technologies utilise GIDAF ?"].facts == gidaf["technologies"]
    assert by_q["Quelle est la version de GIDAF ?"].facts == [gidaf["version"]]
    assert "(" not in by_q["Qu'est-ce que 6Tzen ?"].reference.split(" est ")[0]


def test_catalog_set_size_and_tags(catalog_cases):
    assert len(catalog_cases) >= 64
    tags = [t for c in catalog_cases for t in c.tags]
    assert tags.count("paraphrase") >= 40
    assert tags.count("unknown") >= 4
    assert tags.count("near-collision") >= 8 and tags.count("near-collision") % 2 == 0


def test_unknown_cases_name_applications_absent_from_the_catalog(catalog_cases, by_id):
    unknown = [c for c in catalog_cases if c.expect == "unknown"]
    assert len(unknown) >= 4
    names = {fold(r["metadata"]["nom"]) for r in by_id.values()} | set(by_id)
    for case in unknown:
        assert "unknown" in case.tags and case.kb_ids == [] and case.facts == []
        match = re.fullmatch(r"Je ne connais pas d'application nommée (.+) dans le catalogue\.", case.reference)
        assert match, case.reference
        assert fold(match.group(1)) not in names
        assert match.group(1) in case.question


def test_near_collision_cases_come_in_pairs_about_different_applications(catalog_cases):
    near = {c.id: c for c in catalog_cases if "near-collision" in c.tags}
    for case in near.values():
        other = case.id.split("-vs-")[1]
        field = case.tags[1]
        twin = near[f"nc-{other}-{field}-vs-{case.kb_ids[0]}"]
        assert twin.kb_ids != case.kb_ids and twin.facts != case.facts


def test_paraphrases_are_not_training_template_outputs(catalog_cases, catalog):
    templated = {e.question for group in build_groups(catalog, "augmented", seed=0) for e in group}
    paraphrases = [c for c in catalog_cases if "paraphrase" in c.tags]
    assert paraphrases
    assert not [c.question for c in paraphrases if c.question in templated]


@pytest.mark.parametrize("name", ["seed.jsonl", "catalog.jsonl"])
def test_golden_facts_are_in_the_catalog_text(name, by_id):
    for case in read_golden(ROOT / "golden" / name):
        assert all(k in by_id for k in case.kb_ids), case.id
        texts = " ".join(by_id[k]["text"] for k in case.kb_ids)
        for fact in case.facts:
            assert fact in texts, (case.id, fact)
            assert fact in case.reference, (case.id, fact)


# --- read_golden / write_golden ---------------------------------------------------------------


def test_read_golden_fixture_and_defaults():
    cases = read_golden(FIXTURES / "golden_small.jsonl")
    assert [c.id for c in cases] == ["alpha-hebergeur-1", "unknown-delta"]
    assert cases[1].lang == "fr" and cases[1].expect == "unknown"
    assert "expect" not in cases[0].to_dict() and cases[1].to_dict()["expect"] == "unknown"


def test_write_golden_round_trips(tmp_path):
    cases = [
        GoldenCase(id="a", question="Qui héberge A ?", reference="OVHcloud Roubaix.", facts=["OVHcloud Roubaix"], kb_ids=["a"], tags=["t"]),
        GoldenCase(id="b", question="Qu'est-ce que Z ?", reference="Je ne connais pas Z.", expect="unknown"),
    ]
    path = write_golden(tmp_path / "g" / "golden.jsonl", cases)
    assert read_golden(path) == cases
    assert "Qui héberge A ?" in path.read_text(encoding="utf-8")  # UTF-8, not \u escapes
    assert [p.name for p in path.parent.iterdir()] == ["golden.jsonl"]


def golden_line(**overrides) -> str:
    obj = {"id": "x", "question": "Q ?", "reference": "R.", "facts": ["R"], "kb_ids": ["x"], "tags": []}
    obj.update(overrides)
    return json.dumps({k: v for k, v in obj.items() if v is not ...}, ensure_ascii=False)


BAD_GOLDEN = {
    "facts not a list": ([golden_line(facts="R")], 1, "'facts'"),
    "fact not a string": ([golden_line(facts=["R", 4])], 1, "'facts'"),
    "kb_ids not a list": ([golden_line(kb_ids="x")], 1, "'kb_ids'"),
    "missing question": ([golden_line(question=...)], 1, "'question'"),
    "empty reference": ([golden_line(reference="")], 1, "'reference'"),
    "unknown field": ([golden_line(fact=["R"])], 1, "unknown field 'fact'"),
    "bad expect": ([golden_line(expect="maybe")], 1, "'expect'"),
    "lang not a string": ([golden_line(lang=1)], 1, "'lang'"),
    "duplicate ids": ([golden_line(), golden_line(id="y"), golden_line()], 3, "duplicate id 'x' (first at line 1)"),
    "invalid JSON": ([golden_line(), "{"], 2, "invalid JSON"),
}


@pytest.mark.parametrize("case", list(BAD_GOLDEN), ids=list(BAD_GOLDEN))
def test_read_golden_bad_input_names_file_and_line(tmp_path, case):
    lines, lineno, needle = BAD_GOLDEN[case]
    path = tmp_path / "golden.jsonl"
    message = read_error(read_golden, path, lines)
    assert message.startswith(f"{path}:{lineno}:") and needle in message


def test_read_golden_empty(tmp_path):
    path = tmp_path / "golden.jsonl"
    path.write_text("", encoding="utf-8")
    with pytest.raises(DyagError, match="empty golden set"):
        read_golden(path)
    assert read_golden(path, allow_empty=True) == []
