"""The local language model: llama-cpp-python on one owner thread of its own (LanguageModel port).

Every call into llama.cpp – loading, generation, freeing – runs on the owner thread, fed by a job
queue; `stream_chat` only submits a job and reads text pieces from a per-call queue, so it may be
called from any thread. Cancellation is checked per token; while the prompt is being processed
(which takes many seconds for a long prompt on an office PC) llama.cpp's abort callback stops it
between graph nodes. That callback reads a flag byte in C, without the GIL (see `_AbortFlag`).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ctypes
import io
import logging
import os
import queue
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from app.adapters.model_files import require_gguf_magic
from app.adapters.piece_queue import DONE, Failure, drain
from app.core.errors import AktenlotseError, Cancelled, InvalidModelFile, ModelError, ModelNotReady
from app.core.llm import ChatMessage, GenerationParams, ModelInfo
from app.core.progress import CancelToken

log = logging.getLogger(__name__)

BACKEND_NAME = "lokal (llama.cpp)"
DEFAULT_MAX_CONTEXT = 4096  # used when neither settings nor a smaller model context say otherwise
MAX_GENERATION_THREADS = 8  # token generation is memory-bound: more threads stop helping
MAX_BATCH_THREADS = 16
_ABORTED_BY_CALLBACK = "llama_decode returned 2"


@dataclass(frozen=True, slots=True)
class RunStats:
    """How the last generation ended, for diagnostics and tests (set on the owner thread)."""

    finish_reason: str  # "stop", "length", "cancelled", "closed" (consumer went away), "error"
    pieces: int
    seconds: float
    aborted_in_prompt: bool = False  # stopped by the abort callback while the prompt was being processed



def available_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # Windows, macOS
        return max(1, os.cpu_count() or 1)


def default_threads(cpus: int | None = None) -> tuple[int, int]:
    """(n_threads, n_threads_batch) for this machine.

    Up to 4 logical CPUs all are used (small office machines, often without SMT). Above that we
    assume two hardware threads per core and use one per core for generation (capped at 8, more
    only adds memory contention) and all but one logical CPU, at most 16, for prompt processing.
    llama-cpp-python's own default (cpu_count // 2) would give a 2-core machine a single thread.
    """
    cpus = cpus or available_cpus()
    if cpus <= 4:
        return cpus, cpus
    return min(cpus // 2, MAX_GENERATION_THREADS), min(cpus - 1, MAX_BATCH_THREADS)


class LlamaCppModel:
    """`LanguageModel` over `llama_cpp.Llama`. Construct cheaply; `load()` blocks until the model is ready."""

    def __init__(self, info: ModelInfo, *, n_threads: int | None = None, n_ctx: int | None = None) -> None:
        self._info = info
        threads, batch_threads = default_threads()
        self.n_threads = n_threads or threads
        self.n_threads_batch = n_threads or batch_threads
        model_ctx = info.context_length or DEFAULT_MAX_CONTEXT
        self.n_ctx = min(model_ctx, n_ctx or DEFAULT_MAX_CONTEXT)
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closing = threading.Event()
        self._loaded = threading.Event()
        self._llama: Any = None  # touched on the owner thread only
        self._abort: _AbortFlag | None = None  # created with the model; set from other threads to stop a decode
        self.chat_format = ""  # what llama-cpp-python uses: "chat_template.default" = the GGUF's own template
        self.last_run: RunStats | None = None

    # -- LanguageModel --------------------------------------------------------------
    @property
    def info(self) -> ModelInfo:
        return self._info

    @property
    def backend_name(self) -> str:
        return BACKEND_NAME

    @property
    def is_remote(self) -> bool:
        return False

    @property
    def endpoint(self) -> str:
        return ""

    @property
    def owner_thread(self) -> threading.Thread | None:
        return self._thread

    def load(self) -> ModelInfo:
        if self._closing.is_set():
            raise ModelError("Das Sprachmodell wurde bereits beendet.")
        if not self._loaded.is_set():
            self._call(self._load_on_owner)
        return self._info

    def stream_chat(
        self, messages: Sequence[ChatMessage], params: GenerationParams, cancel: CancelToken
    ) -> Iterator[str]:
        if self._closing.is_set():
            raise ModelError("Das Sprachmodell wurde bereits beendet.")
        if not self._loaded.is_set():
            raise ModelNotReady()
        cancel.raise_if_cancelled()
        job = _Generation([{"role": m.role, "content": m.content} for m in messages], params, cancel)
        out = job.out
        self._submit(lambda: self._generate(job))
        def owner_gone() -> BaseException | None:
            if self._thread is None or not self._thread.is_alive():
                return ModelError("Das Sprachmodell reagiert nicht mehr.", "owner thread ended")
            return None

        try:
            yield from drain(out, cancel, owner_gone)
        finally:
            # Cancelled, failed, or the consumer went away (GeneratorExit): stop llama.cpp mid-decode if this
            # generation still runs; the owner's per-token check covers the rest. A no-op once it has ended.
            job.consumer_gone.set()
            if self._abort is not None:
                self._abort.request(job)

    def close(self) -> None:
        """Stop generation, free the model on its owner thread and end that thread."""
        if self._closing.is_set():
            return
        self._closing.set()
        if self._abort is not None:
            self._abort.request(None)
        thread = self._thread
        if thread is None:
            return
        self._jobs.put(self._free_on_owner)
        self._jobs.put(None)
        if thread is not threading.current_thread():
            thread.join(timeout=30)

    # -- extras beyond the port -------------------------------------------------------
    def render_prompt(self, messages: Sequence[ChatMessage]) -> str:
        """The prompt text the model's chat template makes of `messages` (diagnostics, token budgeting)."""
        if not self._loaded.is_set():
            raise ModelNotReady()
        payload = [{"role": m.role, "content": m.content} for m in messages]
        return self._call(lambda: self._render_on_owner(payload))

    def wait_idle(self, timeout: float | None = None) -> bool:
        """True once every job submitted so far (e.g. a generation whose consumer went away) has finished."""
        if self._thread is None or not self._thread.is_alive():
            return True
        done = threading.Event()
        self._jobs.put(done.set)
        return done.wait(timeout)

    # -- owner thread plumbing --------------------------------------------------------
    def _submit(self, job: Callable[[], None]) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name="aktenlotse-llama", daemon=True)
                self._thread.start()
        self._jobs.put(job)

    def _call(self, fn: Callable[[], Any]) -> Any:
        """Run `fn` on the owner thread and return its result (or raise its error) in the caller."""
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def job() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:  # handed to the caller, never lost on the owner thread
                future.set_exception(exc)

        self._submit(job)
        return future.result()

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                job()
            except BaseException:  # a job must never end the owner thread
                log.exception("Fehler im Modell-Thread")

    # -- on the owner thread ----------------------------------------------------------
    def _load_on_owner(self) -> None:
        if self._llama is not None:
            return
        path = Path(self._info.path)
        require_gguf_magic(path)
        llama_cpp = _import_llama_cpp()
        started = time.perf_counter()
        _LLAMA_LOG.clear()
        captured = io.StringIO()
        try:
            # verbose=True only while constructing, with its Python prints captured: verbose=False would make
            # llama-cpp-python dup2() the process-wide stdout/stderr to /dev/null for the whole load, which
            # silences every other thread and fails where there are no std handles (windowed app).
            with contextlib.redirect_stderr(captured), contextlib.redirect_stdout(captured):
                llama = llama_cpp.Llama(
                    model_path=str(path),
                    n_ctx=self.n_ctx,
                    n_threads=self.n_threads,
                    n_threads_batch=self.n_threads_batch,
                    n_gpu_layers=0,
                    use_mmap=False,  # read fully at load: "bereit" means ready, no page faults mid-answer, no SMB mmap
                    use_mlock=False,
                    chat_format=None,  # None = the GGUF's own tokenizer.chat_template
                    verbose=True,
                )
        except ValueError as exc:
            raise _load_error(path, exc) from None
        except MemoryError:
            raise ModelError(
                "Für das Sprachmodell ist nicht genug Arbeitsspeicher frei. Schließen Sie andere Programme.",
                f"{path}: MemoryError",
            ) from None
        finally:
            log.debug("llama.cpp beim Laden:\n%s", captured.getvalue())
        llama.verbose = False  # no per-call prints or timing dumps
        self._llama = llama
        self._abort = _AbortFlag.install(llama_cpp, llama.ctx)
        self.chat_format = str(llama.chat_format or "")
        metadata = getattr(llama, "metadata", {}) or {}
        self._info = replace(
            self._info,
            chat_template=self._info.chat_template or metadata.get("tokenizer.chat_template", ""),
            extra={
                **self._info.extra,
                "chat_format": self.chat_format,
                "chat_template_source": "GGUF" if self.chat_format.startswith("chat_template.") else "llama-cpp-python",
                "n_ctx": str(self.n_ctx),
                "n_threads": str(self.n_threads),
                "n_threads_batch": str(self.n_threads_batch),
                "load_seconds": f"{time.perf_counter() - started:.2f}",
                "prompt_cancel": "ja" if self._abort is not None else "nein (nur zwischen Token)",
            },
        )
        self._loaded.set()
        log.info("Modell geladen: %s (%s, n_ctx=%d, threads=%d/%d)", path.name, self.chat_format,
                 self.n_ctx, self.n_threads, self.n_threads_batch)  # fmt: skip

    def _free_on_owner(self) -> None:
        self._loaded.clear()
        llama, self._llama = self._llama, None
        if llama is not None:
            llama.close()

    def _render_on_owner(self, payload: list[dict[str, str]]) -> str:
        from llama_cpp import llama_chat_format

        llama = self._llama
        template = llama.metadata.get("tokenizer.chat_template")
        if not template:
            raise ModelError("Das Modell enthält keine Gesprächsvorlage.", "tokenizer.chat_template fehlt")
        eos, bos = llama.token_eos(), llama.token_bos()
        formatter = llama_chat_format.Jinja2ChatFormatter(
            template=template,
            eos_token=llama._model.token_get_text(eos) if eos != -1 else "",
            bos_token=llama._model.token_get_text(bos) if bos != -1 else "",
        )
        return formatter(messages=payload).prompt

    def _generate(self, job: _Generation) -> None:
        started = time.perf_counter()
        pieces, reason, in_prompt, aborted_in_prompt = 0, "stop", True, False
        cancel, consumer_gone, closing, out = job.cancel, job.consumer_gone, self._closing, job.out

        def should_stop() -> bool:
            return cancel.cancelled or consumer_gone.is_set() or closing.is_set()

        if self._llama is None or should_stop():
            self.last_run = RunStats("cancelled", 0, 0.0)
            out.put(Failure(Cancelled() if self._llama is not None else ModelNotReady()))
            return
        params, stream, failure = job.params, None, None
        if self._abort is not None:
            self._abort.arm(job)
        try:
            stream = self._llama.create_chat_completion(
                messages=job.payload,
                stream=True,
                max_tokens=params.max_tokens,
                temperature=params.temperature,
                top_p=params.top_p,
                seed=params.seed,
                stop=list(params.stop) or None,
                repeat_penalty=params.repeat_penalty,
            )
            put = out.put
            for chunk in stream:
                in_prompt = False
                if should_stop():
                    reason = "closed" if consumer_gone.is_set() and not cancel.cancelled else "cancelled"
                    break
                choice = chunk["choices"][0]
                text = choice["delta"].get("content")
                if text:
                    put(text)
                    pieces += 1
                if choice["finish_reason"]:
                    reason = choice["finish_reason"]
        except Exception as exc:
            if _ABORTED_BY_CALLBACK in str(exc) and should_stop():
                reason = "closed" if consumer_gone.is_set() and not cancel.cancelled else "cancelled"
                aborted_in_prompt = in_prompt
            else:
                reason, failure = "error", _generation_error(exc)
        finally:
            if stream is not None:
                stream.close()
            if self._abort is not None:
                self._abort.disarm()
        self.last_run = RunStats(reason, pieces, time.perf_counter() - started, aborted_in_prompt)
        if failure is not None:
            out.put(Failure(failure))
        else:
            out.put(Failure(Cancelled()) if reason in ("cancelled", "closed") else DONE)


@dataclass
class _Generation:
    """One `stream_chat` call: what the owner thread needs, and the queue the pieces travel back in."""

    payload: list[dict[str, str]]
    params: GenerationParams
    cancel: CancelToken
    out: queue.SimpleQueue[Any] = field(default_factory=queue.SimpleQueue)
    consumer_gone: threading.Event = field(default_factory=threading.Event)


class _AbortFlag:
    """A flag byte that llama.cpp polls between graph nodes, read in C so it never waits for the GIL.

    A Python abort callback would need the GIL once per graph node (~1000 per batch); with another
    Python thread busy (indexing, the GUI) that doubled prompt-processing time in our measurement.
    The callback is libc's `strlen` on a two-byte buffer instead: 0 ("go on") while the buffer is
    empty, 1 ("abort") once the first byte is set. A `size_t` function called through llama.cpp's
    `bool (*)(void *)` pointer relies on the return-register convention of x86-64 (System V and
    Windows) and arm64, so `install` tests it through ctypes first and returns None (prompt
    processing then cannot be interrupted, tokens still can) if anything is off.

    The flag belongs to one generation at a time (`arm`/`disarm` on the owner thread), so a late
    request from a consumer whose generation has already ended cannot abort the next one.
    """

    def __init__(self, callback: Any, buffer: Any) -> None:
        self._callback, self._buffer = callback, buffer  # referenced here: llama.cpp holds raw pointers
        self._lock = threading.Lock()
        self._armed_for: object | None = None

    @classmethod
    def install(cls, llama_cpp: Any, ctx: Any) -> _AbortFlag | None:
        try:
            strlen = _libc().strlen
            callback = llama_cpp.ggml_abort_callback(ctypes.cast(strlen, ctypes.c_void_p).value)
            buffer = ctypes.create_string_buffer(2)
            pointer = ctypes.cast(buffer, ctypes.c_void_p)
            works = callback(pointer) is False
            buffer[0] = b"\x01"
            works = works and callback(pointer) is True
            buffer[0] = b"\x00"
            if not works:
                raise OSError("strlen as abort callback gives unexpected results")
            llama_cpp.llama_set_abort_callback(ctx, callback, pointer)
        except Exception as exc:  # no libc found, unusual ABI: fall back to per-token cancellation
            log.warning("Abbruch während der Prompt-Verarbeitung nicht verfügbar: %r", exc)
            return None
        return cls(callback, buffer)

    def arm(self, generation: object) -> None:
        with self._lock:
            self._buffer[0] = b"\x00"
            self._armed_for = generation

    def disarm(self) -> None:
        with self._lock:
            self._armed_for = None
            self._buffer[0] = b"\x00"

    def request(self, generation: object | None) -> None:
        """Abort `generation` if it is the one running (None: whichever is running)."""
        with self._lock:
            if self._armed_for is not None and (generation is None or generation is self._armed_for):
                self._buffer[0] = b"\x01"


def _libc() -> ctypes.CDLL:
    for name in (None, "ucrtbase", "msvcrt", "libc.so.6", "libc.dylib"):
        try:
            lib = ctypes.CDLL(name)
            lib.strlen  # noqa: B018 - raises AttributeError if missing
            return lib
        except (OSError, TypeError, AttributeError):
            continue
    raise OSError("no C runtime with strlen found")


# -- llama.cpp import, logging and error mapping ------------------------------------------------

_LLAMA_LOG: deque[str] = deque(maxlen=40)  # recent llama.cpp log lines, quoted in error details
_LOG_CALLBACK: Any = None
# ggml_log_level of this llama.cpp (ggml.h): 1 DEBUG, 2 INFO, 3 WARN, 4 ERROR, 5 CONT(inue previous line).
# (llama-cpp-python's own table in _logger.py is off by one.) INFO is the load dump: DEBUG for us.
_LOG_LEVELS = {1: logging.DEBUG, 2: logging.DEBUG, 3: logging.WARNING, 4: logging.ERROR}
_last_log_level = [logging.DEBUG]


def _import_llama_cpp() -> Any:
    global _LOG_CALLBACK
    try:
        import llama_cpp
    except ImportError as exc:
        raise ModelError(
            "Die Komponente für lokale Sprachmodelle (llama-cpp-python) fehlt oder passt nicht zu diesem "
            "Rechner. Bitte die Installation reparieren.",
            repr(exc),
        ) from None
    if _LOG_CALLBACK is None:
        llama_log = logging.getLogger("llama_cpp")

        @llama_cpp.llama_log_callback
        def _on_log(level: int, text: bytes, _user_data: Any) -> None:
            python_level = _last_log_level[0] if level == 5 else _LOG_LEVELS.get(level, logging.DEBUG)
            _last_log_level[0] = python_level
            line = text.decode("utf-8", "replace").rstrip()
            if line:
                _LLAMA_LOG.append(line)
                llama_log.log(python_level, "%s", line)

        _LOG_CALLBACK = _on_log  # replaces llama-cpp-python's callback, which prints to stderr
        llama_cpp.llama_log_set(_LOG_CALLBACK, ctypes.c_void_p(0))
    return llama_cpp


def _recent_log(limit: int = 6) -> str:
    lines = [line for line in _LLAMA_LOG if "error" in line.lower() or "failed" in line.lower()]
    return "\n".join((lines or list(_LLAMA_LOG))[-limit:])


def _load_error(path: Path, exc: Exception) -> AktenlotseError:
    detail = f"{path}: {exc}\n{_recent_log()}".strip()
    if "llama_context" in str(exc):
        return ModelError(
            "Das Sprachmodell konnte nicht gestartet werden; vermutlich ist nicht genug Arbeitsspeicher frei.", detail
        )
    return InvalidModelFile(
        "Die Modelldatei konnte nicht geladen werden: Sie ist beschädigt, unvollständig oder wird von dieser "
        "Programmversion nicht unterstützt.",
        detail,
    )


def _generation_error(exc: Exception) -> AktenlotseError:
    if isinstance(exc, AktenlotseError):
        return exc
    message = str(exc)
    too_long = re.search(r"Requested tokens \((\d+)\) exceed context window of (\d+)", message)
    if too_long:
        used, limit = too_long.groups()
        return ModelError(
            f"Der Text ist zu lang für das Sprachmodell ({used} Token, höchstens {limit}). "
            "Bitte kürzen Sie die Eingabe.",
            message,
        )
    if type(exc).__module__.startswith("jinja2"):
        return ModelError(
            "Die Gesprächsvorlage des Modells passt nicht zu dieser Anfrage.", f"{type(exc).__name__}: {message}"
        )
    return ModelError("Bei der Textgenerierung ist ein Fehler aufgetreten.", f"{type(exc).__name__}: {message}")
