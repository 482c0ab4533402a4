"""A language model in the data centre: any OpenAI-compatible chat-completions endpoint (LanguageModel port).

The admin policy names the endpoint (llama.cpp server, vLLM); the token comes from the OS keyring. HTTP goes
through the `openai` SDK (which retries connection errors, timeouts, 408/409/429 and 5xx with exponential backoff,
honouring Retry-After) over an `httpx2.Client` (the HTTP library this SDK version is built on) with
`trust_env=False`: no HTTP(S)_PROXY, NO_PROXY or SSL_CERT_FILE variable can send requests elsewhere or swap the
trust anchors. TLS uses the system's certificates, or only the CA bundle the policy names (`remote_ca_bundle`).

The SDK would announce OS, CPU architecture, Python runtime and version in `X-Stainless-*` headers and itself in
`User-Agent`; those are removed (`Omit`) or replaced by "Aktenlotse", so the data centre sees only the request.

`stream_chat` reads the HTTP stream on a worker thread of its own that feeds a queue; the caller polls its
CancelToken every 50 ms, so cancelling raises `Cancelled` promptly even while the server is still processing the
prompt. The worker then closes the response at the next chunk it receives (a blocked socket read cannot be
interrupted portably); both llama.cpp's and vLLM's servers stop generating when the client disconnects.

Sampling: `max_tokens`, `temperature`, `top_p`, `seed` and `stop` are standard OpenAI fields. `repeat_penalty` is
not; it is sent under the llama.cpp name (`extra_body`), which llama.cpp's server and llama-cpp-python's server use.
vLLM calls the same thing `repetition_penalty` and ignores unknown fields (with a log warning) – so vLLM samples
with its default (1.0) rather than erroring. We deliberately do *not* send `repetition_penalty` too: a strict server
(or a llama.cpp server with a different meaning for an unknown key) could reject it, and a loop-prone small model is
a local-model problem the data-centre models do not have.
"""

from __future__ import annotations

import logging
import queue
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx2
import openai
from openai import Omit

from app.adapters.piece_queue import DONE, Failure, drain
from app.core.endpoints import Endpoint, parse_endpoint
from app.core.errors import (
    AktenlotseError,
    RemoteConfigError,
    RemoteError,
    RemoteRejected,
    RemoteUnavailable,
)
from app.core.llm import ChatMessage, GenerationParams, ModelInfo
from app.core.progress import CancelToken

log = logging.getLogger(__name__)

PURPOSE = "Sprachmodell im Rechenzentrum"
USER_AGENT = "Aktenlotse"
_NO_TOKEN = "nicht-gesetzt"  # the SDK insists on an api key; without a token its header is omitted
# Everything the SDK would add about this computer (and itself) beyond the request: removed.
_OMITTED_HEADERS: dict[str, Any] = {
    name: Omit()
    for name in ("X-Stainless-Lang", "X-Stainless-Package-Version", "X-Stainless-OS", "X-Stainless-Arch",
                 "X-Stainless-Runtime", "X-Stainless-Runtime-Version", "X-Stainless-Async")
}
_PER_REQUEST_OMITTED: dict[str, Any] = {"x-stainless-retry-count": Omit(), "x-stainless-read-timeout": Omit()}
_CONTEXT_MARKERS = ("context length", "context window", "context_length", "maximum context", "too many tokens",
                    "exceed", "too long")


@dataclass(slots=True, eq=False)  # hashable by identity: kept in a set while active
class _Run:
    """One streaming request: the worker puts text pieces, `DONE` or a `Failure` into `out`."""

    cancel: CancelToken
    out: queue.SimpleQueue[Any] = field(default_factory=queue.SimpleQueue)
    stop: threading.Event = field(default_factory=threading.Event)  # consumer gone or cancelled



DEFAULT_CONTEXT = 4096  # tokens assumed when neither the policy nor the server says (llama.cpp's common default)


class OpenAICompatibleModel:
    """`LanguageModel` over an OpenAI-compatible `/v1/chat/completions` endpoint. Construction does no I/O."""

    def __init__(self, base_url: str, model_name: str, *, token: str | None = None, ca_bundle: Path | None = None,
                 timeout: float = 120.0, retries: int = 2, connect_timeout: float = 10.0,
                 context_length: int | None = None) -> None:
        """`context_length`: tokens the server's model accepts (prompt + answer), from the policy's
        `context_length`; None: what the server's model list says (vLLM: `max_model_len`), else 4096. The features
        size the passages they send by it."""
        self._endpoint: Endpoint = parse_endpoint(base_url, PURPOSE)
        self._context_policy = context_length
        self.n_ctx = context_length or DEFAULT_CONTEXT
        if not (model_name or "").strip():
            raise RemoteConfigError(f"Für „{PURPOSE}“ ist in der Richtlinie kein Modellname eingetragen "
                                    "(remote_model_name).")
        self._model_name = model_name.strip()
        self._token = token or None
        self._timeout = float(timeout)
        self._retries = max(0, int(retries))
        self._ca_bundle = ca_bundle
        ssl_context = _ssl_context(ca_bundle)
        self._lock = threading.Lock()
        self._closed = False
        self._active: set[_Run] = set()
        self._http = httpx2.Client(verify=ssl_context, trust_env=False, follow_redirects=False)
        self._client = openai.OpenAI(
            base_url=self._endpoint.base_url,
            api_key=self._token or _NO_TOKEN,
            max_retries=self._retries,
            timeout=httpx2.Timeout(self._timeout, connect=min(connect_timeout, self._timeout)),
            http_client=self._http,
            default_headers={**_OMITTED_HEADERS, "User-Agent": USER_AGENT},
        )
        tls = "ja" if self._endpoint.tls else "nein (nur lokal)"
        # without a token no Authorization header at all (the SDK would send its placeholder key)
        self._request_headers = {**_PER_REQUEST_OMITTED, **({} if self._token else {"Authorization": Omit()})}
        self._info = ModelInfo(path=self._endpoint.base_url, size_bytes=0, name=self._model_name,
                               model_id=self._model_name, role="admin",
                               extra={"endpoint": self._endpoint.base_url, "tls": tls})

    def __repr__(self) -> str:  # never the token
        return (f"OpenAICompatibleModel({self._endpoint.base_url!r}, {self._model_name!r}, "
                f"token={'gesetzt' if self._token else 'keins'})")

    # -- LanguageModel --------------------------------------------------------------
    @property
    def info(self) -> ModelInfo:
        return self._info

    @property
    def backend_name(self) -> str:
        return f"Rechenzentrum ({self._endpoint.display})"

    @property
    def is_remote(self) -> bool:
        return True

    @property
    def endpoint(self) -> str:
        return self._endpoint.base_url

    @property
    def host(self) -> str:
        """"llm.rz.example.de:443": what messages name."""
        return self._endpoint.display

    def load(self) -> ModelInfo:
        """Reachability and model check: GET /models. Raises RemoteUnavailable/Rejected/ConfigError."""
        client = self._require_open()
        try:
            page = client.models.list(extra_headers=self._request_headers)
            ids = [model.id for model in page.data]
        except Exception as exc:  # noqa: BLE001 - every failure becomes a RemoteError with a German message
            raise self._map_error(exc) from None
        if self._context_policy is None:
            for model in page.data:
                announced = getattr(model, "max_model_len", None)  # vLLM announces it; llama.cpp servers do not
                if model.id == self._model_name and isinstance(announced, int) and announced >= 512:
                    self.n_ctx = announced
        self._info = replace(self._info, context_length=self.n_ctx)
        if ids and self._model_name not in ids:
            offered = ", ".join(ids[:10]) + (" …" if len(ids) > 10 else "")
            raise RemoteRejected(
                f"Das Rechenzentrum ({self.host}) bietet das Modell „{self._model_name}“ nicht an. "
                f"Angeboten wird: {offered}. Bitte die Richtlinie (remote_model_name) prüfen lassen.",
                f"GET {self.endpoint}/models: {ids}")
        log.info("Rechenzentrum erreichbar: %s, Modell %s", self.endpoint, self._model_name)
        return self._info

    def stream_chat(
        self, messages: Sequence[ChatMessage], params: GenerationParams, cancel: CancelToken
    ) -> Iterator[str]:
        client = self._require_open()
        cancel.raise_if_cancelled()
        run = _Run(cancel)
        request = self._request(messages, params)
        worker = threading.Thread(target=self._read, args=(client, request, run), name="aktenlotse-remote",
                                  daemon=True)
        with self._lock:
            self._active.add(run)
        worker.start()
        def reader_gone() -> BaseException | None:
            if worker.is_alive() or not run.out.empty():
                return None
            if self._closed:  # close() from another thread stopped this request
                return RemoteError(f"Die Verbindung zum Rechenzentrum ({self.host}) wurde beendet.",
                                   "closed during the request")
            return RemoteUnavailable(self._cut_message(), "reader thread ended")

        try:
            yield from drain(run.out, cancel, reader_gone)
        finally:
            # Cancelled, failed, done, or the consumer went away (GeneratorExit): the worker closes the response.
            run.stop.set()
            with self._lock:
                self._active.discard(run)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for run in self._active:
                run.stop.set()
        self._client.close()  # closes the httpx2 client it was given

    # -- internals ----------------------------------------------------------------------
    def _require_open(self) -> openai.OpenAI:
        with self._lock:
            if self._closed:
                raise RemoteError(f"Die Verbindung zum Rechenzentrum ({self.host}) wurde bereits beendet.")
            return self._client

    def _request(self, messages: Sequence[ChatMessage], params: GenerationParams) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self._model_name,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "stream": True,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "extra_body": {"repeat_penalty": params.repeat_penalty},
            "extra_headers": self._request_headers,
        }
        if params.seed is not None:
            request["seed"] = params.seed
        if params.stop:
            request["stop"] = list(params.stop)
        return request

    def _read(self, client: openai.OpenAI, request: dict[str, Any], run: _Run) -> None:
        """Worker thread: open the stream (the SDK retries), forward text pieces, close the response on stop."""
        stream = None
        finished, pieces = False, 0
        try:
            stream = client.chat.completions.create(**request)
            if run.stop.is_set():
                return
            for chunk in stream:
                if run.stop.is_set():
                    return
                for choice in chunk.choices or ():
                    text = choice.delta.content if choice.delta is not None else None
                    if text:
                        run.out.put(text)
                        pieces += 1
                    if choice.finish_reason:
                        finished = True
            # No finish_reason: the connection ended early, or llama-cpp-python's server (interrupt_requests=True,
            # its default) ended this stream with [DONE] because another request was waiting. Either way the
            # answer is incomplete and must not pass as a whole one.
            if not finished and not run.stop.is_set():
                raise _StreamCut("stream ended without finish_reason", pieces)
            run.out.put(DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, never lost on this thread
            if not run.stop.is_set():
                started = stream is not None
                run.out.put(Failure(self._map_error(exc, during_answer=started)))
        finally:
            if stream is not None:
                try:
                    stream.close()
                except Exception:  # closing a broken connection may fail again; nothing to do
                    log.debug("Schließen des Antwortstroms fehlgeschlagen", exc_info=True)

    def _cut_message(self) -> str:
        return "Die Verbindung zum Rechenzentrum ist während der Antwort abgebrochen."

    def _clean(self, text: str) -> str:
        """Technical detail without the token (a server could echo the Authorization header)."""
        if self._token:
            text = text.replace(self._token, "***")
        return text[:2000]

    def _map_error(self, exc: BaseException, *, during_answer: bool = False) -> AktenlotseError:
        if isinstance(exc, AktenlotseError):
            return exc
        host, attempts = self.host, self._retries + 1
        detail = self._clean(_describe(exc))
        tries = f" (nach {attempts} Versuchen)" if attempts > 1 else ""
        if isinstance(exc, _StreamCut):
            if exc.pieces == 0:  # llama-cpp-python's server ends the stream silently on an over-long prompt
                return RemoteUnavailable(
                    f"Das Rechenzentrum ({host}) hat die Anfrage ohne Antwort beendet – es ist überlastet, oder der "
                    "Text ist zu lang für das Modell im Rechenzentrum.", detail)
            return RemoteUnavailable(self._cut_message(), detail)
        if isinstance(exc, openai.APITimeoutError) or _caused_by(exc, httpx2.TimeoutException):
            if during_answer:
                return RemoteUnavailable(
                    f"Das Rechenzentrum ({host}) hat während der Antwort nicht mehr geantwortet: Zeitüberschreitung "
                    f"nach {self._timeout:g} s.", detail)
            return RemoteUnavailable(
                f"Das Rechenzentrum ({host}) antwortet nicht: Zeitüberschreitung nach {self._timeout:g} s{tries}. "
                "Bitte später erneut versuchen oder die IT verständigen.", detail)
        if _caused_by(exc, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in detail:
            bundle = f"„{self._ca_bundle}“" if self._ca_bundle else "die Zertifikate des Systems"
            return RemoteConfigError(
                f"Das Zertifikat des Rechenzentrums ({host}) ist nicht vertrauenswürdig (geprüft gegen {bundle}). "
                "Die IT muss die Zertifikatskette der Behörden-CA in der Richtlinie eintragen (remote_ca_bundle).",
                detail)
        if isinstance(exc, openai.APIStatusError):
            return self._status_error(exc.status_code, detail, tries)
        if isinstance(exc, openai.APIConnectionError) or _caused_by(exc, httpx2.ConnectError):
            if _caused_by(exc, socket.gaierror):
                cause = "der Servername ist unbekannt (DNS)"
            elif _caused_by(exc, ConnectionRefusedError) or "refused" in detail.lower():
                cause = "die Verbindung wurde abgelehnt"
            elif during_answer:
                return RemoteUnavailable(self._cut_message(), detail)
            else:
                cause = "keine Verbindung"
            return RemoteUnavailable(
                f"Das Rechenzentrum ({host}) ist nicht erreichbar: {cause}{tries}. Bitte später erneut versuchen "
                "oder die IT verständigen.", detail)
        if isinstance(exc, httpx2.TransportError | ConnectionError | OSError):
            return RemoteUnavailable(self._cut_message(), detail)
        if isinstance(exc, openai.APIError):  # an error event inside the stream
            if _mentions_context(detail):
                return self._too_long(detail)
            return RemoteUnavailable(f"Das Rechenzentrum ({host}) hat die Antwort mit einem Fehler beendet.", detail)
        return RemoteError(f"Unerwarteter Fehler bei der Anfrage an das Rechenzentrum ({host}).", detail)

    def _status_error(self, status: int, detail: str, tries: str) -> AktenlotseError:
        host = self.host
        if status in (401, 403):
            return RemoteRejected(
                f"Das Rechenzentrum ({host}) hat den Zugang verweigert ({status}) – Token prüfen: "
                "aktenlotse remote token set", detail)
        if status == 404:
            return RemoteRejected(
                f"Das Rechenzentrum ({host}) kennt die Adresse oder das Modell „{self._model_name}“ nicht (404). "
                "Bitte die Richtlinie (remote_model_url, remote_model_name) prüfen lassen.", detail)
        if status in (429, 502, 503, 504):
            return RemoteUnavailable(
                f"Das Rechenzentrum ({host}) ist überlastet ({status}){tries}. Bitte später erneut versuchen.", detail)
        if status == 413 or (status in (400, 422) and _mentions_context(detail)):
            return self._too_long(detail)
        if 400 <= status < 500:
            return RemoteRejected(f"Das Rechenzentrum ({host}) hat die Anfrage abgelehnt ({status}).", detail)
        return RemoteUnavailable(
            f"Im Rechenzentrum ({host}) ist ein Serverfehler aufgetreten ({status}){tries}. Bitte später erneut "
            "versuchen oder die IT verständigen.", detail)

    def _too_long(self, detail: str) -> RemoteRejected:
        return RemoteRejected(
            "Der Text ist zu lang für das Modell im Rechenzentrum. Bitte kürzen Sie die Eingabe oder wählen Sie "
            "weniger Dokumente.", detail)


class _StreamCut(Exception):
    """The server closed the stream before the answer was complete."""

    def __init__(self, message: str, pieces: int) -> None:
        super().__init__(f"{message} after {pieces} pieces")
        self.pieces = pieces


def _ssl_context(ca_bundle: Path | None) -> ssl.SSLContext:
    """System certificates, or only the admin's CA bundle. Missing or unreadable bundle → RemoteConfigError."""
    if ca_bundle is None:
        return ssl.create_default_context()
    path = Path(ca_bundle)
    if not path.is_file():
        raise RemoteConfigError(
            f"Die Zertifikatskette für das Rechenzentrum (remote_ca_bundle) fehlt: {path}. Bitte wenden Sie sich an "
            "Ihre IT.", f"not a file: {path}")
    try:
        return ssl.create_default_context(cafile=str(path))
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise RemoteConfigError(
            f"Die Zertifikatskette für das Rechenzentrum (remote_ca_bundle) ist keine gültige PEM-Datei: {path}.",
            repr(exc)) from None


def _caused_by(exc: BaseException, kind: type[BaseException] | tuple[type[BaseException], ...]) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _describe(exc: BaseException) -> str:
    parts, seen = [], set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(parts) < 5:
        seen.add(id(current))
        parts.append(f"{type(current).__name__}: {current}")
        current = current.__cause__ or current.__context__
    return " <- ".join(parts)


def _mentions_context(detail: str) -> bool:
    lowered = detail.lower()
    return ("context" in lowered and any(marker in lowered for marker in _CONTEXT_MARKERS)) or "too long" in lowered


def probe_http(url: str, *, ca_bundle: Path | None = None, token: str | None = None, timeout: float = 10.0,
               purpose: str = "Fachbereichswissen") -> str:
    """GET `url` with the same TLS rules (no proxies from the environment); "" when it answers 2xx, else a German
    reason. Used by `aktenlotse remote check` for the shared-knowledge server (…/api/v2/heartbeat)."""
    del purpose
    context = _ssl_context(ca_bundle)
    headers = {"User-Agent": USER_AGENT}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    started = time.monotonic()
    try:
        with httpx2.Client(verify=context, trust_env=False, timeout=timeout, follow_redirects=False) as client:
            response = client.get(url, headers=headers)
    except httpx2.TimeoutException:
        return f"Zeitüberschreitung nach {timeout:g} s"
    except httpx2.ConnectError as exc:
        if _caused_by(exc, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(exc):
            return "Zertifikat nicht vertrauenswürdig (remote_ca_bundle prüfen)"
        if _caused_by(exc, socket.gaierror):
            return "Servername unbekannt (DNS)"
        return "nicht erreichbar (Verbindung abgelehnt)"
    except httpx2.HTTPError as exc:
        return f"nicht erreichbar ({type(exc).__name__})"
    log.debug("probe %s: %s in %.2f s", url, response.status_code, time.monotonic() - started)
    if response.status_code in (401, 403):
        return f"Zugang verweigert ({response.status_code}) – Token prüfen: aktenlotse remote token set"
    if response.status_code >= 400:
        return f"antwortet mit Fehler {response.status_code}"
    return ""
