"""What the services write into the audit log (`app.core.audit.AuditTrail`): ids, hashes, counts and settings.

No document content, no prompt, no question, no file name or path goes into a record – unless the policy turned
content logging on (`audit.records_content`), and then only the few named content fields. One helper per kind of
record, so the five services do not each build their own dicts:

* ``AiRequest`` – one ``ai_request`` record at the end of every AI run, whatever its outcome (done, nothing_found,
  cancelled, failed); the service fills in what becomes known as the run goes on.
* ``record_export`` – a draft-marked export (``export``) with the written file's SHA-256.
* ``record_policy_violation`` – a refused path (``policy_violation``), as the SHA-256 of its real path.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time
import uuid
from collections.abc import Generator, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from app.core.audit import AuditTrail
from app.core.documents import Chunk
from app.core.errors import Cancelled
from app.core.llm import GenerationParams

T = TypeVar("T")


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def sha256_file(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def path_sha256(path: Path | str) -> str:
    """A path as the SHA-256 of its real path: the same refused file gives the same hash, the log no name."""
    return sha256_text(os.path.realpath(os.fspath(path)))


def params_fields(params: GenerationParams | None) -> dict[str, object]:
    return {} if params is None else dataclasses.asdict(params)


def model_fields(models: Any) -> dict[str, object]:
    """Name, SHA-256 (the verified one if the checksum was checked) and backend of a `ModelService`'s model."""
    info = models.info
    model = models.model
    return {"model": info.display_name if info else "",
            "model_sha256": models.verified_sha256 or (info.sha256 if info else ""),
            "backend": getattr(model, "backend_name", "") if model is not None else ""}


def outcome_of(exc: BaseException) -> str:
    return "cancelled" if isinstance(exc, (Cancelled, GeneratorExit, KeyboardInterrupt)) else "failed"


class AiRequest:
    """One AI run's audit record. The service sets `request_id`, `params`, `chunks` (the passages given to the
    model), `output` (the final text), `flags`, `extra` (counts and enums only) and `outcome` ("nothing_found") as
    they become known; `run(gen)` passes the service's generator through and records at its end – also when it is
    cancelled or fails (then with what is known, the streamed text so far as output, and the exception re-raised).
    `content` is written only when the log records content. `masking` is the run's pseudonymisation (set by
    `ModelService.chat` for a remote model, shared by all the run's model calls); it never goes into the record –
    only its counts, which `ModelService.chat` puts into `extra`."""

    def __init__(self, audit: AuditTrail | None, feature: str, models: Any,
                 content: Mapping[str, object] | None = None) -> None:
        self.audit = audit
        self.feature = feature
        self.models = models
        self.content = dict(content or {})
        self.request_id = ""
        self.params: GenerationParams | None = None
        self.chunks: Iterable[Chunk] = ()
        self.output: str | None = None
        self.flags = 0
        self.extra: dict[str, object] = {}
        self.outcome = "done"
        self.masking: Any = None  # app.services.pseudonymised_chat.Masking
        self._streamed: list[str] = []
        self._started = time.perf_counter()

    def run(self, gen: Generator[object, None, T]) -> Generator[object, None, T]:
        if self.audit is None:
            return (yield from gen)
        self._started = time.perf_counter()
        try:
            try:
                while True:
                    try:
                        item = next(gen)
                    except StopIteration as stop:
                        result = stop.value
                        break
                    if isinstance(item, str):
                        self._streamed.append(item)
                    yield item
            finally:
                gen.close()
        except BaseException as exc:
            self.record(outcome_of(exc), reason=type(exc).__name__)
            raise
        self.record(self.outcome)
        return result

    def record(self, outcome: str, *, reason: str = "") -> None:
        if self.audit is None:
            return
        output = self.output if self.output is not None else "".join(self._streamed).strip()
        chunks = list(self.chunks)
        fields: dict[str, object] = {
            "feature": self.feature, "request_id": self.request_id, **model_fields(self.models),
            "params": params_fields(self.params), "source_doc_ids": sorted({c.doc_id for c in chunks}),
            "sources": len(chunks), "output_sha256": sha256_text(output) if output else "",
            "output_chars": len(output), "flags": self.flags, "outcome": outcome,
            "seconds": round(time.perf_counter() - self._started, 3), **self.extra,
        }
        if reason:
            fields["reason"] = reason
        if self.audit.records_content:
            fields.update(self.content)
            fields["output_text"] = output
        self.audit.record("ai_request", fields)


def new_request_id() -> str:
    return uuid.uuid4().hex


def record_export(audit: AuditTrail | None, kind: str, request_id: str, path: Path) -> None:
    """Record a written export; if that fails, the file goes again (an export not in the log did not happen)."""
    if audit is None:
        return
    try:
        audit.record("export", {"kind": kind, "final": False, "request_id": request_id,
                                "file_sha256": sha256_file(path)})
    except Exception:
        Path(path).unlink(missing_ok=True)
        raise


def record_policy_violation(audit: AuditTrail | None, rule: str, path: Path | str, operation: str) -> None:
    if audit is not None:
        audit.record("policy_violation", {"rule": rule, "operation": operation, "path_sha256": path_sha256(path)})
