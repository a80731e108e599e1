"""The regression section (dyag/report/sections/regression.py), with the environment note, and the
calibration section (sections/calibration.py) beside it."""

from __future__ import annotations

import html
import re

from dyag.report.render import build_html
from tests.report.helpers import DIALOGUE_QUESTION, section, small


def test_regression_section(fr_html):
    reg = html.unescape(section(fr_html, "regression"))
    assert "Régression détectée pour <strong>smollm2:135m</strong>" in reg
    assert "golden/baselines/smollm2_135m.json" in reg
    assert '<span class="verdict v-regressed">régression</span>' in reg
    assert "−2,022" in reg and "< 0,001" in reg
    # the new rule failure links to its question
    anchor = re.search(rf'<details[^>]*id="(q-\d+)" data-question-id="{DIALOGUE_QUESTION}"', fr_html).group(1)
    assert f'<a href="#{anchor}">{DIALOGUE_QUESTION}</a>' in reg


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
