"""The report in a real browser: headless Chromium renders it, and injected markup stays inert."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from dyag.report.render import render_report
from dyag.results import parse
from tests.helpers import FIXTURES

pytestmark = pytest.mark.chromium

FIXTURE = FIXTURES / "report" / "results_small.json"
PWN = "document.body.setAttribute('data-pwned','1')"
PAYLOADS = (
    f'<img src=x onerror="{PWN}">',
    f"<script>{PWN}</script>",
    f'<svg onload="{PWN}"></svg>',
    f'"><iframe srcdoc="<script>parent.{PWN}</script>"></iframe>',
)


def chromium_binary() -> str:
    found = shutil.which("chromium") or ("/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None)
    if not found:
        pytest.skip("chromium not installed (apt-get install chromium)")
    return found


def chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    command = [
        binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


class DomSummary(HTMLParser):
    """Tags, the body's attributes, and the ids/classes the checks need."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.body_attrs: dict[str, str | None] = {}
        self.handlers: list[tuple[str, str]] = []
        self.questions: list[str] = []
        self.quant_tables = 0
        self.answers = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs_d = dict(attrs)
        if tag == "body":
            self.body_attrs = attrs_d
        self.handlers += [(tag, name) for name, _ in attrs if name.startswith("on")]
        classes = (attrs_d.get("class") or "").split()
        if tag == "details" and "q" in classes:
            self.questions.append(attrs_d.get("data-question-id") or "")
        if tag == "table" and "quant" in classes:
            self.quant_tables += 1
        if tag == "article" and "answer" in classes:
            self.answers += 1


def hostile_results() -> dict:
    """The fixture with script payloads in answers, questions, rule messages and names."""
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    for i, case in enumerate(data["cases"]):
        payload = PAYLOADS[i % len(PAYLOADS)]
        if case["system"].endswith("/base"):
            case["answer"] = f"{payload} GIDAF {payload}"
            case["rules"][0].update(passed=False, message=payload, span=[0, len(payload) // 2])
        if case["id"] == "6tzen-definition-1":
            case["question"] = f"Qu'est-ce que 6Tzen ? {payload}"
    data["run"]["hyperparameters"]["comment"] = PAYLOADS[0]
    return data


def test_report_renders_in_chromium_and_injected_markup_is_inert(tmp_path):
    binary = chromium_binary()
    data = hostile_results()
    page = render_report([parse(data)], tmp_path / "index.html", title=PAYLOADS[1])
    url = page.resolve().as_uri()

    dom_run = chromium(binary, tmp_path / "profile-dom", "--dump-dom", url)
    assert dom_run.returncode == 0, dom_run.stderr[-2000:]
    dom = DomSummary()
    dom.feed(dom_run.stdout)

    assert dom.quant_tables == 1
    expected = list(dict.fromkeys(c["id"] for c in data["cases"]))
    assert dom.questions == expected  # one section per question, in order
    assert dom.answers == len(data["cases"])
    assert "data-pwned" not in dom.body_attrs
    assert not {"img", "iframe"} & set(dom.tags) and dom.tags.count("script") == 1  # dyag's rating script only
    assert "svg" in dom.tags  # the charts are there ...
    assert dom.handlers == []  # ... but no element carries an event handler
    assert "&lt;img src=x onerror=" in dom_run.stdout  # the payload is shown as text

    shot = tmp_path / "shot.png"
    shot_run = chromium(binary, tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1280,2000", url)
    assert shot_run.returncode == 0, shot_run.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 30_000  # a blank 1280x2000 page is a few kilobytes


def test_the_rating_script_runs_in_chromium_and_restores_stored_ratings(tmp_path):
    """The page's own script (allowed by its hash in the CSP) runs: the stored, fresh ratings come back
    pressed and counted; a stale one is not pressed."""
    from dyag.evaluation.agreement import answer_sha256

    binary = chromium_binary()
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    cases = data["cases"][:3]
    ratings = tmp_path / "ratings.jsonl"
    lines = [{"id": c["id"], "system": c["system"], "answer_sha256": answer_sha256(c["answer"]),
              "rating": "correct", "comment": "", "rater": "r"} for c in cases[:2]]
    lines.append({"id": cases[2]["id"], "system": cases[2]["system"], "answer_sha256": "0" * 64,
                  "rating": "wrong", "comment": "", "rater": "r"})  # stale: another answer's hash
    ratings.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    page = render_report([parse(data)], tmp_path / "index.html", ratings=[ratings])
    dom = chromium(binary, tmp_path / "profile", "--dump-dom", page.resolve().as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert 'data-ready="1"' in dom.stdout  # the script ran (the CSP let it)
    assert dom.stdout.count('aria-pressed="true"') == 2
    assert 'id="rate-count">2<' in dom.stdout


@pytest.mark.parametrize("name", ["all", "failing", "different", "disagree"])
def test_the_question_filters_run_in_chromium(tmp_path, name):
    """The questions' filters (a link may name one: ``#filter=failing``) hide exactly the questions that do
    not match: failing a rule; answered correctly by one of the first two systems and not the other; or
    rated against the score (one answer rated "correct" that scores under 5, one "wrong" that scores 5+)."""
    import re

    from dyag.evaluation.agreement import answer_sha256

    binary = chromium_binary()
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    doc = parse(data)
    low = next(c for c in doc.cases if c.score is not None and c.score < 5)
    high = next((c for c in doc.cases if c.score is not None and c.score >= 5), None)
    rated = [(low, "correct")] + ([(high, "wrong")] if high else [])
    ratings = tmp_path / "ratings.jsonl"
    ratings.write_text("".join(json.dumps({"id": c.id, "system": c.system, "answer_sha256": answer_sha256(c.answer),
                                           "rating": r, "comment": "", "rater": "r"}) + "\n" for c, r in rated),
                       encoding="utf-8")
    page = render_report([doc], tmp_path / "index.html", ratings=[ratings])
    dom = chromium(binary, tmp_path / "profile", "--dump-dom", page.resolve().as_uri() + f"#filter={name}")
    assert dom.returncode == 0, dom.stderr[-2000:]
    questions = re.findall(r'<details class="q[ "][^>]*>', dom.stdout)
    shown = [q for q in questions if " hidden" not in q]
    ids = {re.search(r'data-question-id="([^"]+)"', q).group(1) for q in shown}
    by_id: dict[str, dict[str, float]] = {}
    for c in doc.cases:
        if c.score is not None:
            by_id.setdefault(c.id, {})[c.system] = c.score
    systems = [m for m in re.findall(r'<option[^>]*>([^<]+)</option>', dom.stdout)]
    first, second = systems[0], systems[1]
    expected = {
        "all": {c.id for c in doc.cases},
        "failing": {c.id for c in doc.cases if any(not r.passed and r.severity == "error" for r in c.rules)},
        "different": {i for i, s in by_id.items() if first in s and second in s and (s[first] >= 5) != (s[second] >= 5)},
        "disagree": {c.id for c, _ in rated},
    }[name]
    assert 'id="q-filters"' in dom.stdout and re.search(r'id="q-filters"[^>]*data-ready="1"', dom.stdout)
    assert ids == expected and re.search(rf'data-shown="{len(expected)}"', dom.stdout)


def test_a_screenshot_of_the_top_of_the_report(tmp_path):
    """The first screen, as a reviewer sees it (kept as a test artefact in ``$DYAG_TEST_ARTIFACTS`` when set):
    Chromium renders the page, verdict first, to a 1280x900 PNG."""
    import struct

    binary = chromium_binary()
    page = render_report([parse(json.loads(FIXTURE.read_text(encoding="utf-8")))], tmp_path / "index.html", lang="en")
    shot = tmp_path / "report-top.png"
    run = chromium(binary, tmp_path / "profile", "--hide-scrollbars", "--window-size=1280,900",
                   f"--screenshot={shot}", page.resolve().as_uri())
    assert run.returncode == 0 and shot.is_file(), run.stderr[-2000:]
    head = shot.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", head[16:24]) == (1280, 900)
    artefacts = os.environ.get("DYAG_TEST_ARTIFACTS")
    if artefacts:
        Path(artefacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(artefacts) / shot.name)
