"""The performance benchmark's machinery on tiny-random (no timing assertions), and packing's
attention boundaries: a packed, padding-free row must score each example as if it were alone."""

from __future__ import annotations

import importlib.util
import json

import pytest

from dyag.utils.atomic import atomic_write_jsonl
from tests.helpers import ROOT, hosting_rows


ROWS = hosting_rows(6, grow=" et sauvegardée")  # answers of different lengths


@pytest.mark.slow
def test_perf_benchmark_writes_pairs_and_tables(home_with_models, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))  # benchmarks/ is not an installed package
    from benchmarks.perf.bench import PerfConfig, format_table, pair_key, run_perf
    from dyag.results import PerfPair

    out = tmp_path / "perf.json"
    config = PerfConfig(
        reps=1, models=("tiny-random",), gen_model="tiny-random", examples=4, batch_size=2, questions=2,
        per_process=1, max_new_tokens=3, growth_model="tiny-random", growth_examples=(2, 4),
        growth_predictions=(4, 8), sections=("train", "generate", "matmul", "growth"), output=str(out),
    )
    doc = run_perf(config, tmp_path / "work", log=lambda *_: None)
    on_disk = json.loads(out.read_text(encoding="utf-8"))["perf"]
    assert all(isinstance(p, PerfPair) for p in doc["pairs"])
    assert [PerfPair.model_validate(p) for p in on_disk["pairs"]] == doc["pairs"]
    assert {"machine", "settings", "pairs", "training", "generation", "matmul", "flops", "memory",
            "growth_training", "growth_scoring", "targets"} <= set(on_disk)
    assert on_disk["machine"]["cores"] >= 1
    keys = [pair_key(p) for p in on_disk["pairs"]]
    assert {"training_tokens_per_s", "answers_per_s_vs_one_process_each",
            "answers_per_s_vs_sequential_unmerged"} <= set(keys)
    assert on_disk["pairs"][keys.index("training_tokens_per_s")]["name"] == "training tokens/s · tiny-random"
    for p in on_disk["pairs"]:
        assert set(p) >= {"name", "a", "b", "a_median", "b_median", "unit", "ratio"}
        assert p["a_median"] > 0 and p["b_median"] > 0
        assert p["ratio"] == pytest.approx(p["a_median"] / p["b_median"], rel=1e-2)
    assert on_disk["generation"]["questions"] == 2
    assert 0 <= on_disk["generation"]["identical_share"] <= 1
    assert [r["examples"] for r in on_disk["growth_training"]] == [2, 4]
    assert [r["predictions"] for r in on_disk["growth_scoring"]] == [4, 8]
    assert on_disk["matmul"]["float32_gflops"] > 0
    assert "training tokens/s · tiny-random" in format_table(on_disk)
    from dyag.report.render import build_html

    html = build_html([out], lang="en")  # the written file is a results document the report renders
    assert "training tokens/s · tiny-random" in html and 'id="perf"' in html


@pytest.mark.slow
def test_perf_serve_section_puts_llama_cpp_beside_in_process_generation(tmp_path, monkeypatch):
    if importlib.util.find_spec("llama_cpp") is None:  # found, not imported: the server runs in its own process
        pytest.skip("llama.cpp is not installed: make venv-llama (make test installs it)")
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks.perf.bench import PerfConfig, format_table, pair_key, run_perf

    config = PerfConfig(reps=1, models=("tiny-random",), gen_model="tiny-random", examples=4, batch_size=2,
                        questions=3, max_new_tokens=4, sections=("serve",), output=str(tmp_path / "perf.json"))
    doc = run_perf(config, tmp_path / "work", log=lambda *_: None)
    assert not doc.get("failed_sections"), doc.get("failed_sections")
    assert [pair_key(p) for p in doc["pairs"]] == [f"answers_per_s_llamacpp_c{n}_vs_in_process" for n in (1, 4, 8)]
    assert all(p.a_median > 0 and p.b_median > 0 for p in doc["pairs"])
    assert doc["serving"]["questions"] == 3 and 0 <= doc["serving"]["identical_share"] <= 1
    assert "llama.cpp server, concurrency 4" in format_table(doc)


def test_targets_pick_pairs_by_key_not_by_name(monkeypatch):
    """The targets read each pair's ``key``: a name that reads like another pair's changes nothing, and a
    pair read back from perf.json (a dict) counts as the PerfPair it was written from."""
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks.perf.bench import PAIR_KEYS, format_table, pair_key, targets
    from dyag.results import PerfPair

    def pair(key, name, a, b):
        return PerfPair(key=key, name=name, a="A", b="B", a_median=a, b_median=b, unit="x", ratio=round(a / b, 3))

    tokens = pair("training_tokens_per_s", "training tokens/s · m", 180.0, 100.0)
    decoy = pair("training_samples_per_s", "training tokens/s · one process per question, warm vs cold", 1.0, 1.0)
    warm = pair("suite_warm_vs_cold", "suite re-run · m", 1.0, 40.0)
    doc = {"machine": {"cuda": None}, "pairs": [tokens, decoy, warm.model_dump(mode="json")]}
    assert [pair_key(p) for p in doc["pairs"]] == ["training_tokens_per_s", "training_samples_per_s",
                                                   "suite_warm_vs_cold"]
    assert set(map(pair_key, doc["pairs"])) <= set(PAIR_KEYS)
    assert targets(doc) == [{"target": "training tokens/s · m >= 1.5x reference", "measured": 1.8, "met": True},
                            {"target": "suite re-run · m <= 5%", "measured": 0.025, "met": True}]
    doc["machine"]["cuda"] = "H100"
    assert targets(doc)[0] == {"target": "training tokens/s · m >= 3.0x reference", "measured": 1.8, "met": False}
    table = format_table(doc)
    assert "training tokens/s · m" in table and "suite re-run · m" in table and "A = A; B = B" in table


def test_perf_json_renders_in_the_html_report(tmp_path):
    """The report shows a results["perf"] dict: the perf document's shape must fit it."""
    from dyag.report.render import build_html

    results = {"schema_version": 1, "run": {}, "training": {}, "cases": [], "aggregates": {},
               "perf": {"machine": {"cores": 2}, "pairs": [{"name": "training tokens/s · x", "a": "dyag", "b": "trl",
                                                             "a_median": 150.0, "b_median": 100.0,
                                                             "unit": "tokens/s", "ratio": 1.5}]}}
    html = build_html([results], lang="en")
    assert "training tokens/s · x" in html and 'id="perf"' in html


def test_packed_rows_keep_attention_inside_each_example(home_with_models, tmp_path):
    """dyag's packing (trl bfd, padding-free) on CPU sdpa: the packed batch's per-example loss
    equals each example's loss alone; attending across the boundary would change it."""
    import torch

    from dyag.models.loading import resolve_model
    from dyag.training.config import FinetuneConfig
    from dyag.training.sft import build_trainer
    from dyag.utils.device import pick_device

    data = atomic_write_jsonl(tmp_path / "train.jsonl", ROWS)
    cfg = FinetuneConfig(dataset=str(data), output=str(tmp_path / "out"), base_model="tiny-random", batch_size=3,
                         max_steps=1, lora_rank=4, packing=True, precision="fp32")
    trainer = build_trainer(cfg, resolve_model("tiny-random"), pick_device(True), ROWS, output_dir=tmp_path / "w",
                            progress=False)
    assert trainer.padding_free, "bfd packing must be padding-free (position_ids carry the boundaries)"
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(len(trainer.train_dataset))])
    assert batch["input_ids"].shape[0] == 1 and "attention_mask" not in batch
    model = trainer.model.eval()
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    with torch.no_grad():
        logits = model(**inputs).logits[0]
        starts = (batch["position_ids"][0] == 0).nonzero().flatten().tolist() + [batch["input_ids"].shape[1]]
        assert len(starts) - 1 == len(ROWS), "every example is in the packed batch"
        labels = batch["labels"][0]
        for lo, hi in zip(starts, starts[1:]):
            alone = model(input_ids=batch["input_ids"][:, lo:hi]).logits[0]
            assert torch.allclose(logits[lo:hi], alone, atol=1e-4)
            seg_labels = labels[lo + 1:hi]
            packed_loss = torch.nn.functional.cross_entropy(logits[lo:hi - 1], seg_labels, ignore_index=-100)
            alone_loss = torch.nn.functional.cross_entropy(alone[:-1], seg_labels, ignore_index=-100)
            assert packed_loss.item() == pytest.approx(alone_loss.item(), abs=1e-5)
        # The control: the same row and positions with a plain all-ones mask lets later examples see earlier ones.
        crossed = model(input_ids=batch["input_ids"], position_ids=batch["position_ids"],
                        attention_mask=torch.ones_like(batch["input_ids"])).logits[0]
        lo, hi = starts[-2], starts[-1]
        assert not torch.allclose(crossed[lo:hi], model(input_ids=batch["input_ids"][:, lo:hi]).logits[0], atol=1e-4)


def test_the_readme_tables_are_the_stored_baselines(monkeypatch):
    """The README's baseline tables are printed from golden/baselines, and the README holds them as printed."""
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks.baseline_tables import load, results_table, splits_table

    baselines = load(ROOT / "golden" / "baselines")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for table in (results_table(baselines), splits_table(baselines)):
        assert table.count("\n") >= 8 and "cpu-bf16-amx" in table and "cpu-fp32" in table
        assert table in readme, "README.md: paste python -m benchmarks.baseline_tables"
