"""Endpoints against a local stub OpenAI server: answers by request, retries, timeouts, a server that dies,
answers that are not OpenAI responses, model identity in the cache key, API keys, and configuration errors.

The stub (:class:`Stub`) listens on loopback only, answers "answer to <question>" and lets a test
replace any answer through its ``behave`` hook; every wait in it is bounded and ends when it stops.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dyag.errors import DyagError
from dyag.inference.cache import GenerationCache
from dyag.inference.endpoint import Endpoint, EndpointError, ServedModel, parse_endpoints
from dyag.inference.generator import DecodingConfig
from dyag.inference.predict import generate_predictions
from dyag.inference.prompting import STOP_SEQUENCES, PromptConfig

#: retries come back at once: the openai client honours ``retry-after-ms``
FAST_RETRY = {"retry-after-ms": "1"}
#: the longest any stub request may sleep (a stopping stub wakes it at once)
MAX_SLEEP_S = 10.0


@dataclass
class Seen:
    """One completion request as the stub received it."""

    path: str
    body: dict
    headers: dict  # names in lower case
    asked: str  # the question (the last user message, or the completion prompt's last "Question : ...")
    attempt: int  # how many requests for the same question came before this one


@dataclass
class Reply:
    """What the stub answers instead of its default; ``cut``: half the body, then the connection closes."""

    status: int = 200
    body: str | dict = ""
    content_type: str = "application/json"
    headers: dict = field(default_factory=dict)
    cut: bool = False


class Stub:
    """A local OpenAI-compatible server in a daemon thread (``with Stub() as stub: stub.url``).

    ``behave(seen)`` decides each completion request: None answers "answer to <question>", a
    :class:`Reply` answers that instead. ``seen`` lists the completion requests, ``model_requests``
    the ``/v1/models`` ones; ``max_in_flight`` the most completion requests handled at once."""

    def __init__(self, models: list[dict] | None = None):
        self.models = models if models is not None else [{"id": "m", "object": "model", "owned_by": "stub"}]
        self.behave = None
        self.seen: list[Seen] = []
        self.model_requests: list[dict] = []  # their headers
        self.answered: list[str] = []  # questions, in the order their answers were sent
        self.in_flight = self.max_in_flight = 0
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), _handler(self))
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                                       name="stub-openai", daemon=True)
        self.stopped = False

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> "Stub":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop listening (idempotent; callable from a request): new connections are refused."""
        with self.lock:
            if self.stopped:
                return
            self.stopped = True
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def sleep(self, seconds: float) -> None:
        self.stopping.wait(min(seconds, MAX_SLEEP_S))

    def count(self, path: str = "") -> int:
        return sum(1 for s in self.seen if s.path.endswith(path))


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # a client that gave up (timeout) is not news
        pass


def _handler(stub: Stub):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # one request a connection: a stopped stub serves nothing more

        def log_message(self, *args):
            pass

        def do_GET(self):
            if self.path.rstrip("/") != "/v1/models":
                return self._send(Reply(404, {"error": {"message": f"no {self.path}"}}))
            stub.model_requests.append({k.lower(): v for k, v in self.headers.items()})
            data = [{"created": int(time.time()), **m} for m in stub.models]
            self._send(Reply(200, {"object": "list", "data": data}))

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            chat = self.path == "/v1/chat/completions"
            if not chat and self.path != "/v1/completions":
                return self._send(Reply(404, {"error": {"message": f"no {self.path}"}}))
            asked = _asked(body, chat)
            with stub.lock:
                headers = {k.lower(): v for k, v in self.headers.items()}
                seen = Seen(self.path, body, headers, asked, sum(s.asked == asked for s in stub.seen))
                stub.seen.append(seen)
                stub.in_flight += 1
                stub.max_in_flight = max(stub.max_in_flight, stub.in_flight)
            try:
                reply = stub.behave(seen) if stub.behave else None
                if reply is None:
                    with stub.lock:
                        stub.answered.append(asked)
                self._send(reply or _answer(body, asked, chat))
            finally:
                with stub.lock:
                    stub.in_flight -= 1

        def _send(self, reply: Reply):
            raw = (reply.body if isinstance(reply.body, str) else json.dumps(reply.body)).encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(raw)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw[: len(raw) // 2] if reply.cut else raw)

    return Handler


def _asked(body: dict, chat: bool) -> str:
    if chat:
        return str(body.get("messages", [{}])[-1].get("content", ""))
    found = re.findall(r"^Question : (.*)$", str(body.get("prompt", "")), flags=re.M)
    return found[-1] if found else str(body.get("prompt", ""))


def _answer(body: dict, asked: str, chat: bool) -> Reply:
    text = f"answer to {asked}"
    choice = ({"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"} if chat else
              {"index": 0, "text": " " + text, "finish_reason": "stop", "logprobs": None})
    return Reply(200, {
        "id": "cmpl-stub", "object": "chat.completion" if chat else "text_completion", "created": int(time.time()),
        "model": body.get("model"), "choices": [choice],
        # characters, not words: the answer's token count comes from the server, not from a guess
        "usage": {"prompt_tokens": 1, "completion_tokens": len(text), "total_tokens": len(text) + 1},
    })


# --- helpers ------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    """Loopback requests go straight to the stub, whatever proxy the environment names."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def stub():
    with Stub() as running:
        yield running


def served(url: str, *, served_name: str = "m", **config) -> ServedModel:
    settings = {"base": "m", "concurrency": 4, "timeout_s": 1.0, "max_retries": 3, **config}
    return ServedModel(Endpoint("stub", url=url, **settings), served_name)


def cases(n: int) -> list[dict]:
    return [{"id": f"c{i}", "question": f"q{i}"} for i in range(n)]


def predict(model, questions: list[dict], cache: GenerationCache, *, style: str = "chat") -> list[dict]:
    return generate_predictions(model, questions, system="m/base@stub", decoding=DecodingConfig(max_new_tokens=16),
                                cache=cache, prompt=PromptConfig(style=style, system_prompt=None, shots=0),
                                progress=False)


def one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert message and "\n" not in message, message
    return message


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


CHAT = DecodingConfig(max_new_tokens=16)


def chat(question: str) -> list[dict]:
    return [{"role": "user", "content": question}]


# --- answers, in order, concurrently -------------------------------------------------------------------


def test_answers_come_back_in_request_order_with_bounded_concurrency(stub):
    n = 8
    stub.behave = lambda seen: stub.sleep(0.03 * (n - int(seen.asked[1:])))  # earlier questions answer later
    answers = served(stub.url, concurrency=4).generate([chat(f"q{i}") for i in range(n)], CHAT)
    assert [a.text for a in answers] == [f"answer to q{i}" for i in range(n)]
    assert stub.answered != [f"q{i}" for i in range(n)]  # they really arrived out of order
    assert 1 < stub.max_in_flight <= 4
    assert all(a.finish_reason == "stop" and a.tokens == len(a.text) and a.latency_s > 0 for a in answers)


def test_concurrency_one_sends_one_request_at_a_time(stub):
    stub.behave = lambda seen: stub.sleep(0.01)
    answers = served(stub.url, concurrency=1).generate([chat(f"q{i}") for i in range(4)], CHAT)
    assert [a.text for a in answers] == [f"answer to q{i}" for i in range(4)]
    assert stub.max_in_flight == 1 and stub.answered == [f"q{i}" for i in range(4)]


def test_progress_ticks_once_per_answer(stub):
    class Ticks:
        n = 0

        def update(self, k):
            Ticks.n += k

    served(stub.url).generate([chat(f"q{i}") for i in range(5)], CHAT, progress=Ticks())
    assert Ticks.n == 5


# --- retries -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [503, 429])
def test_a_busy_server_is_retried_until_it_answers(stub, status):
    stub.behave = lambda seen: (Reply(status, {"error": {"message": "busy"}}, headers=FAST_RETRY)
                                if seen.attempt < 2 else None)
    answers = served(stub.url, max_retries=3).generate([chat("q0"), chat("q1")], CHAT)
    assert [a.text for a in answers] == ["answer to q0", "answer to q1"]
    assert stub.count("/chat/completions") == 6  # two refusals, then the answer, for each question
    assert sorted(s.attempt for s in stub.seen) == [0, 0, 1, 1, 2, 2]


def test_a_status_that_persists_fails_in_one_line_and_keeps_the_finished_answers(stub, tmp_path):
    cache = GenerationCache.at(tmp_path)

    def behave(seen):
        if seen.asked == "q1":
            stub.sleep(0.1)  # the others finish first
            return Reply(500, {"error": {"message": "engine crashed"}}, headers=FAST_RETRY)
        return None

    stub.behave = behave
    with pytest.raises(EndpointError) as exc:
        predict(served(stub.url, concurrency=2, max_retries=3), cases(4), cache)
    message = one_line(exc)
    assert "endpoint stub" in message and stub.url in message and "HTTP 500" in message and "'m'" in message
    assert sum(s.asked == "q1" for s in stub.seen) == 4  # the first try and 3 retries
    assert sorted(exc.value.done) == [0, 2, 3]

    stub.behave, before = None, stub.count()
    rows = predict(served(stub.url, concurrency=2), cases(4), cache)
    assert [s.asked for s in stub.seen[before:]] == ["q1"]  # only the missing answer is asked again
    assert [r["meta"]["cached"] for r in rows] == [True, False, True, True]
    assert [r["answer"] for r in rows] == [f"answer to q{i}" for i in range(4)]


def test_a_refused_request_is_not_retried(stub):
    stub.behave = lambda seen: Reply(400, {"error": {"message": "bad request"}})
    with pytest.raises(EndpointError) as exc:
        served(stub.url, concurrency=1).generate([chat("q0")], CHAT)
    assert "HTTP 400" in one_line(exc) and stub.count() == 1


# --- timeouts and servers that go away -----------------------------------------------------------------


def test_a_server_slower_than_the_timeout_fails_in_one_line_in_bounded_time(stub):
    stub.behave = lambda seen: stub.sleep(MAX_SLEEP_S)
    model = served(stub.url, timeout_s=0.3, max_retries=1)
    model.endpoint.client  # the openai import, out of the time measured
    t0 = time.monotonic()
    with pytest.raises(EndpointError) as exc:
        model.generate([chat("q0"), chat("q1")], CHAT)
    elapsed = time.monotonic() - t0
    message = one_line(exc)
    assert "timeout" in message and "endpoint stub" in message
    assert exc.value.done == {}
    assert elapsed < MAX_SLEEP_S / 2, elapsed  # two tries of 0.3 s and one backoff (about 1 s), not the stub's 10 s
    assert stub.count() == 4  # both questions, each tried twice


def test_a_server_killed_mid_run_keeps_whole_answers_only(tmp_path):
    cache = GenerationCache.at(tmp_path)
    with Stub() as first:
        def behave(seen):
            if len(first.seen) <= 3:
                return None
            first.stop()  # no new connection is accepted from now on
            return Reply(200, _answer(seen.body, seen.asked, True).body, cut=True)  # and this answer is cut short

        first.behave = behave
        with pytest.raises(EndpointError) as exc:
            predict(served(first.url, concurrency=1, max_retries=1), cases(5), cache)
        message = one_line(exc)
        assert "endpoint stub" in message and "connect" in message
        assert sorted(exc.value.done) == [0, 1, 2]

    with Stub() as second:  # the same model on another server (another port): the cache still holds
        rows = predict(served(second.url, concurrency=1), cases(5), cache)
        assert [s.asked for s in second.seen] == ["q3", "q4"]
    assert [r["meta"]["cached"] for r in rows] == [True, True, True, False, False]
    assert [r["answer"] for r in rows] == [f"answer to q{i}" for i in range(5)]  # no half answer was kept


@pytest.mark.parametrize("reply", [
    Reply(200, "<html><body>502 Bad Gateway</body></html>", content_type="text/html"),
    Reply(200, "{not json", content_type="application/json"),
    Reply(200, {"object": "chat.completion", "model": "m"}),
    Reply(200, {"object": "chat.completion", "choices": []}),
    Reply(200, {"object": "chat.completion", "choices": [{"index": 0, "finish_reason": "stop"}]}),
], ids=["html", "bad-json", "no-choices", "empty-choices", "no-message"])
def test_an_answer_that_is_not_an_openai_response_fails_in_one_line_and_caches_nothing(stub, tmp_path, reply):
    cache = GenerationCache.at(tmp_path)
    stub.behave = lambda seen: reply
    with pytest.raises(EndpointError) as exc:
        predict(served(stub.url, concurrency=1), cases(3), cache)
    message = one_line(exc)
    assert message.startswith("endpoint stub") and "'m'" in message
    assert exc.value.done == {}
    with Stub() as fixed:  # another server: no request the failed run left in flight reaches it
        rows = predict(served(fixed.url), cases(3), cache)
        assert sorted(s.asked for s in fixed.seen) == ["q0", "q1", "q2"]
    assert not any(r["meta"]["cached"] for r in rows)
    assert [r["answer"] for r in rows] == ["answer to q0", "answer to q1", "answer to q2"]


# --- which model, on which server ----------------------------------------------------------------------


def test_a_model_the_server_does_not_serve_is_named_with_those_it_does():
    with Stub(models=[{"id": "m", "object": "model", "owned_by": "stub"},
                      {"id": "m-catalogue", "object": "model", "owned_by": "stub"}]) as stub:
        model = served(stub.url, served_name="qwen")
        with pytest.raises(EndpointError) as exc:
            model.identity
        message = one_line(exc)
        assert "serves no model 'qwen'" in message and "it serves: m, m-catalogue" in message
        assert "endpoint stub" in message and stub.url in message
        assert stub.count() == 0


def test_an_unreachable_server_fails_in_one_line():
    url = f"http://127.0.0.1:{closed_port()}/v1"
    served(url).endpoint.client  # the openai import, out of the time measured
    t0 = time.monotonic()
    with pytest.raises(EndpointError) as exc:
        served(url, max_retries=0).identity
    message = one_line(exc)
    assert "endpoint stub" in message and url in message and "cannot connect" in message
    with pytest.raises(EndpointError) as exc:
        served(url, max_retries=0, concurrency=1).generate([chat("q0")], CHAT)
    assert "cannot connect" in one_line(exc)
    assert time.monotonic() - t0 < MAX_SLEEP_S / 2  # no retries: refused at once


def test_the_cache_key_follows_the_servers_model_entry_but_not_its_creation_time(tmp_path):
    entry = {"id": "m", "object": "model", "owned_by": "stub", "max_model_len": 2048}
    with Stub(models=[{**entry, "created": 1}]) as stub:
        model = served(stub.url)
        identity = model.identity
        assert model.identity == identity and len(stub.model_requests) == 1  # asked once per run
        assert identity["endpoint_model"] == "m" and identity["server"] == entry  # less "created"

        def key(models):
            stub.models = models
            return GenerationCache.key(served(stub.url).identity, chat("q0"), {"max_new_tokens": 16})

        first = key([{**entry, "created": 1}])
        assert key([{**entry, "created": 2}]) == first
        assert key([{**entry, "owned_by": "someone-else"}]) != first
        assert key([{**entry, "max_model_len": 4096}]) != first  # same name, another context size

        cache = GenerationCache.at(tmp_path)
        stub.models = [{**entry, "created": 1}]
        predict(served(stub.url), cases(2), cache)
        stub.models = [{**entry, "created": 99}]
        assert all(r["meta"]["cached"] for r in predict(served(stub.url), cases(2), cache))
        stub.models = [{**entry, "owned_by": "someone-else"}]
        assert not any(r["meta"]["cached"] for r in predict(served(stub.url), cases(2), cache))
        assert stub.count() == 4


def test_a_server_dyag_starts_is_started_only_when_an_answer_is_missing(stub, tmp_path):
    cache = GenerationCache.at(tmp_path)
    starts = []

    def start():
        starts.append(stub.url)
        return stub.url

    def model():
        endpoint = Endpoint("stub", serve="llama.cpp", base="m", timeout_s=1.0, max_retries=1)
        return ServedModel(endpoint, "m", identity={"gguf_sha256": "abc"}, start=start)

    assert [r["answer"] for r in predict(model(), cases(2), cache)] == ["answer to q0", "answer to q1"]
    assert all(r["meta"]["cached"] for r in predict(model(), cases(2), cache))
    assert len(starts) == 1 and stub.model_requests == []  # its identity is known: /v1/models is not asked


# --- API key -------------------------------------------------------------------------------------------


def test_the_api_key_comes_from_the_named_environment_variable(stub, monkeypatch):
    monkeypatch.setenv("DYAG_TEST_STUB_KEY", "s3cret")
    model = served(stub.url, api_key_env="DYAG_TEST_STUB_KEY")
    model.identity
    model.generate([chat("q0")], CHAT)
    assert stub.model_requests[0]["authorization"] == "Bearer s3cret"
    assert stub.seen[0].headers["authorization"] == "Bearer s3cret"


def test_an_unset_api_key_variable_is_one_line_naming_it(stub, monkeypatch):
    monkeypatch.delenv("DYAG_TEST_STUB_KEY", raising=False)
    model = served(stub.url, api_key_env="DYAG_TEST_STUB_KEY")
    with pytest.raises(DyagError) as exc:
        model.endpoint.api_key()
    assert "DYAG_TEST_STUB_KEY" in one_line(exc) and "endpoint stub" in str(exc.value)
    with pytest.raises(DyagError) as exc:
        model.identity
    assert "DYAG_TEST_STUB_KEY" in one_line(exc)
    with pytest.raises(DyagError) as exc:
        model.generate([chat("q0")], CHAT)
    assert "DYAG_TEST_STUB_KEY" in one_line(exc)
    assert stub.model_requests == [] and stub.seen == []  # nothing was sent without its key


# --- what is sent --------------------------------------------------------------------------------------


def test_completion_prompts_go_to_completions_with_stop_strings_and_greedy_settings(stub):
    prompt = "Catalogue.\n\nQuestion : Qui héberge GIDAF ?\nRéponse :"
    decoding = DecodingConfig(max_new_tokens=17, stop=("\nQuestion", "\n\n"))
    [answer] = served(stub.url).generate([prompt], decoding)
    assert answer.text == "answer to Qui héberge GIDAF ?"  # the server's leading space stripped
    [seen] = stub.seen
    assert seen.path == "/v1/completions"
    assert seen.body["prompt"] == prompt and seen.body["model"] == "m"
    assert seen.body["stop"] == ["\nQuestion", "\n\n"] and seen.body["max_tokens"] == 17
    assert seen.body["temperature"] == 0 and "messages" not in seen.body


def test_chat_prompts_go_to_chat_completions_with_their_messages(stub):
    messages = [{"role": "system", "content": "Réponds."}, {"role": "user", "content": "q0"}]
    [answer] = served(stub.url).generate([messages], DecodingConfig(max_new_tokens=9))
    assert answer.text == "answer to q0" and answer.tokens == len("answer to q0")
    [seen] = stub.seen
    assert seen.path == "/v1/chat/completions"
    assert seen.body["messages"] == messages and seen.body["model"] == "m"
    assert seen.body["max_tokens"] == 9 and seen.body["temperature"] == 0 and "stop" not in seen.body


def test_a_base_models_completion_prompts_carry_the_stop_sequences(stub, tmp_path):
    rows = predict(served(stub.url), cases(2), GenerationCache.at(tmp_path), style="completion")
    assert [r["answer"] for r in rows] == ["answer to q0", "answer to q1"]
    assert all(s.path == "/v1/completions" and s.body["stop"] == list(STOP_SEQUENCES) for s in stub.seen)


def test_an_answer_cut_by_max_tokens_says_so(stub):
    def behave(seen):
        reply = _answer(seen.body, seen.asked, True)
        reply.body["choices"][0]["finish_reason"] = "length"
        return reply

    stub.behave = behave
    [answer] = served(stub.url).generate([chat("q0")], CHAT)
    assert answer.finish_reason == "length" and answer.text == "answer to q0"


def test_completions_api_renders_chat_prompts_with_the_tokenizer_without_its_bos():
    class Tokenizer:
        bos_token = "<s>"

        def apply_chat_template(self, messages, add_generation_prompt, tokenize):
            assert add_generation_prompt and not tokenize
            return "<s><|user|>" + messages[-1]["content"] + "<|assistant|>"

    endpoint = Endpoint("stub", url="http://127.0.0.1:1/v1", base="m", api="completions")
    assert ServedModel(endpoint, "m", tokenizer=Tokenizer()).render(chat("q0")) == "<|user|>q0<|assistant|>"
    assert ServedModel(endpoint, "m", tokenizer=Tokenizer()).render("text") == "text"
    with pytest.raises(DyagError) as exc:
        ServedModel(endpoint, "m").render(chat("q0"))
    assert "tokenizer" in one_line(exc)
    assert ServedModel(Endpoint("e", url="http://h/v1"), "m").render(chat("q0")) == chat("q0")


# --- configuration -------------------------------------------------------------------------------------


@pytest.mark.parametrize("table, expected", [
    ({"url": "http://h:8000/v1", "bogus": 1}, "unknown key [tool.dyag.endpoints].vllm.bogus"),
    ({"url": "http://h:8000/v1", "concurrency": "4"}, "[tool.dyag.endpoints].vllm.concurrency must be"),
    ({"url": "http://h:8000/v1", "concurrency": True}, "vllm.concurrency must be"),
    ({"url": "http://h:8000/v1", "timeout_s": "30"}, "vllm.timeout_s must be a number"),
    ({"url": 8000}, "vllm.url must be"),
    ({}, "set either url"),
    ({"url": "http://h:8000/v1", "serve": "llama.cpp"}, "set either url"),
    ({"url": "h:8000/v1"}, "url must start with http:// or https://"),
    ({"url": "ftp://h/v1"}, "url must start with http:// or https://"),
    ({"serve": "ollama"}, "serve must be"),
    ({"url": "http://h:8000/v1", "api": "responses"}, "api must be one of chat, completions"),
    ({"url": "http://h:8000/v1", "concurrency": 0}, "concurrency must be an integer >= 1"),
    ({"url": "http://h:8000/v1", "max_retries": -1}, "max_retries must be an integer >= 0"),
    ({"url": "http://h:8000/v1", "timeout_s": 0}, "timeout_s must be a number > 0"),
])
def test_a_bad_endpoint_table_is_one_line(table, expected):
    with pytest.raises(DyagError) as exc:
        Endpoint.from_table("vllm", table)
    message = one_line(exc)
    assert expected in message and "vllm" in message


def test_parse_endpoints_reads_each_table_and_refuses_bad_names():
    endpoints = parse_endpoints({"vllm": {"url": "http://gpu:8000/v1", "finetuned": "{model}-catalogue",
                                          "concurrency": 8, "timeout_s": 30},
                                 "local": {"serve": "llama.cpp"}})
    assert endpoints["vllm"].served_name("finetuned", "qwen2.5:1.5b") == "qwen2.5:1.5b-catalogue"
    assert endpoints["vllm"].concurrency == 8 and endpoints["vllm"].timeout_s == 30
    assert endpoints["local"].url is None and endpoints["local"].serve == "llama.cpp"
    for table, expected in [(["vllm"], "must be a table of endpoints"), ({"a/b": {"url": "http://h/v1"}}, "'a/b'"),
                            ({"vllm": "http://h/v1"}, "vllm must be a table"),
                            ({"vllm": {"url": "http://h/v1", "port": 1}}, "unknown key")]:
        with pytest.raises(DyagError) as exc:
            parse_endpoints(table)
        assert expected in one_line(exc)
    with pytest.raises(DyagError) as exc:
        endpoints["vllm"].served_name("service", "qwen2.5:1.5b")
    assert "serves no service model" in one_line(exc)


def test_a_service_that_names_what_it_retrieved_has_it_recorded(stub, tmp_path):
    def behave(seen):
        reply = _answer(seen.body, seen.asked, True)
        if seen.asked == "q0":
            reply.body["retrieved"] = ["gidaf", "6tzen"]
        return reply

    stub.behave = behave
    rows = predict(served(stub.url), cases(2), GenerationCache.at(tmp_path))
    assert rows[0]["meta"]["retrieved"] == ["gidaf", "6tzen"]
    assert "retrieved" not in rows[1]["meta"]  # an OpenAI server sends none: nothing is recorded
    again = predict(served(stub.url), cases(2), GenerationCache.at(tmp_path))  # and the cache keeps it
    assert again[0]["meta"]["cached"] and again[0]["meta"]["retrieved"] == ["gidaf", "6tzen"]
