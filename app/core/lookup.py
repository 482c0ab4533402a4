"""Nachschlagen: what a lookup answer is – question, scope, numbered sources, the streamed text, its flags.

Everything here is data the UI, the CLI and the review workflow share. The answer is always a draft
(`LookupAnswer.draft` is True and `to_dict()["review_status"] == "draft"`); the review workflow is the only
thing that may turn a draft into something final, through the `DraftReview` port below.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from pathlib import PurePath

from app.core.documents import Chunk, ChunkRef, SearchMode
from app.core.llm import GenerationParams

DRAFT_MARKER = "ENTWURF – KI-Vorschlag, Prüfung erforderlich"
NOTHING_FOUND = "In den freigegebenen Dokumenten habe ich dazu nichts gefunden."


class ScopeKind(str, Enum):
    ALL = "all"
    FOLDER = "folder"
    DOCUMENTS = "documents"


@dataclass(frozen=True, slots=True)
class Scope:
    """Where a lookup searches: everything indexed, one folder (a case file), or chosen documents."""

    kind: ScopeKind = ScopeKind.ALL
    paths: tuple[str, ...] = ()

    @classmethod
    def everything(cls) -> Scope:
        return cls()

    @classmethod
    def folder(cls, path: str) -> Scope:
        return cls(ScopeKind.FOLDER, (str(path),))

    @classmethod
    def documents(cls, paths: Sequence[str]) -> Scope:
        return cls(ScopeKind.DOCUMENTS, tuple(str(p) for p in paths))

    def matches(self, path: str) -> bool:
        """True if an indexed file `path` lies in this scope (folder: the folder or below it)."""
        if self.kind is ScopeKind.ALL:
            return True
        if self.kind is ScopeKind.DOCUMENTS:
            return str(path) in self.paths
        folder = PurePath(self.paths[0])
        candidate = PurePath(path)
        return candidate == folder or folder in candidate.parents

    def describe_de(self) -> str:
        if self.kind is ScopeKind.ALL:
            return "alle freigegebenen Dokumente"
        if self.kind is ScopeKind.FOLDER:
            return f"Ordner {self.paths[0]}"
        if len(self.paths) == 1:
            return f"Dokument {PurePath(self.paths[0]).name}"
        return f"{len(self.paths)} ausgewählte Dokumente"


@dataclass(frozen=True, slots=True)
class Source(ChunkRef):
    """Passage number `number` ([1], [2], …) as shown to the model and to the person."""

    number: int
    chunk: Chunk
    score: float = 0.0
    mode: SearchMode = SearchMode.HYBRID

    @property
    def passage(self) -> str:
        return self.chunk.text

    def to_dict(self) -> dict[str, object]:
        c = self.chunk
        return {
            "number": self.number, "file": c.path, "page": c.page, "page_end": c.page_end,
            "section": self.section, "heading_path": list(c.heading_path), "start": c.start, "end": c.end,
            "chunk_id": c.id, "doc_id": c.doc_id, "passage": c.text, "score": round(self.score, 6),
            "mode": self.mode.value, "collection": c.collection, "location": c.location_de(),
        }


class FlagKind(str, Enum):
    UNCITED_SENTENCE = "uncited_sentence"
    FACT_NOT_IN_SOURCES = "fact_not_in_sources"
    UNKNOWN_CITATION = "unknown_citation"
    NOT_SUPPORTED = "not_supported"

    @property
    def label_de(self) -> str:
        return {
            FlagKind.UNCITED_SENTENCE: "Aussage ohne Quellenangabe",
            FlagKind.FACT_NOT_IN_SOURCES: "Angabe nicht in den Quellen gefunden",
            FlagKind.UNKNOWN_CITATION: "Verweis auf eine Quelle, die es nicht gibt",
            FlagKind.NOT_SUPPORTED: "Inhalt kaum in der zitierten Quelle",
        }[self]


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence of the answer; `start`/`end` are offsets into the answer text, `citations` its [n] markers."""

    index: int
    text: str
    start: int
    end: int
    citations: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Flag:
    """Something a person must look at. `start`/`end`: offsets of the flagged text in the answer text."""

    kind: FlagKind
    sentence_index: int
    text: str
    start: int
    end: int
    detail: str = ""

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind.value, "label": self.kind.label_de, "sentence": self.sentence_index,
                "text": self.text, "start": self.start, "end": self.end, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Grounding:
    """The result of checking an answer text against its sources (`app.core.grounding.ground`)."""

    sentences: tuple[Sentence, ...] = ()
    flags: tuple[Flag, ...] = ()

    def cited_numbers(self) -> tuple[int, ...]:
        return tuple(sorted({n for s in self.sentences for n in s.citations}))


@dataclass(slots=True)
class LookupAnswer:
    """A finished (or cancelled) lookup. Always a draft until the review workflow confirms it."""

    question: str
    scope: Scope
    sources: list[Source]
    text: str = ""
    grounding: Grounding = field(default_factory=Grounding)
    nothing_found: bool = False
    complete: bool = True  # False: cancelled while streaming; the text is what arrived until then
    model_name: str = ""
    model_sha256: str = ""
    backend: str = ""
    params: GenerationParams | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    draft: bool = field(default=True, init=False)  # there is no way to build a non-draft answer here

    @property
    def flags(self) -> tuple[Flag, ...]:
        return self.grounding.flags

    def source(self, number: int) -> Source | None:
        return next((s for s in self.sources if s.number == number), None)

    def cited_sources(self) -> list[Source]:
        numbers = set(self.grounding.cited_numbers())
        return [s for s in self.sources if s.number in numbers]

    def clipboard_text(self) -> str:
        """What "Kopieren" puts on the clipboard: the draft marker above and below, the answer, its sources."""
        lines = [f"[{DRAFT_MARKER}]", "", self.text.strip(), ""]
        if self.sources and not self.nothing_found:
            lines.append("Quellen:")
            lines += [f"[{s.number}] {s.location_de()}" for s in self.sources]
            lines.append("")
        if self.flags:
            lines.append(f"Hinweise zur Prüfung: {len(self.flags)}")
            lines += [f"- {f.kind.label_de}: {f.text}" for f in self.flags]
            lines.append("")
        lines.append(f"[{DRAFT_MARKER} – nicht geprüft]")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        """Machine-readable form (CLI `--json`, review workflow); `draft` and `review_status` mark it a draft."""
        p = self.params
        return {
            "kind": "lookup", "id": self.id, "draft": True, "review_status": "draft", "banner": DRAFT_MARKER,
            "created": self.created.isoformat(timespec="seconds"), "question": self.question,
            "scope": {"kind": self.scope.kind.value, "paths": list(self.scope.paths)},
            "answer": self.text, "nothing_found": self.nothing_found, "complete": self.complete,
            "citations": [s.to_dict() for s in self.cited_sources()],
            "sources": [s.to_dict() for s in self.sources],
            "sentences": [{"index": s.index, "text": s.text, "start": s.start, "end": s.end,
                           "citations": list(s.citations)} for s in self.grounding.sentences],
            "flags": [f.to_dict() for f in self.flags],
            "model": {"name": self.model_name, "sha256": self.model_sha256, "backend": self.backend},
            "params": None if p is None else {"max_tokens": p.max_tokens, "temperature": p.temperature,
                                              "top_p": p.top_p, "seed": p.seed, "repeat_penalty": p.repeat_penalty},
        }


# -- events streamed by the lookup service ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SourcesFound:
    """Yielded before the model starts: the numbered passages the answer may cite (empty: nothing found)."""

    sources: tuple[Source, ...]
