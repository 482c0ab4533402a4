"""The hand-over between a model's producer thread and the caller's generator, shared by the local (llama.cpp) and
the remote (data-centre) adapter: text pieces, then `DONE` or a `Failure`, through a queue the caller polls so that
its `CancelToken` is seen within `POLL_SECONDS` even while no piece arrives (a long prompt being processed)."""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from app.core.errors import Cancelled
from app.core.progress import CancelToken

POLL_SECONDS = 0.05  # how often a waiting consumer looks at its CancelToken
DONE = object()


@dataclass(frozen=True, slots=True)
class Failure:
    error: BaseException


def drain(out: queue.SimpleQueue[Any], cancel: CancelToken,
          producer_gone: Callable[[], BaseException | None]) -> Iterator[str]:
    """Yield the pieces from `out` until `DONE`; raise a `Failure`'s error; raise `Cancelled` soon after `cancel`.
    While nothing arrives, `producer_gone()` is asked: the error to raise when the producer ended without a last
    word (None: it is still at work). Cleaning up after the consumer stops is the caller's `finally`."""
    while True:
        try:
            item = out.get(timeout=POLL_SECONDS)
        except queue.Empty:
            if cancel.cancelled:
                raise Cancelled() from None
            error = producer_gone()
            if error is not None:
                raise error from None
            continue
        if item.__class__ is str:
            if cancel.cancelled:
                raise Cancelled()
            yield item
        elif item is DONE:
            return
        else:
            raise item.error
