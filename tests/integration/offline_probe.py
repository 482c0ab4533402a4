"""Start-up, model load, one generation and the main window, with every network socket blocked.

Run as a script by test_offline.py: it prints JSON with every connection attempt it saw, so the test fails
if anything in the app (or a library it imports) tries to reach the network.
"""

from __future__ import annotations

import json
import os
import socket
import sys

ATTEMPTS: list[str] = []
_LOCAL_FAMILIES = {getattr(socket, "AF_UNIX", None)}


def _record(what: str) -> None:
    ATTEMPTS.append(what)
    raise OSError(f"offline test: network access blocked ({what})")


def install_guard() -> None:
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex

    def connect(self: socket.socket, address):  # noqa: ANN001
        if self.family in _LOCAL_FAMILIES:
            return original_connect(self, address)
        _record(f"connect {address!r}")

    def connect_ex(self: socket.socket, address):  # noqa: ANN001
        if self.family in _LOCAL_FAMILIES:
            return original_connect_ex(self, address)
        _record(f"connect_ex {address!r}")

    def sendto(self: socket.socket, *args):  # noqa: ANN001
        _record(f"sendto {args[-1]!r}")

    def getaddrinfo(host, *args, **kwargs):  # noqa: ANN001
        _record(f"getaddrinfo {host!r}")

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.socket.sendto = sendto  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]


def main() -> int:
    install_guard()
    if "--self-check" in sys.argv:
        try:
            socket.create_connection(("127.0.0.1", 9), timeout=1)
        except OSError:
            pass
        print(json.dumps({"attempts": ATTEMPTS}))
        return 0

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from app.bootstrap import build_container
    from app.core.llm import GenerationParams
    from app.core.progress import CancelToken

    container = build_container()
    for _ in container.model_service.load(CancelToken()):
        pass
    text = "".join(
        container.model_service.test_prompt("Sag Hallo.", CancelToken(), GenerationParams(max_tokens=8, seed=1))
    )

    from PySide6.QtWidgets import QApplication

    from app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    window = MainWindow(container.config, container.model_service, container.selection)
    window.show()
    app.processEvents()
    shown = window.isVisible()
    window.close()
    container.model_service.close()
    print(json.dumps({"attempts": ATTEMPTS, "text": text, "state": container.model_service.state.value, "shown": shown}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
