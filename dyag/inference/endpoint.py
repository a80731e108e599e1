"""Answers from an OpenAI-compatible server: vLLM, llama.cpp, TGI, Ollama, or a team's own service.

An :class:`Endpoint` is configured in ``[tool.dyag.endpoints.<name>]`` (or by ``--endpoint URL`` on
the command line) and answers through the `openai` client, a thin wrapper here: its timeouts, and its
retries with exponential backoff on connection errors, 408, 409, 429 and 5xx (honouring
``Retry-After``). Requests run ``concurrency`` at a time; answers are placed by request, never by
arrival. A chat prompt goes to ``/v1/chat/completions`` (the server applies its chat template), a
completion prompt to ``/v1/completions`` with the prompt's stop strings; greedy by default, with the
in-process path's ``max_new_tokens``.

A served model is one :class:`ServedModel`: the endpoint and the name the server knows it by. Its
:attr:`~ServedModel.identity`, part of the generation cache key, is that name and what the server
reports of it at ``/v1/models`` (less the fields that change per request), read once per run: the same
name on a server that changed weights or context size is a different model.

Every failure is one line (:class:`EndpointError`): an unreachable server, a model it does not serve,
a status it keeps returning, an answer that is not an OpenAI response. The answers finished before it
are whole and kept (:attr:`EndpointError.done`); nothing else is.

>>> Endpoint.from_table("vllm", {"url": "http://gpu:8000/v1", "finetuned": "{model}-catalogue"}).served_name(
...     "finetuned", "qwen2.5:1.5b")
'qwen2.5:1.5b-catalogue'
"""

from __future__ import annotations

import os
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, fields
from functools import cached_property

from dyag.errors import DyagError

#: what a system is answered by on an endpoint: the served base model (``base``, ``rag``), the served
#: adapter (``finetuned``, ``rag+finetuned``), or a black box answering the bare question (``service``)
SERVED_ROLES = ("base", "finetuned", "service")
APIS = ("chat", "completions")
#: the endpoint ``--endpoint URL`` names on the command line (its systems are ``<kind>@endpoint``)
CLI_ENDPOINT = "endpoint"
#: fields of a ``/v1/models`` entry that change from one request to the next (vLLM's ``created``)
VOLATILE_MODEL_FIELDS = ("created",)


def url_field():
    """``--endpoint URL``, a field of the commands that answer (``evaluate-finetuned``, ``query-finetuned``)."""
    return field(default=None, metadata={
        "help": "answer through this OpenAI-compatible server (its /v1 base URL): --base-model is then the served "
                "model's name and --model the served adapter's", "metavar": "URL"})


def key_env_field():
    return field(default=None, metadata={"help": "environment variable holding the --endpoint API key", "metavar": "VAR"})


def concurrency_field():
    return field(default=4, metadata={"help": "requests in flight at once on an endpoint"})


def cli_endpoint(url: str, base: str | None, adapter: str | None, key_env: str | None, concurrency: int) -> "Endpoint":
    """The endpoint ``--endpoint URL`` names: ``--base-model`` and ``--model`` are its served names."""
    if not base:
        raise DyagError("--endpoint needs --base-model: the served model's name")
    return Endpoint(CLI_ENDPOINT, url=url, base=base, finetuned=adapter, api_key_env=key_env, concurrency=concurrency)


class EndpointError(DyagError):
    """A server failure, one line; ``done`` holds the answers finished before it (index -> Answer)."""

    def __init__(self, message: str, done: dict | None = None):
        super().__init__(message)
        self.done = done or {}


@dataclass(frozen=True)
class Endpoint:
    """One OpenAI-compatible server and the models it serves (``{model}`` in a name: the dyag model)."""

    name: str
    url: str | None = field(default=None, metadata={
        "help": "the server's OpenAI base URL, e.g. http://127.0.0.1:8000/v1 (none with serve)"})
    base: str | None = field(default=None, metadata={"help": "served name of the base model (base and rag systems)"})
    finetuned: str | None = field(default=None, metadata={
        "help": "served name of the adapter (finetuned systems: vLLM --lora-modules NAME=DIR, llama.cpp --lora)"})
    service: str | None = field(default=None, metadata={
        "help": "served name of a black box asked the bare question (service systems)"})
    serve: str | None = field(default=None, metadata={
        "help": '"llama.cpp": dyag starts a llama.cpp server on loopback for the run (base GGUF and exported adapter)',
        "values": ("llama.cpp",)})
    api: str = field(default="chat", metadata={
        "help": "chat: the server applies its chat template; completions: dyag renders the model's template "
                "and sends text (base models' completion prompts always go to /v1/completions)", "values": APIS})
    api_key_env: str | None = field(default=None, metadata={"help": "environment variable holding the API key"})
    concurrency: int = field(default=4, metadata={"help": "requests in flight at once"})
    timeout_s: float = field(default=120.0, metadata={"help": "seconds one request may take"})
    max_retries: int = field(default=4, metadata={
        "help": "retries of a request on connection errors, 408, 409, 429 and 5xx, with exponential backoff"})

    def __post_init__(self):
        where = f"endpoint {self.name}"
        if (self.url is None) == (self.serve is None):
            raise DyagError(f"{where}: set either url (a running server) or serve = \"llama.cpp\"")
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise DyagError(f"{where}: url must start with http:// or https://, got {self.url!r}")
        if self.serve not in (None, "llama.cpp"):
            raise DyagError(f"{where}: serve must be \"llama.cpp\", got {self.serve!r}")
        if self.api not in APIS:
            raise DyagError(f"{where}: api must be one of {', '.join(APIS)}, got {self.api!r}")
        if not isinstance(self.concurrency, int) or self.concurrency < 1:
            raise DyagError(f"{where}: concurrency must be an integer >= 1, got {self.concurrency!r}")
        if not isinstance(self.max_retries, int) or self.max_retries < 0:
            raise DyagError(f"{where}: max_retries must be an integer >= 0, got {self.max_retries!r}")
        if not isinstance(self.timeout_s, (int, float)) or self.timeout_s <= 0:
            raise DyagError(f"{where}: timeout_s must be a number > 0, got {self.timeout_s!r}")

    @classmethod
    def from_table(cls, name: str, table: dict, where: str = "[tool.dyag.endpoints]") -> "Endpoint":
        """An endpoint from its ``[tool.dyag.endpoints.<name>]`` table (unknown keys refused)."""
        if not isinstance(table, dict):
            raise DyagError(f"{where}.{name} must be a table, got {type(table).__name__}")
        known = [f.name for f in fields(cls) if f.name != "name"]
        unknown = sorted(set(table) - set(known))
        if unknown:
            raise DyagError(f"unknown key {where}.{name}.{unknown[0]} (known: {', '.join(known)})")
        for key, value in table.items():
            wanted = (int, float) if key == "timeout_s" else int if key in ("concurrency", "max_retries") else str
            if not isinstance(value, wanted) or isinstance(value, bool):
                raise DyagError(f"{where}.{name}.{key} must be {'a number' if key == 'timeout_s' else 'an integer' if wanted is int else 'a string'}, "
                                f"got {value!r}")
        return cls(name=name, **table)

    @property
    def label(self) -> str:
        """How errors name it: ``endpoint vllm (http://…/v1)``, or ``--endpoint http://…/v1``."""
        return f"--endpoint {self.url}" if self.name == CLI_ENDPOINT else f"endpoint {self.name} ({self.url})"

    def served_name(self, role: str, model: str) -> str:
        """The name the server knows ``role``'s model by (``{model}`` replaced by the dyag model)."""
        pattern = getattr(self, role)
        if not pattern:
            raise DyagError(f"endpoint {self.name} serves no {role} model: set {role} = \"NAME\" in "
                            f"[tool.dyag.endpoints.{self.name}]")
        return pattern.replace("{model}", model)

    def api_key(self) -> str:
        """The key from the environment variable the configuration names ("none" when it names none)."""
        if not self.api_key_env:
            return "none"
        key = os.environ.get(self.api_key_env)
        if not key:
            raise DyagError(f"endpoint {self.name}: the environment variable {self.api_key_env} (api_key_env) is not set")
        return key

    def at(self, url: str) -> "Endpoint":
        """This endpoint reached at ``url`` (a server dyag started)."""
        from dataclasses import replace

        return replace(self, url=url, serve=None)

    @cached_property
    def client(self):
        from openai import OpenAI

        return OpenAI(base_url=self.url, api_key=self.api_key(), timeout=self.timeout_s, max_retries=self.max_retries)

    def models(self) -> dict[str, dict]:
        """What the server serves: ``/v1/models`` by id."""
        client = self.client  # an unset API key variable is its own one-line error
        try:
            page = client.models.list()
            # what the server sent, not the fields the client's schema fills in (openai added shutdown_date:
            # a client upgrade must not change every cache key)
            entries = [m.model_dump(exclude_unset=True) if hasattr(m, "model_dump") else m for m in page.data]
        except Exception as exc:  # noqa: BLE001 - every failure is one line naming the server
            raise EndpointError(f"{self.label}: cannot list its models: {describe(exc)}") from None
        if not all(isinstance(e, dict) and isinstance(e.get("id"), str) for e in entries):
            raise EndpointError(f"{self.label}: /v1/models is not an OpenAI model list")
        return {e["id"]: e for e in entries}


@dataclass
class _Device:
    """Where answers are computed, as the progress lines name it."""

    device: str
    dtype_name: str


class ServedModel:
    """A model a server answers with, by name; the generator interface of :mod:`dyag.inference.predict`.

    ``spec`` (the dyag model's registry entry, when there is one) decides how questions are put;
    ``tokenizer`` renders chat prompts to text for ``api = "completions"``."""

    def __init__(self, endpoint: Endpoint, served: str, *, spec=None, role: str = "base", tokenizer=None,
                 identity: dict | None = None, start=None):
        self.endpoint, self.served, self.spec, self.role = endpoint, served, spec, role
        self.tokenizer = tokenizer
        self.known = identity  # what dyag knows of a server it starts itself (its files' hashes): no request needed
        self.start = start  # starts that server (when an answer is not cached) and gives its URL
        self.device = _Device("endpoint", endpoint.name)

    @property
    def resolved(self):
        """What :func:`generate_predictions` reads the prompt style from."""
        from types import SimpleNamespace

        return SimpleNamespace(spec=self.spec)

    @cached_property
    def server_entry(self) -> dict:
        served = self.endpoint.models()
        if self.served not in served:
            listed = ", ".join(sorted(served)[:8]) or "nothing"
            raise EndpointError(f"{self.endpoint.label} serves no model "
                                f"'{self.served}' (it serves: {listed})")
        return {k: v for k, v in served[self.served].items() if k not in VOLATILE_MODEL_FIELDS}

    @property
    def identity(self) -> dict:
        """What the generation cache keys on: the served name and what the server says of it."""
        server = self.known if self.known is not None else self.server_entry
        return {"endpoint_model": self.served, "server": server, "api": self.endpoint.api, "role": self.role}

    def load(self) -> "ServedModel":
        """Ready to answer: the server dyag starts, started (once)."""
        if self.start is not None:
            self.endpoint, self.start = self.endpoint.at(self.start()), None
            self.__dict__.pop("client", None)
        return self

    def render(self, prompt: "list[dict] | str"):
        """A chat prompt stays messages (the server's template), unless ``api = "completions"``."""
        if isinstance(prompt, list) and self.endpoint.api == "completions":
            if self.tokenizer is None:
                raise DyagError(f"endpoint {self.endpoint.name}: api = \"completions\" needs a dyag model whose "
                                "tokenizer renders the chat template")
            text = self.tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=False)
            bos = self.tokenizer.bos_token
            return text[len(bos):] if bos and text.startswith(bos) else text  # the server adds the BOS its model wants
        return prompt

    def generate(self, prompts: list, decoding, *, batch_size: int = 0, progress=None) -> list:
        """One request per prompt, ``concurrency`` at a time; the answers in the prompts' order."""
        from dyag.inference.generator import Answer

        results: dict[int, Answer] = {}
        pool = ThreadPoolExecutor(max_workers=self.endpoint.concurrency, thread_name_prefix="dyag-endpoint")
        try:
            pending = {pool.submit(self._ask, prompt, decoding): i for i, prompt in enumerate(prompts)}
            while pending:
                done, _ = wait(pending, return_when=FIRST_EXCEPTION)
                failed = next((f for f in done if f.exception() is not None), None)
                for future in done:
                    if future.exception() is None:
                        results[pending.pop(future)] = future.result()
                        if progress is not None:
                            progress.update(1)
                if failed is not None:
                    error = failed.exception()
                    raise EndpointError(str(error) if isinstance(error, DyagError) else
                                        f"{self.endpoint.label}: {describe(error)}", done=results) from None
        finally:
            pool.shutdown(wait=False, cancel_futures=True)  # a failed run does not wait for the requests in flight
        return [results[i] for i in range(len(prompts))]

    def _ask(self, prompt, decoding):
        from dyag.inference.generator import Answer

        sampling = {"max_tokens": decoding.max_new_tokens, "temperature": decoding.temperature,
                    "top_p": decoding.top_p, "seed": decoding.seed}
        if decoding.stop:
            sampling["stop"] = list(decoding.stop)
        where = f"{self.endpoint.label}, model '{self.served}'"
        client = self.endpoint.client
        t0 = time.perf_counter()
        try:
            if isinstance(prompt, list):
                response = client.chat.completions.create(model=self.served, messages=prompt, **sampling)
            else:
                response = client.completions.create(model=self.served, prompt=prompt, **sampling)
        except Exception as exc:  # noqa: BLE001 - the client's errors, after its retries, become one line
            raise EndpointError(f"{where}: {describe(exc)}") from None
        latency = time.perf_counter() - t0
        text, finish, tokens = _read_choice(response, chat=isinstance(prompt, list), where=where)
        return Answer(text.strip(), tokens, "length" if finish == "length" else "stop", round(latency, 4),
                      retrieved=_retrieved(response))


def _read_choice(response, *, chat: bool, where: str) -> tuple[str, str | None, int]:
    """(text, finish_reason, completion tokens) of an OpenAI response, or a one-line error."""
    choices = getattr(response, "choices", None)
    if not isinstance(choices, list) or not choices:
        shown = str(response)[:80].replace("\n", " ")
        raise EndpointError(f"{where}: the answer is not an OpenAI {'chat ' if chat else ''}completion: {shown!r}")
    choice = choices[0]
    text = getattr(getattr(choice, "message", None), "content", None) if chat else getattr(choice, "text", None)
    if not isinstance(text, str):
        raise EndpointError(f"{where}: the answer has no {'message content' if chat else 'text'}")
    usage = getattr(response, "usage", None)
    tokens = getattr(usage, "completion_tokens", None)
    return text, getattr(choice, "finish_reason", None), tokens if isinstance(tokens, int) else len(text.split())


def _retrieved(response) -> list[str] | None:
    """The catalog ids a service says it retrieved: a ``retrieved`` list beside ``choices`` (dyag's convention
    for a black box; an OpenAI server sends none)."""
    extra = getattr(response, "model_extra", None) or {}
    ids = extra.get("retrieved")
    return [str(i) for i in ids] if isinstance(ids, list) and all(isinstance(i, (str, int)) for i in ids) else None


def describe(exc: BaseException) -> str:
    """One line for a client error: what went wrong, without the traceback."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return "no answer within the timeout (timeout_s)"
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc
        return f"cannot connect ({type(cause).__name__}: {str(cause).splitlines()[0] if str(cause) else 'no detail'})"
    if isinstance(exc, openai.APIStatusError):
        body = exc.response.text[:120].replace("\n", " ") if exc.response is not None else ""
        return f"HTTP {exc.status_code} after retries: {body}"
    if isinstance(exc, (openai.APIResponseValidationError, ValueError)):  # ValueError: a body that is not JSON
        return "the answer is not a valid OpenAI response"
    message = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {message}"[:200]


def served_by_name(kind: str, endpoints: dict) -> bool:
    """Whether a running server answers ``kind`` (``finetuned@vllm`` with ``url`` set): its adapter is then
    the server's, not one dyag trains or reads (``serve = "llama.cpp"`` serves dyag's own).

    >>> served_by_name("finetuned@vllm", {"vllm": Endpoint("vllm", url="http://h/v1")}), served_by_name("finetuned", {})
    (True, False)
    """
    name = kind.partition("@")[2]
    return bool(name) and name in endpoints and not endpoints[name].serve


def parse_endpoints(table, where: str = "[tool.dyag.endpoints]") -> dict[str, Endpoint]:
    """``[tool.dyag.endpoints]``: one :class:`Endpoint` per sub-table."""
    if not isinstance(table, dict):
        raise DyagError(f"{where} must be a table of endpoints, got {type(table).__name__}")
    for name in table:
        if not name or "/" in name or "@" in name or "+" in name:
            raise DyagError(f"{where}: endpoint name {name!r} may not contain /, @ or +")
    return {name: Endpoint.from_table(name, sub, where) for name, sub in table.items()}
