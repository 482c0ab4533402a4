"""`python -m llama_cpp.server` as is, plus a server-side record of every request body it receives.

Run exactly like `python -m llama_cpp.server` (same arguments); with the environment variable
AKTENLOTSE_CAPTURE_FILE set, each HTTP request's method, path and body is appended as one JSON line to that file
*inside the server process*, before llama-cpp-python's own app sees it. The pseudonymisation tests read this file to
prove what actually arrived at the server, not what the client meant to send. With AKTENLOTSE_CAPTURE_NOTIFY naming
a FIFO, one byte is written to it after each recorded request (`RunningServer.wait_for_requests`).
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

import llama_cpp.server.__main__ as server_main

_lock = threading.Lock()


class CaptureBodies:
    """Pure ASGI middleware: buffers the request body as it is received and logs it; the app gets it unchanged."""

    def __init__(self, app: Any, file: str) -> None:
        self.app, self.file = app, file

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        logged = False

        async def recording_receive() -> dict[str, Any]:
            nonlocal logged
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
                if not message.get("more_body") and not logged:
                    logged = True
                    self._log(scope, b"".join(chunks))
            return message

        await self.app(scope, recording_receive, send)
        if not logged:  # a request whose body the app never read (GET)
            self._log(scope, b"".join(chunks))

    def _log(self, scope: dict[str, Any], body: bytes) -> None:
        line = json.dumps({"method": scope.get("method"), "path": scope.get("path"),
                           "headers": {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])},
                           "body": body.decode("utf-8", "replace")}, ensure_ascii=False)
        with _lock, open(self.file, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
        _notify()


def _notify() -> None:
    """One byte into the FIFO the test holds open (AKTENLOTSE_CAPTURE_NOTIFY), so it can wait for a request without
    polling; no reader (or no FIFO) – nothing to tell."""
    fifo = os.environ.get("AKTENLOTSE_CAPTURE_NOTIFY")
    if not fifo:
        return
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        return
    try:
        os.write(fd, b".")
    except OSError:
        pass
    finally:
        os.close(fd)


def main() -> None:
    capture = os.environ.get("AKTENLOTSE_CAPTURE_FILE")
    if capture:
        original = server_main.create_app

        def create_app(*args: Any, **kwargs: Any) -> Any:
            return CaptureBodies(original(*args, **kwargs), capture)

        server_main.create_app = create_app
    server_main.main()


if __name__ == "__main__":
    main()
