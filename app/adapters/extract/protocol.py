"""Length-prefixed pickle frames between the sandbox and its worker (both sides are our own code)."""

from __future__ import annotations

import pickle
import struct
from typing import IO, Any

_LEN = struct.Struct("<I")


def write_frame(stream: IO[bytes], obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LEN.pack(len(data)) + data)
    stream.flush()


def read_frame(stream: IO[bytes]) -> Any:
    """The next object, or raises EOFError when the other side is gone."""
    head = _read_exact(stream, _LEN.size)
    return pickle.loads(_read_exact(stream, _LEN.unpack(head)[0]))


def _read_exact(stream: IO[bytes], n: int) -> bytes:
    chunks = []
    while n:
        chunk = stream.read(n)
        if not chunk:
            raise EOFError("pipe closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)
