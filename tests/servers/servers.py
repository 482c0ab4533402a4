"""Start and stop real servers on 127.0.0.1 for tests and benchmarks: llama-cpp-python's OpenAI-compatible server
with the test model, and a Chroma server (`chroma run`). Each runs as a subprocess on a free port; `stop()` ends it
(and is safe to call twice). Start-up waits on the server's own health endpoint, never a fixed sleep."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
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

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)

    def wait_ready(self, health_path: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} ended with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if _get(self.base_url + health_path) == 200:
                    return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)  # polling a health endpoint, not waiting for a guessed duration
        self.stop()
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f} s:\n{self.log_tail()}")


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
    if capture_file is not None:
        env["AKTENLOTSE_CAPTURE_FILE"] = str(capture_file)
    threads = n_threads or max(1, min(2, os.cpu_count() or 1))
    command = [sys.executable, str(HERE / "llama_capture_server.py"), "--model", str(model), "--model_alias",
               model_alias, "--host", LOOPBACK, "--port", str(port), "--n_ctx", str(n_ctx),
               "--n_threads", str(threads), "--n_threads_batch", str(threads)]
    handle = open(log_file, "wb")  # noqa: SIM115 - the child writes into it until stop()
    process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=workdir)
    handle.close()
    server = RunningServer("llama_cpp.server", process, port, log_file, capture_file, {"model": model_alias})
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
    handle = open(log_file, "wb")  # noqa: SIM115
    process = subprocess.Popen([exe, "run", "--path", str(workdir / "data"), "--host", LOOPBACK, "--port", str(port)],
                               stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=workdir)
    handle.close()
    server = RunningServer("chroma", process, port, log_file)
    server.wait_ready("/api/v2/heartbeat", timeout)
    return server
