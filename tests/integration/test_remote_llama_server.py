"""OpenAICompatibleModel against the real `python -m llama_cpp.server` with the test model (one server per module),
plus a stopped server and a socket that never answers."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.adapters.remote_model import OpenAICompatibleModel
from app.core.errors import Cancelled, RemoteRejected, RemoteUnavailable
from app.core.llm import ChatMessage, GenerationParams
from app.core.progress import CancelToken
from tests.servers.servers import TEST_MODEL, RunningServer, start_llama_server

MODEL_NAME = "aktenlotse-test"
QUESTION = [ChatMessage("system", "You are a helpful assistant."), ChatMessage("user", "Name three colours.")]
GREEDY = GenerationParams(max_tokens=24, temperature=0.0, top_p=1.0, seed=42, repeat_penalty=1.1)
needs_model = pytest.mark.skipif(not TEST_MODEL.exists(), reason=f"test model {TEST_MODEL.name} missing")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    if not TEST_MODEL.exists():
        pytest.skip(f"test model {TEST_MODEL} missing")
    running = start_llama_server(tmp_path_factory.mktemp("llama-server"), capture=True)
    yield running
    running.stop()


@pytest.fixture
def remote(server: RunningServer) -> Iterator[OpenAICompatibleModel]:
    model = OpenAICompatibleModel(server.base_url + "/v1", MODEL_NAME, timeout=60, retries=0)
    yield model
    model.close()


def chat_posts(server: RunningServer) -> list[dict[str, object]]:
    return [r for r in server.captured() if r["path"] == "/v1/chat/completions"]


@pytest.mark.model
@needs_model
def test_load_lists_the_model(remote: OpenAICompatibleModel, server: RunningServer) -> None:
    info = remote.load()
    assert info.model_id == MODEL_NAME and info.extra["tls"] == "nein (nur lokal)"
    assert remote.backend_name == f"Rechenzentrum (127.0.0.1:{server.port})"
    assert server.captured()[-1]["path"] == "/v1/models"


@pytest.mark.model
@needs_model
def test_stream_equals_the_non_streamed_answer_and_the_server_got_the_request(
        remote: OpenAICompatibleModel, server: RunningServer) -> None:
    pieces = list(remote.stream_chat(QUESTION, GREEDY, CancelToken()))
    assert len(pieces) > 1 and "".join(pieces).strip()
    body = json.loads(chat_posts(server)[-1]["body"])  # what arrived at the server
    assert body["messages"] == [{"role": m.role, "content": m.content} for m in QUESTION]
    assert body["max_tokens"] == 24 and body["model"] == MODEL_NAME and body["stream"] is True
    assert body["repeat_penalty"] == 1.1
    headers = chat_posts(server)[-1]["headers"]
    assert not [k for k in headers if k.startswith("x-stainless")]  # type: ignore[union-attr]
    plain = {**body, "stream": False}
    request = urllib.request.Request(server.base_url + "/v1/chat/completions", data=json.dumps(plain).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        whole = json.loads(response.read())["choices"][0]["message"]["content"]
    assert "".join(pieces) == whole


@pytest.mark.model
@needs_model
def test_cancel_after_the_first_piece_then_the_next_request_works(remote: OpenAICompatibleModel) -> None:
    cancel = CancelToken()
    stream = remote.stream_chat(QUESTION, GenerationParams(max_tokens=400, temperature=0.8), cancel)
    first = next(stream)
    assert first
    cancel.cancel()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        for _ in stream:
            pass
    assert time.monotonic() - started < 2.0
    again = list(remote.stream_chat(QUESTION, GREEDY, CancelToken()))
    assert "".join(again).strip()


@pytest.mark.model
@needs_model
def test_cancel_while_the_server_processes_the_prompt(remote: OpenAICompatibleModel, server: RunningServer) -> None:
    long_text = "Die Behörde prüft den Antrag auf Wohngeld sorgfältig und vollständig. " * 15  # ~1-2 s of prompt work
    messages = [ChatMessage("user", f"Fasse zusammen:\n{long_text}")]
    before = server.requests_seen()
    cancel = CancelToken()
    outcome: list[BaseException | str] = []

    def consume() -> None:
        try:
            outcome.extend(remote.stream_chat(messages, GenerationParams(max_tokens=300), cancel))
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion
            outcome.append(exc)

    worker = threading.Thread(target=consume)
    worker.start()
    assert server.wait_for_requests(before + 1, 10.0), "the server never received the request"
    cancel.cancel()
    started = time.monotonic()
    worker.join(5)
    elapsed = time.monotonic() - started
    assert not worker.is_alive()
    assert outcome and isinstance(outcome[-1], Cancelled), outcome
    assert not [piece for piece in outcome if isinstance(piece, str)]  # cancelled before the first token
    assert elapsed < 0.5
    answer = list(remote.stream_chat(QUESTION, GREEDY, CancelToken()))  # waits for the server to finish the prompt
    assert "".join(answer).strip()


@pytest.mark.model
@needs_model
def test_wrong_model_name_is_rejected(server: RunningServer) -> None:
    model = OpenAICompatibleModel(server.base_url + "/v1", "qwen2.5-7b-instruct", timeout=30, retries=0)
    with pytest.raises(RemoteRejected) as caught:
        model.load()
    assert "qwen2.5-7b-instruct" in caught.value.user_message and MODEL_NAME in caught.value.user_message
    model.close()


@pytest.mark.model
@needs_model
def test_stopped_server_is_unavailable(tmp_path: Path) -> None:
    second = start_llama_server(tmp_path / "second", capture=False)
    url = second.base_url + "/v1"
    model = OpenAICompatibleModel(url, MODEL_NAME, timeout=5, retries=2)
    model.load()
    second.stop()
    started = time.monotonic()
    with pytest.raises(RemoteUnavailable) as caught:
        list(model.stream_chat(QUESTION, GREEDY, CancelToken()))
    elapsed = time.monotonic() - started
    message = caught.value.user_message
    assert f"Das Rechenzentrum (127.0.0.1:{second.port}) ist nicht erreichbar" in message
    assert "nach 3 Versuchen" in message
    assert elapsed < 5 * 3 + 0.5 + 1.0 + 1.0  # timeout × attempts + the SDK's backoff (0.5 s, 1 s) + slack
    model.close()


def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel accepts connections; nobody ever reads or answers
        port = silent.getsockname()[1]
        model = OpenAICompatibleModel(f"http://127.0.0.1:{port}/v1", MODEL_NAME, timeout=2, retries=0)
        started = time.monotonic()
        with pytest.raises(RemoteUnavailable) as caught:
            list(model.stream_chat(QUESTION, GREEDY, CancelToken()))
        elapsed = time.monotonic() - started
        model.close()
    assert "Zeitüberschreitung nach 2 s" in caught.value.user_message
    assert f"127.0.0.1:{port}" in caught.value.user_message
    assert 1.5 < elapsed < 4.0
