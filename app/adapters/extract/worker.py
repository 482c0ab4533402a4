"""The extraction worker process (`python -m app.adapters.extract.worker`): caps its memory, reads files on request.

Requests arrive on stdin and replies leave on stdout as pickle frames; anything a native library prints goes to
stderr, because stdout is moved out of the way before the readers are imported.
"""

from __future__ import annotations

import os
import sys

from app.adapters.extract.limits import MB


def _cap_memory(memory_mb: int) -> None:
    if memory_mb <= 0 or not sys.platform.startswith("linux"):
        return  # elsewhere the parent's time limit and crash handling still apply
    import resource

    limit = memory_mb * MB
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):
        pass


def main() -> None:
    try:
        memory_mb = int(sys.argv[-1])
    except ValueError:
        memory_mb = 0
    inp = sys.stdin.buffer
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints of native code must not corrupt the protocol

    import charset_normalizer  # noqa: F401
    import pypdfium2  # noqa: F401

    from app.adapters.extract import detect, mail, odt, ooxml, pdf, plain  # noqa: F401 - import the readers once
    from app.adapters.extract.protocol import read_frame, write_frame
    from app.adapters.extract.reader import extract_in_process
    from app.core.library import ExtractionError

    limits = read_frame(inp)
    _cap_memory(memory_mb)
    write_frame(out, ("ready",))
    while True:
        try:
            request = read_frame(inp)
        except (EOFError, OSError):
            return
        if request is None:
            return
        try:
            doc = extract_in_process(request, limits)
        except ExtractionError as exc:
            reply: tuple = ("err", exc.status, exc.reason, exc.detail)
        else:
            reply = ("ok", doc)
        try:
            write_frame(out, reply)
        except (BrokenPipeError, OSError):
            return


if __name__ == "__main__":
    main()
