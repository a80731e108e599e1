"""dyag sweep: a grid of recipes trained one after the other, answered, scored and ranked."""

from __future__ import annotations

import pytest

from dyag import results as R
from dyag.errors import DyagError
from dyag.sweep import expand_grid, parse_grid, point_label
from tests.helpers import write_seed_golden


def test_grid_parsing_and_expansion():
    assert parse_grid(["epochs=2,4", "lora_rank=8", "learning_rate=5e-4,1e-3"]) == {
        "epochs": [2, 4], "lora_rank": [8], "learning_rate": [5e-4, 1e-3]}
    points = expand_grid({"epochs": [2, 4], "learning_rate": [5e-4, 1e-3]})
    assert points == [{"epochs": 2, "learning_rate": 5e-4}, {"epochs": 4, "learning_rate": 5e-4},
                      {"epochs": 2, "learning_rate": 1e-3}, {"epochs": 4, "learning_rate": 1e-3}]
    assert expand_grid({}) == [{}] and point_label("m", {}) == "m"
    for bad, message in ((["epochs"], "KEY=V1"), (["epochs="], "KEY=V1"), (["nonsense=1"], "unknown recipe key")):
        with pytest.raises(DyagError, match=message):
            parse_grid(bad)


@pytest.mark.slow
def test_sweep_trains_each_point_ranks_them_and_the_report_renders_it(home_with_models, tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)
    write_seed_golden(tmp_path / "golden.jsonl")
    (tmp_path / "pyproject.toml").write_text('[tool.dyag]\ngolden = ["golden.jsonl"]\n', encoding="utf-8")
    result = cli("sweep", "--model", "tiny-random", "--grid", "epochs=1,2", "--output", "sweep.json",
                 "--report", "sweep.html")
    assert result.rc == 0, result.err
    doc = R.read(tmp_path / "sweep.json")
    assert [p.rank for p in doc.sweep.points] == [1, 2]
    assert {p.label for p in doc.sweep.points} == {"tiny-random[epochs=1]", "tiny-random[epochs=2]"}
    assert set(doc.aggregates) == {"tiny-random[epochs=1]/finetuned", "tiny-random[epochs=2]/finetuned"}
    assert set(doc.training) == {"tiny-random[epochs=1]", "tiny-random[epochs=2]"}
    steps = {label: doc.training[label].steps for label in doc.training}
    assert steps["tiny-random[epochs=2]"] == 2 * steps["tiny-random[epochs=1]"]  # the grid value reached training
    assert "rank" in result.out and "tiny-random[epochs=2]" in result.out
    html = (tmp_path / "sweep.html").read_text(encoding="utf-8")
    assert 'id="sweep"' in html and "tiny-random[epochs=1]" in html
