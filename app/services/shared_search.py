"""Departmental knowledge (*Fachbereich*) searched together with the caseworker's own index.

``SharedSearch(shared, embedder, *, rrf_k=60, depth=20, mask=None)`` – `shared` is the read-only `SharedKnowledge`
port (the Chroma server of the data centre), `embedder` the same e5 embedder the local index uses. `mask` (the
bootstrap passes a fresh `Pseudonymiser().mask` when the policy's `remote_pseudonymise` is on) replaces personal
identifiers in the question before it is embedded for the server: an embedding can leak some of its text, and a
name or file number in a question does not help to find departmental knowledge anyway.

``fuse(query, local_hits, k) -> SharedResult(hits, notice)``: the query is embedded **locally** ("query: " prefix,
as the local dense search does) and only that vector goes to the server – nothing of the personal files. The
server's dense ranking and the local hybrid ranking are fused by reciprocal rank fusion (k=60, as in
`RetrievalService`). Shared hits keep `chunk.collection`, have mode DENSE and the details `shared_rank`,
`dense_rank` and `cosine` (so the lookup's "does anything fit?" gate treats them like local passages); local
hits gain `local_rank`. When the server fails, the local hits come back unchanged and `notice` says so in German
(the failure is logged too).

Scope rule (applied by `LibraryService.search`): departmental knowledge is searched only when the whole library
is searched (`paths is None`). A scope of local folders or documents means exactly those files, so it returns local
hits only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from app.core.documents import Hit, SearchMode
from app.core.errors import AktenlotseError
from app.core.library import Embedder, SharedKnowledge

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SharedResult:
    hits: list[Hit]
    notice: str = ""  # German; "" when the shared source answered
    shared_hits: int = 0
    errors: tuple[AktenlotseError, ...] = field(default_factory=tuple)


def shared_notice(error: AktenlotseError) -> str:
    return (f"Fachbereichswissen wurde nicht durchsucht: {error.user_message} "
            "Angezeigt werden nur Treffer aus Ihren eigenen Dokumenten.")


class SharedSearch:
    def __init__(self, shared: SharedKnowledge, embedder: Embedder, *, rrf_k: int = 60, depth: int = 20,
                 mask: Callable[[str], str] | None = None) -> None:
        self.shared = shared
        self._mask = mask
        self._embedder = embedder
        self._rrf_k = rrf_k
        self._depth = depth

    def fuse(self, query: str, local_hits: Sequence[Hit], k: int) -> SharedResult:
        if not query.strip() or k <= 0:
            return SharedResult(list(local_hits)[:max(k, 0)])
        try:
            text = self._mask(query) if self._mask is not None else query
            vector = [float(x) for x in self._embedder.query(text)]
            ranked = self.shared.query(vector, max(k, self._depth))
        except AktenlotseError as exc:
            log.warning("shared knowledge not searched (%s): %s", getattr(self.shared, "display", "?"), exc)
            return SharedResult(list(local_hits)[:k], shared_notice(exc), 0, (exc,))
        except Exception as exc:  # a broken remote must never break the local search
            log.exception("shared knowledge failed unexpectedly")
            error = AktenlotseError("Der Server für Fachbereichswissen hat unerwartet geantwortet.",
                                    f"{type(exc).__name__}: {exc}")
            return SharedResult(list(local_hits)[:k], shared_notice(error), 0, (error,))
        fused: list[tuple[float, int, Hit]] = []
        for rank, hit in enumerate(local_hits, 1):
            details = {**hit.details, "local_rank": float(rank)}
            fused.append((1.0 / (self._rrf_k + rank), len(fused), Hit(hit.chunk, hit.score, hit.mode, details)))
        for rank, (chunk, similarity) in enumerate(ranked, 1):
            details = {"shared_rank": float(rank), "dense_rank": float(rank), "cosine": round(float(similarity), 6)}
            fused.append((1.0 / (self._rrf_k + rank), len(fused), Hit(chunk, similarity, SearchMode.DENSE, details)))
        fused.sort(key=lambda x: (-x[0], x[1]))  # equal ranks: the local hit first
        hits = [Hit(h.chunk, score, h.mode, h.details) for score, _, h in fused[:k]]
        return SharedResult(hits, "", sum(1 for h in hits if h.chunk.is_shared))
