"""llama.cpp for dyag: GGUF files for a model and its adapter, and a server on loopback.

- :func:`base_gguf`: the model as llama.cpp reads it. An embedded model is the GGUF its package
  ships (the one dyag dequantizes for its own process: the same weights, kept quantized); a hub or
  local model is converted once with llama.cpp's ``convert_hf_to_gguf.py``.
- :func:`export_gguf` (``dyag export-gguf ADAPTER``): a peft adapter converted with llama.cpp's own
  ``convert_lora_to_gguf.py``, for ``llama-server --lora`` (or llama-cpp-python's ``--lora_path``).
  vLLM serves the peft directory as it is.
- :class:`LlamaCppServer`: llama-cpp-python's OpenAI-compatible server, started on a free loopback port
  for one model (and adapter), stopped afterwards: what an endpoint with ``serve = "llama.cpp"`` answers
  through.

The converters come from the source distribution of the installed llama-cpp-python (the same llama.cpp
the server runs), fetched once from the package registry into ``$DYAG_HOME/llama.cpp``. Every GGUF is
kept in dyag's content-addressed store, by the content it was made from.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from dyag.errors import DyagError
from dyag.utils.atomic import sha256_file
from dyag.utils.paths import cache_dir
from dyag.utils.store import Store

DISTRIBUTION = "llama-cpp-python"
#: how to install llama-cpp-python's server where the default native build crashes (seen on a CPU with AMX)
INSTALL_HINT = ('CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" '
                'pip install "llama-cpp-python[server]"')
#: the files of the source distribution the converters need
CONVERTER_PARTS = ("convert_lora_to_gguf.py", "convert_hf_to_gguf.py", "conversion", "gguf-py")
#: seconds a starting server has to answer /v1/models
START_TIMEOUT_S = 180
#: context a served model gets (the longest completion prompt, five worked examples and a card, is ~700 tokens)
SERVER_CONTEXT = 4096


def llama_cpp_version() -> str:
    """The installed llama-cpp-python, or a one-line error saying how to install it."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        raise DyagError(f"llama.cpp is not installed: {INSTALL_HINT}") from None


def converter_dir() -> Path:
    """llama.cpp's conversion scripts for the installed llama-cpp-python (fetched once from the registry)."""
    version = llama_cpp_version()

    def fetch(out: Path) -> dict:
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                   f"{DISTRIBUTION}=={version}", "-d", tmp]
            done = subprocess.run(cmd, capture_output=True, text=True)
            archives = list(Path(tmp).glob("*.tar.gz"))
            if done.returncode != 0 or not archives:
                last = (done.stderr.strip().splitlines() or ["no archive"])[-1]
                raise DyagError(f"cannot fetch the llama.cpp converters ({DISTRIBUTION} {version} source): {last}")
            with tarfile.open(archives[0]) as archive:
                prefix = f"{archives[0].name.removesuffix('.tar.gz')}/vendor/llama.cpp/"
                members = [m for m in archive.getmembers()
                           if m.name.startswith(prefix) and m.name[len(prefix):].split("/")[0] in CONVERTER_PARTS
                           and (m.isfile() or m.isdir())]
                for member in members:
                    member.name = member.name[len(prefix):]
                archive.extractall(out, members=members, filter="data")
        if not (out / "convert_lora_to_gguf.py").is_file():
            raise DyagError(f"{DISTRIBUTION} {version}'s source carries no convert_lora_to_gguf.py")
        return {"version": version}

    store = Store(cache_dir("llama.cpp"), name="llama.cpp converters")
    return store.get_or_build({"converters": version}, fetch, what=f"llama.cpp converters of {DISTRIBUTION} {version}").path


def _convert(script: str, args: list[str]) -> None:
    """Run one of llama.cpp's converters with its own gguf-py; a failure is one line (its last)."""
    root = converter_dir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root / "gguf-py"), os.environ.get("PYTHONPATH")])),
           "NO_LOCAL_GGUF": ""}
    done = subprocess.run([sys.executable, str(root / script), *args], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()] or ["no message"]
        raise DyagError(f"llama.cpp's {script} failed: {lines[-1][:300]}")


def base_gguf(name: str) -> Path:
    """The GGUF file llama.cpp serves for the dyag model ``name``."""
    from dyag.models.loading import resolve_model
    from dyag.models.registry import get_model_spec

    spec = get_model_spec(name)
    if spec.source == "gguf-package" and not spec.gguf_assembler:
        from dyag.models.materialize import packaged_gguf_path

        path = packaged_gguf_path(spec)
        if path is None:
            raise DyagError(f"{spec.name}: {spec.gguf_file} not found in package {spec.package}: reinstall it")
        return path
    store = Store(cache_dir("gguf"), name="GGUF cache")
    if spec.source == "gguf-package":  # shipped in parts: assembled once
        import importlib

        from importlib.metadata import version

        def assemble(out: Path) -> dict:
            module = importlib.import_module(spec.package_module)
            getattr(module, spec.gguf_assembler)(out / spec.gguf_file)
            return {"package": spec.package}

        key = {"assembled": spec.package, "version": version(spec.package), "file": spec.gguf_file}
        return store.get_or_build(key, assemble, what=f"{spec.name}'s GGUF").path / spec.gguf_file
    resolved = resolve_model(spec)

    def convert(out: Path) -> dict:
        _convert("convert_hf_to_gguf.py", [str(resolved.path), "--outfile", str(out / "model.gguf"), "--outtype", "f16"])
        return {"model": resolved.identity}

    key = {"converted": resolved.identity, "llama_cpp": llama_cpp_version()}
    return store.get_or_build(key, convert, what=f"{spec.name} converted to GGUF").path / "model.gguf"


def export_gguf(adapter: str | Path, *, base: str | None = None, output: str | Path | None = None,
                outtype: str = "f32") -> Path:
    """The adapter as a GGUF LoRA file (cached by the adapter's weights); copied to ``output`` when given."""
    from dyag.inference.generator import check_adapter_dir
    from dyag.models.loading import resolve_model
    from dyag.pipeline import base_model_of

    adapter_dir = check_adapter_dir(adapter)
    resolved = resolve_model(base or base_model_of(str(adapter_dir)))
    weights = sha256_file(adapter_dir / "adapter_model.safetensors")

    def convert(out: Path) -> dict:
        _convert("convert_lora_to_gguf.py", ["--base", str(resolved.path), "--outfile", str(out / "adapter.gguf"),
                                             "--outtype", outtype, str(adapter_dir)])
        return {"adapter_sha256": weights, "base": resolved.identity}

    key = {"adapter_sha256": weights, "base": resolved.identity, "outtype": outtype, "llama_cpp": llama_cpp_version()}
    path = Store(cache_dir("gguf"), name="GGUF cache").get_or_build(
        key, convert, what=f"adapter {adapter_dir} as GGUF").path / "adapter.gguf"
    if output is not None:
        from dyag.utils.atomic import atomic_write_bytes

        atomic_write_bytes(output, path.read_bytes())
        return Path(output)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LlamaCppServer:
    """llama-cpp-python's server for one dyag model (and adapter) on a free loopback port."""

    def __init__(self, base: str, adapter: str | Path | None = None, *, threads: int | None = None):
        from dyag.models.registry import get_model_spec

        llama_cpp_version()
        self.spec = get_model_spec(base)
        self.base, self.adapter = base, adapter
        self.threads = threads or max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)
        self.process: subprocess.Popen | None = None
        self.log: Path | None = None
        self.url: str | None = None

    @property
    def served_name(self) -> str:
        return self.spec.name + ("+adapter" if self.adapter else "")

    def files(self) -> tuple[Path, Path | None]:
        return base_gguf(self.base), (export_gguf(self.adapter, base=self.base) if self.adapter else None)

    def identity(self) -> dict:
        """What the answers depend on besides the prompt: the GGUF files' content and llama.cpp's version."""
        model, lora = self.files()
        return {"gguf_sha256": sha256_file(model), "lora_sha256": sha256_file(lora) if lora else None,
                "llama_cpp": llama_cpp_version()}

    def start(self) -> str:
        """Start the server; its OpenAI base URL once it answers."""
        from dyag.models.materialize import notice

        model, lora = self.files()
        port = free_port()
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", self.served_name,
               "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(SERVER_CONTEXT),
               "--n_threads", str(self.threads), "--verbose", "false"]
        if lora is not None:
            cmd += ["--lora_path", str(lora)]
        self.log = Path(tempfile.mkstemp(prefix="dyag-llama-server-", suffix=".log")[1])
        notice(f"{self.served_name}: starting llama.cpp's server on 127.0.0.1:{port}")
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{port}/v1"
        self._wait_ready()
        return self.url

    def _wait_ready(self) -> None:
        import urllib.request

        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                message = (f"llama.cpp's server for {self.served_name} exited ({self.process.returncode}): "
                           f"{self._last_log_line()}")
                self.stop()
                raise DyagError(message)
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise DyagError(f"llama.cpp's server for {self.served_name} did not answer within {START_TIMEOUT_S} s")

    def _last_log_line(self) -> str:
        lines = [l for l in self.log.read_text(errors="replace").splitlines() if l.strip()] if self.log else []
        return lines[-1][:300] if lines else "no output"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self.log is not None:
            self.log.unlink(missing_ok=True)

    def __enter__(self) -> "LlamaCppServer":
        self.start()
        return self

    def __exit__(self, *exc) -> bool:
        self.stop()
        return False
