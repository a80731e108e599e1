"""generate-training: templates, sampling, group splits, outputs and the CLI."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dyag.data.generate import (
    GenerateConfig,
    _progress,
    build_groups,
    generate_training,
    golden_for_training,
    select_round_robin,
    unseen_cases,
)
from dyag.data.golden import read_golden
from dyag.data.kb import sample_kb_path
from dyag.data.splits import parse_ratios, split_groups, split_sizes
from dyag.data.templates import FIELD_TEMPLATES, available_fields, elide, field_facts, template_context
from dyag.data.training_set import read_training_set
from dyag.errors import DyagError
from tests.helpers import FIXTURES


@pytest.fixture(scope="module")
def n_groups(catalog) -> int:
    return sum(len(available_fields(r)) for r in catalog)


def rows_of(path: Path) -> list[dict]:
    return read_training_set(path)


def group_of(row: dict) -> tuple[str, str]:
    return (row["meta"]["kb_id"], row["meta"]["field"])


def user_text(row: dict) -> str:
    return next(m["content"] for m in row["messages"] if m["role"] == "user")


def answer_text(row: dict) -> str:
    return row["messages"][-1]["content"]


def norm(text: str) -> str:
    """A question compared loosely: case, accents, punctuation and spacing ignored."""
    text = "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))
    return " ".join(re.findall(r"\w+", text))


# --- templates ---------------------------------------------------------------------------


def test_every_field_has_four_questions_and_two_answers():
    assert {"description", "hebergeur", "technologies", "version", "sigle"} <= set(FIELD_TEMPLATES)
    for name, t in FIELD_TEMPLATES.items():
        assert len(t.questions) >= 4 and len(set(t.questions)) == len(t.questions), name
        assert len(t.answers) >= 2, name
    hosting = FIELD_TEMPLATES["hebergeur"].questions
    assert "Qui héberge {nom} ?" in hosting and "{nom} est hébergée par qui ?" in hosting


def test_elision_before_vowels():
    assert elide("de", "Agora") == "d'Agora"
    assert elide("de", "Hermès") == "d'Hermès"
    assert elide("de", "GIDAF") == "de GIDAF"
    assert elide("que", "6Tzen") == "que 6Tzen"


# --- simple / augmented ------------------------------------------------------------------


def test_simple_makes_one_canonical_example_per_group(tmp_path, catalog, n_groups):
    result = generate_training(GenerateConfig(kb="sample", output=tmp_path / "s.jsonl"))
    rows = rows_of(tmp_path / "s.jsonl")
    assert result.made == result.available == len(rows) == n_groups
    assert Counter(group_of(r) for r in rows).most_common(1)[0][1] == 1
    gidaf_host = next(r for r in rows if group_of(r) == ("gidaf", "hebergeur"))
    assert user_text(gidaf_host) == "Qui héberge GIDAF ?"
    assert answer_text(gidaf_host) == "L'hébergeur de GIDAF est Datacenter DSI Orléans."
    assert gidaf_host["meta"]["template"] == "hebergeur.q1.a1"
    assert all(r["messages"][0]["role"] == "system" and r["messages"][1]["role"] == "user" for r in rows)


def test_empty_system_prompt_means_none(tmp_path):
    generate_training(GenerateConfig(kb="sample", output=tmp_path / "s.jsonl", system_prompt=""))
    assert all(r["messages"][0]["role"] == "user" for r in rows_of(tmp_path / "s.jsonl"))


def test_augmented_uses_every_phrasing_of_each_group(tmp_path, n_groups):
    generate_training(GenerateConfig(kb="sample", output=tmp_path / "a.jsonl", method="augmented"))
    rows = rows_of(tmp_path / "a.jsonl")
    by_group = defaultdict(list)
    for r in rows:
        by_group[group_of(r)].append(r)
    assert len(by_group) == n_groups
    for (kb_id, field), group in by_group.items():
        assert len(group) == len(FIELD_TEMPLATES[field].questions)
        assert len({user_text(r) for r in group}) == len(group)
        assert len({answer_text(r) for r in group}) >= 2, (kb_id, field)
    hosting = {user_text(r) for r in by_group[("gidaf", "hebergeur")]}
    assert {"Qui héberge GIDAF ?", "Où est hébergée l'application GIDAF ?", "Quel est l'hébergeur de GIDAF ?", "GIDAF est hébergée par qui ?"} <= hosting


def test_augmented_is_deterministic_for_a_seed(tmp_path):
    outs = []
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        generate_training(GenerateConfig(kb="sample", output=tmp_path / f"{name}.jsonl", method="augmented", count=120, seed=seed))
        outs.append((tmp_path / f"{name}.jsonl").read_bytes())
    assert outs[0] == outs[1]
    assert outs[0] != outs[2]


def test_description_expands_a_sigle_only_when_there_is_one(tmp_path, catalog):
    generate_training(GenerateConfig(kb="sample", output=tmp_path / "a.jsonl", method="augmented"))
    rows = [r for r in rows_of(tmp_path / "a.jsonl") if r["meta"]["field"] == "description"]
    sigles = [r["metadata"]["sigle"] for r in catalog if "sigle" in r["metadata"]]
    gidaf = [answer_text(r) for r in rows if r["meta"]["kb_id"] == "gidaf"]
    assert gidaf and all("GIDAF (Gestion Informatisée des Données d'Autosurveillance Fréquente)" in a for a in gidaf)
    tzen = [answer_text(r) for r in rows if r["meta"]["kb_id"] == "6tzen"]
    assert tzen and all(a.startswith("6Tzen ") and "signifie" not in a for a in tzen)
    assert not any(s in a for a in tzen for s in sigles)
    assert "Qu'est-ce que 6Tzen ?" in {user_text(r) for r in rows}
    no_sigle_ids = {r["id"] for r in catalog if "sigle" not in r["metadata"]}
    all_rows = rows_of(tmp_path / "a.jsonl")
    assert not any(r["meta"]["field"] == "sigle" and r["meta"]["kb_id"] in no_sigle_ids for r in all_rows)


def test_record_without_metadata_is_answered_with_its_text(tmp_path):
    generate_training(GenerateConfig(kb=FIXTURES / "kb_small.jsonl", output=tmp_path / "s.jsonl", method="augmented"))
    gamma = [r for r in rows_of(tmp_path / "s.jsonl") if r["meta"]["kb_id"] == "gamma"]
    assert {r["meta"]["field"] for r in gamma} == {"description"}
    assert {answer_text(r) for r in gamma} == {"Gamma est une fiche sans métadonnées."}


def test_system_prompt_comes_first(tmp_path):
    generate_training(GenerateConfig(kb=FIXTURES / "kb_small.jsonl", output=tmp_path / "s.jsonl", system_prompt="Réponds en français."))
    rows = rows_of(tmp_path / "s.jsonl")
    assert all(r["messages"][0] == {"role": "system", "content": "Réponds en français."} for r in rows)
    assert all([m["role"] for m in r["messages"]] == ["system", "user", "assistant"] for r in rows)


# --- count and round robin ---------------------------------------------------------------


def test_count_covers_every_application_before_a_second_field(catalog):
    groups = build_groups(catalog, "augmented", seed=42)
    picked = select_round_robin(groups, len(catalog))
    assert sorted(e.kb_id for e in picked) == sorted(r["id"] for r in catalog)


def test_count_covers_every_group_before_a_second_phrasing(catalog, n_groups):
    groups = build_groups(catalog, "augmented", seed=3)
    picked = select_round_robin(groups, n_groups)
    assert len({e.group for e in picked}) == n_groups
    more = select_round_robin(groups, n_groups + 10)
    assert len({e.question for e in more}) == n_groups + 10


def test_count_larger_than_possible_says_how_many(tmp_path, n_groups):
    result = generate_training(GenerateConfig(kb="sample", output=tmp_path / "s.jsonl", count=10_000))
    assert result.made == n_groups < result.requested == 10_000
    assert f"only {n_groups} of the 10000" in result.message
    assert len(rows_of(tmp_path / "s.jsonl")) == n_groups


def test_exact_count_has_no_message(tmp_path):
    result = generate_training(GenerateConfig(kb="sample", output=tmp_path / "s.jsonl", method="augmented", count=37))
    assert result.made == 37 and result.message is None
    assert len(rows_of(tmp_path / "s.jsonl")) == 37


# --- split ---------------------------------------------------------------------------------


def test_seed_command_writes_group_disjoint_splits_and_golden(tmp_path, monkeypatch, cli, catalog):
    shutil.copy(sample_kb_path(), tmp_path / "applications_rag_optimal.jsonl")
    monkeypatch.chdir(tmp_path)
    result = cli("generate-training", "applications_rag_optimal.jsonl", "--method", "augmented", "--count", "100",
                 "--split", "--output", "data/finetuning/dataset_100.jsonl")
    assert result.rc == 0, result.err
    out_dir = tmp_path / "data" / "finetuning"
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "dataset_100_golden.jsonl", "dataset_100_test.jsonl", "dataset_100_test_golden.jsonl",
        "dataset_100_train.jsonl", "dataset_100_val.jsonl"]
    splits = {n: rows_of(out_dir / f"dataset_100_{n}.jsonl") for n in ("train", "val", "test")}
    assert [len(splits[n]) for n in ("train", "val", "test")] == [80, 10, 10]
    sides = [{group_of(r) for r in rows} for rows in splits.values()]
    assert not (sides[0] & sides[1] or sides[0] & sides[2] or sides[1] & sides[2])
    golden = read_golden(out_dir / "dataset_100_test_golden.jsonl")
    assert [(c.question, c.reference) for c in golden] == [(user_text(r), answer_text(r)) for r in splits["test"]]
    text = {r["id"]: r["text"] for r in catalog}
    for case in golden:
        kb_id, field = case.kb_ids[0], case.tags[1]
        assert case.id.startswith(f"{kb_id}-{field}-") and case.tags == ["generated", field] and case.lang == "fr"
        assert all(fact in text[kb_id] and fact in case.reference for fact in case.facts)
        assert case.split == "unseen"
    assert "dataset_100_train.jsonl" in result.out and "80" in result.out
    assert "dataset_100_golden.jsonl  (80 seen + 80 paraphrase)" in result.out


def test_split_of_all_phrasings_keeps_groups_together(tmp_path):
    result = generate_training(GenerateConfig(kb="sample", output=tmp_path / "d.jsonl", method="augmented", split=True, seed=5))
    sides = {}
    for name in ("train", "val", "test"):
        for r in rows_of(result.paths[name]):
            assert sides.setdefault(group_of(r), name) == name
    assert sum(result.counts[n] for n in ("train", "val", "test")) == result.made == result.available
    golden_ids = [c.id for c in read_golden(result.paths["test_golden"])]
    assert len(golden_ids) == len(set(golden_ids)) == result.counts["test"]
    assert any(i.endswith("-2") for i in golden_ids)


def test_three_groups_fill_every_split(tmp_path):
    config = GenerateConfig(kb=FIXTURES / "kb_small.jsonl", output=tmp_path / "d.jsonl", count=3, split=True)
    result = generate_training(config)
    assert [result.counts[n] for n in ("train", "val", "test")] == [1, 1, 1]


def test_without_split_only_output_is_written(tmp_path):
    generate_training(GenerateConfig(kb=FIXTURES / "kb_small.jsonl", output=tmp_path / "d.jsonl"))
    assert [p.name for p in tmp_path.iterdir()] == ["d.jsonl"]


@settings(max_examples=80, deadline=None)
@given(
    groups=st.lists(st.tuples(st.sampled_from(["gidaf", "6tzen", "a", "b", "c"]), st.integers(0, 30)), max_size=60),
    ratios=st.sampled_from([(0.8, 0.1, 0.1), (0.6, 0.2, 0.2), (0.34, 0.33, 0.33), (0.9, 0.1, 0.0), (1.0, 0.0, 0.0)]),
    seed=st.integers(0, 2**32),
)
def test_split_groups_properties(groups, ratios, seed):
    parts = split_groups(groups, ratios, seed)
    assert parts == split_groups(list(reversed(groups)), ratios, seed)
    assigned = [g for name in ("train", "val", "test") for g in parts[name]]
    assert len(assigned) == len(set(assigned)) == len(set(groups))
    assert set(assigned) == set(groups)
    positive = [n for n, r in zip(("train", "val", "test"), ratios) if r > 0]
    if len(set(groups)) >= len(positive):
        assert all(parts[n] for n in positive)
    assert all(not parts[n] for n, r in zip(("train", "val", "test"), ratios) if r == 0)


@settings(max_examples=100, deadline=None)
@given(n=st.integers(0, 2000), ratios=st.sampled_from([(0.8, 0.1, 0.1), (0.7, 0.15, 0.15), (0.5, 0.5, 0.0)]))
def test_split_sizes_add_up_and_follow_ratios(n, ratios):
    sizes = split_sizes(n, ratios)
    assert sum(sizes) == n and min(sizes) >= 0
    if n >= 3:
        assert all(abs(s - n * r) <= 1.5 for s, r in zip(sizes, ratios))


@pytest.mark.parametrize(
    "value, needle",
    [("0.5,0.5,0.5", "sum to 1"), ("1.2,-0.1,-0.1", ">= 0"), ("0.8,0.2", "three numbers"), ("a,b,c", "three numbers"),
     ("0,0.5,0.5", "train ratio"), ("nan,0.5,0.5", "finite")],
)
def test_parse_ratios_rejects_bad_values(value, needle):
    with pytest.raises(DyagError, match=needle):
        parse_ratios(value)


def test_parse_ratios_accepts_strings_and_sequences():
    assert parse_ratios("0.7, 0.2, 0.1") == (0.7, 0.2, 0.1)
    assert parse_ratios(["0.8", "0.1", "0.1"]) == (0.8, 0.1, 0.1)


# --- errors write nothing -----------------------------------------------------------------


@pytest.mark.parametrize(
    "content, needle",
    [
        (b'{"id": "a", "title": "A", "text": "a"}\n{oops\n', ":2: invalid JSON"),
        (b'{"title": "A", "text": "a"}\n', ":1: missing field 'id'"),
        (b'{"id": "a", "title": "A"}\n', ":1: missing field 'text'"),
        (b'{"id": "a", "title": "A", "text": "\xe9t\xe9"}\n', ":1: not UTF-8"),
        (b"", "empty knowledge base"),
        (b'{"id": "a", "title": "A", "text": "a"}\n{"id": "a", "title": "B", "text": "b"}\n', ":2: field 'id': duplicate id 'a' (first at line 1)"),
    ],
    ids=["invalid-json", "missing-id", "missing-text", "non-utf8", "empty", "duplicate-id"],
)
def test_bad_kb_errors_and_writes_nothing(tmp_path, content, needle):
    kb = tmp_path / "kb.jsonl"
    kb.write_bytes(content)
    out = tmp_path / "out"
    with pytest.raises(DyagError) as err:
        generate_training(GenerateConfig(kb=kb, output=out / "d.jsonl", split=True))
    assert needle in str(err.value) and str(kb) in str(err.value)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["kb.jsonl"]


@pytest.mark.parametrize(
    "kwargs, needle",
    [({"count": 0}, "count"), ({"count": -3}, "count"), ({"method": "fancy"}, "unknown method"),
     ({"ratios": (0.5, 0.5, 0.5)}, "sum to 1"), ({"seed": "x"}, "seed")],
)
def test_bad_config_is_a_dyag_error(tmp_path, kwargs, needle):
    with pytest.raises(DyagError, match=needle):
        GenerateConfig(kb="sample", output=tmp_path / "d.jsonl", **kwargs)


def test_output_that_is_a_directory_or_the_kb_is_refused(tmp_path):
    (tmp_path / "d_train.jsonl").mkdir()
    with pytest.raises(DyagError, match="directory"):
        generate_training(GenerateConfig(kb="sample", output=tmp_path / "d.jsonl", split=True))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d_train.jsonl"]
    kb = tmp_path / "kb.jsonl"
    shutil.copy(FIXTURES / "kb_small.jsonl", kb)
    with pytest.raises(DyagError, match="overwrite the knowledge base"):
        generate_training(GenerateConfig(kb=kb, output=kb))
    assert kb.read_bytes() == (FIXTURES / "kb_small.jsonl").read_bytes()


def test_progress_bar_hidden_for_few_records_or_no_tty():
    assert _progress(list(range(3)), "x").disable
    assert _progress(list(range(500)), "x").disable  # pytest captures stderr: not a TTY


# --- CLI ------------------------------------------------------------------------------------


def test_cli_sample_keyword(tmp_path, cli):
    out = tmp_path / "s.jsonl"
    result = cli("generate-training", "sample", "--method", "simple", "--count", "20", "--seed", "1",
                 "--system-prompt", "Tu es l'assistant du catalogue.", "--output", out)
    assert result.rc == 0, result.err
    rows = rows_of(out)
    assert len(rows) == 20 and rows[0]["messages"][0]["role"] == "system"
    assert str(out) in result.out


def test_cli_ratios_flag(tmp_path, cli):
    assert cli("generate-training", "sample", "--split", "--ratios", "0.6,0.2,0.2", "--output", tmp_path / "d.jsonl").rc == 0
    counts = [len(rows_of(tmp_path / f"d_{n}.jsonl")) for n in ("train", "val", "test")]
    groups = [len({group_of(r) for r in rows_of(tmp_path / f"d_{n}.jsonl")}) for n in ("train", "val", "test")]
    assert counts == groups and abs(groups[1] / sum(groups) - 0.2) < 0.01


@pytest.mark.parametrize(
    "extra, needle",
    [(["--ratios", "0.5,0.5,0.5"], "sum to 1"), (["--ratios", "0.9,0.2,-0.1"], ">= 0"), (["--count", "0"], "count"),
     (["--count", "-4"], "count"), (["--method", "nope"], "unknown method")],
)
def test_cli_bad_options_exit_2_and_write_nothing(tmp_path, cli, extra, needle):
    result = cli("generate-training", "sample", "--split", "--output", tmp_path / "d.jsonl", *extra)
    assert result.rc == 2
    err = result.err
    assert err.startswith("dyag: error:") and needle in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_cli_missing_output_or_kb_exit_2(tmp_path, cli):
    result = cli("generate-training", "sample")
    assert result.rc == 2 and "--output" in result.err
    result = cli("generate-training", tmp_path / "absent.jsonl", "--output", tmp_path / "d.jsonl")
    assert result.rc == 2 and "not found" in result.err
    assert list(tmp_path.iterdir()) == []


def test_cli_bad_kb_line_is_reported(tmp_path, cli):
    kb = tmp_path / "kb.jsonl"
    kb.write_text('{"id": "a", "title": "A", "text": "a"}\n[]\n', encoding="utf-8")
    result = cli("generate-training", kb, "--output", tmp_path / "d.jsonl")
    assert result.rc == 2 and f"{kb}:2:" in result.err
    assert not (tmp_path / "d.jsonl").exists()


def test_generate_result_rows_are_json_lines(tmp_path):
    result = generate_training(GenerateConfig(kb=FIXTURES / "kb_small.jsonl", output=tmp_path / "d.jsonl", method="augmented"))
    lines = (tmp_path / "d.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == result.counts["all"] == result.made
    assert all(set(json.loads(line)) == {"messages", "meta"} for line in lines)


# --- seen / paraphrase / unseen golden cases -------------------------------------------------


#: sha256 of ``generate-training sample --method augmented --count 100 --seed 42`` without a system
#: prompt. Adapters are cached by their training set's content: a change of the training rows (the
#: phrasings, their order, the sampling) forces every adapter to be retrained. Change this pin only
#: on purpose.
PINNED_AUGMENTED_100 = "aee5a1eccb0c85b68e7b86437c036c75c73bc743f4ae1fe7a08c4c1649afb416"


def test_training_rows_are_pinned(tmp_path):
    generate_training(GenerateConfig(kb="sample", output=tmp_path / "a.jsonl", method="augmented", count=100, seed=42,
                                     system_prompt=""))
    assert hashlib.sha256((tmp_path / "a.jsonl").read_bytes()).hexdigest() == PINNED_AUGMENTED_100


@pytest.fixture(scope="module", params=[("augmented", 100, 42), ("augmented", None, 5), ("simple", None, 42)],
                ids=["augmented-100", "augmented-all", "simple-all"])
def split_run(request, tmp_path_factory):
    method, count, seed = request.param
    out = tmp_path_factory.mktemp("split") / "ds.jsonl"
    result = generate_training(GenerateConfig(kb="sample", output=out, method=method, count=count, seed=seed, split=True))
    rows = {n: rows_of(result.paths[n]) for n in ("train", "val", "test")}
    golden = read_golden(result.paths["golden"])
    return {"result": result, "rows": rows, "golden": golden, "test_golden": read_golden(result.paths["test_golden"]),
            "method": method, "count": count, "seed": seed}


def test_split_golden_counts_add_up(split_run):
    result, rows, golden = split_run["result"], split_run["rows"], split_run["golden"]
    train_groups = {group_of(r) for r in rows["train"]}
    assert result.counts["golden"] == len(golden) == result.counts["golden_seen"] + result.counts["golden_paraphrase"]
    assert result.counts["golden_seen"] == result.counts["golden_paraphrase"] == len(train_groups)
    assert Counter(c.split for c in golden) == {"seen": len(train_groups), "paraphrase": len(train_groups)}
    assert result.counts["test_golden"] == len(split_run["test_golden"]) == len(rows["test"])
    ids = [c.id for c in golden] + [c.id for c in split_run["test_golden"]]
    assert len(ids) == len(set(ids))
    assert {(c.kb_ids[0], c.tags[1]) for c in golden} == train_groups
    assert f"({len(train_groups)} seen + {len(train_groups)} paraphrase)" in result.summary()


def test_seen_cases_are_training_rows(split_run):
    trained = {(user_text(r), answer_text(r)): group_of(r) for r in split_run["rows"]["train"]}
    for case in split_run["golden"]:
        if case.split == "seen":
            kb_id, field = case.kb_ids[0], case.tags[1]
            assert case.id == f"{kb_id}-{field}-seen" and field in case.tags
            assert trained[(case.question, case.reference)] == (kb_id, field)


def test_paraphrase_cases_are_never_in_any_training_row(split_run):
    asked = {norm(user_text(r)) for rows in split_run["rows"].values() for r in rows}
    paraphrases = [c for c in split_run["golden"] if c.split == "paraphrase"]
    assert paraphrases
    for case in paraphrases:
        kb_id, field = case.kb_ids[0], case.tags[1]
        assert case.id == f"{kb_id}-{field}-paraphrase" and field in case.tags
        assert norm(case.question) not in asked, case.question


def test_seen_and_paraphrase_references_and_facts_are_the_trained_ones(split_run, catalog):
    records = {r["id"]: r for r in catalog}
    answers = defaultdict(set)
    for r in split_run["rows"]["train"]:
        answers[group_of(r)].add(answer_text(r))
    by_group = defaultdict(dict)
    for case in split_run["golden"]:
        group = (case.kb_ids[0], case.tags[1])
        by_group[group][case.split] = case
        assert case.reference in answers[group]
        assert case.facts == field_facts(records[group[0]], group[1])
        assert all(fact in case.reference for fact in case.facts)
    for group, cases in by_group.items():
        assert cases["paraphrase"].reference == cases["seen"].reference
        assert cases["paraphrase"].facts == cases["seen"].facts
        record = records[group[0]]
        ctx = template_context(record)
        assert cases["paraphrase"].question in {p.format(**ctx) for p in FIELD_TEMPLATES[group[1]].paraphrases}


def test_unseen_cases_are_groups_not_trained_on(split_run):
    train_groups = {group_of(r) for r in split_run["rows"]["train"]}
    assert split_run["test_golden"]
    for case in split_run["test_golden"]:
        assert case.split == "unseen" and (case.kb_ids[0], case.tags[1]) not in train_groups


def test_golden_for_training_regenerates_the_split_golden_file(split_run, catalog):
    cases = golden_for_training(catalog, split_run["method"], split_run["seed"], count=split_run["count"],
                                ratios=(0.8, 0.1, 0.1))
    assert [c.to_dict() for c in cases] == [c.to_dict() for c in split_run["golden"]]


def test_golden_for_training_matches_an_unsplit_training_set(tmp_path, catalog):
    generate_training(GenerateConfig(kb="sample", output=tmp_path / "a.jsonl", method="augmented", count=150, seed=9))
    rows = rows_of(tmp_path / "a.jsonl")
    trained = {(user_text(r), answer_text(r)) for r in rows}
    asked = {norm(user_text(r)) for r in rows}
    cases = golden_for_training(catalog, "augmented", 9, count=150)
    assert len(cases) == 2 * len({group_of(r) for r in rows})
    assert all((c.question, c.reference) in trained for c in cases if c.split == "seen")
    assert all(norm(c.question) not in asked for c in cases if c.split == "paraphrase")
    assert cases == golden_for_training(catalog, "augmented", 9, count=150)
    other = golden_for_training(catalog, "augmented", 10, count=150)
    assert [c.question for c in other] != [c.question for c in cases]


def test_golden_for_training_per_group_counts_and_fields(catalog):
    cases = golden_for_training(catalog, "augmented", 42, seen_per_group=2, paraphrase_per_group=5, fields=["version", "sigle"])
    assert {c.tags[1] for c in cases} == {"version", "sigle"}
    by_group = defaultdict(list)
    for c in cases:
        by_group[(c.kb_ids[0], c.tags[1])].append(c)
    for (kb_id, field), group in by_group.items():
        n_para = len(FIELD_TEMPLATES[field].paraphrases)
        assert [c.split for c in group] == ["seen"] * 2 + ["paraphrase"] * n_para
        assert [c.id for c in group[:3]] == [f"{kb_id}-{field}-seen", f"{kb_id}-{field}-seen-2", f"{kb_id}-{field}-paraphrase"]
        assert len({c.question for c in group}) == len(group)
    assert golden_for_training(catalog, "simple", 42, seen_per_group=0, fields="version")[0].split == "paraphrase"
    assert all(c.split == "seen" for c in golden_for_training(catalog, "simple", 42, paraphrase_per_group=0))


@pytest.mark.parametrize(
    "kwargs, needle",
    [({"fields": ["nope"]}, "unknown field 'nope'"), ({"seen_per_group": -1}, "seen_per_group"),
     ({"paraphrase_per_group": 1.5}, "paraphrase_per_group"), ({"method": "fancy"}, "unknown method"),
     ({"ratios": (0.5, 0.5, 0.5)}, "sum to 1")],
)
def test_golden_for_training_bad_arguments(catalog, kwargs, needle):
    kwargs = {"method": "simple", **kwargs}
    with pytest.raises(DyagError, match=needle):
        golden_for_training(catalog, seed=42, **kwargs)


def test_unseen_cases_ask_every_field_canonically(catalog, n_groups):
    cases = unseen_cases(catalog)
    assert len(cases) == len({c.id for c in cases}) == n_groups
    assert all(c.split == "unseen" and c.id == f"{c.kb_ids[0]}-{c.tags[1]}-unseen" for c in cases)
    gidaf = next(c for c in cases if c.id == "gidaf-hebergeur-unseen")
    assert gidaf.question == "Qui héberge GIDAF ?"
    assert gidaf.reference == "L'hébergeur de GIDAF est Datacenter DSI Orléans."
    assert gidaf.facts == ["Datacenter DSI Orléans"] and gidaf.tags == ["generated", "hebergeur"]
    gidaf_record = next(r for r in catalog if r["id"] == "gidaf")
    assert [c.tags[1] for c in cases if c.kb_ids[0] == "gidaf"] == available_fields(gidaf_record)
    versions = unseen_cases(catalog[:5], fields=["version"])
    assert {c.tags[1] for c in versions} == {"version"} and len(versions) <= 5


def test_golden_output_that_is_a_directory_is_refused_before_writing(tmp_path):
    (tmp_path / "d_golden.jsonl").mkdir()
    with pytest.raises(DyagError, match="directory"):
        generate_training(GenerateConfig(kb="sample", output=tmp_path / "d.jsonl", split=True))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d_golden.jsonl"]
