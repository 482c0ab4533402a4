"""OpenAICompatibleModel without a model: URL/TLS rules, error mapping, retries, streaming and cancel against a tiny
scripted HTTP server on 127.0.0.1 (one thread per request)."""

from __future__ import annotations

import http.server
import io
import json
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from app.adapters.remote_model import OpenAICompatibleModel, probe_http
from app.cli.remote import RemoteTools, run_check
from app.core.errors import (
    Cancelled,
    RemoteConfigError,
    RemoteError,
    RemoteRejected,
    RemoteUnavailable,
)
from app.core.llm import ChatMessage, GenerationParams
from app.core.progress import CancelToken
from tests.servers.servers import free_port

TOKEN = "geheimes-token-4711"
MESSAGES = [ChatMessage("system", "Du bist hilfreich."), ChatMessage("user", "Hallo")]
PARAMS = GenerationParams(max_tokens=16, seed=7, stop=("\n\n",))


def sse(*pieces: str, finish: bool = True) -> bytes:
    lines = []
    for i, piece in enumerate(pieces):
        last = finish and i == len(pieces) - 1
        chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
                 "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": "stop" if last else None}]}
        lines.append(f"data: {json.dumps(chunk)}\n\n")
    if finish:
        lines.append("data: [DONE]\n\n")
    return "".join(lines).encode()


def models_body(*ids: str) -> bytes:
    return json.dumps({"object": "list", "data": [{"id": i, "object": "model", "owned_by": "me"} for i in ids]}).encode()


class Reply:
    def __init__(self, status: int = 200, body: bytes = b"{}", headers: dict[str, str] | None = None,
                 content_type: str = "application/json", before: threading.Event | None = None,
                 slow_pieces: int = 0, resume: threading.Event | None = None) -> None:
        self.status, self.body, self.headers, self.content_type = status, body, headers or {}, content_type
        self.before = before  # wait for this before answering (a server still processing the prompt)
        # stream `slow_pieces` pieces: the first, then – once `resume` is set (a generation going on while the
        # client cancels or goes away) – the rest, then finish; writing to a closed connection sets `broken_pipe`
        self.slow_pieces = slow_pieces
        self.resume = resume


class Scripted(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, replies: list[Reply], tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.replies, self.requests, self.broken_pipe = list(replies), [], threading.Event()
        self.received = threading.Event()  # set when a request has been read (the server is now "working")
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that went away (timeout, cancel) is part of the tests, not an error to print

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Scripted

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        self.server.received.set()
        reply = self.server.replies.pop(0) if len(self.server.replies) > 1 else self.server.replies[0]
        if reply.before is not None:
            reply.before.wait(10)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        if reply.slow_pieces:
            self.end_headers()
            try:
                for i in range(reply.slow_pieces):
                    self.wfile.write(sse(f"t{i} ", finish=False))
                    self.wfile.flush()
                    if i == 0 and reply.resume is not None:
                        reply.resume.wait(10)
                self.wfile.write(sse("ende"))
            except (BrokenPipeError, ConnectionResetError):
                self.server.broken_pipe.set()
            return
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    do_GET = do_POST = _answer


@pytest.fixture
def serve() -> Iterator[Callable[..., Scripted]]:
    servers: list[Scripted] = []

    def start(*replies: Reply, tls: ssl.SSLContext | None = None) -> Scripted:
        server = Scripted(list(replies), tls)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def model(url: str, **kwargs: object) -> OpenAICompatibleModel:
    kwargs.setdefault("token", TOKEN)
    kwargs.setdefault("timeout", 5.0)
    kwargs.setdefault("retries", 0)
    return OpenAICompatibleModel(url, "mein-modell", **kwargs)  # type: ignore[arg-type]


def assert_no_token(error: BaseException) -> None:
    assert TOKEN not in str(error)
    assert TOKEN not in getattr(error, "detail", "")
    assert TOKEN not in getattr(error, "user_message", "")
    assert TOKEN not in repr(error)


# -- configuration -----------------------------------------------------------------------------------------


def test_http_only_on_loopback_and_no_credentials_in_url() -> None:
    with pytest.raises(RemoteConfigError, match="verschlüsselt"):
        OpenAICompatibleModel("http://llm.rz.example.de/v1", "m")
    with pytest.raises(RemoteConfigError, match="Zugangsdaten"):
        OpenAICompatibleModel("https://user:pw@llm.rz.example.de/v1", "m")
    with pytest.raises(RemoteConfigError):
        OpenAICompatibleModel("", "m")
    with pytest.raises(RemoteConfigError, match="remote_model_name"):
        OpenAICompatibleModel("https://llm.rz.example.de/v1", " ")


def test_properties_and_repr_without_token() -> None:
    remote = OpenAICompatibleModel("https://LLM.rz.example.de/v1/", "qwen", token=TOKEN)
    assert remote.is_remote
    assert remote.backend_name == "Rechenzentrum (llm.rz.example.de:443)"
    assert remote.endpoint == "https://llm.rz.example.de:443/v1"
    assert remote.info.model_id == remote.info.name == "qwen"
    assert remote.info.extra == {"endpoint": "https://llm.rz.example.de:443/v1", "tls": "ja"}
    assert remote.info.role == "admin" and remote.info.size_bytes == 0
    assert TOKEN not in repr(remote) and "gesetzt" in repr(remote)
    local = OpenAICompatibleModel("http://127.0.0.1:8080/v1", "qwen")
    assert local.info.extra["tls"] == "nein (nur lokal)"
    remote.close()
    remote.close()  # twice is fine
    with pytest.raises(RemoteError, match="beendet"):
        remote.load()


def test_ca_bundle_missing_or_invalid(tmp_path: Path) -> None:
    with pytest.raises(RemoteConfigError, match="remote_ca_bundle") as missing:
        OpenAICompatibleModel("https://llm.rz.example.de/v1", "m", ca_bundle=tmp_path / "fehlt.pem")
    assert "fehlt.pem" in missing.value.user_message
    bad = tmp_path / "kaputt.pem"
    bad.write_text("kein Zertifikat", encoding="utf-8")
    with pytest.raises(RemoteConfigError, match="PEM"):
        OpenAICompatibleModel("https://llm.rz.example.de/v1", "m", ca_bundle=bad)


# -- load() ----------------------------------------------------------------------------------------------------


def test_load_checks_the_model_name(serve) -> None:
    server = serve(Reply(body=models_body("mein-modell", "anderes")))
    assert model(server.url).load().model_id == "mein-modell"
    assert server.requests[0]["path"] == "/v1/models"
    headers = {k.lower(): v for k, v in server.requests[0]["headers"].items()}
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["user-agent"] == "Aktenlotse"
    assert not [k for k in headers if k.startswith("x-stainless")], headers


def test_load_rejects_a_model_the_server_does_not_offer(serve) -> None:
    server = serve(Reply(body=models_body("llama-3-8b", "qwen2.5-7b")))
    with pytest.raises(RemoteRejected) as caught:
        model(server.url).load()
    assert "mein-modell" in caught.value.user_message
    assert "llama-3-8b, qwen2.5-7b" in caught.value.user_message


def test_load_accepts_an_empty_model_list_and_no_token(serve) -> None:
    server = serve(Reply(body=models_body()))
    model(server.url, token=None).load()
    headers = {k.lower(): v for k, v in server.requests[0]["headers"].items()}
    assert "authorization" not in headers  # no token: no Authorization header at all


@pytest.mark.parametrize("status", [401, 403])
def test_access_denied_names_the_token_command_and_hides_the_token(serve, status: int) -> None:
    echo = json.dumps({"error": {"message": f"invalid token Bearer {TOKEN}"}}).encode()
    server = serve(Reply(status, echo))
    with pytest.raises(RemoteRejected) as caught:
        model(server.url, retries=2).load()
    assert "Token prüfen: aktenlotse remote token set" in caught.value.user_message
    assert_no_token(caught.value)
    assert len(server.requests) == 1  # 4xx is not retried


def test_not_found_is_rejected(serve) -> None:
    server = serve(Reply(404, b'{"error": "not found"}'))
    with pytest.raises(RemoteRejected, match="404"):
        model(server.url).load()


def test_overloaded_twice_then_ok_is_retried(serve) -> None:
    quick = {"retry-after-ms": "10"}
    server = serve(Reply(503, b"{}", quick), Reply(503, b"{}", quick), Reply(body=models_body("mein-modell")))
    model(server.url, retries=2).load()
    assert len(server.requests) == 3


def test_retry_waits_with_exponential_backoff(serve) -> None:
    server = serve(Reply(503, b"{}"), Reply(body=models_body("mein-modell")))
    started = time.monotonic()
    model(server.url, retries=1).load()
    assert len(server.requests) == 2
    assert time.monotonic() - started >= 0.5 * 0.75  # the SDK's first backoff: 0.5 s minus up to 25 % jitter


def test_without_retries_one_request_then_unavailable(serve) -> None:
    server = serve(Reply(503, b"{}"), Reply(body=models_body("mein-modell")))
    with pytest.raises(RemoteUnavailable) as caught:
        model(server.url, retries=0).load()
    assert len(server.requests) == 1
    host = server.url.split("//")[1].split("/")[0]
    assert f"Das Rechenzentrum ({host}) ist überlastet (503)" in caught.value.user_message


def test_rate_limited_after_retries(serve) -> None:
    server = serve(Reply(429, b"{}", {"retry-after-ms": "10"}))
    with pytest.raises(RemoteUnavailable, match=r"überlastet \(429\) \(nach 2 Versuchen\)"):
        model(server.url, retries=1).load()
    assert len(server.requests) == 2


def test_connection_refused_names_the_host() -> None:
    port = free_port()
    with pytest.raises(RemoteUnavailable) as caught:
        model(f"http://127.0.0.1:{port}/v1").load()
    assert f"Das Rechenzentrum (127.0.0.1:{port}) ist nicht erreichbar" in caught.value.user_message
    assert caught.value.detail


def test_environment_proxies_are_ignored(serve, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("NO_PROXY", "")
    server = serve(Reply(body=models_body("mein-modell")))
    model(server.url).load()
    assert len(server.requests) == 1


# -- stream_chat ------------------------------------------------------------------------------------------------


def test_stream_yields_pieces_and_sends_the_parameters(serve) -> None:
    server = serve(Reply(body=sse("Guten ", "Tag", "!"), content_type="text/event-stream"))
    pieces = list(model(server.url).stream_chat(MESSAGES, PARAMS, CancelToken()))
    assert pieces == ["Guten ", "Tag", "!"]
    request = server.requests[0]
    assert request["path"] == "/v1/chat/completions"
    body = json.loads(request["body"])
    assert body["model"] == "mein-modell" and body["stream"] is True
    assert body["messages"] == [{"role": "system", "content": "Du bist hilfreich."}, {"role": "user", "content": "Hallo"}]
    assert body["max_tokens"] == 16 and body["seed"] == 7 and body["stop"] == ["\n\n"]
    assert body["temperature"] == PARAMS.temperature and body["top_p"] == PARAMS.top_p
    assert body["repeat_penalty"] == PARAMS.repeat_penalty and "repetition_penalty" not in body
    assert not [k for k in request["headers"] if k.lower().startswith("x-stainless")]


def test_stream_cut_mid_answer(serve) -> None:
    server = serve(Reply(body=sse("Guten ", "Ta", finish=False), content_type="text/event-stream"))
    received: list[str] = []
    with pytest.raises(RemoteUnavailable) as caught:
        received.extend(model(server.url).stream_chat(MESSAGES, PARAMS, CancelToken()))  # keeps what came first
    assert received == ["Guten ", "Ta"]
    assert caught.value.user_message == "Die Verbindung zum Rechenzentrum ist während der Antwort abgebrochen."


def test_context_too_long(serve) -> None:
    body = json.dumps({"error": {"message": "This model's maximum context length is 2048 tokens. However, you "
                                            "requested 2940 tokens", "code": "context_length_exceeded"}}).encode()
    server = serve(Reply(400, body))
    with pytest.raises(RemoteRejected) as caught:
        list(model(server.url).stream_chat(MESSAGES, PARAMS, CancelToken()))
    assert caught.value.user_message.startswith("Der Text ist zu lang für das Modell im Rechenzentrum")
    assert "2048" in caught.value.detail


def test_cancel_while_the_server_has_not_answered(serve) -> None:
    release = threading.Event()
    server = serve(Reply(body=sse("spät"), content_type="text/event-stream", before=release))
    cancel = CancelToken()
    stream = model(server.url).stream_chat(MESSAGES, PARAMS, cancel)
    cancelled_at: list[float] = []

    def cancel_once_the_server_works() -> None:  # the person presses „Abbrechen“ while the prompt is processed
        if server.received.wait(5):
            cancelled_at.append(time.monotonic())
            cancel.cancel()

    canceller = threading.Thread(target=cancel_once_the_server_works)
    canceller.start()
    try:
        with pytest.raises(Cancelled):
            next(stream)
        assert cancelled_at and time.monotonic() - cancelled_at[0] < 1.0
    finally:
        release.set()
        canceller.join(5)


def test_consumer_going_away_closes_the_stream(serve) -> None:
    resume = threading.Event()
    server = serve(Reply(content_type="text/event-stream", slow_pieces=2000, resume=resume))
    remote = model(server.url)
    stream = remote.stream_chat(MESSAGES, PARAMS, CancelToken())
    assert next(stream) == "t0 "
    stream.close()  # GeneratorExit
    resume.set()  # the server generates on: its next pieces must hit a closed connection
    assert server.broken_pipe.wait(5.0), "the response was not closed"
    assert not remote._active


def test_cancel_mid_stream_closes_the_response(serve) -> None:
    resume = threading.Event()
    server = serve(Reply(content_type="text/event-stream", slow_pieces=2000, resume=resume))
    cancel = CancelToken()
    stream = model(server.url).stream_chat(MESSAGES, PARAMS, cancel)
    assert next(stream) == "t0 "
    cancel.cancel()
    with pytest.raises(Cancelled):
        for _ in stream:
            pass
    resume.set()
    assert server.broken_pipe.wait(5.0)


def test_read_timeout_is_reported(serve) -> None:
    release = threading.Event()
    server = serve(Reply(body=models_body("mein-modell"), before=release))
    try:
        with pytest.raises(RemoteUnavailable, match="Zeitüberschreitung nach 0.5 s"):
            model(server.url, timeout=0.5).load()
    finally:
        release.set()


def test_concurrent_streams_do_not_mix(serve) -> None:
    server = serve(Reply(body=sse("a", "b", "c"), content_type="text/event-stream"))
    remote = model(server.url)
    results: list[list[str]] = []

    def run() -> None:
        results.append(list(remote.stream_chat(MESSAGES, PARAMS, CancelToken())))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results == [["a", "b", "c"]] * 4


# -- TLS ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl command not available")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "ca.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


def test_tls_needs_the_ca_bundle(serve, self_signed: tuple[Path, Path]) -> None:
    cert, key = self_signed
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = serve(Reply(body=models_body("mein-modell")), tls=context)
    url = server.url.replace("http://", "https://")
    with pytest.raises(RemoteConfigError) as caught:
        model(url).load()
    assert "remote_ca_bundle" in caught.value.user_message
    trusted = model(url, ca_bundle=cert)
    assert trusted.info.extra["tls"] == "ja"
    trusted.load()
    assert probe_http(url + "/models", ca_bundle=cert) == ""
    assert "remote_ca_bundle" in probe_http(url + "/models")


# -- probe and `remote check` -------------------------------------------------------------------------------


def test_probe_http(serve) -> None:
    ok = serve(Reply(body=b'{"nanosecond heartbeat": 1}'))
    denied = serve(Reply(401, b"{}"))
    assert probe_http(ok.url) == ""
    assert "Zugang verweigert" in probe_http(denied.url, token=TOKEN)
    assert "nicht erreichbar" in probe_http(f"http://127.0.0.1:{free_port()}/api/v2/heartbeat")
    headers = {k.lower(): v for k, v in denied.requests[0]["headers"].items()}
    assert headers["authorization"] == f"Bearer {TOKEN}"


def _config(**settings: object) -> SimpleNamespace:
    values = {"remote_model_url": None, "remote_model_name": None, "remote_ca_bundle": None,
              "remote_timeout_seconds": 5, "remote_retries": 0, "shared_knowledge_url": None, **settings}
    return SimpleNamespace(settings=SimpleNamespace(**values), policy_error=None)


def _tools() -> RemoteTools:
    from app.adapters import remote_credentials

    return RemoteTools(get_token=remote_credentials.get_token, set_token=remote_credentials.set_token,
                       delete_token=remote_credentials.delete_token, make_model=OpenAICompatibleModel,
                       probe=probe_http)


def test_check_without_endpoints_is_offline() -> None:
    out = io.StringIO()
    assert run_check(_config(), _tools(), out=out) == 0  # type: ignore[arg-type]
    assert "offline" in out.getvalue()


def test_check_reports_each_endpoint(serve) -> None:
    llm = serve(Reply(body=models_body("mein-modell")))
    knowledge = serve(Reply(body=b"{}"))
    base = knowledge.url.removesuffix("/v1")
    out = io.StringIO()
    config = _config(remote_model_url=llm.url, remote_model_name="mein-modell", shared_knowledge_url=base)
    assert run_check(config, _tools(), out=out) == 0  # type: ignore[arg-type]
    assert out.getvalue().count("OK ") == 2, out.getvalue()
    assert knowledge.requests[0]["path"] == "/api/v2/heartbeat"
    dead = free_port()
    out = io.StringIO()
    config = _config(remote_model_url=f"http://127.0.0.1:{dead}/v1", remote_model_name="m", shared_knowledge_url=base)
    assert run_check(config, _tools(), out=out) == 1  # type: ignore[arg-type]
    assert f"127.0.0.1:{dead}" in out.getvalue() and "FEHLER" in out.getvalue()
    out = io.StringIO()
    assert run_check(_config(remote_model_url="http://llm.rz.example.de/v1", remote_model_name="m"),
                     _tools(), out=out) == 1  # type: ignore[arg-type]
    assert "https://" in out.getvalue()



def test_context_length_from_policy_or_the_server_model_list_else_4096() -> None:
    """The features size their passages by the model's context: the policy's value wins, a vLLM-style
    `max_model_len` in the model list is taken, otherwise 4096 is assumed (and documented)."""
    import httpx2 as _h  # noqa: F401 - the client's transport library

    from app.adapters import remote_model

    def served(models: list[dict]) -> remote_model.OpenAICompatibleModel:
        model = remote_model.OpenAICompatibleModel("http://127.0.0.1:9/v1", "m")

        class Page:
            data = [type("M", (), m) for m in models]

        model._client.models.list = lambda **_: Page()  # the HTTP side is covered by the real-server tests
        return model

    assert remote_model.OpenAICompatibleModel("http://127.0.0.1:9/v1", "m", context_length=8192).n_ctx == 8192
    plain = served([{"id": "m"}])
    plain.load()
    assert plain.n_ctx == 4096 and plain.info.context_length == 4096
    vllm = served([{"id": "other", "max_model_len": 2048}, {"id": "m", "max_model_len": 32768}])
    vllm.load()
    assert vllm.n_ctx == 32768 and vllm.info.context_length == 32768
