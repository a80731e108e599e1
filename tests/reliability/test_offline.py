"""The embedded path runs with the network blocked, even when nothing says "offline".

The socket guard (``no_network`` in conftest) makes every connection and name lookup
fail and records it. ``HF_HUB_OFFLINE`` and friends are unset (and the flags that
huggingface_hub and datasets copied at import are reset), so a library that would
phone home, check for updates or send telemetry shows up as a recorded attempt.
"""

from __future__ import annotations

import json
import time

import pytest

# Switches a user may or may not have set; dyag must not depend on any of them. ``CI``
# is one too: trl skips its telemetry ping when it is set.
ENVIRONMENT_SWITCHES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY",
                        "DISABLE_TELEMETRY", "DO_NOT_TRACK", "CI")


@pytest.fixture()
def online_mode(monkeypatch) -> None:
    """No offline or no-telemetry switch anywhere: dyag itself must not reach for the network.

    The environment is cleaned, and the flags huggingface_hub and datasets copied from it
    at import are reset, as in a process (a notebook, the pytest plugin) that imported
    them before dyag had a say: a switch dyag needs must be set where it is used.
    """
    for name in ENVIRONMENT_SWITCHES:
        monkeypatch.delenv(name, raising=False)
    import huggingface_hub.constants as hub_constants

    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hub_constants, "HF_HUB_DISABLE_TELEMETRY", False)
    import datasets.config as datasets_config

    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        if hasattr(datasets_config, name):
            monkeypatch.setattr(datasets_config, name, False)


def test_the_socket_guard_blocks_and_records(no_network):
    import socket
    import urllib.request

    with pytest.raises(OSError):
        socket.create_connection(("huggingface.co", 443), timeout=1)
    with pytest.raises(OSError):
        urllib.request.urlopen("https://huggingface.co/api/models", timeout=1)
    assert len(no_network.attempts) >= 2
    assert "huggingface.co" in " ".join(no_network.attempts)


def wait_for_background_telemetry(timeout: float = 10.0) -> None:
    """huggingface_hub sends telemetry from a daemon thread: let queued pings reach the guard."""
    try:
        from huggingface_hub.utils._telemetry import _TELEMETRY_QUEUE
    except ImportError:  # pragma: no cover - another huggingface_hub layout
        return
    deadline = time.monotonic() + timeout
    while _TELEMETRY_QUEUE.unfinished_tasks and time.monotonic() < deadline:
        time.sleep(0.05)


def test_embedded_path_runs_end_to_end_without_network(online_mode, no_network, cli, tmp_path):
    from dyag.data.kb import sample_kb_path

    tried: dict[str, list[str]] = {}

    def ok(*argv):
        seen = len(no_network.attempts)
        result = cli(*argv)
        wait_for_background_telemetry()
        assert result.rc == 0, f"dyag {' '.join(map(str, argv))} failed:\n{result.err[-3000:]}"
        if len(no_network.attempts) > seen:
            tried[argv[0]] = no_network.attempts[seen:]
        return result

    data = tmp_path / "data"
    ok("generate-training", "sample", "--count", "30", "--split", "--seed", "3", "--output", data / "ds.jsonl")
    golden = data / "ds_test_golden.jsonl"
    golden_ids = [json.loads(line)["id"] for line in golden.read_text(encoding="utf-8").splitlines()]
    assert golden_ids

    model = tmp_path / "models" / "tiny"
    ok("finetune", "--dataset", data / "ds_train.jsonl", "--output", model, "--base-model", "tiny-random",
       "--max-steps", "2", "--batch-size", "4", "--lora-rank", "4", "--max-length", "128")
    assert (model / "final" / "adapter_model.safetensors").is_file()
    manifest = json.loads((model / "run.json").read_text(encoding="utf-8"))
    assert manifest["metrics"]["steps"] == 2

    preds = tmp_path / "preds.jsonl"
    ok("query-finetuned", "--model", model / "final", "--questions", golden, "--max-new-tokens", "8",
       "--output", preds)
    rows = [json.loads(line) for line in preds.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == golden_ids
    assert {r["system"] for r in rows} == {"tiny-random/finetuned"}

    results = tmp_path / "results.json"
    ok("score", "--predictions", preds, "--golden", golden, "--kb", sample_kb_path(), "--quiet",
       "--output", results)
    scored = json.loads(results.read_text(encoding="utf-8"))
    assert scored["schema_version"] == 2
    assert len(scored["cases"]) == len(golden_ids)
    assert all(c["metrics"].get("bertscore_f1") is not None for c in scored["cases"])  # the packaged encoder ran

    report = tmp_path / "report.html"
    ok("report", results, "--output", report)
    assert report.stat().st_size > 0
    assert not tried, f"network attempts by step: {tried}"


def test_models_list_does_not_touch_the_network(online_mode, no_network, cli):
    result = cli("models", "list")
    wait_for_background_telemetry()
    assert result.rc == 0, result.err
    assert "tiny-random" in result.out and "qwen2.5:1.5b" in result.out
    result = cli("models", "list", "--json")
    assert result.rc == 0, result.err
    rows = json.loads(result.out)
    assert {r["name"] for r in rows} >= {"tiny-random", "smollm2:135m", "tinyllama"}
    assert no_network.attempts == []
