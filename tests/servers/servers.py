"""Start and stop real servers on 127.0.0.1 for tests and benchmarks: llama-cpp-python's OpenAI-compatible server
with the test model, and a Chroma server (`chroma run`). Each runs as a subprocess on a free port; `stop()` ends it
(and is safe to call twice). Start-up waits for the server's own "listening" line in its output, then checks its
health endpoint once – no polling, no fixed sleep."""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
TEST_MODEL = REPO / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def _get(url: str, timeout: float = 2.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback test server
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@dataclass
class RunningServer:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_file: Path
    capture_file: Path | None = None
    extra: dict[str, str] = field(default_factory=dict)
    notify_fd: int | None = None  # read end of the FIFO the capture server writes one byte to per request
    _seen: int = 0
    extra_events: dict[str, threading.Event] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def captured(self) -> list[dict[str, object]]:
        """The requests the server received (llama server with capture only), oldest first."""
        if self.capture_file is None or not self.capture_file.exists():
            return []
        return [json.loads(line) for line in self.capture_file.read_text(encoding="utf-8").splitlines() if line]

    def requests_seen(self) -> int:
        """Requests recorded so far (capture only): the notifications that have arrived."""
        self._take_notifications()
        return self._seen

    def wait_for_requests(self, count: int, timeout: float) -> bool:
        """Block until the server has recorded `count` requests in all (capture only), woken by its notification –
        no polling; False after `timeout` seconds."""
        if self.notify_fd is None:
            raise RuntimeError("server started without capture")
        deadline = time.monotonic() + timeout
        while self.requests_seen() < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            select.select([self.notify_fd], [], [], remaining)
        return True

    def _take_notifications(self) -> None:
        if self.notify_fd is None:
            return
        while True:
            try:
                data = os.read(self.notify_fd, 4096)
            except BlockingIOError:
                return
            if not data:
                return
            self._seen += len(data)

    def stop(self) -> None:
        if self.notify_fd is not None:
            os.close(self.notify_fd)
            self.notify_fd = None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)

    def wait_ready(self, health_path: str, timeout: float) -> None:
        """Wait for the server's own "listening" line (the output reader sets `ready`, or `ended`), then check its
        health endpoint once."""
        ready = self.extra_events["ready"]
        if not ready.wait(timeout) or self.process.poll() is not None:
            ended = self.process.poll() is not None
            self.stop()
            raise RuntimeError(f"{self.name} {'ended' if ended else f'not ready after {timeout:.0f} s'}:\n"
                               f"{self.log_tail()}")
        try:
            status = _get(self.base_url + health_path, timeout=30.0)
        except (urllib.error.URLError, OSError) as exc:
            status = repr(exc)
        if status != 200:
            self.stop()
            raise RuntimeError(f"{self.name}: {health_path} answered {status}:\n{self.log_tail()}")


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _spawn(name: str, command: list[str], port: int, log_file: Path, ready_marker: str, env: dict[str, str],
           cwd: Path, **kwargs: object) -> RunningServer:
    """Start the server with its output going through a reader thread into `log_file`; the thread sets the
    "ready" event when `ready_marker` appears (or when the output ends: the process died)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    ready = threading.Event()

    def copy_output() -> None:
        assert process.stdout is not None
        with open(log_file, "wb") as log:
            for line in process.stdout:
                log.write(line)
                log.flush()
                if ready_marker in _ANSI.sub("", line.decode("utf-8", "replace")):
                    ready.set()
        ready.set()

    threading.Thread(target=copy_output, name=f"{name}-output", daemon=True).start()
    server = RunningServer(name, process, port, log_file, **kwargs)  # type: ignore[arg-type]
    server.extra_events = {"ready": ready}
    return server


def start_llama_server(workdir: Path, *, model: Path = TEST_MODEL, capture: bool = True, n_ctx: int = 2048,
                       n_threads: int | None = None, model_alias: str = "aktenlotse-test", timeout: float = 120.0,
                       port: int | None = None) -> RunningServer:
    """`python -m llama_cpp.server` (through llama_capture_server.py, which adds the body record) on loopback."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log_file = workdir / f"llama-server-{port}.log"
    capture_file = workdir / f"llama-server-{port}.requests.jsonl" if capture else None
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("AKTENLOTSE_CAPTURE_FILE", None)
    env.pop("AKTENLOTSE_CAPTURE_NOTIFY", None)
    notify_fd = None
    if capture_file is not None:
        env["AKTENLOTSE_CAPTURE_FILE"] = str(capture_file)
        fifo = workdir / f"llama-server-{port}.notify"
        os.mkfifo(fifo)
        notify_fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # held open so the server's writes land
        env["AKTENLOTSE_CAPTURE_NOTIFY"] = str(fifo)
    threads = n_threads or max(1, min(2, os.cpu_count() or 1))
    command = [sys.executable, str(HERE / "llama_capture_server.py"), "--model", str(model), "--model_alias",
               model_alias, "--host", LOOPBACK, "--port", str(port), "--n_ctx", str(n_ctx),
               "--n_threads", str(threads), "--n_threads_batch", str(threads)]
    server = _spawn("llama_cpp.server", command, port, log_file, "Uvicorn running on", env, workdir,
                    capture_file=capture_file, extra={"model": model_alias}, notify_fd=notify_fd)
    server.wait_ready("/v1/models", timeout)
    return server


def chroma_executable() -> str | None:
    """The `chroma` command of this Python environment (chromadb ships it), else one on PATH."""
    beside = Path(sys.executable).with_name("chroma")
    if beside.exists():
        return str(beside)
    return shutil.which("chroma")


def start_chroma_server(workdir: Path, *, timeout: float = 60.0, port: int | None = None) -> RunningServer:
    """`chroma run --path … --host 127.0.0.1 --port …` with its data in `workdir`."""
    exe = chroma_executable()
    if exe is None:
        raise RuntimeError("chroma command not found (it comes with the chromadb package)")
    workdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log_file = workdir / f"chroma-{port}.log"
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "CHROMA_ANONYMIZED_TELEMETRY": "False"}
    command = [exe, "run", "--path", str(workdir / "data"), "--host", LOOPBACK, "--port", str(port)]
    server = _spawn("chroma", command, port, log_file, "listening on address", env, workdir)
    server.wait_ready("/api/v2/heartbeat", timeout)
    return server
