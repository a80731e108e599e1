"""``dyag export-gguf``: a LoRA adapter as a GGUF file, for llama.cpp's server.

    dyag export-gguf models/smollm2-catalogue/final --output smollm2-catalogue.gguf
    llama-server -m SmolLM2-135M-Instruct.Q4_1.gguf --lora smollm2-catalogue.gguf --alias smollm2-catalogue

The adapter is converted with llama.cpp's own ``convert_lora_to_gguf.py``, from the source of the
installed llama-cpp-python (fetched once from the package registry), against the base model the
adapter's run.json names (or ``--base-model``). vLLM needs no export: it serves the peft directory as
it is (``--lora-modules NAME=DIR``). The output is cached by the adapter's weights; a second export is
a copy. ``--print-base`` also prints the GGUF file llama.cpp should load as the base model.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ExportConfig:
    """The adapter to convert, and where the GGUF goes."""

    adapter: str = field(metadata={"help": "adapter directory (<output>/final)", "positional": True, "metavar": "ADAPTER"})
    output: str | None = field(default=None, metadata={
        "help": "write the GGUF here (default: <ADAPTER>/adapter.gguf)", "metavar": "FILE.gguf"})
    base_model: str | None = field(default=None, metadata={
        "help": "the adapter's base model (default: the one its run.json names)"})
    outtype: str = field(default="f32", metadata={"help": "tensor type of the GGUF", "choices": ("f32", "f16", "bf16", "q8_0")})
    print_base: bool = field(default=False, metadata={"help": "also print the base model's GGUF path"})


def run(config: ExportConfig) -> int:
    from pathlib import Path

    from dyag.errors import DyagError
    from dyag.inference.generator import check_adapter_dir
    from dyag.inference.llamacpp import base_gguf, export_gguf
    from dyag.pipeline import base_model_of

    adapter = check_adapter_dir(config.adapter)
    output = Path(config.output) if config.output else adapter / "adapter.gguf"
    if output.is_dir():
        raise DyagError(f"--output {output} is a directory")
    written = export_gguf(adapter, base=config.base_model, output=output, outtype=config.outtype)
    print(f"wrote {written} ({written.stat().st_size / 1e6:.1f} MB)")
    if config.print_base:
        print(f"base model: {base_gguf(config.base_model or base_model_of(str(adapter)))}")
    return 0
